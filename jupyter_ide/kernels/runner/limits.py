"""Per-run limits from the environment and the output gate that enforces size and rate caps."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_OUTPUT_LIMIT = 1024 * 1024
DEFAULT_OUTPUT_RATE = 256 * 1024
DEFAULT_KILL_GRACE = 1.0


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def human_bytes(n: float) -> str:
    """Format a byte count the way people read it (1 MiB, 256 KiB, 12 B)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{int(n)} B"


@dataclass(frozen=True)
class RunLimits:
    """The limits one run obeys (IDE_TIME_LIMIT, IDE_OUTPUT_LIMIT, IDE_OUTPUT_RATE, ...)."""

    time_limit: float = DEFAULT_TIME_LIMIT
    output_limit: int = DEFAULT_OUTPUT_LIMIT
    output_rate: int = DEFAULT_OUTPUT_RATE
    memory_limit: int = 0
    kill_grace: float = DEFAULT_KILL_GRACE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunLimits:
        """Read the limits from IDE_* environment variables, with the seed defaults."""
        env = os.environ if env is None else env
        return cls(
            time_limit=_number(env, "IDE_TIME_LIMIT", DEFAULT_TIME_LIMIT),
            output_limit=int(_number(env, "IDE_OUTPUT_LIMIT", DEFAULT_OUTPUT_LIMIT)),
            output_rate=int(_number(env, "IDE_OUTPUT_RATE", DEFAULT_OUTPUT_RATE)),
            memory_limit=int(_number(env, "IDE_MEMORY_LIMIT", 0)),
            kill_grace=_number(env, "IDE_KILL_GRACE", DEFAULT_KILL_GRACE),
        )


class OutputGate:
    """Cap one run's output at a total size and a rate (token bucket, one second of burst).

    `admit(n)` says how many of the next ``n`` bytes may pass and, the first time output
    is cut for a reason, the notice to show the user ("output truncated ...").
    """

    def __init__(self, limit: int, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        """Start a run's gate with a full bucket."""
        self.limit = limit
        self.rate = rate
        self._clock = clock
        self._tokens = float(rate)
        self._stamp = clock()
        self.passed = 0
        self.dropped = 0
        self._size_noticed = False
        self._rate_noticed = False

    @property
    def truncated(self) -> bool:
        """Whether any output of this run was dropped."""
        return self.dropped > 0

    def admit(self, n: int) -> tuple[int, str | None]:
        """Return how many of ``n`` bytes pass, and a notice when output starts being cut."""
        now = self._clock()
        self._tokens = min(float(self.rate), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        room = max(0, self.limit - self.passed)
        allowed = min(n, room, int(self._tokens))
        self.passed += allowed
        self._tokens -= allowed
        self.dropped += n - allowed
        notice = None
        if allowed < n:
            if allowed == room and not self._size_noticed:
                self._size_noticed = True
                notice = (
                    f"\n[output truncated: this run printed more than "
                    f"{human_bytes(self.limit)}; the rest is not shown]\n"
                )
            elif allowed < room and not self._rate_noticed and not self._size_noticed:
                self._rate_noticed = True
                notice = (
                    f"\n[output truncated: printing faster than {human_bytes(self.rate)}/s; "
                    "some output is not shown]\n"
                )
        return allowed, notice
