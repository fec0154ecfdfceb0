"""Hub-like users for a browser test's server process: `token test-user-<name>` signs in <name>.

The server runs in its own process, so the users and their roles come from its config
(``c.CourseUsersIdentity.users = {"sam": "student", ...}``), as a hub's scopes would give
them; anything else falls through to jupyter-ide's own sign-in (the server's token).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import User
from tornado import web
from traitlets import Dict, Unicode

from jupyter_ide.auth.identity import IDEIdentityProvider

TOKEN_PREFIX = "test-user-"
SCOPES = {"admin": ["custom:ide:admin"], "instructor": ["custom:ide:instructor"]}


class CourseUsersIdentity(IDEIdentityProvider):
    """Sign in `Authorization: token test-user-<name>` as the hub user <name>, if configured."""

    users = Dict(
        value_trait=Unicode(),
        help="User name → role (student, instructor, admin) of the users who may sign in.",
    ).tag(config=True)

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        """Return the configured user the token names, else the usual sign-in."""
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "token" or not token.startswith(TOKEN_PREFIX):
            return await super().get_user(handler)
        name = token.removeprefix(TOKEN_PREFIX)
        role = self.users.get(name)
        if role is None:
            return None
        handler._token_authenticated = True  # type: ignore[attr-defined]
        user = User(username=name, name=name)
        hub_user: dict[str, Any] = {"name": name, "groups": [], "scopes": SCOPES.get(role, [])}
        user.hub_user = hub_user  # type: ignore[attr-defined]
        return user


def signed_in_as(name: str) -> dict[str, str]:
    """Headers that sign a request (or a whole browser context) in as ``name``."""
    return {"Authorization": f"token {TOKEN_PREFIX}{name}"}
