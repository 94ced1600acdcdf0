"""Official corpus layout -> Kaldi-style data dirs (train, dev_test, eval_test).

Example::

    python -m asd_lib.bin.prepare_data --dataset dcase2020 --corpus_dir corpus --data_dir data
    python -m asd_lib.bin.prepare_data --dataset dcase2024 --corpus_dir corpus --data_dir data
    python -m asd_lib.bin.prepare_data --dataset dcase2025 --corpus_dir corpus --supplemental true
"""
import argparse
import logging

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging

CORPUS_OPTIONS = {
    "separate_eval_train": "write the additional training set to data/eval_train instead of "
                           "adding it to data/train (corpora with separate evaluation types)",
    "supplemental": "write the clips of every <M>/supplemental/ folder to data/supplemental "
                    "(DCASE 2025: clean machine or noise-only recordings)",
    "supplemental_in_train": "add the clips of every <M>/supplemental/ folder to the training "
                             "set as normal clips (domain source unless named, no attributes)",
}
"""Options that only some corpora have (``Corpus.prepare_options``), all off by default."""

def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Scan an official DCASE corpus tree, check every file name and wav "
        "header, and write data/<set>/{wav.scp,utt2machine,utt2section,utt2domain"
        "[,utt2attr][,utt2label]}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", choices=CORPORA.names(), required=True, help="corpus name")
    parser.add_argument("--corpus_dir", required=True,
                        help="folder holding dev_data/ and eval_data/")
    parser.add_argument("--data_dir", default="data", help="output folder of the data dirs")
    parser.add_argument("--use_additional", type=str2bool, default=True,
                        help="add eval_data/<M>/train (additional training set) to train")
    for option, text in CORPUS_OPTIONS.items():
        parser.add_argument(f"--{option}", type=str2bool, default=False, help=text)
    parser.add_argument("--machines", default="",
                        help="comma-separated machine types; empty: every type in the corpus")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    corpus = get_corpus(args.dataset)
    options = {}
    for option in CORPUS_OPTIONS:
        if getattr(args, option):
            if option not in corpus.prepare_options:
                offered = ", ".join(corpus.prepare_options) or "none"
                raise ValueError(f"--{option} does not apply to {args.dataset}; its data "
                                 f"preparation options: {offered}")
            options[option] = True
    counts = corpus.prepare_data(args.corpus_dir, args.data_dir, use_additional=args.use_additional,
                                 machines=corpus.parse_machines(args.machines), **options)
    logging.info("prepared %s", ", ".join(f"{k}: {v}" for k, v in counts.items()))


if __name__ == "__main__":
    run_main(main)
