"""Stage 5 plots of one scored set, and the experiment's report.md.

    python -m asd_lib.bin.plot_results --exp_dir exp/X --score_dir exp/X/Y/dev_test \\
        --data_dir dump/dev_test [--thresholds exp/X/Y/train/thresholds.csv]

Writes ``<score_dir>/plots/{roc,scores,tsne}_<machine>.png`` (ROC curves per section with
AUC and pAUC, score histograms with the decision threshold, t-SNE of the embeddings),
``<exp_dir>/plots/training_curves.png`` and ``<exp_dir>/report.md`` (every scored set so
far: result tables beside their plots). Thresholds are read from --thresholds (stage 4's),
or recovered from the set's decision_result files.
"""
import argparse

from asd_lib.corpus import CORPORA
from asd_lib.report.report import plot_set
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp_dir", required=True, help="experiment dir (stage 3)")
    parser.add_argument("--score_dir", required=True,
                        help="scored set exp/<tag>/<inference_tag>/<set> (stage 4; results of "
                             "stage 5)")
    parser.add_argument("--data_dir", required=True, help="the set's data dir (dump/<set>)")
    parser.add_argument("--dataset", default="dcase2020", choices=CORPORA.names(),
                        help="corpus: names of the official decision files")
    parser.add_argument("--thresholds", default=None,
                        help="thresholds.csv of the training set's stage 4 (decision thresholds)")
    parser.add_argument("--tsne_max_points", type=int, default=1000,
                        help="clips per machine type in a t-SNE map (a seeded random subset "
                             "beyond that)")
    parser.add_argument("--seed", type=int, default=0, help="seed of t-SNE and its subset")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    plot_set(args.exp_dir, args.score_dir, args.data_dir, args.dataset,
             thresholds_file=args.thresholds,
             tsne_max_points=args.tsne_max_points, seed=args.seed)


if __name__ == "__main__":
    run_main(main)
