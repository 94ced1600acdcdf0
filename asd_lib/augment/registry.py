"""The augmentation registry: a stage's ``augments: [{name: mixup, conf: {...}}]`` names one."""
from asd_lib.utils.registry import Registry

AUGMENTS = Registry("augment")
