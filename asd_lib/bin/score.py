"""Score anomaly-score files against a data dir's labels with the official metrics.

    python -m asd_lib.bin.score --data_dir data/dev_test --score_dir exp/X/best/dev_test
    python -m asd_lib.bin.score --dataset dcase2024 --data_dir dump/dev_test --score_dir ...

dcase2020: reads ``anomaly_score_<M>_id_XX.csv`` from ``--score_dir`` and the ground truth
(``wav.scp``, ``utt2machine``, ``utt2section``, ``utt2label``) from ``--data_dir``; writes
``result.csv`` (official layout), ``result.md`` and ``result.json`` into ``--score_dir``
(``result_pooled.*`` under ``--protocol pooled``).

dcase2024: reads ``anomaly_score_<M>_section_00_test.csv`` and
``decision_result_<M>_section_00_test.csv`` and the ground truth (also ``utt2domain``);
writes ``result.csv`` in the official evaluator's layout, ``result.md`` and ``result.json``.

Both print the Markdown table. Without ``utt2label`` it logs that the ground truth is
absent and exits 0 without writing.
"""
import argparse
import logging

from asd_lib.metrics import dcase2020, dcase2024
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging

DATASETS = ("dcase2020", "dcase2024")
DEFAULT_PROTOCOL = "per_id"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data_dir", required=True, help="Kaldi data dir of the test set")
    parser.add_argument(
        "--score_dir",
        required=True,
        help="dir with the official anomaly_score_* (and decision_result_*) CSVs; "
        "results go here",
    )
    parser.add_argument(
        "--protocol",
        choices=dcase2020.PROTOCOLS,
        default=None,
        help="dcase2020 only (default per_id). per_id: official (AUC/pAUC per machine ID, "
        "mean over IDs, mAUC); pooled: all IDs of a type in one AUC (not official, writes "
        "result_pooled.*)",
    )
    parser.add_argument(
        "--dataset", choices=DATASETS, default="dcase2020", help="DCASE year whose metrics apply"
    )
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    logger = logging.getLogger(__name__)
    if args.dataset == "dcase2020":
        protocol = args.protocol or DEFAULT_PROTOCOL
        scorer = dcase2020
        result = dcase2020.score_dcase2020(args.data_dir, args.score_dir, protocol=protocol)
        done = f"scored under protocol {protocol}"
    else:
        if args.protocol is not None:
            raise ValueError(
                f"--protocol {args.protocol} applies to --dataset dcase2020 only; "
                f"{args.dataset} has one official protocol: drop --protocol"
            )
        scorer = dcase2024
        result = dcase2024.score_dcase2024(args.data_dir, args.score_dir)
        done = "scored with the official DCASE 2024 evaluator's metrics"
    if result is None:
        return
    scorer.write_results(result, args.score_dir)
    logger.info("%s %s", args.score_dir, done)
    print(scorer.format_markdown(result), end="")


if __name__ == "__main__":
    run_main(main)
