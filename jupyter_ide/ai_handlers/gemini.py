"""Google Gemini through the `google-genai` SDK, spoken to in OpenAI's format."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
from google import genai
from google.genai import errors, types

from .errors import ProviderError
from .gemini_format import to_gemini, to_openai, to_openai_chunks
from .providers import Provider
from .redact import redact

KEY_HEADER = "x-goog-api-key"
FAILURES = (errors.APIError, aiohttp.ClientError, OSError, asyncio.TimeoutError)

# The HTTP responses a stream opened, so that a stream given up early closes its connection
# at once (the SDK only releases it when its inner generators are garbage-collected).
_opened: contextvars.ContextVar[list[aiohttp.ClientResponse] | None] = contextvars.ContextVar(
    "jupyter_ide_gemini_opened", default=None
)


async def _note_response(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    """Remember a response opened while a stream is being read."""
    opened = _opened.get()
    if opened is not None:
        opened.append(params.response)


class GeminiProvider(Provider):
    """Gemini's generateContent and streamGenerateContent (SSE)."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        """Talk to ``base_url``; one SDK client for every user, their keys go per request."""
        self.name = "gemini"
        self.base_url = base_url
        self.institution_key = api_key
        self.timeout = timeout
        self._client: genai.Client | None = None
        self._session: aiohttp.ClientSession | None = None

    def _sdk(self) -> genai.Client:
        """Return the SDK client, made on first use (its session needs a running loop)."""
        if self._client is None:
            trace = aiohttp.TraceConfig()
            trace.on_request_end.append(_note_response)
            self._session = aiohttp.ClientSession(trace_configs=[trace])
            self._client = genai.Client(
                api_key=self.institution_key or "no-key",
                http_options=types.HttpOptions(
                    base_url=self.base_url,
                    timeout=int(self.timeout * 1000),
                    aiohttp_client=self._session,
                ),
            )
        return self._client

    def _request(
        self, body: dict[str, Any], api_key: str | None
    ) -> tuple[list[types.Content], types.GenerateContentConfig]:
        """Translate ``body``; a user's own key replaces the client's for this request only."""
        contents, config = to_gemini(body)
        if api_key and api_key != self.institution_key:
            config.http_options = types.HttpOptions(headers={KEY_HEADER: api_key})
        return contents, config

    @staticmethod
    def _failure(error: Exception, api_key: str | None) -> ProviderError:
        """Translate an SDK error: timeouts, 429 and 5xx fail over, other 4xx do not."""
        if isinstance(error, errors.APIError):
            status = int(error.code or 502)
            message = redact(str(error.message or error.status), api_key)
            return ProviderError(
                f"upstream answered {status}: {message}",
                status=status if 400 <= status < 500 else 502,
                retryable=status >= 500 or status == 429,
            )
        if isinstance(error, asyncio.TimeoutError | TimeoutError):
            return ProviderError("upstream timed out", status=504)
        return ProviderError(f"upstream unreachable: {type(error).__name__}", status=502)

    async def complete(self, body: dict[str, Any], api_key: str | None) -> dict[str, Any]:
        """Return a whole chat completion."""
        contents, config = self._request(body, api_key)
        try:
            response = await self._sdk().aio.models.generate_content(
                model=body["model"], contents=contents, config=config
            )
        except FAILURES as e:
            raise self._failure(e, api_key) from None
        return to_openai(response, body["model"])

    async def stream(
        self, body: dict[str, Any], api_key: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield OpenAI chunks translated from Gemini's stream; the last one carries usage."""
        contents, config = self._request(body, api_key)
        opened: list[aiohttp.ClientResponse] = []
        token = _opened.set(opened)
        first = True
        try:
            responses = await self._sdk().aio.models.generate_content_stream(
                model=body["model"], contents=contents, config=config
            )
            async for response in responses:
                for chunk in to_openai_chunks(response, body["model"], first):
                    first = False
                    yield chunk
        except FAILURES as e:
            raise self._failure(e, api_key) from None
        finally:
            for opened_response in opened:
                opened_response.close()
            try:
                _opened.reset(token)
            except ValueError:  # closed from another context: nothing to restore there
                pass

    async def list_models(self) -> list[str]:
        """Return the Gemini models that generate content, without the "models/" prefix."""
        names = []
        try:
            async for model in await self._sdk().aio.models.list():
                actions = model.supported_actions or []
                if model.name and (not actions or "generateContent" in actions):
                    names.append(model.name.removeprefix("models/"))
        except FAILURES as e:
            raise self._failure(e, self.institution_key) from None
        return names

    async def aclose(self) -> None:
        """Close the SDK client and its session."""
        if self._client is not None:
            await self._client.aio.aclose()
        if self._session is not None:
            await self._session.close()
