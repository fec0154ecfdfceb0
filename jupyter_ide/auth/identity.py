"""Sign-in for API clients: Jupyter's own identity, plus our short-lived bearer JWTs."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web

from .tokens import TokenError, TokenService

BEARER = "bearer "


def bearer_jwt(handler: web.RequestHandler) -> str | None:
    """Return the JWT of an ``Authorization: Bearer`` header, if it holds one."""
    header = handler.request.headers.get("Authorization", "")
    if not header.lower().startswith(BEARER):
        return None
    token = header[len(BEARER) :].strip()
    return token if token.count(".") == 2 else None


class IDEIdentityProvider(IdentityProvider):
    """Jupyter's token/password sign-in, and jupyter-ide's API JWTs (never turned into cookies)."""

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        """Return the user of a valid bearer JWT, else whatever Jupyter's sign-in says."""
        token = bearer_jwt(handler)
        tokens: TokenService | None = handler.settings.get("jupyter_ide_tokens")
        if token is None or tokens is None:
            return await super()._get_user(handler)
        try:
            claims: dict[str, Any] = tokens.verify(token)
        except TokenError as e:
            self.log.warning("Refused an API token from %s: %s", handler.request.remote_ip, e)
            return None
        # Explicit credentials, like Jupyter's own tokens: no XSRF cookie is involved.
        handler._token_authenticated = True  # type: ignore[attr-defined]
        name = str(claims["sub"])
        # The hub's identity provider is not this class; standalone, the JWT's subject is
        # the server's one user, named as RoleResolver.name_of names them.
        return User(username=name, name=name)

    def set_login_cookie(self, handler: web.RequestHandler, user: User) -> None:
        """Set the login cookie, but not for a client that signs each request itself.

        A request with an Authorization header (an API client, an SDK) gets no session
        cookie: it would never send it back, and signing one costs every request. A browser
        signing in with ``?token=`` or the login form still gets its cookie.
        """
        if handler.request.headers.get("Authorization"):
            return
        super().set_login_cookie(handler, user)
