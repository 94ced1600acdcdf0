"""Download, verify (MD5) and unpack the official corpus archives, the evaluation list and
the evaluators' ground truth; re-runs resume.

Example::

    python -m asd_lib.bin.download --dataset dcase2020 --download_dir downloads --corpus_dir corpus
    python -m asd_lib.bin.download --dataset dcase2024 --download_dir downloads --corpus_dir corpus
"""
import argparse
import logging
import os

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.corpus.download import download_corpus
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging

MIRROR_ENV = "ASD_ZENODO_MIRROR"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Fetch every archive of a corpus (resuming partial files with HTTP Range), "
        "check its published MD5 sum (where none is published, as for DCASE 2021, 2022, 2024 and "
        "2025, the zip's CRCs), "
        "unzip it into the official layout and mark it done; with the evaluation list, the "
        "official evaluator's ground-truth files (2021-2024, into ground_truth/).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", choices=CORPORA.names(), required=True, help="corpus name")
    parser.add_argument("--download_dir", required=True, help="archives, *.part and *.done markers")
    parser.add_argument("--corpus_dir", required=True, help="where dev_data/ and eval_data/ go")
    parser.add_argument("--machines", default="", help="comma-separated machine types; empty: all")
    parser.add_argument("--mirror", default=os.environ.get(MIRROR_ENV) or None,
                        help="replaces the host (https://zenodo.org; for the 2021-2025 eval "
                        "lists and the 2021-2024 evaluators' ground truth "
                        "https://raw.githubusercontent.com) in every URL "
                        f"(default: ${MIRROR_ENV})")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    corpus = get_corpus(args.dataset)
    remotes = corpus.remote_files(corpus.parse_machines(args.machines), mirror=args.mirror)
    status = download_corpus(remotes, args.download_dir, args.corpus_dir, corpus.validators())
    done = sum(v == "done" for v in status.values())
    logging.info("%d file(s) fetched, %d already done", done, len(status) - done)


if __name__ == "__main__":
    run_main(main)
