"""Stage 3 of one experiment: a :class:`~asd_lib.train.config.TrainConfig` trained in its
``exp_dir``.

Training again in the same ``exp_dir`` resumes from its checkpoint (a finished run is left
as it is), provided the configuration is the one it was started with (besides the options
that do not change the result, :data:`~asd_lib.train.config.RUNTIME_KEYS`). The resolved
configuration is saved as ``<exp_dir>/config.yaml``. With ``split_by: machine`` one model
per machine type is trained, each in ``<exp_dir>/<machine>/`` with
``split_overrides[<machine>]`` applied.
"""
import logging
from pathlib import Path

import asd_lib
from asd_lib.data.dataset import DumpedSet
from asd_lib.experiment import write_model_info
from asd_lib.train.config import TrainConfig, saved_differences
from asd_lib.train.distributed import leave_distributed
from asd_lib.train.trainer import Trainer
from asd_lib.utils.checkpoint import training_state
from asd_lib.utils.config import ConfigError, read_saved_config, save_config


def train(config: TrainConfig) -> None:
    """Train (or resume, or leave as finished) the experiment of ``config``."""
    for key, what in (("train_dir", "the dumped training set of stage 2"),
                      ("exp_dir", "the experiment directory")):
        if not getattr(config, key):
            raise ConfigError(f"{key}: missing; give --{key} ({what})")
    config.training_stages()
    exp_dir = Path(config.exp_dir)
    check_resume_compatible(config, exp_dir / "config.yaml")
    exp_dir.mkdir(parents=True, exist_ok=True)
    save(config, exp_dir / "config.yaml")
    try:
        train_parts(config, exp_dir)
    except SystemExit:  # a checkpoint on SIGTERM: every process stops at the same batch
        leave_distributed()
        raise
    leave_distributed()


def train_parts(config: TrainConfig, exp_dir: Path) -> None:
    """One model, or with ``split_by: machine`` one per machine type in
    ``<exp_dir>/<machine>/``."""
    if config.split_by == "none":
        Trainer(config).run()
        return
    machines = sorted(set(DumpedSet(config.train_dir).column("utt2machine")))
    for machine in machines:
        part = config.for_machine(machine)
        part_dir = exp_dir / machine
        part_dir.mkdir(exist_ok=True)
        save(part, part_dir / "config.yaml")
        logging.info("training the %s model in %s", machine, part_dir)
        Trainer(part, exp_dir=part_dir, machines={machine}).run()
    write_model_info(exp_dir, {"parts": machines})


def save(config: TrainConfig, path: Path) -> None:
    """``config`` as the experiment's ``config.yaml``, with the package version."""
    save_config({**config.to_dict(), "asd_lib_version": asd_lib.__version__}, path)
    logging.info("config saved to %s", path)


def check_resume_compatible(config: TrainConfig, path: Path) -> None:
    """Refuse to resume an experiment that was trained with a different configuration; one
    without a checkpoint or snapshot yet (a run that stopped before its first epoch ended)
    takes the new configuration."""
    if not path.exists():
        return
    changed = saved_differences(config, read_saved_config(path))
    if changed and not training_state(path.parent):
        logging.info("%s: no epoch trained yet; the new configuration replaces it (changed: "
                     "%s)", path, ", ".join(changed))
    elif changed:
        raise ConfigError(
            f"{path}: this experiment was started with a different configuration "
            f"(changed: {', '.join(changed)}); use another --tag / exp dir, or delete it")
