"""Score anomaly-score files against a data dir's labels with the corpus's official metrics.

    python -m asd_lib.bin.score --dataset dcase2020 --data_dir dump/dev_test \
        --score_dir exp/X/Y/dev_test
    python -m asd_lib.bin.score --dataset dcase2024 --data_dir dump/dev_test --score_dir ...

Reads the official score (and decision) CSVs from ``--score_dir`` and the ground truth
(``wav.scp``, ``utt2machine``, ``utt2section``, ``utt2label`` and, where the year has
domains, ``utt2domain``) from ``--data_dir``; writes ``result.csv`` in the official
evaluator's layout, ``result.md`` and ``result.json`` into ``--score_dir``, and prints the
Markdown table. This is the only step that reads a test set's ground truth. Without
``utt2label`` it logs that the ground truth is absent and exits 0 without writing.
DCASE 2020 has a second protocol, ``--protocol pooled`` (all IDs of a type in one AUC, as
some re-implementations report; not official, written to ``result_pooled.*``).
"""
import argparse
import logging

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data_dir", required=True, help="Kaldi data dir of the test set")
    parser.add_argument("--score_dir", required=True,
                        help="dir with the official anomaly_score_* (and decision_result_*) "
                             "CSVs; results go here")
    parser.add_argument("--dataset", choices=CORPORA.names(), default="dcase2020",
                        help="corpus whose official metrics apply")
    parser.add_argument("--protocol", default=None,
                        help="scoring protocol (default: the corpus's official one)")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    scorer = get_corpus(args.dataset).scorer
    protocol = args.protocol or scorer.protocols[0]
    if protocol not in scorer.protocols:
        raise ValueError(f"--protocol {protocol}: {args.dataset} has the protocol(s) "
                         f"{', '.join(scorer.protocols)}")
    result = scorer.evaluate(args.data_dir, args.score_dir, protocol)
    if result is None:
        return
    scorer.write_results(result, args.score_dir)
    logging.getLogger(__name__).info("%s scored under the %s protocol of %s", args.score_dir,
                                     protocol, args.dataset)
    print(scorer.format_markdown(result), end="")


if __name__ == "__main__":
    run_main(main)
