"""Usage the proxy can vouch for: an upstream that reports no usage (llama.cpp's server, for
one) is still charged in the ledger and the quotas, at least an upper bound of what was sent
and returned, and a client that asks for the stream's usage chunk gets one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from sqlalchemy import select

from jupyter_ide.ai_handlers.counting import REPLY_OVERHEAD, prompt_tokens_at_most
from jupyter_ide.db import AIUsage

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, chat, sse_chunks
from .test_ai_common import gemini as gemini  # fixture
from .test_ai_common import sdk_as as sdk_as  # fixture
from .test_ai_common import upstream as upstream  # fixture

QUESTION = "Why does my loop never end? for i in range(10): i -= 1 — ça ne s'arrête pas"


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], upstream: Upstream, gemini: Upstream
) -> dict[str, Any]:
    """Hub-like students; "nousage" and "gemini-nousage" answer without usage."""
    HubLikeIdentity.USERS.update({"ada": "student", "bob": "student", "cy": "student"})
    config = ai_config(jp_server_config, upstream, gemini)
    config["AISettings"]["routes"] = {
        **config["AISettings"]["routes"],
        "nousage": ["openai"],
    }
    return config


async def _rows(app: Any, user: str) -> list[AIUsage]:
    """The user's ledger rows, oldest first."""
    await app.web_app.settings["jupyter_ide_ai"].ledger.flush()
    async with app.web_app.settings["jupyter_ide_db"].session() as session:
        from jupyter_ide.db import User

        query = (
            select(AIUsage)
            .join(User, User.id == AIUsage.user_id)
            .where(User.name == user)
            .order_by(AIUsage.id)
        )
        return list((await session.execute(query)).scalars())


async def _day_tokens(app: Any, user: str) -> int:
    """What the user's tokens-per-day counter holds, once settled."""
    proxy = app.web_app.settings["jupyter_ide_ai"]
    limits = await proxy.quotas.status(user, None)
    return int(next(q["used"] for q in limits if q["name"] == "user_tokens_per_day"))


def _bounds(messages: list[dict[str, Any]], reply: str) -> tuple[int, int]:
    """The least prompt and completion counts the proxy may charge (what was sent back)."""
    return prompt_tokens_at_most(messages), len(reply.encode()) + REPLY_OVERHEAD


async def test_a_whole_answer_without_usage_is_charged_at_least_the_bound(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """No usage from the upstream no longer settles as 0 tokens: the ledger, the quota and
    the answer's own usage carry the proxy's upper bound."""
    messages = [{"role": "user", "content": QUESTION}]
    response = await chat(jp_fetch, "ada", model="nousage", messages=messages)
    answer = json.loads(response.body)
    reply = answer["choices"][0]["message"]["content"]
    prompt_bound, completion_bound = _bounds(messages, reply)
    assert answer["usage"]["prompt_tokens"] >= prompt_bound
    assert answer["usage"]["completion_tokens"] >= completion_bound
    (row,) = await _rows(jp_serverapp, "ada")
    assert row.prompt_tokens >= prompt_bound and row.completion_tokens >= completion_bound
    assert await _day_tokens(jp_serverapp, "ada") >= prompt_bound + completion_bound


async def test_a_stream_without_usage_is_charged_at_least_the_bound(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A stream whose upstream sends no usage is charged the bound of what it streamed,
    and a client that did not ask for usage gets no usage chunk."""
    messages = [{"role": "user", "content": QUESTION}]
    response = await chat(jp_fetch, "bob", model="nousage", messages=messages, stream=True)
    chunks = sse_chunks(response.body)
    assert chunks[-1] == "[DONE]"
    assert not any(c.get("usage") for c in chunks[:-1])
    reply = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1] if c["choices"]
    )
    prompt_bound, completion_bound = _bounds(messages, reply)
    (row,) = await _rows(jp_serverapp, "bob")
    assert row.prompt_tokens >= prompt_bound and row.completion_tokens >= completion_bound
    assert await _day_tokens(jp_serverapp, "bob") >= prompt_bound + completion_bound


async def test_the_sdk_gets_the_usage_chunk_it_asked_for_when_the_upstream_sends_none(
    jp_serverapp: Any, upstream: Upstream, sdk_as: Callable[..., openai.AsyncOpenAI]
) -> None:
    """stream_options.include_usage through the real `openai` SDK: the last chunk carries
    the proxy's own count, the same the ledger holds."""
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    stream = await sdk_as("cy").chat.completions.create(
        model="nousage",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        if chunk.usage:
            usage = chunk.usage
    assert upstream.seen[-1]["body"]["stream_options"] == {"include_usage": True}
    reply = "".join(pieces)
    assert reply == f"echo: {QUESTION}"
    prompt_bound, completion_bound = _bounds(messages, reply)
    assert usage is not None
    assert usage.prompt_tokens >= prompt_bound and usage.completion_tokens >= completion_bound
    (row,) = await _rows(jp_serverapp, "cy")
    assert (row.prompt_tokens, row.completion_tokens) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )


async def test_an_upstreams_own_usage_is_kept(jp_fetch: Any, jp_serverapp: Any) -> None:
    """When the upstream reports usage, the ledger keeps its counts (no bound instead)."""
    messages = [{"role": "user", "content": "a b c"}]
    answer = json.loads((await chat(jp_fetch, "ada", model="echo", messages=messages)).body)
    (row,) = await _rows(jp_serverapp, "ada")
    assert answer["usage"]["completion_tokens"] == row.completion_tokens == 4


@pytest.mark.parametrize("stream", [False, True])
async def test_gemini_without_usage_metadata_is_charged_at_least_the_bound(
    jp_fetch: Any, jp_serverapp: Any, stream: bool
) -> None:
    """A Gemini answer without usageMetadata is charged the bound too, whole or streamed."""
    messages = [{"role": "user", "content": QUESTION}]
    response = await chat(
        jp_fetch,
        "ada",
        model="gemini-nousage",
        messages=messages,
        stream=stream,
        stream_options={"include_usage": True} if stream else None,
    )
    if stream:
        chunks = sse_chunks(response.body)
        reply = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1] if c["choices"]
        )
        usage = chunks[-2]["usage"]
    else:
        answer = json.loads(response.body)
        reply, usage = answer["choices"][0]["message"]["content"], answer["usage"]
    prompt_bound, completion_bound = _bounds(messages, reply)
    assert reply == f"echo: {QUESTION}"
    assert usage["prompt_tokens"] >= prompt_bound
    assert usage["completion_tokens"] >= completion_bound
    (row,) = await _rows(jp_serverapp, "ada")
    assert row.prompt_tokens >= prompt_bound and row.completion_tokens >= completion_bound
    assert await _day_tokens(jp_serverapp, "ada") >= prompt_bound + completion_bound
