"""Check Kaldi-style data directories (sorted unique keys, same utterances in every file).

Example::

    python -m asd_lib.bin.validate_data_dir --require utt2label --check_audio true data/dev_test
"""
import argparse
import logging

from asd_lib.data.datadir import DATA_FILES, DataDirError, validate_data_dir
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging

BASE_REQUIRE = ("utt2machine", "utt2section")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Validate data dirs: wav.scp or feats.scp present, every file non-empty, "
        "'<utt-id> <value>' lines with unique keys sorted by LC_ALL=C, the same keys in every "
        "file, known values in utt2label and utt2domain. Prints 'validated <dir>: <n> "
        "utterances' per dir; exits 1 if any dir fails.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("data_dirs", nargs="+", metavar="DIR", help="data directories")
    parser.add_argument(
        "--require", action="append", default=[], choices=DATA_FILES, metavar="FILE",
        help=f"a file that must exist, besides {' and '.join(BASE_REQUIRE)} (repeatable)",
    )
    parser.add_argument(
        "--check_audio", type=str2bool, default=False,
        help="check that every audio path in wav.scp exists and is non-empty",
    )
    parser.add_argument(
        "--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug"
    )
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    require = BASE_REQUIRE + tuple(name for name in args.require if name not in BASE_REQUIRE)
    failed = 0
    for data_dir in args.data_dirs:
        try:
            num_utts = validate_data_dir(data_dir, require=require, check_audio=args.check_audio)
        except DataDirError as err:
            logging.error("%s", err)
            failed += 1
            continue
        print(f"validated {data_dir}: {num_utts} utterances")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
