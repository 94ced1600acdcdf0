"""Stage 2: dump the clips of a ``wav.scp`` as fixed-length int16 waveforms to ark/scp.

Clips that need no conversion (16-bit mono PCM at ``--sample_rate``, at least
``--segment_sec`` long) are referenced in place by default; ``--copy always`` copies
every clip into the archive (:mod:`asd_lib.data.audio`).

The ``wav.scp`` is checked first (Kaldi text rules, every audio file present and
non-empty), so a bad line is reported with its line number before anything is written.
A Kaldi command entry (``utt cmd |``, whose stdout is the wav) runs in a shell, so it is
accepted only with ``--allow_pipes true``; without it such a line is an error naming the
file and the line.

Example (one job of ``JOB=1:nj``)::

    python -m asd_lib.bin.dump --wav_scp data/train/split/wav.3.scp \\
        --out_prefix dump/train/split/feats.3 --segment_sec 10.0
"""
import argparse

from asd_lib.data.audio import (
    COPY_MODES,
    MAX_CLIPPED,
    SAMPLE_RATE_RANGE,
    SEGMENT_SEC_RANGE,
    SHORT_CLIP_MODES,
    dump_wav_scp,
)
from asd_lib.data.datadir import check_wav_scp
from asd_lib.utils.cli import number_in, run_main, share
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Read each 'utt path' (or, with --allow_pipes true, 'utt command |') "
        "line of a wav.scp, resample "
        "to --sample_rate, keep the first channel, crop or lengthen to --segment_sec, "
        "and write int16 arrays to <out_prefix>.ark and <out_prefix>.scp; a clip that "
        "needs none of that is referenced in place unless --copy always.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--wav_scp", required=True, help="Kaldi wav.scp to read")
    parser.add_argument(
        "--out_prefix", required=True, help="writes <out_prefix>.ark and <out_prefix>.scp"
    )
    parser.add_argument("--sample_rate", type=number_in(*SAMPLE_RATE_RANGE, "Hz", integer=True),
                        default=16000, help="output rate (Hz)")
    parser.add_argument("--segment_sec", type=number_in(0, SEGMENT_SEC_RANGE[1], "seconds"),
                        default=10.0, help="output length (s); the recipe takes "
                        f"{SEGMENT_SEC_RANGE[0]:g} to {SEGMENT_SEC_RANGE[1]:g} s")
    parser.add_argument(
        "--short_clip", choices=SHORT_CLIP_MODES, default="tile",
        help="how a clip shorter than --segment_sec is lengthened",
    )
    parser.add_argument(
        "--copy", choices=COPY_MODES, default="auto",
        help="auto: reference clips that need no conversion in place (the dump then reads "
        "from the corpus, which must stay where it is); always: copy every clip",
    )
    parser.add_argument(
        "--allow_pipes", type=str2bool, default=False,
        help="true: run the 'command |' entries of the wav.scp in a shell and read the wav "
        "they write (Kaldi extended filenames); false: such an entry is an error. Set it "
        "only for a wav.scp whose every command you trust",
    )
    parser.add_argument(
        "--max_clipped", type=share, default=MAX_CLIPPED,
        help="largest share (0 to 1) of a file's samples that may lie beyond full scale and "
        "be clipped to int16; a file with more is an error naming it (1.0: allow any). "
        "Files with any clipped samples are logged with their share",
    )
    parser.add_argument(
        "--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug"
    )
    return parser


def main(cmd=None) -> None:
    parser = get_parser()
    args = parser.parse_args(cmd)
    if round(args.segment_sec * args.sample_rate) < 1:
        parser.error(f"argument --segment_sec: {args.segment_sec:g} s is not one sample at "
                     f"--sample_rate {args.sample_rate}; the recipe takes "
                     f"{SEGMENT_SEC_RANGE[0]:g} to {SEGMENT_SEC_RANGE[1]:g} s")
    setup_logging(args.verbose)
    check_wav_scp(args.wav_scp, allow_pipes=args.allow_pipes)
    dump_wav_scp(
        args.wav_scp, args.out_prefix, sample_rate=args.sample_rate,
        segment_sec=args.segment_sec, short_clip=args.short_clip, copy=args.copy,
        max_clipped=args.max_clipped, allow_pipes=args.allow_pipes,
    )


if __name__ == "__main__":
    run_main(main)
