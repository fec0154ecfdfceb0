"""Upstream providers behind one interface, each through its official SDK."""

from __future__ import annotations

import abc
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from .errors import ProviderError
from .redact import redact

__all__ = ["OpenAICompatible", "Provider", "ProviderError"]

CHAT_PATH = "/chat/completions"
MODELS_PATH = "/models"
# The SDK's own header for "hand me the response unread" (what with_streaming_response sends).
STREAM_UNREAD = {"X-Stainless-Raw-Response": "stream"}


class Provider(abc.ABC):
    """One upstream: whole completions and streams, in OpenAI's chat format both ways."""

    name: str
    institution_key: str

    @property
    def needs_key(self) -> bool:
        """Return True when a request needs an API key (the pool may run without one)."""
        return True

    @abc.abstractmethod
    async def complete(self, body: dict[str, Any], api_key: str | None) -> dict[str, Any]:
        """Return a whole chat completion for ``body``."""

    @abc.abstractmethod
    def stream(self, body: dict[str, Any], api_key: str | None) -> AsyncIterator[dict[str, Any]]:
        """Yield completion chunks; the last one carries usage."""

    async def list_models(self) -> list[str]:
        """Return the ids of the models the upstream serves (with the institution's key)."""
        return []

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release connections."""


class OpenAICompatible(Provider):
    """OpenAI itself, or any OpenAI-compatible server (the institution's pool)."""

    def __init__(
        self, name: str, base_url: str, api_key: str, timeout: float, *, needs_key: bool = True
    ) -> None:
        """Talk to ``base_url`` through the `openai` SDK, one connection pool for all users."""
        self.name = name
        self.base_url = base_url
        self.institution_key = api_key
        self._needs_key = needs_key
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "no-key",
            timeout=timeout,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(timeout=timeout),
        )

    @property
    def needs_key(self) -> bool:
        """Return True unless this is a pool that runs without keys."""
        return self._needs_key

    def _for(self, api_key: str | None) -> openai.AsyncOpenAI:
        """Return the shared client, with the user's key when given."""
        if not api_key or api_key == self.institution_key:
            return self._client
        return self._client.with_options(api_key=api_key)

    @staticmethod
    def _failure(error: Exception, api_key: str | None) -> ProviderError:
        """Translate an SDK error: timeouts, 429 and 5xx fail over, other 4xx do not."""
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            return ProviderError(
                f"upstream answered {status}: {redact(str(error.message), api_key)}",
                status=status if 400 <= status < 500 else 502,
                retryable=status >= 500 or status == 429,
            )
        if isinstance(error, openai.APITimeoutError):
            return ProviderError("upstream timed out", status=504)
        return ProviderError(f"upstream unreachable: {type(error).__name__}", status=502)

    async def complete(self, body: dict[str, Any], api_key: str | None) -> dict[str, Any]:
        """Return a whole chat completion (the upstream's JSON, not re-serialised models).

        The body was checked by the proxy already, so it goes out through the SDK's generic
        ``post`` (its retries, timeouts, headers and errors) without the per-request pass over
        the typed parameters that ``chat.completions.create`` makes.
        """
        try:
            response = await self._for(api_key).post(CHAT_PATH, cast_to=httpx2.Response, body=body)
        except openai.OpenAIError as e:
            raise self._failure(e, api_key) from None
        try:
            result: dict[str, Any] = json.loads(response.content)
        except ValueError:
            raise ProviderError("upstream answered with something that is not JSON") from None
        return result

    async def stream(
        self, body: dict[str, Any], api_key: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the upstream's completion chunks; the last one carries usage."""
        try:
            response = await self._for(api_key).post(
                CHAT_PATH,
                cast_to=httpx2.Response,
                body={**body, "stream": True, "stream_options": {"include_usage": True}},
                options={"headers": STREAM_UNREAD},
            )
        except openai.OpenAIError as e:
            raise self._failure(e, api_key) from None
        done = False
        try:
            # Read to the end even after [DONE]: a response read whole lets its connection
            # go back to the pool instead of being closed.
            async for line in response.aiter_lines():
                if done or not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    continue
                chunk = json.loads(data)
                if isinstance(chunk, dict) and chunk.get("error"):
                    message = str((chunk["error"] or {}).get("message", "error"))
                    raise ProviderError(f"upstream failed: {redact(message, api_key)}")
                yield chunk
        except httpx2.HTTPError as e:
            raise ProviderError(f"upstream stream broke: {type(e).__name__}") from None
        except ValueError:
            raise ProviderError("upstream streamed something that is not JSON") from None
        finally:
            await response.aclose()

    async def list_models(self) -> list[str]:
        """Return the ids of GET /models (OpenAI's list; vLLM, Ollama, llama.cpp serve it)."""
        try:
            response = await self._client.get(MODELS_PATH, cast_to=httpx2.Response)
        except openai.OpenAIError as e:
            raise self._failure(e, self.institution_key) from None
        try:
            data = json.loads(response.content).get("data")
        except (ValueError, AttributeError):
            raise ProviderError("upstream listed its models in something not JSON") from None
        if not isinstance(data, list):
            raise ProviderError("upstream's model list has no data")
        return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.close()
