"""Keep the objects of start-up out of the garbage collector's full passes."""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect once, then freeze every live object; return how many are frozen.

    A started server holds about 400k objects (the SDKs' pydantic models, grammar tables,
    handlers) that live as long as it does. Each full collection scans them all, pausing every
    request for 100-150 ms once every few thousand requests; frozen, they are never scanned.
    """
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "Froze %d start-up objects for the garbage collector (%.0f ms)",
        frozen,
        (time.perf_counter() - started) * 1000,
    )
    return frozen
