"""Where the service is, the user's own token for it, and the server settings that follow."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

SERVICE_URL_VARIABLE = "JUPYTER_IDE_SERVICE_URL"
TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"  # noqa: S105 - a variable's name, not a secret
CONTENTS_MANAGER = "jupyter_ide.hubclient.contents.ServiceContentsManager"
# Kernel starts may wait for an image's first container; the gateway's default is 40 s.
KERNEL_REQUEST_TIMEOUT = 120.0


class ServiceConnectionError(Exception):
    """The service's URL or the user's token is missing or wrong (the message says which)."""


@dataclass(frozen=True)
class ServiceConnection:
    """The service's base URL (with its /services/<name>/ prefix) and the user's hub token."""

    url: str
    token: str

    def endpoint(self, path: str) -> str:
        """Return the full URL of ``path`` (which starts with /) at the service."""
        return self.url + path

    @property
    def headers(self) -> dict[str, str]:
        """The headers that sign a request in as this server's user."""
        return {"Authorization": f"token {self.token}"}


def read_connection(env: Mapping[str, str] = os.environ) -> ServiceConnection | None:
    """Return the service connection the environment names, None without one, or raise."""
    url = env.get(SERVICE_URL_VARIABLE, "").strip()
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ServiceConnectionError(
            f"{SERVICE_URL_VARIABLE}={url!r} is not an http(s) URL; it is the jupyter-ide "
            "service's URL as user servers reach it, such as http://hub:8000/services/ide/"
        )
    if parsed.query or parsed.fragment:
        raise ServiceConnectionError(f"{SERVICE_URL_VARIABLE}={url!r} must not carry ? or #")
    token = env.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ServiceConnectionError(
            f"{SERVICE_URL_VARIABLE} is set but {TOKEN_VARIABLE} is not: only a JupyterHub "
            "user's server (jupyterhub-singleuser, started by the hub) can use the service"
        )
    return ServiceConnection(url.rstrip("/"), token)


def client_server_config(connection: ServiceConnection) -> dict[str, Any]:
    """Return the ServerApp settings of a user server whose files and kernels are the service's."""
    return {
        "contents_manager_class": CONTENTS_MANAGER,
        "kernel_websocket_connection_class": "jupyter_ide.kernels.websocket.NoDelayGatewayChannels",
        # No student command runs in the user's server: its terminal routes are the service's
        # (hubclient/terminals.py), so Jupyter's own terminals stay off here.
        "terminals_enabled": False,
    }


def gateway_config(connection: ServiceConnection) -> dict[str, Any]:
    """Return the GatewayClient settings that run this user's kernels in the service."""
    return {
        "url": connection.url,
        "auth_token": connection.token,
        "auth_scheme": "token",
        "request_timeout": KERNEL_REQUEST_TIMEOUT,
    }
