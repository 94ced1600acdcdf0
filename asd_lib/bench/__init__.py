"""Performance measurements behind ``python -m asd_lib.bin.benchmark``.

One module per part: the synthetic corpus (``corpus``), timing helpers (``timing``), the
loader and the dump (``datapath``), training and inference steps (``steps``), peak memory
in fresh processes (``memory``), the full-schedule GPU estimate (``estimate``), the report
table (``report``) and the run that ties them together (``run``).
"""
