"""The hub user a request of the service is served for."""

from __future__ import annotations

from contextvars import ContextVar

# The hub user name of the request being served (None before sign-in or when it failed).
# Set while the request is authenticated, so it holds for the whole handler: each request
# runs in a task of its own, with a copy of the context.
CALLER: ContextVar[str | None] = ContextVar("jupyter_ide_service_caller", default=None)
