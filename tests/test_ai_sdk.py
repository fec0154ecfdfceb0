"""Wire compatibility: the real `openai` SDK as a client of our endpoint.

The SDK needs the test server to be listening: pytest-jupyter only serves `jp_serverapp` on
its port once the `http_server` fixture runs (`jp_fetch` pulls it in). Without it, the port
is bound but never accepted on, which is what made the SDK hang in the first attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user
from .test_ai_common import gemini as gemini  # fixture
from .test_ai_common import upstream as upstream  # fixture


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], upstream: Upstream, gemini: Upstream
) -> dict[str, Any]:
    """Route models to the local OpenAI and Gemini fakes."""
    return ai_config(jp_server_config, upstream, gemini)


@pytest.fixture
def client(
    http_server: Any,
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
) -> Iterator[openai.AsyncOpenAI]:
    """The `openai` SDK pointed at our endpoint with the user's Jupyter token."""
    sdk = openai.AsyncOpenAI(
        base_url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}ide/api/ai/v1",
        api_key=jp_serverapp.identity_provider.token,
        max_retries=0,
        timeout=20,
    )
    yield sdk
    jp_asyncio_loop.run_until_complete(sdk.close())


async def test_sdk_completion(client: openai.AsyncOpenAI) -> None:
    """A whole completion parses into the SDK's types, usage included."""
    result = await client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "hello sdk"}]
    )
    assert result.choices[0].message.content == "echo: hello sdk"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.completion_tokens == 3


async def test_sdk_streaming_with_usage(client: openai.AsyncOpenAI) -> None:
    """The SDK reads our SSE stream to [DONE], usage in the last chunk when asked."""
    stream = await client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "a b c"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        if chunk.usage:
            usage = chunk.usage
    assert "".join(pieces) == "echo: a b c"
    assert usage is not None and usage.completion_tokens == 4


async def test_sdk_streaming_from_gemini(client: openai.AsyncOpenAI) -> None:
    """A Gemini model, streamed through our endpoint, reads as an OpenAI stream."""
    stream = await client.chat.completions.create(
        model="gemini-2.0-flash",
        messages=[{"role": "user", "content": "from gemini"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        usage = chunk.usage or usage
    assert "".join(pieces) == "echo: from gemini"
    assert usage is not None and usage.total_tokens > usage.completion_tokens == 3


async def test_sdk_models(client: openai.AsyncOpenAI) -> None:
    """GET /v1/models through the SDK's pager."""
    ids = [m.id async for m in client.models.list()]
    assert "echo" in ids and "tutor" in ids
    assert ids == sorted(ids)


async def test_sdk_errors_are_typed(client: openai.AsyncOpenAI) -> None:
    """Our errors map onto the SDK's exception classes, with our message."""
    with pytest.raises(openai.NotFoundError) as missing:
        await client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert "does not exist" in missing.value.message
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}], max_tokens=10**6
        )
    with pytest.raises((openai.AuthenticationError, openai.PermissionDeniedError)):
        await client.with_options(api_key="wrong-token").chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}]
        )


async def test_sdk_with_a_hub_user_token(
    http_server: Any, jp_http_port: int, jp_base_url: str
) -> None:
    """Any user's token works as the SDK's api_key (here a hub-like test user)."""
    token = as_user("ada")["Authorization"].split(" ", 1)[1]
    HubLikeIdentity.USERS["ada"] = "student"
    sdk = openai.AsyncOpenAI(
        base_url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}ide/api/ai/v1",
        api_key=token,
        max_retries=0,
    )
    try:
        result = await sdk.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "as ada"}]
        )
    finally:
        await sdk.close()
    assert result.choices[0].message.content == "echo: as ada"
