"""Upstream providers behind one interface, each through its official SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai


class ProviderError(Exception):
    """An upstream failure; ``retryable`` says whether the next route should be tried."""

    def __init__(self, message: str, *, status: int = 502, retryable: bool = True) -> None:
        """Keep the status to report and whether to fail over."""
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class OpenAICompatible:
    """OpenAI itself, or any OpenAI-compatible server (the institution's pool)."""

    def __init__(self, name: str, base_url: str, api_key: str, timeout: float) -> None:
        """Talk to ``base_url`` through the `openai` SDK."""
        self.name = name
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout

    def _client(self, api_key: str | None) -> openai.AsyncOpenAI:
        """Return a client with the user's key, else the institution's."""
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=api_key or self.api_key or "no-key",
            timeout=self.timeout,
            max_retries=0,
        )

    @staticmethod
    def _failure(error: Exception) -> ProviderError:
        """Translate an SDK error: timeouts and 5xx fail over, 4xx do not."""
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            return ProviderError(
                f"upstream answered {status}: {error.message}",
                status=status if 400 <= status < 500 else 502,
                retryable=status >= 500 or status == 429,
            )
        return ProviderError(
            f"upstream unreachable: {error}",
            status=504 if isinstance(error, openai.APITimeoutError) else 502,
        )

    async def complete(self, body: dict[str, Any], api_key: str | None) -> dict[str, Any]:
        """Return a whole chat completion."""
        async with self._client(api_key) as client:
            try:
                result = await client.chat.completions.create(**body)
            except openai.OpenAIError as e:
                raise self._failure(e) from e
        dumped: dict[str, Any] = result.model_dump(exclude_none=True)
        return dumped

    async def stream(
        self, body: dict[str, Any], api_key: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield completion chunks; the last one carries usage."""
        async with self._client(api_key) as client:
            try:
                chunks = await client.chat.completions.create(
                    **body, stream=True, stream_options={"include_usage": True}
                )
                async with chunks:
                    async for chunk in chunks:
                        yield chunk.model_dump(exclude_none=True)
            except openai.OpenAIError as e:
                raise self._failure(e) from e
