"""The back-end registry: YAML ``backend: knn`` + ``backend_conf: {k: 4}`` names a scorer."""
from asd_lib.utils.registry import Registry

BACKENDS = Registry("backend")
