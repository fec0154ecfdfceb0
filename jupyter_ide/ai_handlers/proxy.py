"""The proxy's logic: check, apply course policy, route, enforce quotas, cache, record."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..auth.permissions import Role
from ..cache import Cache
from ..db import Database
from .catalog import ModelCatalog
from .counting import MESSAGE_OVERHEAD, settled_usage, text_of
from .errors import AIError, BadRequest, ProviderError, Refused
from .gemini import GeminiProvider
from .hint import ServedAnswers, hint_only_messages
from .keys import KeyStore
from .ledger import Entry, Ledger
from .policy import CoursePolicies, Effective
from .providers import OpenAICompatible, Provider
from .quotas import Quotas, Reservation
from .redact import redact
from .response_cache import ResponseCache
from .routing import Route, Router
from .settings import AISettings
from .usage import UsageReader

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant", "tool", "developer")
PASSED_THROUGH = ("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed")


def _prompt_chars(messages: list[dict[str, Any]]) -> int:
    """Count the characters a prompt sends."""
    return sum(len(json.dumps(m.get("content"), ensure_ascii=False)) for m in messages)


def _prompt_bytes(messages: list[dict[str, Any]]) -> int:
    """Count the UTF-8 bytes a prompt sends."""
    return sum(len(json.dumps(m.get("content"), ensure_ascii=False).encode()) for m in messages)


class ExchangeSink(Protocol):
    """Where answered requests made in a course go (the classroom's AI transcripts)."""

    def exchange(
        self,
        user: str,
        course: str,
        model: str,
        messages: list[Any],
        answer: str,
        streamed: bool,
    ) -> None:
        """Take one exchange; must return at once (it is called on the response's path)."""


@dataclass
class Caller:
    """Who asks, in which role, naming which course (if any)."""

    name: str
    role: Role
    course: str | None = None


@dataclass
class Call:
    """One admitted request: what to send where, and what has been counted for it."""

    caller: Caller
    state: Effective
    upstream: dict[str, Any]
    routes: list[tuple[Route, str | None]]
    reservation: Reservation
    prompt: str | None
    cache_key: str | None = None
    cached: dict[str, Any] | None = None
    started: float = field(default_factory=time.monotonic)
    # The messages as the client sent them, kept for the course's transcript (None: not kept).
    asked: list[dict[str, Any]] | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Response headers that tell the client about quotas, mode, course and cache."""
        found = {"X-IDE-AI-Mode": self.state.mode}
        if self.state.course:
            found["X-IDE-Course"] = self.state.course
        if self.reservation.warnings:
            found["X-IDE-Quota-Warning"] = " | ".join(self.reservation.warnings)
        if self.cache_key:
            found["X-IDE-Cache"] = "hit" if self.cached else "miss"
        return found


class AIProxy:
    """Serve chat completions for one server's users."""

    def __init__(self, settings: AISettings, db: Database, cache: Cache, keys: KeyStore) -> None:
        """Wire the providers, routes, policies, quotas, response cache and ledger."""
        self.settings = settings
        self.db = db
        self.keys = keys
        keys.cache_seconds = settings.lookup_cache_seconds
        self.router = Router(settings)
        self.quotas = Quotas(cache, settings)
        self.policies = CoursePolicies(
            db, settings.default_mode, cache_seconds=settings.lookup_cache_seconds
        )
        self.responses = ResponseCache(
            cache, settings.cache_namespace, settings.response_cache_seconds
        )
        self.ledger = Ledger(db, settings.prices, settings.ledger_batch_seconds)
        self.usage = UsageReader(self.ledger, self.policies, self.quotas)
        self.providers: dict[str, Provider] = {
            "openai": OpenAICompatible(
                "openai", settings.openai_base_url, settings.openai_api_key, settings.timeout
            ),
            "gemini": GeminiProvider(
                settings.gemini_base_url, settings.gemini_api_key, settings.timeout
            ),
        }
        if settings.pool_url:
            self.providers["pool"] = OpenAICompatible(
                "pool",
                settings.pool_url,
                settings.pool_api_key,
                settings.timeout,
                needs_key=False,
            )
        self.catalog = ModelCatalog(self.router, self.providers, settings.models_cache_seconds)
        self.served = ServedAnswers(
            cache, settings.cache_namespace, settings.served_answers_seconds
        )
        # Set by the classroom: answered requests made in a course are transcribed there.
        self.transcripts: ExchangeSink | None = None

    async def aclose(self) -> None:
        """Write the queued ledger rows and settlements; close the providers' connections."""
        await self.ledger.flush()
        await self.quotas.settled()
        await self.served.settled()
        await self.catalog.aclose()
        for provider in self.providers.values():
            await provider.aclose()

    # -- what a caller may use -------------------------------------------------------------

    async def usable_models(self, state: Effective) -> list[str]:
        """Return the models the caller may call now.

        The routing table's named models, and those the upstreams behind wildcard routes
        list; a course's own choice replaces both.
        """
        if state.mode == "off":
            return []
        if state.models is not None:
            return sorted(
                n for n in set(state.models) if self.router.routes(n) and self.router.allowed(n)
            )
        return sorted(set(self.router.public_models()) | set(await self.catalog.names()))

    async def models(self, state: Effective) -> list[dict[str, Any]]:
        """List the caller's models as OpenAI's /v1/models does."""
        created = int(time.time())
        return [
            {"id": name, "object": "model", "created": created, "owned_by": "jupyter-ide"}
            for name in await self.usable_models(state)
        ]

    # -- admitting a request ----------------------------------------------------------------

    def check(self, body: Any) -> dict[str, Any]:
        """Return the upstream request for a client's body, or raise BadRequest."""
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            raise BadRequest("Missing field: model")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("messages must be a non-empty list")
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                raise BadRequest(f"Each message needs a role among {', '.join(ROLES)}")
            if not isinstance(message.get("content"), str | list):
                raise BadRequest("Each message needs content (text or parts)")
        if _prompt_chars(messages) > self.settings.max_prompt_chars:
            raise BadRequest(
                f"The prompt is longer than {self.settings.max_prompt_chars} characters",
                status=413,
                code="prompt_too_long",
            )
        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        if max_tokens is None:
            max_tokens = min(1024, self.settings.max_tokens)
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise BadRequest("max_tokens must be a positive integer")
        if max_tokens > self.settings.max_tokens:
            raise BadRequest(f"max_tokens may be at most {self.settings.max_tokens}")
        if body.get("n", 1) != 1:
            raise BadRequest("n must be 1")
        if not self.router.routes(model):
            raise BadRequest(
                f"The model {model!r} does not exist here", status=404, code="model_not_found"
            )
        upstream = {"model": model, "messages": messages, "max_tokens": max_tokens}
        upstream.update({k: body[k] for k in PASSED_THROUGH if k in body})
        return upstream

    def _check_model(self, model: str, state: Effective) -> None:
        """Refuse a model the administrator blocks or the course did not choose."""
        if not self.router.allowed(model):
            raise Refused(
                f"The model {model!r} is not allowed on this server", code="model_not_allowed"
            )
        if state.models is not None and model not in state.models:
            allowed = ", ".join(state.models) or "no model"
            whose = (
                f"The course {state.course} uses {allowed}"
                if state.course or not state.strictest_of
                else f"Your courses ({', '.join(state.strictest_of)}) all allow only "
                f"{allowed}; name one course (X-IDE-Course) to use its models"
            )
            raise Refused(f"{whose}; not {model!r}", code="model_not_allowed")

    async def _routes(
        self, user: str, model: str, state: Effective
    ) -> list[tuple[Route, str | None]]:
        """Return each usable route with its key.

        The key is the user's own, else the institution's (when the course allows), else
        none for a pool that needs none.
        """
        own = await self.keys.all_for(user)
        usable: list[tuple[Route, str | None]] = []
        for route in self.router.routes(model):
            provider = self.providers.get(route.provider)
            if provider is None:
                continue
            key = own.get(route.provider)
            if key is None and state.institution_keys and provider.institution_key:
                key = provider.institution_key
            if key is None and provider.needs_key:
                continue
            usable.append((route, key))
        if not usable:
            raise Refused(
                f"No provider key for {model!r}: store your own key (PUT /ide/api/ai/keys/"
                f"<provider>) or ask your instructor",
                code="no_key",
            )
        return usable

    def estimate(self, upstream: dict[str, Any]) -> int:
        """Return the tokens to reserve: the prompt's, over-counted, plus max_tokens.

        Half the prompt's UTF-8 bytes is above what tokenizers count for ordinary text. This
        is only what a request holds meanwhile: it is settled with the upstream's usage, or
        with the upper bounds of ``counting`` when the upstream reports none.
        """
        messages = upstream["messages"]
        return (
            _prompt_bytes(messages) // 2
            + MESSAGE_OVERHEAD * len(messages)
            + int(upstream["max_tokens"])
        )

    async def begin(self, caller: Caller, body: Any) -> Call:
        """Check, apply policy and quotas; return the admitted call or raise an AIError."""
        upstream = self.check(body)
        state = await self.policies.effective(caller.name, caller.role, caller.course)
        if state.mode == "off":
            until = f" until {state.until.strftime('%Y-%m-%d %H:%M')} UTC" if state.until else ""
            raise Refused(
                f"AI is off{' for ' + state.course if state.course else ''}{until}"
                f"{' (' + state.reason + ')' if state.reason else ''}",
                code="ai_off",
                extra={
                    "mode": "off",
                    "until": state.until.isoformat() if state.until else None,
                    "reason": state.reason,
                },
            )
        model = upstream["model"]
        self._check_model(model, state)
        prompt = (
            redact(json.dumps(upstream["messages"], ensure_ascii=False))
            if state.store_prompts
            else None
        )
        asked = upstream["messages"] if state.course and self.transcripts is not None else None
        if state.mode == "hint":
            await self.served.check(caller.name, upstream["messages"])
            upstream["messages"] = hint_only_messages(
                upstream["messages"], self.settings.hint_prompt, self.settings.hint_reminder_role
            )
        routes = await self._routes(caller.name, model, state)
        scope = f"course:{state.course}" if state.course else f"user:{caller.name}"
        cache_key = self.responses.key(scope, upstream)
        cached = await self.responses.get(cache_key) if cache_key else None
        reservation = await self.quotas.admit(
            caller.name, state.quota_courses, 0 if cached else self.estimate(upstream)
        )
        return Call(
            caller, state, upstream, routes, reservation, prompt, cache_key, cached, asked=asked
        )

    # -- answering --------------------------------------------------------------------------

    def _body_for(self, call: Call, route: Route) -> dict[str, Any]:
        """Return the request to send along ``route`` (its upstream model name)."""
        if route.model == call.upstream["model"]:
            return call.upstream
        return {**call.upstream, "model": route.model}

    def _record(
        self,
        call: Call,
        provider: str,
        usage: dict[str, Any],
        cache_hit: bool = False,
        answer: str = "",
        streamed: bool = False,
    ) -> None:
        """Queue the ledger row (and the course's transcript) of a call, written off this path."""
        if call.asked is not None and call.state.course and self.transcripts is not None:
            self.transcripts.exchange(
                call.caller.name,
                call.state.course,
                call.upstream["model"],
                call.asked,
                answer,
                streamed,
            )
        self.ledger.submit(
            Entry(
                user=call.caller.name,
                course=call.state.course,
                provider=provider,
                model=call.upstream["model"],
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
                cache_hit=cache_hit,
                latency_ms=int((time.monotonic() - call.started) * 1000),
                prompt=call.prompt,
            )
        )

    def _from_cache(self, call: Call) -> dict[str, Any]:
        """Return a whole completion made from a cached answer."""
        assert call.cached is not None
        return {
            "id": f"chatcmpl-cached-{int(time.time() * 1000)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.upstream["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": call.cached["content"]},
                    "finish_reason": call.cached["finish_reason"],
                }
            ],
            "usage": call.cached["usage"],
        }

    async def complete(self, call: Call) -> dict[str, Any]:
        """Run a whole completion with failover; settle quotas and write the ledger row."""
        if call.cached is not None:
            self._record(
                call, "cache", call.cached["usage"], cache_hit=True, answer=call.cached["content"]
            )
            self.served.remember(call.caller.name, call.cached["content"])
            return self._from_cache(call)
        used = 0
        try:
            error: ProviderError | None = None
            for route, key in call.routes:
                try:
                    result = await self.providers[route.provider].complete(
                        self._body_for(call, route), key
                    )
                except ProviderError as e:
                    log.warning("AI route %s for %s failed: %s", route.provider, route.model, e)
                    error = e
                    if e.retryable:
                        continue
                    raise
                result["model"] = call.upstream["model"]
                choice = (result.get("choices") or [{}])[0]
                text = text_of((choice.get("message") or {}).get("content"))
                # The upstream's counts where it gives them; our upper bound where not.
                usage = settled_usage(result.get("usage"), call.upstream["messages"], text)
                if not result.get("usage"):
                    result["usage"] = usage
                used = usage["total_tokens"]
                self._record(call, route.provider, usage, answer=text)
                self.served.remember(call.caller.name, text)
                if call.cache_key and choice.get("finish_reason") == "stop":
                    await self.responses.put(call.cache_key, text, "stop", usage)
                return result
            assert error is not None
            raise error
        finally:
            self.quotas.settle_soon(call.reservation, used)

    def _cached_chunks(self, call: Call) -> list[dict[str, Any]]:
        """Return stream chunks made from a cached answer."""
        assert call.cached is not None
        base = {
            "id": f"chatcmpl-cached-{int(time.time() * 1000)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": call.upstream["model"],
        }
        return [
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": call.cached["content"]},
                        "finish_reason": None,
                    }
                ],
            },
            {
                **base,
                "choices": [
                    {"index": 0, "delta": {}, "finish_reason": call.cached["finish_reason"]}
                ],
            },
            {**base, "choices": [], "usage": call.cached["usage"]},
        ]

    async def stream(self, call: Call) -> AsyncGenerator[dict[str, Any], None]:
        """Yield completion chunks; usage is settled and recorded even if the client leaves."""
        if call.cached is not None:
            try:
                for chunk in self._cached_chunks(call):
                    yield chunk
            finally:
                content = call.cached["content"]
                self._record(
                    call, "cache", call.cached["usage"], True, answer=content, streamed=True
                )
                self.served.remember(call.caller.name, content)
            return
        provider, reason = "", None
        usage: dict[str, Any] = {}
        text: list[str] = []
        delivered = False
        last: dict[str, Any] = {}
        try:
            error: ProviderError | None = None
            for route, key in call.routes:
                provider, sent = route.provider, False
                try:
                    async for chunk in self.providers[route.provider].stream(
                        self._body_for(call, route), key
                    ):
                        chunk["model"] = call.upstream["model"]
                        usage = chunk.get("usage") or usage
                        last = chunk
                        for choice in chunk.get("choices") or []:
                            text.append(str((choice.get("delta") or {}).get("content") or ""))
                            reason = choice.get("finish_reason") or reason
                        sent = delivered = True
                        yield chunk
                    break
                except ProviderError as e:
                    log.warning("AI route %s for %s failed: %s", route.provider, route.model, e)
                    error = e
                    if e.retryable and not sent:
                        continue
                    raise
            else:
                assert error is not None
                raise error
            if delivered and not usage:
                # The upstream did not say what it used (llama.cpp's server, for one): the
                # usage chunk a client asks for carries the proxy's own count.
                usage = settled_usage(None, call.upstream["messages"], "".join(text))
                yield {
                    "id": last.get("id", "chatcmpl-ide"),
                    "object": "chat.completion.chunk",
                    "created": last.get("created", int(time.time())),
                    "model": call.upstream["model"],
                    "choices": [],
                    "usage": usage,
                }
        finally:
            if delivered:
                # Cut short (the client left, or the upstream failed) or not reported: the
                # upstream's counts where it gave them, our upper bound of what was sent.
                usage = settled_usage(usage, call.upstream["messages"], "".join(text))
            self.quotas.settle_soon(call.reservation, int(usage.get("total_tokens", 0)))
            if delivered:
                answer = "".join(text)
                self._record(call, provider, usage, answer=answer, streamed=True)
                self.served.remember(call.caller.name, answer)
            if call.cache_key and reason == "stop" and usage:
                await self.responses.put(call.cache_key, "".join(text), "stop", usage)


__all__ = ["AIError", "AIProxy", "Call", "Caller"]
