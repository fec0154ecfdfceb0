"""The AI proxy through the real `openai` SDK, against a local OpenAI-format upstream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from tornado.httpclient import HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from jupyter_ide.ai_handlers.crypto import SecretBox
from jupyter_ide.db import AIUsage

from .fakes.openai_server import make_app

CRYPT_KEY = Fernet.generate_key().decode()


@pytest.fixture
def upstream(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[dict[str, Any]]:
    """A local OpenAI-format server on loopback; yields its URL and the requests it saw."""
    seen: list[dict[str, Any]] = []
    sock, port = bind_unused_port()
    server = HTTPServer(make_app(seen))
    server.add_socket(sock)
    yield {"url": f"http://127.0.0.1:{port}", "seen": seen}
    server.stop()
    jp_asyncio_loop.run_until_complete(server.close_all_connections())


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], upstream: dict[str, Any]) -> dict[str, Any]:
    """Route models to the local upstream; a small daily budget; a crypt key."""
    return {
        **jp_server_config,
        "IDESettings": {**jp_server_config["IDESettings"], "crypt_key": CRYPT_KEY},
        "AISettings": {
            "openai_base_url": f"{upstream['url']}/v1",
            "openai_api_key": "sk-institution",
            "pool_url": f"{upstream['url']}/failing/v1",
            "routes": {"echo": ["openai"], "failover": ["pool", "openai"], "broken": ["openai"]},
            "daily_tokens": 5000,
            "max_tokens": 512,
            "max_prompt_chars": 10_000,
        },
    }


async def _chat(jp_fetch: Any, **body: Any) -> Any:
    """POST a chat completion to our endpoint with the user's Jupyter token."""
    return await jp_fetch(
        "ide", "api", "ai", "v1", "chat", "completions", method="POST", body=json.dumps(body)
    )


def _user(content: str) -> list[dict[str, str]]:
    """One user message."""
    return [{"role": "user", "content": content}]


async def test_completion_is_relayed_and_recorded(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A whole completion passes through in OpenAI's format and lands in the usage ledger."""
    result = json.loads((await _chat(jp_fetch, model="echo", messages=_user("hello there"))).body)
    assert result["choices"][0]["message"]["content"] == "echo: hello there"
    assert result["usage"]["total_tokens"] > 0
    db = jp_serverapp.web_app.settings["jupyter_ide_db"]
    async with db.session() as s:
        row = (await s.execute(select(AIUsage))).scalar_one()
    assert (row.provider, row.model, row.completion_tokens) == ("openai", "echo", 3)


async def test_streaming_is_relayed_as_sse(jp_fetch: Any) -> None:
    """Streaming relays every delta as `data:` events, usage when asked, then [DONE]."""
    response = await _chat(
        jp_fetch,
        model="echo",
        messages=_user("one two three"),
        stream=True,
        stream_options={"include_usage": True},
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = [line[6:] for line in response.body.decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text_out = "".join(
        c["choices"][0]["delta"].get("content", "") for c in chunks if c.get("choices")
    )
    assert text_out == "echo: one two three"
    assert chunks[-1]["usage"]["completion_tokens"] == 4


async def test_models_and_failover(jp_fetch: Any, upstream: dict[str, Any]) -> None:
    """Models lists the routes; a failing first provider falls over to the next."""
    models = json.loads((await jp_fetch("ide", "api", "ai", "v1", "models")).body)
    assert {m["id"] for m in models["data"]} == {"echo", "failover", "broken"}
    result = json.loads((await _chat(jp_fetch, model="failover", messages=_user("still"))).body)
    assert result["choices"][0]["message"]["content"] == "echo: still"
    assert upstream["seen"][-1]["auth"] == "Bearer sk-institution"
    with pytest.raises(HTTPClientError) as broken:
        await _chat(jp_fetch, model="broken", messages=_user("x"))
    assert broken.value.code == 502


async def test_own_keys_are_used_and_never_shown(
    jp_fetch: Any, jp_serverapp: Any, upstream: dict[str, Any]
) -> None:
    """A user's key is stored encrypted, used upstream, and never returned."""
    secret = "sk-my-own-key-123456"
    await jp_fetch(
        "ide", "api", "ai", "keys", "openai", method="PUT", body=json.dumps({"api_key": secret})
    )
    listed = (await jp_fetch("ide", "api", "ai", "keys")).body.decode()
    assert "openai" in listed and secret not in listed
    await _chat(jp_fetch, model="echo", messages=_user("k"))
    assert upstream["seen"][-1]["auth"] == f"Bearer {secret}"
    db = jp_serverapp.web_app.settings["jupyter_ide_db"]
    async with db.session() as s:
        raw = (await s.execute(text("SELECT encrypted_token FROM user_tokens"))).scalar_one()
    assert secret.encode() not in bytes(raw)
    gone = await jp_fetch("ide", "api", "ai", "keys", "openai", method="DELETE")
    assert gone.code == 204


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        (json.dumps({"model": "echo"}), 400),
        (json.dumps({"model": "nope", "messages": [{"role": "user", "content": "x"}]}), 404),
        (
            json.dumps(
                {
                    "model": "echo",
                    "messages": [{"role": "user", "content": "x"}],
                    "max_tokens": 100_000,
                }
            ),
            400,
        ),
        (
            json.dumps({"model": "echo", "messages": [{"role": "user", "content": "x"}], "n": 3}),
            400,
        ),
        (
            json.dumps({"model": "echo", "messages": [{"role": "user", "content": "x" * 20_000}]}),
            413,
        ),
        (json.dumps({"model": "echo", "messages": [{"role": "wizard", "content": "x"}]}), 400),
    ],
)
async def test_hostile_requests(jp_fetch: Any, body: str, status: int) -> None:
    """Malformed JSON, unknown models, limits exceeded: each a clear 4xx."""
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("ide", "api", "ai", "v1", "chat", "completions", method="POST", body=body)
    assert e.value.code == status
    assert json.loads(e.value.response.body)["message"]


async def test_limits_hold_under_concurrency(jp_fetch: Any, jp_serverapp: Any) -> None:
    """50 concurrent requests: at most 30 a minute pass, refusals are 429s naming the limit,
    and the day's token counter never passes its 5000."""

    async def ask() -> int:
        try:
            await _chat(jp_fetch, model="echo", messages=_user("quota"), max_tokens=400)
            return 200
        except HTTPClientError as e:
            message = json.loads(e.response.body)["message"]
            assert "Daily token limit" in message or "Rate limit" in message
            return e.code

    codes = await asyncio.gather(*(ask() for _ in range(50)))
    assert 200 in codes and set(codes) <= {200, 429}
    assert codes.count(200) <= 30
    cache = jp_serverapp.web_app.settings["jupyter_ide_cache"]
    day = [k for k in cache._entries if ":ai:tokens:" in k]
    assert day
    assert all(0 < int(cache._entries[k][0]) <= 5000 for k in day)


def test_key_rotation() -> None:
    """A secret made with the old key still opens after a new key is put first; rotate moves it."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox(old).encrypt("sk-abc")
    rotated_box = SecretBox(f"{new};{old}")
    assert rotated_box.decrypt(token) == "sk-abc"
    moved = rotated_box.rotate(token)
    assert SecretBox(new).decrypt(moved) == "sk-abc"
