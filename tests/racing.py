"""Run one call from many threads at the same moment (start-up races)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def at_once(call: Callable[[], T], count: int = 20) -> list[T]:
    """Return what ``call`` gave in each of ``count`` threads released together.

    Any error a thread met is raised here.
    """
    start = threading.Barrier(count)
    found: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            found.append(call())
        except BaseException as e:  # collected, raised below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return found
