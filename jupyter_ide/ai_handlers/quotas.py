"""Per user and per course: requests a minute, tokens a day and a month, in the shared cache.

A request is admitted against every limit in force at once (one atomic step in the cache,
all or none), so every server process sees the same counts and a refused request holds
nothing, not even for a moment.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..cache import Bounded, Cache
from .batching import Gathering
from .errors import QuotaExceeded
from .settings import AISettings

log = logging.getLogger(__name__)

WINDOW_SLACK = 60  # seconds a counter outlives its window


@dataclass(frozen=True)
class Window:
    """One counting window: its key suffix, when it resets and what it is called."""

    suffix: str
    resets_at: datetime
    label: str


def _windows(now: datetime) -> dict[str, Window]:
    """Return the minute, day and month windows (UTC) that ``now`` falls in."""
    return _windows_of_minute(now.replace(second=0, microsecond=0))


@functools.lru_cache(maxsize=4)
def _windows_of_minute(minute: datetime) -> dict[str, Window]:
    """Return the windows of a minute (worked out once per minute, not per request)."""
    day = minute.replace(hour=0, minute=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return {
        "minute": Window(minute.strftime("%Y%m%d%H%M"), minute + timedelta(minutes=1), "minute"),
        "day": Window(day.strftime("%Y%m%d"), day + timedelta(days=1), "day"),
        "month": Window(month.strftime("%Y%m"), next_month, "month"),
    }


@dataclass(frozen=True)
class Limit:
    """One limit in force for a request."""

    scope: str  # "user" or "course"
    owner: str  # the user's or the course's name
    unit: str  # "requests" or "tokens"
    window: Window
    limit: int

    @property
    def name(self) -> str:
        """The limit's name, e.g. user_tokens_per_day."""
        return f"{self.scope}_{self.unit}_per_{self.window.label}"

    def key(self, namespace: str) -> str:
        """Return the counter's key in the cache."""
        return f"{namespace}:q:{self.scope}:{self.owner}:{self.unit}:{self.window.suffix}"

    def describe(self) -> str:
        """Say the limit in words."""
        return f"{self.scope} {self.unit} per {self.window.label}"


@dataclass
class Reservation:
    """What one request counted: its request slots and the tokens set aside."""

    token_counters: list[tuple[str, float]] = field(default_factory=list)  # (key, ttl)
    reserved: int = 0
    warnings: list[str] = field(default_factory=list)


def _seconds_until(moment: datetime) -> int:
    """Whole seconds from now until ``moment``, at least one."""
    return max(int((moment - datetime.now(timezone.utc)).total_seconds()) + 1, 1)


class Quotas:
    """Admit requests against every limit in force, or refuse naming the one reached."""

    def __init__(self, cache: Cache, settings: AISettings) -> None:
        """Count in ``cache`` under ``settings.cache_namespace``."""
        self.cache = cache
        self.settings = settings
        self.namespace = settings.cache_namespace
        self._deltas: dict[str, tuple[int, float]] = {}  # counter -> (tokens to add, ttl)
        self._settler = Gathering(settings.quota_settle_seconds, self._settle_waiting)

    def limits(self, user: str, courses: Sequence[str] | None) -> list[Limit]:
        """Return the limits in force for ``user`` counted in ``courses`` now (0 means none).

        A request counts against every course given: one course when the request names
        it, each of a student's courses when it names none.
        """
        s = self.settings
        w = _windows(datetime.now(timezone.utc))
        wanted = [
            ("user", user, "requests", w["minute"], s.requests_per_minute),
            ("user", user, "tokens", w["day"], s.daily_tokens),
            ("user", user, "tokens", w["month"], s.monthly_tokens),
        ]
        for course in dict.fromkeys(courses or ()):
            wanted += [
                ("course", course, "requests", w["minute"], s.course_requests_per_minute),
                ("course", course, "tokens", w["day"], s.course_daily_tokens),
                ("course", course, "tokens", w["month"], s.course_monthly_tokens),
            ]
        return [Limit(*args) for args in wanted if args[4] > 0]

    def _warning(self, limit: Limit, used: int) -> str | None:
        """Say that a limit is nearly reached, or None."""
        if used < limit.limit * self.settings.quota_warning:
            return None
        share = min(100, int(100 * used / limit.limit))
        return (
            f"{limit.describe()}: {share}% used ({used} of {limit.limit}), "
            f"resets {limit.window.resets_at.isoformat()}"
        )

    def _refusal(self, limit: Limit, used: int) -> QuotaExceeded:
        """Return the 429 for a limit reached."""
        resets = limit.window.resets_at
        return QuotaExceeded(
            f"Limit reached: {limit.describe()} ({used} of {limit.limit} used"
            f"{' by ' + limit.owner if limit.scope == 'course' else ''}); "
            f"it resets at {resets.strftime('%Y-%m-%d %H:%M')} UTC",
            limit=limit.name,
            resets_at=resets.isoformat(),
            retry_after=_seconds_until(resets),
        )

    async def admit(self, user: str, courses: Sequence[str] | None, estimate: int) -> Reservation:
        """Count a request and reserve ``estimate`` tokens under every limit, or raise 429.

        One atomic check-and-add in the cache covers every limit: all counters grow, or none
        does and the first limit that would be passed is named.
        """
        now = datetime.now(timezone.utc)
        limits = self.limits(user, courses)
        counters = [
            Bounded(
                limit.key(self.namespace),
                1 if limit.unit == "requests" else estimate,
                limit.limit,
                ttl=(limit.window.resets_at - now).total_seconds() + WINDOW_SLACK,
            )
            for limit in limits
        ]
        admission = await self.cache.incr_all_if_below(counters)
        if admission.refused is not None:
            raise self._refusal(limits[admission.refused], admission.values[0])
        reservation = Reservation(reserved=estimate)
        for limit, counter, value in zip(limits, counters, admission.values, strict=True):
            if limit.unit == "tokens":
                reservation.token_counters.append((counter.key, counter.ttl or 0.0))
            warning = self._warning(limit, value)
            if warning:
                reservation.warnings.append(warning)
        return reservation

    def settle_soon(self, reservation: Reservation, actual: int) -> None:
        """Settle off the response's path, with the requests that finish close to it.

        The counters' changes add up and go to the cache in one step after
        ``quota_settle_seconds``; until then the request holds its reservation, which is
        never less than it used. ``settled`` settles what waits at once.
        """
        delta = actual - reservation.reserved
        reservation.reserved = actual
        if not delta:
            return
        for key, ttl in reservation.token_counters:
            waiting = self._deltas.get(key, (0, ttl))[0]
            self._deltas[key] = (waiting + delta, ttl)
        self._settler.wake()

    async def _settle_waiting(self) -> None:
        """Send every waiting change to the cache, in one step per batch."""
        while self._deltas:
            batch, self._deltas = self._deltas, {}
            changes = [(key, delta, ttl) for key, (delta, ttl) in batch.items() if delta]
            try:
                await self.cache.incr_each(changes)
            except Exception as e:
                # The requests keep what they reserved: never under the limit, only over.
                log.error("AI quotas: %d counters not settled: %s", len(changes), e)

    async def settled(self) -> None:
        """Settle every waiting change now and wait until it is done."""
        await self._settler.flush()

    async def status(self, user: str, courses: Sequence[str] | None) -> list[dict[str, Any]]:
        """Return each limit in force with what is used of it, for the usage summary."""
        await self.settled()
        found = []
        for limit in self.limits(user, courses):
            raw = await self.cache.get(limit.key(self.namespace))
            used = int(raw) if raw else 0
            found.append(
                {
                    "name": limit.name,
                    "scope": limit.scope,
                    "course": limit.owner if limit.scope == "course" else None,
                    "used": used,
                    "limit": limit.limit,
                    "ratio": round(used / limit.limit, 4),
                    "resets_at": limit.window.resets_at.isoformat(),
                    "warning": self._warning(limit, used),
                }
            )
        return found
