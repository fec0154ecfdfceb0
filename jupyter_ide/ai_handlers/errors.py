"""The AI proxy's refusals and failures, each with its HTTP status and OpenAI error code."""

from __future__ import annotations

from typing import Any


class AIError(Exception):
    """A refusal or failure with a message for people, an HTTP status and an error code."""

    kind = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = "invalid_request",
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Keep what the handler reports besides the message."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(AIError):
    """A request the proxy refuses because of what it asks."""


class Refused(AIError):
    """A request the course policy or the administrator does not allow (403)."""

    kind = "permission_error"

    def __init__(self, message: str, *, code: str, extra: dict[str, Any] | None = None) -> None:
        """Refuse with 403 and ``code``."""
        super().__init__(message, status=403, code=code, extra=extra)


class QuotaExceeded(AIError):
    """A limit is reached: 429 naming the limit and when it resets."""

    kind = "rate_limit_exceeded"

    def __init__(self, message: str, *, limit: str, resets_at: str, retry_after: int) -> None:
        """Name the limit, its reset time and the seconds to wait."""
        super().__init__(
            message,
            status=429,
            code=limit,
            extra={"limit": limit, "resets_at": resets_at},
            headers={"Retry-After": str(max(retry_after, 1))},
        )


class ProviderError(AIError):
    """An upstream failure; ``retryable`` says whether the next route should be tried."""

    kind = "api_error"

    def __init__(self, message: str, *, status: int = 502, retryable: bool = True) -> None:
        """Keep the status to report and whether to fail over."""
        super().__init__(message, status=status, code="upstream_error")
        self.retryable = retryable
