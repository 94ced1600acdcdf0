"""Command-line wrapper: bad input ends with one clear error line, not a traceback."""
import argparse
import logging
import math
import sys
from typing import Callable, List


def run_main(main: Callable[[], None]) -> None:
    """Run an entry point's ``main``; a ``ValueError`` / ``OSError`` (whose messages name
    the file and the fix) is logged as one line and the process exits with status 1.
    Calling ``main`` directly (as the tests do) still raises, so errors can be asserted."""
    try:
        main()
    except (ValueError, OSError) as err:
        if not logging.getLogger().handlers:
            logging.basicConfig(format="%(levelname)s: %(message)s")
        logging.error("%s", err)
        sys.exit(1)


def comma_floats(text: str) -> List[float]:
    """argparse type of ``--weights 0.35,0.65``: comma-separated numbers."""
    try:
        return [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0.35,0.65, got {text!r}") from None


def share(text: str) -> float:
    """argparse type of a share such as ``--max_clipped 0.01``: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1, got {text!r}")
    return value


def number_in(low: float, high: float, unit: str, integer: bool = False) -> Callable[[str], float]:
    """argparse type of a plain number from ``low`` to ``high`` (``unit`` names what it
    counts); ``inf``, ``nan`` and values out of range are refused with the range."""
    kind = "a whole number" if integer else "a number"

    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {kind} of {unit} from {low:g} to {high:g}, got {text!r}")
        return value
    return parse
