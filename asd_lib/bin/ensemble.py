"""Stage 6: combine several systems into one (score level or embedding level).

    python -m asd_lib.bin.ensemble --systems exp/A/neg_log_prob_best exp/B/neg_prob_best \
        --fusion mean --dataset dcase2020 --out_dir exp/ensemble_AB/combined
    python -m asd_lib.bin.ensemble --level embedding \
        --inference_config conf/decode/kmeans_membank.yaml \
        --systems exp/A/kmeans_membank_best exp/B/kmeans_membank_best --weights 0.35,0.65 \
        --dataset dcase2024 --out_dir exp/ensemble_w2v2_ast/combined

Each system is an inference dir of stage 4 with ``<set>/utt2score`` (score level) or
``<set>/embeddings.scp`` (embedding level) for the training set and each test set. Writes
``<out_dir>/<set>/utt2score``, the official ``anomaly_score_*.csv`` and
``decision_result_*.csv`` of every test set, and ``<out_dir>/ensemble.json``; score them
with ``python -m asd_lib.bin.score``. ``--inference_config``: the inference configuration
whose back-end scores the combined embeddings (embedding level). Test sets without a data dir
under ``--data_root`` are skipped.
"""
import argparse

from asd_lib.corpus import CORPORA
from asd_lib.ensemble import FUSIONS, LEVELS, Combination, run_ensemble
from asd_lib.inference import InferenceConfig
from asd_lib.utils.cli import comma_floats, run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", nargs="+", required=True,
                        help="inference dirs of the systems (exp/<tag>/<inference_tag>)")
    parser.add_argument("--out_dir", required=True, help="where the ensemble's outputs go")
    parser.add_argument("--data_root", default="dump", help="parent of the dumped data dirs")
    parser.add_argument("--train_set", default="train",
                        help="training set: standardisation or back-end, and thresholds")
    parser.add_argument("--sets", default="dev_test eval_test",
                        help="space-separated test sets (missing data dirs skipped)")
    parser.add_argument("--dataset", choices=CORPORA.names(), default="dcase2020",
                        help="corpus whose official file names the outputs take")
    parser.add_argument("--level", choices=LEVELS, default="score",
                        help="score: standardised scores fused; embedding: L2-normalised "
                             "embeddings summed and scored by a back-end")
    parser.add_argument("--fusion", choices=FUSIONS, default="mean",
                        help="score level: weighted mean or max of the standardised scores")
    parser.add_argument("--weights", type=comma_floats, default=None,
                        help="comma-separated weight per system (default: all 1)")
    parser.add_argument("--std_floor", type=float, default=1e-6,
                        help="score level: smallest standard deviation to standardise with")
    parser.add_argument("--inference_config", default=None,
                        help="embedding level: inference config (conf/decode/*.yaml) whose "
                             "back-end scores the combined embeddings (default: "
                             "kmeans_membank with its defaults)")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    combination = Combination(
        level=args.level, fusion=args.fusion,
        weights=None if args.weights is None else tuple(args.weights),
        std_floor=args.std_floor,
        inference=(InferenceConfig(backend="kmeans_membank") if args.inference_config is None
                   else InferenceConfig.from_yaml(args.inference_config)))
    run_ensemble(args.systems, args.out_dir, args.data_root, args.train_set, args.sets.split(),
                 args.dataset, combination)


if __name__ == "__main__":
    run_main(main)
