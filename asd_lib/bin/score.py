"""Score anomaly-score files against a data dir's labels with the official metrics.

    python -m asd_lib.bin.score --data_dir data/dev_test --score_dir exp/X/best/dev_test

Reads ``anomaly_score_<M>_id_XX.csv`` from ``--score_dir`` and the ground truth
(``wav.scp``, ``utt2machine``, ``utt2section``, ``utt2label``) from ``--data_dir``; writes
``result.csv`` (official layout), ``result.md`` and ``result.json`` into ``--score_dir``
(``result_pooled.*`` under ``--protocol pooled``) and prints the Markdown table. Without
``utt2label`` it logs that the ground truth is absent and exits 0 without writing.
"""
import argparse
import logging

from asd_lib.metrics.dcase2020 import PROTOCOLS, format_markdown, score_dcase2020, write_results
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging

DATASETS = ("dcase2020",)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data_dir", required=True, help="Kaldi data dir of the test set")
    parser.add_argument(
        "--score_dir", required=True, help="dir with anomaly_score_*.csv; results go here"
    )
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="per_id",
        help="per_id: official (AUC/pAUC per machine ID, mean over IDs, mAUC); "
        "pooled: all IDs of a type in one AUC (not official, writes result_pooled.*)",
    )
    parser.add_argument(
        "--dataset", choices=DATASETS, default="dcase2020", help="DCASE year whose metrics apply"
    )
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    result = score_dcase2020(args.data_dir, args.score_dir, protocol=args.protocol)
    if result is None:
        return
    write_results(result, args.score_dir)
    logging.getLogger(__name__).info("%s scored under protocol %s", args.score_dir, args.protocol)
    print(format_markdown(result), end="")


if __name__ == "__main__":
    run_main(main)
