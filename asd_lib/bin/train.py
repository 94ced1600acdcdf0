"""Train an embedding model with staged losses: ``python -m asd_lib.bin.train --config X.yaml``.

Re-running the same command resumes from ``<exp_dir>/checkpoint.pth`` (from
``checkpoint.prev.pth``, one checkpoint earlier, when that is unreadable); a finished run is
left as it is. The resolved configuration is saved as ``<exp_dir>/config.yaml``.
With ``split_by: machine`` one model per machine type is trained, each in
``<exp_dir>/<machine>/`` with ``split_overrides[<machine>]`` applied to the config.
"""
import argparse
import logging
from pathlib import Path
from typing import List

from asd_lib.data.dataset import DumpedSet
from asd_lib.experiment import write_model_info
from asd_lib.train.checks import check_training_config
from asd_lib.train.precision import PRECISIONS
from asd_lib.train.stages import Stage, parse_stages
from asd_lib.train.trainer import Trainer
from asd_lib.utils.checkpoint import training_state
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import (
    ConfigError,
    ConfigParser,
    read_saved_config,
    save_config,
    str2bool,
    yaml_value,
)
from asd_lib.utils.log import setup_logging

# Options that may change between a run and its resumption without changing the result.
RUNTIME_KEYS = {"ngpu", "num_workers", "num_threads", "verbose", "exp_dir", "train_dir",
                "keep_snapshots", "channels_last"}


def get_parser() -> ConfigParser:
    parser = ConfigParser(description=__doc__)
    group = parser.add_argument_group("data and run")
    group.add_argument("--train_dir", required=True, help="dumped training set (stage 2)")
    group.add_argument("--exp_dir", required=True, help="experiment directory")
    group.add_argument("--ngpu", type=int, default=0, help="0: CPU, 1: one CUDA device")
    group.add_argument("--num_workers", type=int, default=2, help="DataLoader workers")
    group.add_argument("--num_threads", type=int, default=0,
                       help="CPU threads for training on the CPU (0: all available cores)")
    group.add_argument("--seed", type=int, default=0,
                       help="seed of the initialisation, sampling order and augmentation "
                            "(epoch e uses seed + e); one per trial")
    group.add_argument("--split_seed", type=int, default=0,
                       help="seed of the held-out split, kept when --seed changes so that "
                            "trials differ only by training randomness")
    group.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    group.add_argument("--sample_rate", type=int, default=16000, help="of the dumped audio")
    group.add_argument("--valid_fraction", type=float, default=0.05,
                       help="share of every training class held out to choose the best epoch")
    group.add_argument("--keep_snapshots", type=int, default=5,
                       help="model snapshots kept besides latest/best (0: keep all)")
    group.add_argument("--precision", choices=PRECISIONS, default="fp32",
                       help="bf16: forward pass and losses under bfloat16 autocast, weights "
                            "and optimiser fp32 (for CUDA; asd_lib.train.precision)")
    group.add_argument("--channels_last", type=str2bool, default=False,
                       help="4-D weights in channels-last (NHWC) layout, for CUDA tensor cores")
    group = parser.add_argument_group("model")
    group.add_argument("--model", default="stgram_mfn", help="name in asd_lib.models.MODELS")
    group.add_argument("--model_conf", type=yaml_value, default={}, help="model arguments")
    group.add_argument("--head", default="arcface", help="name in asd_lib.losses.HEADS")
    group.add_argument("--head_conf", type=yaml_value, default={}, help="head arguments")
    group.add_argument("--ema_decay", type=float, default=0.0,
                       help="weight EMA decay (0: off); the averaged weights are validated, "
                            "saved and used at inference")
    group.add_argument("--split_by", choices=("none", "machine"), default="none",
                       help="machine: one model per machine type, in <exp_dir>/<machine>/")
    group.add_argument("--split_overrides", type=yaml_value, default={},
                       help="per machine type, config keys that differ (e.g. stages)")
    group = parser.add_argument_group("training stages")
    group.add_argument("--stages", type=yaml_value, default=None,
                       help="list of stages (losses, sampler, batch size, optimiser, epochs)")
    return parser


def check_resume_compatible(args, path: Path) -> None:
    """Refuse to resume an experiment that was trained with a different configuration; one
    without a checkpoint or snapshot yet (a run that stopped before its first epoch ended)
    takes the new configuration."""
    if not path.exists():
        return
    saved = read_saved_config(path)
    current = {k: v for k, v in vars(args).items() if k != "config"}
    defaults = vars(get_parser().parse_args(["--train_dir", "", "--exp_dir", ""]))
    # a key the saved config lacks (an option added since) had its default value
    changed = sorted(k for k in set(saved) | set(current)
                     if k not in RUNTIME_KEYS
                     and saved.get(k, defaults.get(k)) != current.get(k))
    if changed and not training_state(path.parent):
        logging.info("%s: no epoch trained yet; the new configuration replaces it (changed: "
                     "%s)", path, ", ".join(changed))
    elif changed:
        raise ConfigError(
            f"{path}: this experiment was started with a different configuration "
            f"(changed: {', '.join(changed)}); use another --tag / exp dir, or delete it")


def check_config(args) -> List[Stage]:
    """The training stages of ``args``, after checking the whole configuration before any
    data is read: value ranges the option types do not check, the stages, and every
    component name and argument (:func:`asd_lib.train.checks.check_training_config`), also
    of each ``split_overrides`` entry. A ConfigError names the config file (or the command
    line) that set the value."""
    try:
        if not 0 <= args.valid_fraction < 1:
            raise ConfigError(f"valid_fraction must be at least 0 and below 1 (the share of "
                              f"every class held out), got {args.valid_fraction}")
        stages = parse_stages(args.stages)
        check_training_config(args, stages)
        for machine in args.split_overrides or {}:
            part = part_args(args, machine)
            try:
                check_training_config(part, parse_stages(part.stages))
            except ConfigError as err:
                raise ConfigError(f"split_overrides.{machine}: {err}") from None
    except ConfigError as err:
        raise ConfigError(f"{args.config or 'the command line'}: {err}") from None
    return stages


def part_args(args, machine: str) -> argparse.Namespace:
    """The configuration of one machine type's model: ``split_overrides[machine]`` applied."""
    overrides = args.split_overrides.get(machine, {}) or {}
    unknown = sorted(set(overrides) - set(vars(args)))
    if unknown:
        raise ConfigError(f"split_overrides.{machine}: unknown key(s) {unknown}")
    return argparse.Namespace(**{**vars(args), **overrides, "split_by": "none",
                                 "split_overrides": {}})


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    stages = check_config(args)
    exp_dir = Path(args.exp_dir)
    check_resume_compatible(args, exp_dir / "config.yaml")
    exp_dir.mkdir(parents=True, exist_ok=True)
    save_config(args, exp_dir / "config.yaml")
    logging.info("config saved to %s", exp_dir / "config.yaml")
    if args.split_by == "none":
        Trainer(args, stages).run()
        return
    machines = sorted(set(DumpedSet(args.train_dir).column("utt2machine")))
    for machine in machines:
        sub = part_args(args, machine)
        sub_dir = exp_dir / machine
        sub_dir.mkdir(exist_ok=True)
        save_config(sub, sub_dir / "config.yaml")
        logging.info("training the %s model in %s", machine, sub_dir)
        sub_stages = parse_stages(sub.stages)
        check_training_config(sub, sub_stages)
        Trainer(sub, sub_stages, exp_dir=sub_dir, machines={machine}).run()
    write_model_info(exp_dir, {"parts": machines})


if __name__ == "__main__":
    run_main(main)
