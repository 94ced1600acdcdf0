"""Command-line wrapper: bad input ends with one clear error line, not a traceback."""
import logging
import sys
from typing import Callable


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
