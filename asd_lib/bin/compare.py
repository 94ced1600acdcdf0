"""Does system A beat system B? A paired comparison on the same test sets.

    python -m asd_lib.bin.compare exp/<tagA>/<inference_tag> exp/<tagB>/<inference_tag>
    python -m asd_lib.bin.compare "exp/train_x_seed*/knn_best" "exp/train_y_seed*/knn_best" \\
        --sets dev_test --json compare.json

A and B are inference dirs, or quoted globs of the trials of one system (expanded here).
Per set and headline number of the corpus: A, B (means over trials), A - B, its confidence
interval from a paired bootstrap over the test clips (stratified by machine type, section,
domain and label), a Welch t-test over the trials where both sides have two or more, and
the verdict from the interval (asd_lib.report.compare). Prints the Markdown table. Run it
from the recipe dir (the ground truth is <data_root>/<set>/).
"""
import argparse

from asd_lib.report.compare import run_comparison
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", metavar="A", help="system A: inference dir or quoted glob")
    parser.add_argument("b", metavar="B", help="system B: inference dir or quoted glob")
    parser.add_argument("--sets", nargs="+", default=None,
                        help="sets to compare (default: every set both scored that has "
                             "ground truth)")
    parser.add_argument("--data_root", default="dump",
                        help="where the data dirs with the ground truth are (default: dump)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    parser.add_argument("--confidence", type=float, default=0.95,
                        help="level of the confidence interval (default: 0.95)")
    parser.add_argument("--out", default=None, help="also write the Markdown table here")
    parser.add_argument("--json", default=None, help="write every number as JSON here")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    print(run_comparison(args.a, args.b, out=args.out, json_out=args.json, sets=args.sets,
                         data_root=args.data_root, resamples=args.resamples, seed=args.seed,
                         confidence=args.confidence), end="")


if __name__ == "__main__":
    run_main(main)
