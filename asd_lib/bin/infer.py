"""Stage 4: embeddings, anomaly scores and decisions for a dumped set.

``python -m asd_lib.bin.infer --exp_dir exp/X --checkpoint best --data_dir dump/dev_test
--out_dir exp/X/best/dev_test --train_dir dump/train --train_scores exp/X/best/train/utt2score``
(the train set itself is scored first, without ``--train_scores``: its scores set the
decision thresholds).
"""
import argparse

from asd_lib.inference import CSV_NAMES, run_inference
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import yaml_value
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--exp_dir", required=True, help="trained experiment (stage 3)")
    parser.add_argument("--checkpoint", default="best", help="best, latest or epochN")
    parser.add_argument("--data_dir", required=True, help="dumped set to score (stage 2)")
    parser.add_argument("--out_dir", required=True, help="where the outputs go")
    parser.add_argument("--dataset", default="dcase2020", choices=sorted(CSV_NAMES),
                        help="official file naming")
    parser.add_argument("--train_dir", default=None, help="dumped training set (thresholds)")
    parser.add_argument("--train_scores", default=None,
                        help="utt2score of the training set; when given, official CSVs and "
                             "decisions are written")
    parser.add_argument("--ngpu", type=int, default=0, help="0: CPU, 1: one CUDA device")
    parser.add_argument("--batch_size", type=int, default=None,
                        help="clips per forward pass (default: infer_batch_size of the config)")
    parser.add_argument("--num_workers", type=int, default=0, help="DataLoader workers")
    parser.add_argument("--num_threads", type=int, default=0,
                        help="CPU threads when --ngpu 0 (0: all available cores)")
    parser.add_argument("--backend", default=None,
                        help="anomaly scorer (default: backend of the training config)")
    parser.add_argument("--backend_conf", type=yaml_value, default=None,
                        help="back-end arguments (default: backend_conf of the config)")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if (args.train_scores is None) != (args.train_dir is None):
        raise SystemExit("infer: give both --train_dir and --train_scores, or neither")
    run_inference(args.exp_dir, args.checkpoint, args.data_dir, args.out_dir, args.dataset,
                  ngpu=args.ngpu, batch_size=args.batch_size, train_dir=args.train_dir,
                  train_score_file=args.train_scores, num_workers=args.num_workers,
                  num_threads=args.num_threads, backend=args.backend,
                  backend_conf=args.backend_conf)


if __name__ == "__main__":
    run_main(main)
