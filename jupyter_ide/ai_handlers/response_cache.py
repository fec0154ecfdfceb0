"""Answers to identical single-shot temperature-0 requests, kept per course in the cache."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..cache import Cache


def cacheable(upstream: dict[str, Any]) -> bool:
    """Return True for a single-shot request at temperature 0 (one user turn, no replies)."""
    temperature = upstream.get("temperature")
    if temperature is None or isinstance(temperature, bool) or temperature != 0:
        return False
    roles = [m["role"] for m in upstream["messages"]]
    return roles.count("user") == 1 and not {"assistant", "tool"} & set(roles)


class ResponseCache:
    """Store and find answers by a hash of the request, in one scope (a course or a user)."""

    def __init__(self, cache: Cache, namespace: str, seconds: int) -> None:
        """Keep answers ``seconds`` long under ``namespace`` (0 turns the cache off)."""
        self.cache = cache
        self.namespace = namespace
        self.seconds = seconds

    def key(self, scope: str, upstream: dict[str, Any]) -> str | None:
        """Return the cache key of a request, or None when it is not to be cached."""
        if self.seconds <= 0 or not cacheable(upstream):
            return None
        digest = hashlib.sha256(
            json.dumps(upstream, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        return f"{self.namespace}:rc:{scope}:{digest}"

    async def get(self, key: str) -> dict[str, Any] | None:
        """Return a stored answer: content, finish_reason and usage."""
        raw = await self.cache.get(key)
        if raw is None:
            return None
        found: dict[str, Any] = json.loads(raw)
        return found

    async def put(self, key: str, content: str, finish_reason: str, usage: dict[str, Any]) -> None:
        """Store a complete answer."""
        record = {"content": content, "finish_reason": finish_reason, "usage": usage}
        await self.cache.set(key, json.dumps(record).encode(), ttl=self.seconds)
