"""Quotas in Redis: per user and per course, tokens a day and a month, requests a minute;
atomic under 50 concurrent requests from two proxies; warnings before the hard stop."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from tornado.httpclient import HTTPClientError

from jupyter_ide.ai_handlers.crypto import SecretBox
from jupyter_ide.ai_handlers.errors import QuotaExceeded
from jupyter_ide.ai_handlers.keys import KeyStore
from jupyter_ide.ai_handlers.proxy import AIProxy, Caller
from jupyter_ide.ai_handlers.settings import AISettings
from jupyter_ide.auth import Role
from jupyter_ide.cache import RedisCache
from jupyter_ide.db import AIUsage, Database

from .services import redis_url
from .test_ai_common import (
    CRYPT_KEY,
    HubLikeIdentity,
    Upstream,
    ai_config,
    as_user,
    chat,
    make_course,
)
from .test_ai_common import upstream as upstream  # fixture

MAX_TOKENS = 400
LIMITS = {"daily_tokens": 5000, "course_daily_tokens": 3000, "max_tokens": 512}


@pytest.fixture
def namespace(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[str]:
    """A fresh namespace for the AI keys in Redis, removed afterwards."""
    name = f"ai-test-{uuid.uuid4().hex[:12]}"
    yield name
    cache = RedisCache(redis_url())

    async def drop() -> None:
        keys = [k async for k in cache._client.scan_iter(match=f"{cache.prefix}{name}:*")]
        if keys:
            await cache._client.delete(*keys)
        await cache.close()

    jp_asyncio_loop.run_until_complete(drop())


@pytest.fixture
def ai_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Per-test AI limits (override with indirect parametrisation or by default)."""
    return dict(getattr(request, "param", LIMITS))


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any],
    upstream: Upstream,
    namespace: str,
    ai_settings: dict[str, Any],
) -> dict[str, Any]:
    """Redis-backed quotas in a namespace of their own; hub-like students."""
    HubLikeIdentity.USERS.update({"ada": "student", "bob": "student", "cy": "student"})
    config = ai_config(
        jp_server_config,
        upstream,
        **{"cache_namespace": namespace, "requests_per_minute": 1000, **ai_settings},
    )
    config["IDESettings"]["redis_url"] = redis_url()
    return config


def _greedy() -> dict[str, Any]:
    """A request that uses all of its max_tokens."""
    return {
        "model": "greedy",
        "messages": [{"role": "user", "content": "go"}],
        "max_tokens": MAX_TOKENS,
    }


async def _tokens(app: Any, **where: Any) -> int:
    """Tokens in the ledger (optionally of one course)."""
    query = select(func.coalesce(func.sum(AIUsage.prompt_tokens + AIUsage.completion_tokens), 0))
    if "course" in where:
        query = query.where(AIUsage.course == where["course"])
    await app.web_app.settings["jupyter_ide_ai"].ledger.flush()
    await app.web_app.settings["jupyter_ide_ai"].quotas.settled()
    async with app.web_app.settings["jupyter_ide_db"].session() as s:
        return int((await s.execute(query)).scalar_one())


async def _counter(namespace: str, pattern: str, missing: int | None = None) -> int:
    """The largest Redis counter matching ``pattern`` in the namespace (``missing`` if none)."""
    cache = RedisCache(redis_url())
    try:
        keys = [
            k async for k in cache._client.scan_iter(match=f"{cache.prefix}{namespace}:{pattern}")
        ]
        values = [int(await cache._client.get(k)) for k in keys]
    finally:
        await cache.close()
    if not values and missing is not None:
        return missing
    assert values, pattern
    return max(values)


async def test_fifty_concurrent_requests_from_two_proxies(
    jp_fetch: Any,
    jp_serverapp: Any,
    upstream: Upstream,
    namespace: str,
    jp_server_config: dict[str, Any],
) -> None:
    """25 requests through the server and 25 through a second proxy (its own Redis
    connections, as another server process would have), all at once, for one user: the
    day's tokens never pass the limit by more than one request's max_tokens."""
    settings = jp_server_config["AISettings"]
    other_db = Database(jp_server_config["IDESettings"]["db_url"])
    other_cache = RedisCache(redis_url())
    other = AIProxy(
        AISettings(**settings), other_db, other_cache, KeyStore(other_db, SecretBox(CRYPT_KEY))
    )

    async def over_http() -> str:
        try:
            await chat(jp_fetch, "ada", **_greedy())
            return "ok"
        except HTTPClientError as e:
            assert e.code == 429, e.response.body
            return str(json.loads(e.response.body)["limit"])

    async def direct() -> str:
        try:
            call = await other.begin(Caller("ada", Role.STUDENT), _greedy())
            await other.complete(call)
            return "ok"
        except QuotaExceeded as e:
            return str(e.extra["limit"])

    try:
        outcomes = await asyncio.gather(*(f() for _ in range(25) for f in (over_http, direct)))
    finally:
        await other.aclose()
        await other_cache.close()
        await other_db.dispose()
    assert outcomes.count("ok") >= 5
    assert set(outcomes) == {"ok", "user_tokens_per_day"}
    used = await _tokens(jp_serverapp)
    assert used <= LIMITS["daily_tokens"] + MAX_TOKENS
    assert await _counter(namespace, "q:user:ada:tokens:2*") <= LIMITS["daily_tokens"] + MAX_TOKENS
    assert await _counter(namespace, "q:user:ada:tokens:2*") == used  # settled to real usage


async def test_course_limit_binds_across_its_students(
    jp_fetch: Any, jp_serverapp: Any, namespace: str
) -> None:
    """50 concurrent requests from three students of one course: the course's 3000 tokens a
    day hold (within one max_tokens), and refusals name the course limit."""
    await make_course(jp_serverapp, "cs101", ["ada", "bob", "cy"])

    async def ask(user: str) -> str:
        try:
            await chat(jp_fetch, user, **_greedy())
            return "ok"
        except HTTPClientError as e:
            body = json.loads(e.response.body)
            assert e.code == 429 and "cs101" in body["message"]
            return str(body["limit"])

    outcomes = await asyncio.gather(*(ask(("ada", "bob", "cy")[i % 3]) for i in range(50)))
    assert set(outcomes) == {"ok", "course_tokens_per_day"}
    used = await _tokens(jp_serverapp, course="cs101")
    assert used <= LIMITS["course_daily_tokens"] + MAX_TOKENS
    # Refused requests hold nothing: the counters are exactly what the ledger says was used.
    assert await _counter(namespace, "q:course:cs101:tokens:2*") == used
    # (a student whose every request was refused has no counter at all)
    students = [await _counter(namespace, f"q:user:{u}:tokens:2*", 0) for u in ("ada", "bob", "cy")]
    assert sum(students) == used


@pytest.mark.parametrize("ai_settings", [{"daily_tokens": 2000, "max_tokens": 512}], indirect=True)
async def test_warning_then_hard_stop(jp_fetch: Any, namespace: str) -> None:
    """Requests carry X-IDE-Quota-Warning from 80% of the day's tokens; the usage summary says
    so too; then a 429 names the limit and when it resets, with Retry-After."""
    warnings: list[str | None] = []
    refusal: HTTPClientError | None = None
    for _ in range(10):
        try:
            response = await chat(jp_fetch, "ada", **_greedy())
        except HTTPClientError as e:
            refusal = e
            break
        warnings.append(response.headers.get("X-IDE-Quota-Warning"))
    assert warnings[0] is None
    assert any(w and "user tokens per day" in w and "% used" in w for w in warnings)
    assert refusal is not None and refusal.code == 429
    body = json.loads(refusal.response.body)
    assert body["limit"] == "user_tokens_per_day"
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    assert datetime.fromisoformat(body["resets_at"]).date() == tomorrow
    assert 0 < int(refusal.response.headers["Retry-After"]) <= 86_400
    assert body["error"]["type"] == "rate_limit_exceeded"
    usage = json.loads((await jp_fetch("ide", "api", "ai", "usage", headers=as_user("ada"))).body)
    day = next(q for q in usage["quota"]["limits"] if q["name"] == "user_tokens_per_day")
    assert day["ratio"] >= 0.8 and day["limit"] == 2000
    assert "user tokens per day" in usage["quota"]["warning"]


@pytest.mark.parametrize(
    "ai_settings",
    [{"daily_tokens": 50_000, "monthly_tokens": 1000, "max_tokens": 512}],
    indirect=True,
)
async def test_monthly_limit(jp_fetch: Any, namespace: str) -> None:
    """The month's tokens are a limit of their own, resetting on the 1st."""
    with pytest.raises(HTTPClientError) as e:
        for _ in range(5):
            await chat(jp_fetch, "ada", **_greedy())
    body = json.loads(e.value.response.body)
    assert body["limit"] == "user_tokens_per_month"
    resets = datetime.fromisoformat(body["resets_at"])
    assert resets.day == 1 and resets > datetime.now(timezone.utc)


@pytest.mark.parametrize(
    "ai_settings", [{"requests_per_minute": 3, "max_tokens": 512}], indirect=True
)
async def test_requests_per_minute(jp_fetch: Any, namespace: str) -> None:
    """The fourth request in a minute is refused with the rate limit named; other users are
    not affected."""
    for _ in range(3):
        await chat(jp_fetch, "ada", model="echo", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(HTTPClientError) as e:
        await chat(jp_fetch, "ada", model="echo", messages=[{"role": "user", "content": "x"}])
    body = json.loads(e.value.response.body)
    assert e.value.code == 429 and body["limit"] == "user_requests_per_minute"
    assert int(e.value.response.headers["Retry-After"]) <= 61
    assert (
        await chat(jp_fetch, "bob", model="echo", messages=[{"role": "user", "content": "x"}])
    ).code == 200
