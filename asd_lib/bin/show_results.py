"""Every experiment's results in one Markdown table per DCASE year, for RESULTS.md.

    python -m asd_lib.bin.show_results [--sort_by AUC] [exp ...] > RESULTS.md

One row per ``<exp>/<tag>/<inference_tag>/<set>/result.json`` (stage 5): the year's headline numbers
in % and the command that reproduces the experiment (from its run.sh), relative to the
current directory.
"""
import argparse
from pathlib import Path

from asd_lib.report.aggregate import collect_results, format_tables, sort_rows
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
                             "'Official score' (default: by set, experiment, checkpoint)")
    parser.add_argument("--out", default=None, help="write the tables here instead of stdout")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    rows = sort_rows(collect_results(args.exp_roots, Path.cwd()), args.sort_by)
    if not rows:
        raise ValueError(f"no */*/*/result.json under {' '.join(args.exp_roots)}; run stage 5 "
                         "first")
    text = format_tables(rows)
    if args.out is None:
        print(text, end="")
    else:
        with atomic_write(args.out) as f:
            f.write(text)


if __name__ == "__main__":
    run_main(main)
