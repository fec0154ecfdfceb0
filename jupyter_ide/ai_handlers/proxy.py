"""The proxy's logic: check a request, route it, enforce quotas, record usage."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import Any

from ..cache import Cache
from ..db import AIUsage, Database
from ..db.queries import get_or_create_user
from .keys import KeyStore
from .providers import OpenAICompatible, ProviderError
from .quotas import Quotas
from .settings import AISettings

ROLES = ("system", "user", "assistant", "tool", "developer")
PASSED_THROUGH = ("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed")


class BadRequest(ValueError):
    """A request the proxy refuses, with its HTTP status and a message for people."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status."""
        super().__init__(message)
        self.status = status


def _prompt_chars(messages: list[dict[str, Any]]) -> int:
    """Count the characters a prompt sends."""
    return sum(len(json.dumps(m.get("content"), ensure_ascii=False)) for m in messages)


class AIProxy:
    """Serve chat completions for one server's users."""

    def __init__(self, settings: AISettings, db: Database, cache: Cache, keys: KeyStore) -> None:
        """Wire the providers, quotas and ledger."""
        self.settings = settings
        self.db = db
        self.keys = keys
        self.quotas = Quotas(cache, settings.requests_per_minute, settings.daily_tokens)
        self.providers: dict[str, OpenAICompatible] = {}
        if settings.pool_url:
            self.providers["pool"] = OpenAICompatible(
                "pool", settings.pool_url, "", settings.timeout
            )
        self.providers["openai"] = OpenAICompatible(
            "openai", settings.openai_base_url, settings.openai_api_key, settings.timeout
        )

    def models(self) -> list[dict[str, Any]]:
        """List the public model names this server routes."""
        return [
            {"id": name, "object": "model", "owned_by": "jupyter-ide"}
            for name in sorted(self.settings.routes)
            if name != "*" and self.settings.routes[name]
        ]

    def check(self, body: Any) -> dict[str, Any]:
        """Return the upstream request for a client's body, or raise BadRequest."""
        if not isinstance(body, dict):
            raise BadRequest(400, "The body must be a JSON object")
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            raise BadRequest(400, "Missing field: model")
        if not isinstance(messages, list) or not messages:
            raise BadRequest(400, "messages must be a non-empty list")
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                raise BadRequest(400, f"Each message needs a role among {', '.join(ROLES)}")
            if not isinstance(message.get("content"), str | list):
                raise BadRequest(400, "Each message needs content (text or parts)")
        if _prompt_chars(messages) > self.settings.max_prompt_chars:
            raise BadRequest(
                413, f"The prompt is longer than {self.settings.max_prompt_chars} characters"
            )
        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        if max_tokens is None:
            max_tokens = min(1024, self.settings.max_tokens)
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise BadRequest(400, "max_tokens must be a positive integer")
        if max_tokens > self.settings.max_tokens:
            raise BadRequest(400, f"max_tokens may be at most {self.settings.max_tokens}")
        if body.get("n", 1) != 1:
            raise BadRequest(400, "n must be 1")
        if not self.settings.providers_for(model):
            raise BadRequest(404, f"The model {model!r} is not served here")
        upstream = {"model": model, "messages": messages, "max_tokens": max_tokens}
        upstream.update({k: body[k] for k in PASSED_THROUGH if k in body})
        return upstream

    def estimate(self, upstream: dict[str, Any]) -> int:
        """Tokens to reserve: the prompt (about 4 characters a token) plus max_tokens."""
        return _prompt_chars(upstream["messages"]) // 4 + 1 + int(upstream["max_tokens"])

    async def _key(self, user: str, provider: str) -> str | None:
        """Return the user's own key for a provider, if they stored one."""
        if not self.keys.box.available:
            return None
        return await self.keys.get(user, provider)

    async def complete(self, user: str, upstream: dict[str, Any]) -> dict[str, Any]:
        """Run a whole completion with quotas, failover and a ledger row."""
        reservation = await self.quotas.admit(user, self.estimate(upstream))
        started, used = time.monotonic(), 0
        try:
            error: ProviderError | None = None
            for name in self.settings.providers_for(upstream["model"]):
                try:
                    result = await self.providers[name].complete(
                        upstream, await self._key(user, name)
                    )
                except ProviderError as e:
                    error = e
                    if e.retryable:
                        continue
                    raise
                usage = result.get("usage") or {}
                used = int(usage.get("total_tokens", 0))
                await self._record(user, name, upstream["model"], usage, started)
                return result
            assert error is not None
            raise error
        finally:
            await self.quotas.settle(reservation, used)

    async def stream(
        self, user: str, upstream: dict[str, Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield completion chunks; usage is settled and recorded even if the client leaves."""
        reservation = await self.quotas.admit(user, self.estimate(upstream))
        started, provider = time.monotonic(), ""
        usage: dict[str, Any] = {}
        try:
            error: ProviderError | None = None
            for name in self.settings.providers_for(upstream["model"]):
                provider, sent = name, False
                try:
                    async for chunk in self.providers[name].stream(
                        upstream, await self._key(user, name)
                    ):
                        usage = chunk.get("usage") or usage
                        sent = True
                        yield chunk
                    break
                except ProviderError as e:
                    error = e
                    if e.retryable and not sent:
                        continue
                    raise
            else:
                assert error is not None
                raise error
        finally:
            used = int(usage.get("total_tokens", 0)) if usage else reservation.reserved
            await self.quotas.settle(reservation, used)
            if provider:
                await self._record(user, provider, upstream["model"], usage, started)

    async def _record(
        self, user: str, provider: str, model: str, usage: dict[str, Any], started: float
    ) -> None:
        """Write the usage ledger row."""
        async with self.db.session() as session:
            row, _ = await get_or_create_user(session, user)
            session.add(
                AIUsage(
                    user_id=row.id,
                    provider=provider,
                    model=model,
                    prompt_tokens=int(usage.get("prompt_tokens", 0)),
                    completion_tokens=int(usage.get("completion_tokens", 0)),
                    cost=Decimal(0),
                    cache_hit=False,
                    latency_ms=int((time.monotonic() - started) * 1000),
                )
            )
