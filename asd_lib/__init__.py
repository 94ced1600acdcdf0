"""asd_lib: machine anomalous sound detection recipes (DCASE Challenge Task 2).

Importing asd_lib before torch makes OpenMP threads sleep, not spin, while they wait at
the end of a parallel region (``OMP_WAIT_POLICY=PASSIVE`` unless set otherwise): on a
machine shared with other work, spinning threads burn their share of the cores waiting
for a sibling the scheduler has parked, and training runs several times slower than its
fair share (README, "Performance"). OpenMP reads the variable once, when torch loads it.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
