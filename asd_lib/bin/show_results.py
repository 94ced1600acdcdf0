"""Every experiment's results in one Markdown table per DCASE year, for RESULTS.md.

    python -m asd_lib.bin.show_results [--sort_by AUC] [exp ...] > RESULTS.md

One row per ``<exp>/<tag>/<inference_tag>/<set>/result.json`` (stage 5): the year's
headline numbers in % and the command that reproduces that row, each option once (from
``<inference_tag>/run.sh``, which asd.sh writes per inference, else the experiment's
run.sh), relative to the current directory. The trials ``<exp>/<tag>_seed<k>/`` of one system
(asd.sh --num_trials / --seeds) are one row: mean ± standard deviation [min, max] over
the trials, and their number. Results that cannot be read are listed below the tables
with the reason; the other rows are shown.
"""
import argparse
import json
import logging
from pathlib import Path

from asd_lib.report.aggregate import (
    collect_results,
    format_tables,
    group_trials,
    sort_groups,
    tables_json,
)
from asd_lib.report.compare import run_comparison
from asd_lib.utils.cli import run_main
from asd_lib.utils.fileio import atomic_write
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exp_roots", nargs="*", default=["exp"],
                        help="directories holding experiment dirs (default: exp)")
    parser.add_argument("--sort_by", default=None,
                        help="column to rank by within each set, best first, e.g. AUC or "
                             "'Official score' (default: by set, experiment, inference)")
    parser.add_argument("--experiments", nargs="+", default=None, metavar="GLOB",
                        help="only experiment dirs whose name matches one of these globs, "
                             "e.g. 'train_stgram_mfn_seed*'")
    parser.add_argument("--inference", default=None, help="only this inference tag")
    parser.add_argument("--out", default=None, help="write the tables here instead of stdout")
    parser.add_argument("--json", default=None,
                        help="also write every row's numbers (mean, std, min, max and the "
                             "trials' values, as fractions) to this JSON file")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), default=None,
                        help="instead, compare two systems (inference dirs or quoted globs) "
                             "as python -m asd_lib.bin.compare does with its defaults")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if args.compare:
        print(run_comparison(*args.compare, out=args.out), end="")
        return
    rows, skipped = collect_results(args.exp_roots, Path.cwd(), args.experiments,
                                    args.inference)
    for item in skipped:
        logging.warning("skipped %s: %s", item.path, item.reason)
    if not rows:
        raise ValueError(f"no readable */*/*/result.json under {' '.join(args.exp_roots)}"
                         f"{' matching the filters' if args.experiments or args.inference else ''}"
                         "; run stage 5 first")
    groups = sort_groups(group_trials(rows, Path.cwd()), args.sort_by)
    text = format_tables(groups, skipped)
    if args.out is None:
        print(text, end="")
    else:
        with atomic_write(args.out) as f:
            f.write(text)
    if args.json is not None:
        with atomic_write(args.json) as f:
            json.dump(tables_json(groups, skipped), f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    run_main(main)
