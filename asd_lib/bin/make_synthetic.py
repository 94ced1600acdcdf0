"""Write a synthetic corpus in an official DCASE layout (stage 0 without a real corpus).

Example::

    python -m asd_lib.bin.make_synthetic --layout dcase2020 --out corpus --seed 0 --nj 2
"""
import argparse
import logging

from asd_lib.corpus import dcase2020
from asd_lib.corpus.synthetic import DEFAULT_SEVERITY, LAYOUTS, Dcase2020Sizes, parse_severity
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging

DEFAULTS = Dcase2020Sizes()


def severity_arg(text: str):
    try:
        return parse_severity(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Generate machine sounds from simple physical models, with subtle "
        "randomised anomalies, in exactly the official folder and file-name layout "
        "(including the eval ground-truth list). Same seed -> identical bytes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="dcase2020",
                        help="official layout to write")
    parser.add_argument("--out", required=True, help="corpus folder to write")
    parser.add_argument("--seed", type=int, default=0, help="same seed -> identical corpus")
    parser.add_argument("--duration", type=float, default=DEFAULTS.duration,
                        help="clip seconds (ToyCar / ToyConveyor clips are 10%% longer)")
    parser.add_argument("--train_per_id", type=int, default=DEFAULTS.train_per_id,
                        help="normal training clips per machine ID (dev and additional)")
    parser.add_argument("--test_normal_per_id", type=int, default=DEFAULTS.test_normal_per_id,
                        help="normal dev test clips per machine ID")
    parser.add_argument("--test_anomaly_per_id", type=int, default=DEFAULTS.test_anomaly_per_id,
                        help="anomalous dev test clips per machine ID")
    parser.add_argument("--eval_test_per_id", type=int, default=DEFAULTS.eval_test_per_id,
                        help="eval test clips per ID (half anomalous, shuffled)")
    parser.add_argument("--machines", default="", help="comma-separated machine types; empty: all")
    parser.add_argument("--anomaly_severity", type=severity_arg, default=DEFAULT_SEVERITY,
                        metavar="LO,HI", help="fault severity range (0: none, 1: strong)")
    parser.add_argument("--nj", type=int, default=2, help="parallel processes")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    sizes = Dcase2020Sizes(args.duration, args.train_per_id, args.test_normal_per_id,
                           args.test_anomaly_per_id, args.eval_test_per_id)
    count = LAYOUTS[args.layout](args.out, args.seed, sizes, dcase2020.parse_machines(args.machines),
                                 args.anomaly_severity, args.nj)
    logging.info("%s: wrote %d clips", args.out, count)


if __name__ == "__main__":
    run_main(main)
