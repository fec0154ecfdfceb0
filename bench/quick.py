"""Quick mode: every benchmark end to end with a handful of iterations (a smoke run, no figures).

On with ``python -m bench --quick`` or ``JUPYTER_IDE_BENCH_QUICK=1`` (read when a bench module
is imported). Peers that would have to be installed first are skipped in quick mode, and the
output says so; our own side of every bench always runs.
"""

from __future__ import annotations

import os

ENV = "JUPYTER_IDE_BENCH_QUICK"


def quick() -> bool:
    """Whether the benchmarks run in quick mode."""
    return os.environ.get(ENV, "").strip() not in ("", "0")


def skipped(what: str, why: str) -> None:
    """Say in the output that quick mode left a peer out, and why."""
    print(f"quick mode: {what} skipped ({why})", flush=True)
