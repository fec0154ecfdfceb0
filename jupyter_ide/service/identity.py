"""Who calls the service: any hub user whose token or OAuth cookie grants its access scope.

JupyterHub's own identity provider for Jupyter Server (HubOAuth underneath) does the work:
tokens in ``Authorization: token|bearer``, the OAuth cookie set at ``oauth_callback`` after
the hub's OAuth flow, browsers redirected to the hub, JupyterHub's XSRF rules. On top of it
the service refuses, with a message saying why, tokens the hub does not know (forged,
expired, revoked), tokens of services, and tokens without the service's access scope; and it
records the caller for the request (``CALLER``), which picks their own files.
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from jupyterhub.services.auth import HubOAuth  # type: ignore[import-untyped]
from jupyterhub.singleuser.extension import (  # type: ignore[import-untyped]
    JupyterHubIdentityProvider,
)
from tornado import web
from traitlets import default

from ..server_extension.settings import IDESettings
from .caller import CALLER
from .hubenv import read_hub_environment
from .oauth_state import SharedStateHubOAuth

# Jupyter Server resources the service serves; every other one is refused. Kernels, sessions
# and terminals are each caller's own (kernels.py, sessions.py, terminals.py: the /ide the
# service serves opens notebooks' kernels through sessions); shutdown, config, events and
# nbconvert belong to no single user of a shared process.
SERVED_RESOURCES = frozenset(
    {"api", "contents", "csp", "kernels", "kernelspecs", "lsp", "sessions", "terminals"}
)


def _refuse(handler: web.RequestHandler, status: int, message: str) -> None:
    """Answer the request with ``status`` and ``message``; nobody is signed in."""
    handler.current_user = None  # an error page asks who is signed in: nobody
    raise web.HTTPError(status, message)


class ServiceIdentityProvider(JupyterHubIdentityProvider):  # type: ignore[misc]
    """Sign in every request as the hub user its token or OAuth cookie belongs to."""

    @default("hub_auth")
    def _default_hub_auth(self) -> HubOAuth:
        # Explicit values: HubOAuth reads some variables once, when jupyterhub is imported.
        # Pending sign-ins in the shared cache, if any: a callback may reach another replica.
        return SharedStateHubOAuth(
            redis_url=IDESettings(parent=self).redis_url,
            parent=self,
            **read_hub_environment(os.environ).hub_auth_settings(),
        )

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        """Return the hub user calling, refuse tokens that sign nobody in, record the caller."""
        CALLER.set(None)
        # JupyterHub's provider: token or cookie, login redirects to the hub, its XSRF rules.
        user: User | None = await super().get_user(handler)
        hub_auth: HubOAuth = self.hub_auth
        # The hub's answer, cached on the handler by the call above: why nobody signed in.
        model: dict[str, Any] | None = await hub_auth.get_user(handler, sync=False)
        if model is None:
            if hub_auth.get_token(handler, in_cookie=False):
                _refuse(
                    handler,
                    401,
                    "JupyterHub does not know this token: it is forged, expired or revoked. "
                    "Make a new one at /hub/token (or sign in again).",
                )
            return None
        name = str(model.get("name", ""))
        kind = str(model.get("kind", "user"))
        if kind != "user":
            _refuse(
                handler,
                403,
                f"This is a token of the {kind} {name!r}: the jupyter-ide service serves "
                "JupyterHub users only, with their own tokens.",
            )
        if user is None or not hub_auth.check_scopes(hub_auth.access_scopes, model):
            needed = " or ".join(sorted(hub_auth.access_scopes))
            _refuse(
                handler,
                403,
                f"This token of {name} does not grant access to the jupyter-ide service: "
                f"it needs the scope {needed}.",
            )
        assert user is not None
        CALLER.set(user.username)
        await self._record(handler, user)
        return user

    async def _record(self, handler: web.RequestHandler, user: User) -> None:
        """Keep the users table (role, courses from hub groups) in step with each caller.

        Written only when something changed since this process last saw them; a database
        outage is logged, not a refused sign-in (what needs the database fails on its own).
        """
        users = handler.settings.get("jupyter_ide_users")
        roles = handler.settings.get("jupyter_ide_roles")
        if users is None or roles is None:
            return
        try:
            await users.saw(
                roles.name_of(user),
                roles.role_of(user),
                handler.request.remote_ip,
                roles.groups_of(user),
            )
        except Exception as e:
            self.log.warning("Could not record the sign-in of %s: %s", user.username, e)


class ServiceAuthorizer(Authorizer):
    """Allow signed-in hub users the Jupyter resources the service serves, and no others."""

    def is_authorized(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        """Return True for the served resources (jupyter-ide's roles apply on top)."""
        allowed = resource in SERVED_RESOURCES and CALLER.get() == user.username
        if not allowed:
            self.log.info(
                "Refused %s on %s (%s) to %s",
                action,
                resource,
                handler.request.path,
                user.username,
            )
        return allowed
