"""Anomaly score and decision for new recordings of a trained machine type and section.

    python -m asd_lib.bin.detect --inference_dir exp/<tag>/<inference_tag> \
        --machine fan --section id_00 a.wav b.wav
    python -m asd_lib.bin.detect --inference_dir exp/<tag>/<inference_tag> \
        --machine fan --section id_00 --scp wav.scp
    python -m asd_lib.bin.detect ... --onnx exp/<tag>/best.onnx   (onnxruntime)

Wav files given as arguments are read as paths, whatever their names; a Kaldi command
entry (``utt cmd |``) of a --scp file runs in a shell, and only with --allow_pipes true.

Prints one line per clip, ``<path or scp key> <score> <decision>`` (1: anomalous, 0: normal),
in input order. Clips are read and cut as stage 2 dumps them and scored as stage 4 of the
inference dir scored its test sets (its configuration, checkpoint, back-end and the best
class of the section); the decision threshold is that stage 4's for the section unless
--threshold is given. Run it from the recipe dir (paths in the experiment are relative to
it).
"""
import argparse

from asd_lib.data.audio import MAX_CLIPPED, SHORT_CLIP_MODES
from asd_lib.detect import detect, read_inputs
from asd_lib.utils.cli import run_main, share
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wavs", nargs="*", help="wav files to score (or use --scp)")
    parser.add_argument("--scp", default=None, help="Kaldi wav.scp of the clips to score")
    parser.add_argument("--allow_pipes", type=str2bool, default=False,
                        help="true: run the 'command |' entries of --scp in a shell and read "
                             "the wav they write; false: such an entry is an error")
    parser.add_argument("--inference_dir", required=True,
                        help="inference dir of stage 4, exp/<tag>/<inference_tag>")
    parser.add_argument("--machine", required=True, help="machine type of every clip, e.g. fan")
    parser.add_argument("--section", required=True,
                        help="machine ID / section of every clip, e.g. id_00 or section_00")
    parser.add_argument("--threshold", type=float, default=None,
                        help="one decision threshold for all clips (default: stage 4's for "
                             "the section)")
    parser.add_argument("--onnx", default=None,
                        help="score with this exported file on onnxruntime instead of PyTorch")
    parser.add_argument("--short_clip", default="tile", choices=SHORT_CLIP_MODES,
                        help="how a clip shorter than the model's input is lengthened "
                             "(as --short_clip of stage 2)")
    parser.add_argument("--max_clipped", type=share, default=MAX_CLIPPED,
                        help="largest share of a clip's samples that may lie beyond full "
                             "scale (as --max_clipped of stage 2; 1.0: allow any)")
    parser.add_argument("--ngpu", type=int, default=0, help="0: CPU, 1: one CUDA device")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    inputs = read_inputs(args.wavs, args.scp, args.allow_pipes)
    results = detect(args.inference_dir, inputs, args.machine, args.section,
                     threshold=args.threshold, short_clip=args.short_clip,
                     onnx_path=args.onnx, ngpu=args.ngpu, max_clipped=args.max_clipped)
    for result in results:
        print(f"{result.key} {result.score!r} {result.decision}")


if __name__ == "__main__":
    run_main(main)
