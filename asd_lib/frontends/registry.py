"""The front-end registry: YAML ``frontend: log_mel`` names a class registered here."""
from asd_lib.utils.registry import Registry

FRONTENDS = Registry("frontend")
