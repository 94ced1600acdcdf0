"""Reconstruction loss of autoencoders (DCASE 2020 Task 2 baseline: mean squared error).

The model returns ``reconstruction_error`` ``[B]``, each clip's mean squared error over
its input vectors and their dimensions (``asd_lib.models.ae_baseline``); the loss is its
mean over the batch, which equals the squared error averaged over every vector of the
batch when the clips have equally many vectors (fixed-length clips).
"""
from asd_lib.losses.objectives import OBJECTIVES


@OBJECTIVES.register("reconstruction_mse")
class ReconstructionMSE:
    """``objective(step, head) -> (mean reconstruction error, None)``; no head is used."""

    def __call__(self, step, head):
        if "reconstruction_error" not in step.out:
            raise ValueError("reconstruction_mse: the model returns no 'reconstruction_error'; "
                             "use an autoencoder model such as ae_baseline")
        return step.out["reconstruction_error"].mean(), None
