"""The whole training configuration checked before any data is read.

Every component a training config names (model, head, and per stage the objectives,
augmentations, sampler, optimiser and scheduler) must be registered, and every key of its
``*_conf`` must be an argument of what it names, with a value of the argument's kind
(:meth:`asd_lib.utils.registry.Registry.check_conf`, which reads the constructors'
signatures with ``inspect.signature``). A mistake is one :class:`ConfigError` naming the
key, the choices and the closest one, instead of a ``TypeError`` or ``KeyError`` after
the training set is loaded.
"""
import argparse
from typing import List

from asd_lib.augment import AUGMENTS
from asd_lib.data.samplers import SAMPLERS
from asd_lib.losses import HEADS, OBJECTIVES
from asd_lib.models import MODELS
from asd_lib.models.traits import traits
from asd_lib.train.optim import OPTIMIZERS, SCHEDULERS
from asd_lib.train.stages import Stage
from asd_lib.utils.config import ConfigError, to_number
from asd_lib.utils.yamlread import shown

HEAD_FREE = "none"
"""``head: none``: a model without a classification head (an autoencoder)."""


def check_training_config(args: argparse.Namespace, stages: List[Stage]) -> None:
    """Check ``args`` (model and head) and ``stages``; their confs are replaced by the
    checked ones (numbers written as text read as numbers). Raises ConfigError."""
    args.model_conf = MODELS.check_conf(args.model, args.model_conf, "model", "model_conf",
                                        given=("num_samples", "sample_rate"))
    HEADS.check_name(args.head, "head", extra=(HEAD_FREE,))
    if args.head == HEAD_FREE:
        if args.head_conf:
            raise ConfigError(f"head_conf: head {HEAD_FREE!r} takes no arguments, got "
                              f"{shown(args.head_conf)}")
    else:
        args.head_conf = HEADS.check_conf(args.head, args.head_conf, "head", "head_conf",
                                          given=("embedding_dim", "num_classes"))
    check_training_free(args, stages)
    for i, stage in enumerate(stages):
        check_stage(f"stages[{i}]", stage)


def check_training_free(args: argparse.Namespace, stages: List[Stage]) -> None:
    """A training-free model (``models.traits``) goes with ``stages: []`` and ``head:
    none``, and only such a model does: there is nothing else to train without stages."""
    free = traits(MODELS.get(args.model)).training_free
    if free and stages:
        raise ConfigError(f"stages: model {args.model!r} is training-free (no trainable "
                          "parameter); give stages: [] (stage 3 then records the experiment "
                          "without training)")
    if free and args.head != HEAD_FREE:
        raise ConfigError(f"head: model {args.model!r} is training-free; a classification "
                          f"head would be untrained: use head: {HEAD_FREE}")
    if not free and not stages:
        raise ConfigError(f"stages: [] trains nothing, but model {args.model!r} has to be "
                          "trained; give its training stages, or use a training-free model "
                          "(logmel_stats, frozen_encoder)")


def check_stage(where: str, stage: Stage) -> None:
    """Check one stage's components and their arguments, in place."""
    for j, term in enumerate(stage.losses):
        key = f"{where}.losses[{j}]"
        weight = to_number(term.weight, float)
        if weight is None:
            raise ConfigError(f"{key}.weight must be a number, got {shown(term.weight)}")
        term.weight = weight
        term.conf = OBJECTIVES.check_conf(term.name, term.conf, f"{key}.name", f"{key}.conf")
    stage.augments = [
        {"name": aug["name"],
         "conf": AUGMENTS.check_conf(aug["name"], aug.get("conf"), f"{where}.augments[{j}].name",
                                     f"{where}.augments[{j}].conf")}
        for j, aug in enumerate(stage.augments)]
    stage.sampler_conf = SAMPLERS.check_conf(stage.sampler, stage.sampler_conf,
                                             f"{where}.sampler", f"{where}.sampler_conf",
                                             given=("labels", "batch_size", "generator"))
    stage.optim_conf = OPTIMIZERS.check_conf(stage.optim, stage.optim_conf, f"{where}.optim",
                                             f"{where}.optim_conf", given=("params",))
    stage.scheduler_conf = SCHEDULERS.check_conf(stage.scheduler, stage.scheduler_conf,
                                                 f"{where}.scheduler",
                                                 f"{where}.scheduler_conf",
                                                 given=("optimizer", "epochs"))
