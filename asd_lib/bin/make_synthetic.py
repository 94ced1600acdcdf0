"""Write a synthetic corpus in an official DCASE layout (stage 0 without a real corpus).

Examples::

    python -m asd_lib.bin.make_synthetic --layout dcase2020 --out corpus --seed 0 --nj 2
    python -m asd_lib.bin.make_synthetic --layout dcase2024 --out corpus --seed 0 --nj 2
"""
import argparse
import logging

from asd_lib.corpus import dcase2020, dcase2024
from asd_lib.corpus.synthetic import DEFAULT_SEVERITY, LAYOUTS, Dcase2020Sizes, parse_severity
from asd_lib.corpus.synthetic2024 import OFFICIAL_SIZES, Dcase2024Sizes
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging

DEFAULTS = Dcase2020Sizes()
DEFAULTS_2024 = Dcase2024Sizes()


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
                        help="clip seconds (dcase2020: ToyCar / ToyConveyor clips are 10%% longer; "
                        "dcase2024: ToyCar, ToyTrain, ToyCircuit, HoveringDrone 20%% longer)")
    parser.add_argument("--machines", default="", help="comma-separated machine types; empty: all")
    parser.add_argument("--anomaly_severity", type=severity_arg, default=DEFAULT_SEVERITY,
                        metavar="LO,HI", help="fault severity range (0: none, 1: strong)")
    group = parser.add_argument_group("dcase2020 sizes")
    group.add_argument("--train_per_id", type=int, default=DEFAULTS.train_per_id,
                       help="normal training clips per machine ID (dev and additional)")
    group.add_argument("--test_normal_per_id", type=int, default=DEFAULTS.test_normal_per_id,
                       help="normal dev test clips per machine ID")
    group.add_argument("--test_anomaly_per_id", type=int, default=DEFAULTS.test_anomaly_per_id,
                       help="anomalous dev test clips per machine ID")
    group.add_argument("--eval_test_per_id", type=int, default=DEFAULTS.eval_test_per_id,
                       help="eval test clips per ID (half anomalous, shuffled)")
    group = parser.add_argument_group("dcase2024 sizes (per machine type = section)")
    group.add_argument("--source_train_per_section", type=int, default=DEFAULTS_2024.source_train,
                       help="source-domain training clips")
    group.add_argument("--target_train_per_section", type=int, default=DEFAULTS_2024.target_train,
                       help="target-domain training clips")
    group.add_argument("--test_per_condition", type=int, default=DEFAULTS_2024.test_per_condition,
                       help="test clips per domain and label (source/target x normal/anomaly)")
    group.add_argument("--official_sizes", type=str2bool, default=False,
                       help="the official counts instead: 990 source + 10 target training clips, "
                       "50 test clips per domain and label, 10 s clips (overrides --duration and "
                       "the three options above)")
    parser.add_argument("--nj", type=int, default=2, help="parallel processes")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if args.layout == "dcase2024":
        sizes = OFFICIAL_SIZES if args.official_sizes else Dcase2024Sizes(
            args.duration, args.source_train_per_section, args.target_train_per_section,
            args.test_per_condition)
        machines = dcase2024.parse_machines(args.machines)
    else:
        if args.official_sizes:
            raise ValueError("--official_sizes applies to --layout dcase2024 only")
        sizes = Dcase2020Sizes(args.duration, args.train_per_id, args.test_normal_per_id,
                               args.test_anomaly_per_id, args.eval_test_per_id)
        machines = dcase2020.parse_machines(args.machines)
    count = LAYOUTS[args.layout](args.out, args.seed, sizes, machines, args.anomaly_severity,
                                 args.nj)
    logging.info("%s: wrote %d clips", args.out, count)


if __name__ == "__main__":
    run_main(main)
