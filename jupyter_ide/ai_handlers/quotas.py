"""Per-user request rate and daily tokens, atomic across servers through the shared cache."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..cache import Cache

DAY = 86_400


class QuotaExceeded(Exception):
    """A limit is reached; the message says which and when it resets."""


@dataclass
class Reservation:
    """Tokens set aside for one request, settled when its usage is known."""

    key: str
    reserved: int


def _utc_day() -> str:
    """Return today's UTC date."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


class Quotas:
    """Check and count a user's requests and tokens."""

    def __init__(self, cache: Cache, requests_per_minute: int, daily_tokens: int) -> None:
        """Enforce the two limits in ``cache``."""
        self.cache = cache
        self.requests_per_minute = requests_per_minute
        self.daily_tokens = daily_tokens

    async def admit(self, user: str, estimate: int) -> Reservation:
        """Count a request and reserve ``estimate`` tokens, or raise QuotaExceeded."""
        minute = int(time.time() // 60)
        count = await self.cache.incr(f"ai:rpm:{user}:{minute}", ttl=60)
        if count > self.requests_per_minute:
            raise QuotaExceeded(
                f"Rate limit: {self.requests_per_minute} requests per minute; "
                f"try again in {60 - int(time.time()) % 60} s"
            )
        key = f"ai:tokens:{user}:{_utc_day()}"
        added, used = await self.cache.incr_if_below(key, estimate, self.daily_tokens, ttl=DAY + 60)
        if not added:
            raise QuotaExceeded(
                f"Daily token limit: {used} of {self.daily_tokens} tokens used today; "
                "it resets at 00:00 UTC"
            )
        return Reservation(key, estimate)

    async def settle(self, reservation: Reservation, actual: int) -> None:
        """Replace the reservation with the tokens really used."""
        if actual != reservation.reserved:
            await self.cache.incr(reservation.key, actual - reservation.reserved)
