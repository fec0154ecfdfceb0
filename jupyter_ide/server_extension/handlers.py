"""HTTP handlers of the extension: the /ide page, its static files and the health API."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web

from .._version import __version__
from ..auth import public, requires
from .checks import STATIC_DIR
from .csp import ide_policy
from .health import collect_health

AUTH_RESOURCE = "ide"
CONFIG_SCRIPT_ID = "jupyter-config-data"


def render_index(index_html: str, base_url: str, page_config: dict[str, Any]) -> str:
    """Point the built page's relative asset URLs at the static route and inject page config."""
    static_url = url_path_join(base_url, "ide", "static") + "/"
    page = index_html.replace('"./', '"' + static_url)
    payload = json.dumps(page_config).replace("</", "<\\/")
    script = f'<script id="{CONFIG_SCRIPT_ID}" type="application/json">{payload}</script>\n'
    if "</head>" not in page:
        raise ValueError("the built index.html has no </head>")
    return page.replace("</head>", script + "</head>", 1)


class IDEPageHandler(ExtensionHandlerMixin, JupyterHandler):
    """Serve the /ide single-page app."""

    auth_resource = AUTH_RESOURCE

    @property
    def content_security_policy(self) -> str:
        """Our strict policy, keeping Jupyter's frame-ancestors and report-uri."""
        return ide_policy(
            super().content_security_policy,
            self.request.host,
            self.settings["jupyter_ide_settings"].allowed_image_hosts,
        )

    @web.authenticated
    @requires("ide:use")
    async def get(self) -> None:
        """Return the app's HTML page with this server's config."""
        index = Path(STATIC_DIR) / "index.html"
        if not index.is_file():
            raise web.HTTPError(
                503, "The /ide app is not built: run `make build` or `pip install .`"
            )
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie the app's API calls send back
        user = self.current_user
        roles = self.settings["jupyter_ide_roles"]
        role = roles.role_of(user)
        users = self.settings.get("jupyter_ide_users")  # a hub user's server: the service's
        if users is not None:
            await users.saw(
                roles.name_of(user), role, self.request.remote_ip, roles.groups_of(user)
            )
        page_config = {
            "baseUrl": self.base_url,
            "wsUrl": "",
            "appName": "jupyter-ide",
            "appVersion": __version__,
            "ideStaticUrl": url_path_join(self.base_url, "ide", "static") + "/",
            "userName": getattr(user, "name", "") or getattr(user, "username", ""),
            "role": role.value,
            # Jupyter's own terminals, or a hub user's server's, the service's (hubclient/).
            "terminalsAvailable": bool(self.settings.get("terminals_available")),
            "allowedImageHosts": list(self.settings["jupyter_ide_settings"].allowed_image_hosts),
            # The app keeps per-workspace choices (the course) under this name.
            "workspace": str(getattr(self.contents_manager, "workspace", "") or "default"),
        }
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(render_index(index.read_text("utf-8"), self.base_url, page_config))


STATIC_REASON = "the app's built files: the same public code for everyone, no user data"


class IDEStaticHandler(JupyterHandler, web.StaticFileHandler):
    """Serve the built app's scripts, styles and workers.

    Public, like JupyterLab's own static files: the page that loads them (/ide) is
    authenticated and carries the config. They must be: under JupyterHub, cookie sign-in
    is only honoured for page navigations, not for script, style and worker fetches.
    """

    auth_resource = AUTH_RESOURCE

    @allow_unauthenticated
    @public(STATIC_REASON)
    async def get(self, path: str, include_body: bool = True) -> None:
        """Return one built file (the page itself is served, with its config, at /ide)."""
        if path.strip("/") == "index.html":
            raise web.HTTPError(404)
        await web.StaticFileHandler.get(self, path, include_body)

    @allow_unauthenticated
    @public(STATIC_REASON)
    async def head(self, path: str) -> None:
        """Return one built file's headers."""
        await web.StaticFileHandler.get(self, path, include_body=False)

    def set_extra_headers(self, path: str) -> None:
        """Let browsers cache the hashed assets; never the page itself."""
        if path.startswith("assets/"):
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer missing files with a short plain message."""
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(html.escape(self._reason))


class HealthHandler(ExtensionHandlerMixin, APIHandler):
    """Report the state of every subsystem."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires("health:read")
    async def get(self) -> None:
        """Return each subsystem's state as JSON."""
        health = await collect_health(
            self.settings["jupyter_ide_settings"],
            self.settings["jupyter_ide_db"],
            self.settings["jupyter_ide_cache"],
        )
        self.finish(json.dumps(health))


class AdminChecksHandler(ExtensionHandlerMixin, APIHandler):
    """The doctor's report, with the fix for each part, for admins."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires("admin:checks")
    async def get(self) -> None:
        """Run every check of `jupyter ide doctor` and return them as JSON."""
        from ..auth.audit import record
        from .cli import run_checks

        results = await run_checks(self.settings["jupyter_ide_settings"])
        name = self.settings["jupyter_ide_roles"].name_of(self.current_user)
        async with self.settings["jupyter_ide_db"].session() as session:
            record(session, "admin_checks_viewed", name, remote_ip=self.request.remote_ip)
        self.finish(
            json.dumps(
                {
                    "ok": not any(r.failed for r in results),
                    "checks": [r.as_json() for r in results],
                }
            )
        )


def default_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the extension's routes (relative to the server's base URL)."""
    return [
        (r"/ide/?", IDEPageHandler, {}),
        (r"/ide/static/(.*)", IDEStaticHandler, {"path": str(STATIC_DIR)}),
        (r"/ide/api/health", HealthHandler, {}),
        (r"/ide/api/admin/checks", AdminChecksHandler, {}),
    ]
