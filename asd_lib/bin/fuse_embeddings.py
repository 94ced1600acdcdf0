r"""Fuse the embeddings of several systems (weighted sum of L2-normalised embeddings) and
score the fused embeddings with an embedding back-end, as stage 4 does.

    python -m asd_lib.bin.fuse_embeddings --systems exp/A/best exp/B/best \
        --weights 0.35,0.65 --out_dir exp/w2v2_ast_fused/best \
        --sets "train dev_test eval_test" --data_root dump \
        --backend kmeans_membank --backend_conf "{centres: per_class}" --dataset dcase2024

Each system dir needs ``<set>/embeddings.scp`` (stage 4) for the training set and each set.
Writes ``<out_dir>/<set>/embeddings.{ark,scp}`` and ``utt2score``, for every set but the
training set the official ``anomaly_score_*.csv`` and ``decision_result_*.csv``, and
``<out_dir>/fusion.json``; score them with ``python -m asd_lib.bin.score --dataset
dcase2024 --data_dir dump/dev_test --score_dir <out_dir>/dev_test``. Sets without a data
dir under ``--data_root`` are skipped. Kim et al. (DCASE 2024): weights 1 - w, w with w in
0.62-0.67 for the machine-type and the machine-type + attribute systems.
"""
import argparse

from asd_lib.fuse import run_fusion
from asd_lib.inference import CSV_NAMES
from asd_lib.utils.cli import comma_floats, run_main
from asd_lib.utils.config import yaml_value
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", nargs="+", required=True,
                        help="inference dirs of the systems (exp/<tag>/<checkpoint>)")
    parser.add_argument("--weights", type=comma_floats, default=None,
                        help="comma-separated weight per system (default: all 1)")
    parser.add_argument("--out_dir", required=True, help="where the fused outputs go")
    parser.add_argument("--data_root", default="dump", help="parent of the dumped data dirs")
    parser.add_argument("--train_set", default="train",
                        help="training set: back-end fitting and decision thresholds")
    parser.add_argument("--sets", default="train dev_test eval_test",
                        help="space-separated sets to fuse (the training set is always fused; "
                             "missing data dirs are skipped)")
    parser.add_argument("--backend", default="kmeans_membank",
                        help="embedding back-end of asd_lib.backends")
    parser.add_argument("--backend_conf", type=yaml_value, default={"centres": "per_class"},
                        help="back-end arguments (YAML mapping)")
    parser.add_argument("--dataset", choices=sorted(CSV_NAMES), default="dcase2024",
                        help="official file naming")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    run_fusion(args.systems, args.out_dir, args.data_root, args.train_set, args.sets.split(),
               args.dataset, args.backend, args.backend_conf, weights=args.weights)


if __name__ == "__main__":
    run_main(main)
