"""Small helpers to time operations and print median / p95 / ratio tables."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable


async def time_async(operation: Callable[[int], Awaitable[object]], rounds: int) -> list[float]:
    """Run ``operation(i)`` ``rounds`` times; return each duration in milliseconds."""
    durations = []
    for i in range(rounds):
        start = time.perf_counter()
        await operation(i)
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def p95(values: list[float]) -> float:
    """Return the 95th percentile, interpolated between samples (never above the largest)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def print_table(title: str, rows: dict[str, dict[str, list[float]]], baseline: str) -> None:
    """Print, per operation, each peer's median and p95 and the ratio to ``baseline``."""
    width = max(28, *(len(operation) + 2 for operation in rows))
    print(f"\n{title}")
    print(f"{'operation':<{width}}{'peer':<32} {'median ms':>12} {'p95 ms':>12} {'ratio':>8}")
    for operation, peers in rows.items():
        base = statistics.median(peers[baseline])
        for peer, values in peers.items():
            median = statistics.median(values)
            figures = f" {median:>12.3f} {p95(values):>12.3f} {median / base:>8.2f}"
            print(f"{operation:<{width}}{peer:<32}{figures}")
