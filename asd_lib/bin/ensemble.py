"""Stage 6: fuse the scores of several systems (per-group standardisation, mean or max).

    python -m asd_lib.bin.ensemble --systems exp/A/best exp/B/best --train_set train \
        --sets "dev_test eval_test" --data_root dump --fusion mean \
        --dataset dcase2020 --out_dir exp/ensemble_AB/best

Each system dir needs ``<set>/utt2score`` (stage 4) for the training set and each test
set. Writes ``<out_dir>/<set>/utt2score``, the official ``anomaly_score_*.csv`` and
``decision_result_*.csv`` of every test set, and ``<out_dir>/ensemble.json``; score them
with ``python -m asd_lib.bin.score --data_dir dump/dev_test --score_dir <out_dir>/dev_test``.
Test sets without a data dir under ``--data_root`` are skipped.
"""
import argparse

from asd_lib.ensemble import FUSIONS, run_ensemble
from asd_lib.inference import CSV_NAMES
from asd_lib.utils.cli import comma_floats, run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", nargs="+", required=True,
                        help="inference dirs of the systems (exp/<tag>/<checkpoint>)")
    parser.add_argument("--out_dir", required=True, help="where the ensemble's outputs go")
    parser.add_argument("--data_root", default="dump", help="parent of the dumped data dirs")
    parser.add_argument("--train_set", default="train",
                        help="training set: standardisation statistics and thresholds")
    parser.add_argument("--sets", default="dev_test eval_test",
                        help="space-separated test sets to fuse (missing data dirs skipped)")
    parser.add_argument("--fusion", choices=FUSIONS, default="mean",
                        help="mean (weighted) or max of the standardised scores")
    parser.add_argument("--weights", type=comma_floats, default=None,
                        help="comma-separated weight per system for mean fusion (default: "
                             "all 1)")
    parser.add_argument("--std_floor", type=float, default=1e-6,
                        help="smallest standard deviation used to standardise a group")
    parser.add_argument("--dataset", choices=sorted(CSV_NAMES), default="dcase2020",
                        help="official file naming")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    run_ensemble(args.systems, args.out_dir, args.data_root, args.train_set, args.sets.split(),
                 args.fusion, args.dataset, weights=args.weights, std_floor=args.std_floor)


if __name__ == "__main__":
    run_main(main)
