"""asd_lib: machine anomalous sound detection recipes (DCASE Challenge Task 2)."""

__version__ = "0.1.0"
