"""asd_lib: machine anomalous sound detection recipes (DCASE Challenge Task 2).

Importing asd_lib before torch shortens how long an OpenMP thread spins at the end of a
parallel region before it sleeps (``GOMP_SPINCOUNT=1000`` for GNU OpenMP, which the PyPI
torch wheels use, unless set otherwise; its default is 300,000). On a machine shared with
other work, threads spinning that long burn their share of the cores waiting for a
sibling the scheduler has parked, and training ran 3.5x slower beside two busy processes
on 2 cores, where a fair share is 2x; on a quiet machine the short spin costs a few
percent (README, "Performance"). OpenMP reads the variable once, when torch loads it.
"""
import os

os.environ.setdefault("GOMP_SPINCOUNT", "1000")

__version__ = "0.1.0"
