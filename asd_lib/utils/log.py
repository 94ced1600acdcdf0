"""Logging set-up shared by every ``asd_lib.bin`` entry point."""
import logging
import os

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"


def setup_logging(verbose: int = 1, rank: int = 0) -> None:
    """``verbose`` 0 -> WARNING, 1 -> INFO, 2+ -> DEBUG; ranks other than 0 stay quiet."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    if rank != 0:
        level = logging.WARNING
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)


def progress_enabled() -> bool:
    """tqdm bars only on an interactive terminal and never under CI."""
    import sys

    return sys.stderr.isatty() and not os.environ.get("CI")
