"""GET /v1/models behind wildcard routes: with only a pool configured (route `*`), the pool's
own models are listed (cached, refreshed), filtered by the admin's lists and the course's
choice, as OpenAI clients that pick from the list need."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import openai
import pytest

from jupyter_ide.ai_handlers.catalog import ModelCatalog
from jupyter_ide.ai_handlers.gemini import GeminiProvider
from jupyter_ide.ai_handlers.providers import OpenAICompatible
from jupyter_ide.ai_handlers.routing import Router
from jupyter_ide.ai_handlers.settings import AISettings

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, make_course
from .test_ai_common import gemini as gemini  # fixture
from .test_ai_common import sdk_as as sdk_as  # fixture
from .test_ai_common import upstream as upstream  # fixture

MODEL_CACHE_SECONDS = 0.5


def _pool_only(base: dict[str, Any], upstream: Upstream, **ai: Any) -> dict[str, Any]:
    """The config of a server with only JUPYTER_IDE_AI_POOL_URL set (default routes)."""
    config = ai_config(base, upstream, **ai)
    settings = config["AISettings"]
    del settings["routes"]  # the default: every model to the pool
    settings["openai_api_key"] = ""
    settings["pool_url"] = f"{upstream.url}/v1"
    return config


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """Only a pool; the admin blocks "broken"; model lists are kept half a second."""
    HubLikeIdentity.USERS.update({"ada": "student", "grace": "instructor", "root": "admin"})
    return _pool_only(
        jp_server_config,
        upstream,
        blocked_models=["broken"],
        models_cache_seconds=MODEL_CACHE_SECONDS,
    )


async def _listed(jp_fetch: Any, user: str) -> list[str]:
    """The ids GET /v1/models gives ``user``."""
    response = await jp_fetch("ide", "api", "ai", "v1", "models", headers=as_user(user))
    return [m["id"] for m in json.loads(response.body)["data"]]


async def test_a_pool_alone_lists_its_models_to_the_sdk(
    jp_serverapp: Any, upstream: Upstream, sdk_as: Callable[..., openai.AsyncOpenAI]
) -> None:
    """The route is `*`; the SDK's model list is the pool's, less the blocked model, and a
    listed model answers."""
    assert jp_serverapp.web_app.settings["jupyter_ide_ai"].settings.routes == {"*": ["pool"]}
    client = sdk_as("ada")
    ids = [m.id async for m in client.models.list()]
    assert ids == sorted(m for m in upstream.models if m != "broken")
    answer = await client.chat.completions.create(
        model=ids[0], messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "echo: hi"


async def test_the_list_follows_the_course_and_the_policy_endpoint(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A course's chosen models narrow the list; GET /policy names the same models."""
    await make_course(jp_serverapp, "cs101", ["ada"], ["grace"])
    await jp_fetch(
        "ide",
        "api",
        "ai",
        "policy",
        "cs101",
        method="PUT",
        body=json.dumps({"models": ["qwen2.5-coder-7b"]}),
        headers=as_user("grace"),
    )
    assert await _listed(jp_fetch, "ada") == ["qwen2.5-coder-7b"]
    policy = json.loads((await jp_fetch("ide", "api", "ai", "policy", headers=as_user("ada"))).body)
    assert policy["models"] == ["qwen2.5-coder-7b"]
    assert "llama-3.1-8b-instruct" in await _listed(jp_fetch, "grace")


async def test_the_list_is_cached_then_refreshed(jp_fetch: Any, upstream: Upstream) -> None:
    """Listings within the cache time ask the pool once; after it, the old list is answered
    while a new one is fetched, and the new model shows up."""
    first = await _listed(jp_fetch, "ada")
    assert await _listed(jp_fetch, "root") == first
    assert len(upstream.listings) == 1
    upstream.models.append("mistral-7b-instruct")
    await asyncio.sleep(MODEL_CACHE_SECONDS + 0.1)
    assert await _listed(jp_fetch, "ada") == first  # stale, refreshing in the background
    for _ in range(50):
        now = await _listed(jp_fetch, "ada")
        if "mistral-7b-instruct" in now:
            break
        await asyncio.sleep(0.05)
    assert now == sorted([*first, "mistral-7b-instruct"])
    assert len(upstream.listings) == 2


async def test_a_pool_that_cannot_list_gives_an_empty_list(upstream: Upstream) -> None:
    """A pool whose /models fails is no error for the client: an empty list, asked again
    only after a pause."""
    settings = AISettings(routes={"*": ["pool"]})
    pool = OpenAICompatible("pool", f"{upstream.url}/failing/v1", "", 5.0, needs_key=False)
    catalog = ModelCatalog(Router(settings), {"pool": pool}, seconds=60, retry_seconds=60)
    try:
        assert await catalog.names() == []
        assert "pool" in catalog._failed
        assert await catalog.names() == []
    finally:
        await catalog.aclose()
        await pool.aclose()


async def test_a_gemini_wildcard_lists_the_models_that_generate(gemini: Upstream) -> None:
    """`gemini-*` lists Gemini's own models that generate content (not embedding ones)."""
    settings = AISettings(routes={"gemini-*": ["gemini"]}, blocked_models=["gemini-2.5-*"])
    provider = GeminiProvider(gemini.url, "gm-institution-key", 5.0)
    catalog = ModelCatalog(Router(settings), {"gemini": provider}, seconds=60)
    try:
        assert await catalog.names() == ["gemini-2.0-flash"]
        settings.blocked_models = []
        assert await catalog.names() == ["gemini-2.0-flash", "gemini-2.5-pro"]
    finally:
        await catalog.aclose()
        await provider.aclose()
