"""Write utt2class (training-class labels) for data dirs.

Example::

    python -m asd_lib.bin.make_labels --scheme machine_section data/train data/dev_test
"""
import argparse
import logging

from asd_lib.corpus.labels import SCHEMES, make_labels
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Write <dir>/utt2class for every data dir given (test sets too, so "
        "inference knows each clip's true class).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("data_dirs", nargs="+", metavar="DIR", help="data directories")
    parser.add_argument("--scheme", choices=sorted(SCHEMES), default="machine_section",
                        help="how a clip's class is formed (machine_section: e.g. fan_id_00)")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    for data_dir in args.data_dirs:
        classes = make_labels(data_dir, args.scheme)
        logging.info("%s/utt2class: %d utterances, %d classes", data_dir, len(classes),
                     len(set(classes.values())))


if __name__ == "__main__":
    run_main(main)
