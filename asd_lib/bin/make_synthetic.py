"""Write a synthetic corpus in an official DCASE layout (stage 0 without a real corpus).

Examples::

    python -m asd_lib.bin.make_synthetic --layout dcase2020 --out corpus --seed 0 --nj 2
    python -m asd_lib.bin.make_synthetic --layout dcase2024 --out corpus --source_train 990

The size options depend on the layout (``--layout X --help`` lists them).
"""
import argparse
import dataclasses
import logging

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.corpus.sounds import DEFAULT_SEVERITY, parse_severity
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging

DEFAULT_LAYOUT = "dcase2020"


def severity_arg(text: str):
    try:
        return parse_severity(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def get_parser(layout: str = DEFAULT_LAYOUT) -> argparse.ArgumentParser:
    corpus = get_corpus(layout)
    parser = argparse.ArgumentParser(
        description="Generate machine sounds from simple physical models, with subtle "
        "randomised anomalies, in exactly the official folder and file-name layout "
        "(including the eval ground-truth list). Same seed -> identical bytes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--layout", choices=CORPORA.names(), default=DEFAULT_LAYOUT,
                        help="official layout to write")
    parser.add_argument("--out", required=True, help="corpus folder to write")
    parser.add_argument("--seed", type=int, default=0, help="same seed -> identical corpus")
    parser.add_argument("--machines", default="", help="comma-separated machine types; empty: all")
    parser.add_argument("--anomaly_severity", type=severity_arg, default=DEFAULT_SEVERITY,
                        metavar="LO,HI", help="fault severity range (0: none, 1: strong)")
    group = parser.add_argument_group(f"{layout} sizes")
    for field in corpus.synthetic.size_fields():
        group.add_argument(f"--{field.name}", type=field.type, default=field.default,
                           help=field.metadata.get("help", ""))
    if corpus.synthetic.official is not None:
        group.add_argument("--official_sizes", type=str2bool, default=False,
                           help="the official counts and clip length instead of the options "
                                "above")
    parser.add_argument("--nj", type=int, default=2, help="parallel processes")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--layout", choices=CORPORA.names(), default=DEFAULT_LAYOUT)
    layout = pre.parse_known_args(cmd)[0].layout
    args = get_parser(layout).parse_args(cmd)
    setup_logging(args.verbose)
    corpus = get_corpus(layout)
    layout_sizes = corpus.synthetic
    if getattr(args, "official_sizes", False):
        sizes = layout_sizes.official
    else:
        sizes = layout_sizes.sizes(**{f.name: getattr(args, f.name)
                                      for f in dataclasses.fields(layout_sizes.sizes)})
    count = layout_sizes.write(args.out, args.seed, sizes, corpus.parse_machines(args.machines),
                               args.anomaly_severity, args.nj)
    logging.info("%s: wrote %d clips", args.out, count)


if __name__ == "__main__":
    run_main(main)
