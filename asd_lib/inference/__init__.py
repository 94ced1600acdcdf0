"""Stage 4: embeddings, anomaly scores and decisions of a trained experiment on a set.

- :mod:`~asd_lib.inference.config`: the inference configuration (``conf/decode/*.yaml``);
- :mod:`~asd_lib.inference.scores`: forward-pass scores, best class of the clip's section;
- :mod:`~asd_lib.inference.forward`: the batched forward pass with test-time candidates;
- :mod:`~asd_lib.inference.backend`: embedding back-ends fitted per (machine, section);
- :mod:`~asd_lib.inference.thresholds`: the decision thresholds;
- :mod:`~asd_lib.inference.outputs`: the files written;
- :mod:`~asd_lib.inference.run`: stage 4 for one set, from these.
"""
from asd_lib.inference.config import InferenceConfig
from asd_lib.inference.run import run_inference

__all__ = ["InferenceConfig", "run_inference"]
