"""Gemini through the real `google-genai` SDK against a local server speaking Gemini's REST
wire format, behind our OpenAI-compatible endpoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from jupyter_ide.db import AIUsage

from .fakes.gemini_server import SLOW_WORDS
from .test_ai_common import Upstream, ai_config, chat, sse_chunks, user_message
from .test_ai_common import gemini as gemini  # fixture
from .test_ai_common import upstream as upstream  # fixture


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], upstream: Upstream, gemini: Upstream
) -> dict[str, Any]:
    """Route gemini-* to the fake Gemini; "tutor" tries a too-slow OpenAI route first."""
    return ai_config(jp_server_config, upstream, gemini, timeout=1.0)


async def _rows(app: Any) -> list[AIUsage]:
    """Every usage row."""
    await app.web_app.settings["jupyter_ide_ai"].ledger.flush()
    async with app.web_app.settings["jupyter_ide_db"].session() as s:
        return list((await s.execute(select(AIUsage).order_by(AIUsage.id))).scalars())


async def test_completion_is_translated_both_ways(
    jp_fetch: Any, jp_serverapp: Any, gemini: Upstream
) -> None:
    """OpenAI's request becomes Gemini's generateContent; Gemini's answer comes back as
    OpenAI's, with usage, and lands in the ledger."""
    response = await chat(
        jp_fetch,
        model="gemini-2.0-flash",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "hello gemini"}]},
        ],
        max_tokens=64,
        temperature=0.2,
        stop=["END"],
    )
    result = json.loads(response.body)
    assert result["object"] == "chat.completion"
    assert result["model"] == "gemini-2.0-flash"
    assert result["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello gemini"}
    assert result["choices"][0]["finish_reason"] == "stop"
    usage = result["usage"]
    assert usage["completion_tokens"] == 3
    assert usage["total_tokens"] == usage["prompt_tokens"] + 3
    sent = gemini.seen[-1]
    assert sent["method"] == "generateContent" and sent["model"] == "gemini-2.0-flash"
    assert sent["api_key"] == "gm-institution-key"
    body = sent["body"]
    assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][-1]["parts"] == [{"text": "hello gemini"}]
    assert body["generationConfig"]["maxOutputTokens"] == 64
    assert body["generationConfig"]["temperature"] == 0.2
    assert body["generationConfig"]["stopSequences"] == ["END"]
    (row,) = await _rows(jp_serverapp)
    assert (row.provider, row.model, row.completion_tokens) == ("gemini", "gemini-2.0-flash", 3)
    assert row.prompt_tokens == usage["prompt_tokens"]


async def test_streaming_is_translated(jp_fetch: Any, gemini: Upstream) -> None:
    """streamGenerateContent with alt=sse becomes OpenAI chunks, usage last, then [DONE]."""
    response = await chat(
        jp_fetch,
        model="gemini-2.0-flash",
        messages=user_message("one two three"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = sse_chunks(response.body)
    assert chunks[-1] == "[DONE]"
    assert gemini.seen[-1]["method"] == "streamGenerateContent"
    assert gemini.seen[-1]["query"]["alt"] == "sse"
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1] if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content", "") for d in deltas) == "echo: one two three"
    finish = [c["choices"][0]["finish_reason"] for c in chunks[:-1] if c["choices"]]
    assert finish[-1] == "stop" and set(finish[:-1]) == {None}
    assert chunks[-2]["choices"] == [] and chunks[-2]["usage"]["completion_tokens"] == 4
    assert all(c["object"] == "chat.completion.chunk" for c in chunks[:-1])


async def test_own_gemini_key_is_sent(jp_fetch: Any, gemini: Upstream) -> None:
    """A user's own Gemini key replaces the institution's for their requests."""
    await jp_fetch(
        "ide",
        "api",
        "ai",
        "keys",
        "gemini",
        method="PUT",
        body=json.dumps({"api_key": "AIzaMyOwnGeminiKey_0123456789abcdefghijkl"}),
    )
    await chat(jp_fetch, model="gemini-2.0-flash", messages=user_message("mine"))
    assert gemini.seen[-1]["api_key"] == "AIzaMyOwnGeminiKey_0123456789abcdefghijkl"
    await chat(jp_fetch, model="gemini-2.0-flash", messages=user_message("s"), stream=True)
    assert gemini.seen[-1]["api_key"] == "AIzaMyOwnGeminiKey_0123456789abcdefghijkl"


async def test_timeout_fails_over_to_gemini(
    jp_fetch: Any, jp_serverapp: Any, upstream: Upstream, gemini: Upstream
) -> None:
    """'tutor' goes to OpenAI's "sleepy" first; past the timeout it is served by Gemini under
    the route's own model name, and answered under the public name."""
    result = json.loads((await chat(jp_fetch, model="tutor", messages=user_message("hi"))).body)
    assert upstream.seen[-1]["body"]["model"] == "sleepy"
    assert gemini.seen[-1]["model"] == "gemini-tutor"
    assert result["model"] == "tutor"
    assert result["choices"][0]["message"]["content"] == "echo: hi"
    (row,) = await _rows(jp_serverapp)
    assert (row.provider, row.model) == ("gemini", "tutor")
    streamed = sse_chunks(
        (await chat(jp_fetch, model="tutor", messages=user_message("again"), stream=True)).body
    )
    assert streamed[-1] == "[DONE]" and gemini.seen[-1]["method"] == "streamGenerateContent"


async def test_gemini_server_error_is_a_502(jp_fetch: Any) -> None:
    """A 500 from Gemini, with no route left, is a 502 naming the upstream."""
    with pytest.raises(HTTPClientError) as e:
        await chat(jp_fetch, model="gemini-broken", messages=user_message("x"))
    assert e.value.code == 502
    assert "upstream answered 500" in json.loads(e.value.response.body)["message"]


async def test_client_leaving_cuts_the_gemini_stream(
    jp_serverapp: Any, jp_fetch: Any, jp_http_port: int, jp_base_url: str, gemini: Upstream
) -> None:
    """A client that leaves mid-stream: the Gemini stream is closed, usage recorded."""
    body = json.dumps({"model": "gemini-slow", "messages": user_message("go"), "stream": True})
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write(
        (
            f"POST {jp_base_url}ide/api/ai/v1/chat/completions HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{jp_http_port}\r\n"
            f"Authorization: token {jp_serverapp.identity_provider.token}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
    )
    await writer.drain()
    received = b""
    while received.count(b"data: ") < 5:
        received += await asyncio.wait_for(reader.read(4096), 10)
    writer.close()
    await writer.wait_closed()
    for _ in range(200):
        if gemini.seen[-1]["cut"] and await _rows(jp_serverapp):
            break
        await asyncio.sleep(0.05)
    assert gemini.seen[-1]["cut"], "the Gemini stream ran on after the client left"
    (row,) = await _rows(jp_serverapp)
    assert row.provider == "gemini" and 0 < row.completion_tokens < SLOW_WORDS
