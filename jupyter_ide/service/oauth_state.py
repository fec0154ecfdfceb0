"""Pending OAuth sign-ins that every replica of the service can finish.

JupyterHub's HubOAuth keeps each pending sign-in (where to go next, the PKCE code verifier)
in the memory of the process that sent the browser to the hub. Behind a load balancer the
browser's callback may reach another replica, which would not know it and fail the sign-in
("Code verifier required"). With a shared cache (Redis) the pending sign-ins are kept there
instead, for the same ``oauth_state_max_age``; only their random ids travel in the URL and
the signed state cookie, never the verifier.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import redis
from jupyterhub.services.auth import HubOAuth  # type: ignore[import-untyped]

STATE_KEY = "jupyter-ide:oauth-state:"


class SharedStateHubOAuth(HubOAuth):  # type: ignore[misc]
    """HubOAuth whose pending sign-ins live in Redis when the service has one."""

    def __init__(self, redis_url: str = "", **kwargs: Any) -> None:
        """Use Redis at ``redis_url`` for pending sign-ins; in memory when empty."""
        super().__init__(**kwargs)
        self._shared = redis.Redis.from_url(redis_url) if redis_url else None

    def generate_state(self, next_url: str | None = None, **extra_state: Any) -> str:
        """Store a pending sign-in and return its id (the OAuth ``state``)."""
        if self._shared is None:
            return str(super().generate_state(next_url, **extra_state))
        state_id = secrets.token_urlsafe(16)
        state = {"next_url": next_url, **extra_state}
        self._shared.set(STATE_KEY + state_id, json.dumps(state), ex=self.oauth_state_max_age)
        return state_id

    def _decode_state(self, state_id: str = "", /) -> dict[str, Any]:
        """Return a pending sign-in by its id ({} when unknown or expired)."""
        if self._shared is None:
            return dict(super()._decode_state(state_id))
        raw = self._shared.get(STATE_KEY + state_id) if state_id else None
        return json.loads(raw) if isinstance(raw, bytes) else {}

    def clear_oauth_state(self, state_id: str) -> None:
        """Forget a pending sign-in once its callback has been handled."""
        if self._shared is None:
            super().clear_oauth_state(state_id)
            return
        self._shared.delete(STATE_KEY + state_id)
