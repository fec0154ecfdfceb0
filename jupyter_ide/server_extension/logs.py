"""Log records only for lines some handler will print."""

from __future__ import annotations

import logging


def skip_unprinted_levels(logger: logging.Logger) -> None:
    """Raise ``logger`` (and tornado's, which feeds it) to the lowest level its handlers print.

    Jupyter leaves its application logger at DEBUG and filters in the console handler, so
    every debug line of a request still builds a record and formats its arguments; at
    ``--log-level=DEBUG`` nothing changes.
    """
    if not logger.handlers:
        return
    printed = min(handler.level for handler in logger.handlers)
    for each in (logger, logging.getLogger("tornado")):
        if each.level < printed:
            each.setLevel(printed)
