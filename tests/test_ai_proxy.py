"""The AI proxy against a local OpenAI-format upstream: relay, streaming, failover, keys,
hostile input, a client leaving mid-stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select, text
from tornado.httpclient import HTTPClientError

from jupyter_ide.db import AIUsage

from .fakes.openai_server import SLOW_WORDS
from .test_ai_common import Upstream, ai_config, chat, sse_chunks, user_message
from .test_ai_common import upstream as upstream  # fixture


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """Route models to the local upstream."""
    return ai_config(jp_server_config, upstream, daily_tokens=5000, requests_per_minute=30)


async def _ledger(app: Any) -> list[AIUsage]:
    """Every usage row."""
    await app.web_app.settings["jupyter_ide_ai"].ledger.flush()
    async with app.web_app.settings["jupyter_ide_db"].session() as s:
        return list((await s.execute(select(AIUsage).order_by(AIUsage.id))).scalars())


async def test_completion_is_relayed_and_recorded(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A whole completion passes through in OpenAI's format and lands in the usage ledger."""
    result = json.loads(
        (await chat(jp_fetch, model="echo", messages=user_message("hello there"))).body
    )
    assert result["choices"][0]["message"]["content"] == "echo: hello there"
    assert result["usage"]["total_tokens"] > 0
    (row,) = await _ledger(jp_serverapp)
    assert (row.provider, row.model, row.completion_tokens, row.cache_hit) == (
        "openai",
        "echo",
        3,
        False,
    )
    assert row.prompt is None  # no course policy asks for prompts to be kept


async def test_streaming_is_relayed_as_sse(jp_fetch: Any) -> None:
    """Streaming relays every delta as `data:` events, usage when asked, then [DONE]."""
    response = await chat(
        jp_fetch,
        model="echo",
        messages=user_message("one two three"),
        stream=True,
        stream_options={"include_usage": True},
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    chunks = sse_chunks(response.body)
    assert chunks[-1] == "[DONE]"
    text_out = "".join(
        c["choices"][0]["delta"].get("content", "") for c in chunks[:-1] if c.get("choices")
    )
    assert text_out == "echo: one two three"
    assert chunks[-2]["usage"]["completion_tokens"] == 4
    plain = sse_chunks(
        (await chat(jp_fetch, model="echo", messages=user_message("x"), stream=True)).body
    )
    assert not any(c != "[DONE]" and "usage" in c for c in plain)  # only when asked


async def test_models_and_failover(jp_fetch: Any, upstream: Upstream) -> None:
    """Models lists the routes; a failing first provider falls over to the next."""
    models = json.loads((await jp_fetch("ide", "api", "ai", "v1", "models")).body)
    assert {m["id"] for m in models["data"]} == {
        "echo",
        "other",
        "failover",
        "broken",
        "slow",
        "greedy",
        "reject",
    }
    assert all(isinstance(m["created"], int) for m in models["data"])
    result = json.loads(
        (await chat(jp_fetch, model="failover", messages=user_message("still"))).body
    )
    assert result["choices"][0]["message"]["content"] == "echo: still"
    assert upstream.seen[-1]["auth"] == "Bearer sk-institution-0000000000"
    with pytest.raises(HTTPClientError) as broken:
        await chat(jp_fetch, model="broken", messages=user_message("x"))
    assert broken.value.code == 502
    assert json.loads(broken.value.response.body)["error"]["type"] == "api_error"


async def test_own_keys_are_used_and_never_shown(
    jp_fetch: Any, jp_serverapp: Any, upstream: Upstream
) -> None:
    """A user's key is stored encrypted, used upstream, and never returned."""
    secret = "sk-my-own-key-123456"
    await jp_fetch(
        "ide", "api", "ai", "keys", "openai", method="PUT", body=json.dumps({"api_key": secret})
    )
    listed = (await jp_fetch("ide", "api", "ai", "keys")).body.decode()
    assert "openai" in listed and secret not in listed
    await chat(jp_fetch, model="echo", messages=user_message("k"))
    assert upstream.seen[-1]["auth"] == f"Bearer {secret}"
    db = jp_serverapp.web_app.settings["jupyter_ide_db"]
    async with db.session() as s:
        raw = (await s.execute(text("SELECT encrypted_token FROM user_tokens"))).scalar_one()
    assert secret.encode() not in bytes(raw)
    gone = await jp_fetch("ide", "api", "ai", "keys", "openai", method="DELETE")
    assert gone.code == 204
    await chat(jp_fetch, model="echo", messages=user_message("k"))
    assert upstream.seen[-1]["auth"] == "Bearer sk-institution-0000000000"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, None),
        ("[1, 2]", 400, "invalid_request"),
        (json.dumps({"model": "echo"}), 400, "invalid_request"),
        (
            json.dumps({"model": "nope", "messages": user_message("x")}),
            404,
            "model_not_found",
        ),
        (
            json.dumps({"model": "echo", "messages": user_message("x"), "max_tokens": 100_000}),
            400,
            "invalid_request",
        ),
        (
            json.dumps({"model": "echo", "messages": user_message("x"), "max_tokens": "many"}),
            400,
            "invalid_request",
        ),
        (json.dumps({"model": "echo", "messages": user_message("x"), "n": 3}), 400, None),
        (
            json.dumps({"model": "echo", "messages": user_message("x" * 20_000)}),
            413,
            "prompt_too_long",
        ),
        (
            json.dumps({"model": "echo", "messages": [{"role": "wizard", "content": "x"}]}),
            400,
            None,
        ),
        (json.dumps({"model": "echo", "messages": [{"role": "user"}]}), 400, None),
    ],
)
async def test_hostile_requests(jp_fetch: Any, body: str, status: int, code: str | None) -> None:
    """Malformed JSON, unknown models, limits exceeded: each a clear 4xx in both shapes."""
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ide", "api", "ai", "v1", "chat", "completions", method="POST", body=body)
    assert e.value.code == status
    reply = json.loads(e.value.response.body)
    assert reply["message"] and reply["error"]["message"] == reply["message"]
    if code:
        assert reply["error"]["code"] == code


async def test_limits_hold_under_concurrency(jp_fetch: Any, jp_serverapp: Any) -> None:
    """50 concurrent requests (in-process cache): at most 30 a minute pass, refusals are 429s
    naming the limit and its reset, and the day's tokens stay within 5000 + one max_tokens."""

    async def ask() -> int:
        try:
            await chat(jp_fetch, model="echo", messages=user_message("quota"), max_tokens=400)
            return 200
        except HTTPClientError as e:
            reply = json.loads(e.response.body)
            assert reply["limit"] in ("user_tokens_per_day", "user_requests_per_minute")
            assert reply["resets_at"] and int(e.response.headers["Retry-After"]) >= 1
            assert "resets at" in reply["message"]
            return e.code

    codes = await asyncio.gather(*(ask() for _ in range(50)))
    assert 200 in codes and set(codes) <= {200, 429}
    assert codes.count(200) <= 30
    rows = await _ledger(jp_serverapp)
    assert len(rows) == codes.count(200)
    assert sum(r.prompt_tokens + r.completion_tokens for r in rows) <= 5000 + 400


async def test_client_leaving_mid_stream_cancels_upstream(
    jp_serverapp: Any, jp_fetch: Any, jp_http_port: int, jp_base_url: str, upstream: Upstream
) -> None:
    """A client that disconnects mid-stream: the upstream stream is cut, usage still recorded."""
    body = json.dumps({"model": "slow", "messages": user_message("go"), "stream": True})
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(
        (
            f"POST {jp_base_url}ide/api/ai/v1/chat/completions HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{jp_http_port}\r\n"
            f"Authorization: token {jp_serverapp.identity_provider.token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
    )
    await writer.drain()
    received = b""
    while received.count(b"data: ") < 5:
        received += await asyncio.wait_for(reader.read(4096), 10)
    assert b" 200 OK" in received.split(b"\r\n", 1)[0]
    writer.close()  # the client leaves mid-stream
    await writer.wait_closed()
    for _ in range(200):
        rows = await _ledger(jp_serverapp)
        if upstream.seen[-1]["cut"] and rows:
            break
        await asyncio.sleep(0.05)
    assert upstream.seen[-1]["cut"], "the upstream stream ran on after the client left"
    (row,) = await _ledger(jp_serverapp)
    assert 0 < row.completion_tokens < SLOW_WORDS
    assert row.prompt_tokens > 0
