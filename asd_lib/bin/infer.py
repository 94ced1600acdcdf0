"""Stage 4: embeddings, anomaly scores and decisions of a dumped set.

    python -m asd_lib.bin.infer --config conf/decode/neg_log_prob.yaml --exp_dir exp/X \
        --checkpoint best --data_dir dump/dev_test --out_dir exp/X/neg_log_prob_best/dev_test \
        --train_dir dump/train --train_out_dir exp/X/neg_log_prob_best/train

The training set is scored first (``--data_dir`` equal to ``--train_dir``): its embeddings
fit the embedding back-ends and its scores set the decision thresholds, both read from
``--train_out_dir`` when a test set is scored. ``--config`` is an inference configuration
(:mod:`asd_lib.inference.config`); the options below override its keys, and a scorer given
on the command line replaces the file's (``--backend knn`` over a file with
``score: neg_log_prob``; ``--score`` also drops the file's ``backend_conf``). The resolved
configuration, the checkpoint, the corpus and the training set are recorded in
``<out_dir>/../inference.yaml``.
"""
import argparse
from dataclasses import fields
from pathlib import Path

from asd_lib.corpus import CORPORA
from asd_lib.inference import InferenceConfig, run_inference
from asd_lib.inference.config import InferenceRecord
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import ConfigError, ConfigParser
from asd_lib.utils.log import setup_logging
from asd_lib.utils.options import add_options


def get_parser() -> ConfigParser:
    parser = ConfigParser(description=__doc__)
    group = parser.add_argument_group("what to score")
    group.add_argument("--exp_dir", required=True, help="trained experiment (stage 3)")
    group.add_argument("--checkpoint", default="best", help="best, latest or epochN")
    group.add_argument("--data_dir", required=True, help="dumped set to score (stage 2)")
    group.add_argument("--out_dir", required=True, help="where the outputs go")
    group.add_argument("--train_dir", required=True, help="dumped training set (stage 2)")
    group.add_argument("--train_out_dir", required=True,
                       help="the training set's outputs of this inference configuration")
    group.add_argument("--dataset", default="dcase2020", choices=CORPORA.names(),
                       help="corpus whose official file names the outputs take")
    group.add_argument("--ngpu", type=int, default=0, help="0: CPU, 1: one CUDA device")
    group.add_argument("--num_threads", type=int, default=0,
                       help="CPU threads when --ngpu 0 (0: all available cores)")
    group.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    add_options(parser, InferenceConfig, given_only=False)
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    config = inference_config(args, cmd)
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    InferenceRecord(config, args.checkpoint, args.dataset, args.train_dir).write(
        Path(args.out_dir).parent)
    run_inference(args.exp_dir, args.checkpoint, args.data_dir, args.out_dir, args.dataset,
                  config, args.train_dir, args.train_out_dir, ngpu=args.ngpu,
                  num_threads=args.num_threads)


def inference_config(args, cmd=None) -> InferenceConfig:
    """The inference configuration of the parsed ``args``: the ``--config`` file's keys with
    the command line's over them, a scorer of the command line replacing the file's."""
    values = {f.name: getattr(args, f.name) for f in fields(InferenceConfig)}
    given = scorers_given(cmd)
    if given == {"backend"}:
        values["score"] = None
    elif given == {"score"}:
        values["backend"] = None
        if not backend_conf_given(cmd):
            values["backend_conf"] = {}
    try:
        return InferenceConfig(**values)
    except ConfigError as err:
        raise ConfigError(f"{args.config or 'the command line'}: {err}") from None


def scorers_given(cmd=None) -> set:
    """Which of ``--score`` and ``--backend`` the command line itself gives."""
    known = _command_line_keys(cmd)
    return {name for name in ("score", "backend") if getattr(known, name) is not None}


def backend_conf_given(cmd=None) -> bool:
    """Whether the command line itself gives ``--backend_conf``."""
    return _command_line_keys(cmd).backend_conf is not None


def _command_line_keys(cmd=None) -> argparse.Namespace:
    pre = argparse.ArgumentParser(add_help=False)
    for name in ("score", "backend", "backend_conf"):
        pre.add_argument(f"--{name}")
    return pre.parse_known_args(cmd)[0]


if __name__ == "__main__":
    run_main(main)
