"""The environment JupyterHub gives its services, read and checked once at start-up.

A hub-managed service (``c.JupyterHub.services`` with a ``command``) gets every variable from
the hub. An external one is started by the operator with at least JUPYTERHUB_API_TOKEN (the
service's ``api_token``), JUPYTERHUB_API_URL and JUPYTERHUB_SERVICE_URL; the others follow
from the service's name as the hub derives them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DEFAULT_NAME = "ide"
COOKIE_SECRET_INFO = b"jupyter-ide service cookie secret"


class HubEnvironmentError(Exception):
    """The hub's environment is missing or wrong; ``problems`` holds one line per mistake."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the problems; the message is all of them, one per line."""
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class HubEnvironment:
    """Where the service listens, how it reaches the hub, and what callers must hold."""

    service_name: str
    ip: str
    port: int
    base_url: str
    api_url: str
    api_token: str
    client_id: str
    oauth_callback_url: str
    access_scopes: frozenset[str]
    hub_prefix: str
    hub_host: str

    def cookie_secret(self) -> bytes:
        """Return the secret that signs browser cookies, the same in every replica.

        Derived from the service's hub token, which every replica of the service holds and
        nothing else does: a sign-in (and the OAuth state cookie before it) made through one
        replica is then read by the others behind the load balancer.
        """
        derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=COOKIE_SECRET_INFO)
        return derive.derive(self.api_token.encode())

    def hub_auth_settings(self) -> dict[str, object]:
        """Return the HubOAuth traits this environment sets (never read from a stale default)."""
        return {
            "base_url": self.base_url,
            "api_url": self.api_url,
            "api_token": self.api_token,
            "oauth_client_id": self.client_id,
            "oauth_redirect_uri": self.oauth_callback_url,
            "access_scopes": set(self.access_scopes),
            "hub_prefix": self.hub_prefix,
            "hub_host": self.hub_host,
        }


def _slashed(path: str) -> str:
    """Return ``path`` with one leading and one trailing slash."""
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def _scopes(raw: str, problems: list[str]) -> frozenset[str] | None:
    """Parse JUPYTERHUB_OAUTH_ACCESS_SCOPES (a JSON list of scope strings)."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        problems.append(
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES must be a JSON list of scopes, such as "
            '["access:services!service=ide"]; unset it to use that default'
        )
        return None
    return frozenset(value)


def read_hub_environment(env: Mapping[str, str]) -> HubEnvironment:
    """Return the hub's environment for this service, or raise HubEnvironmentError."""
    problems: list[str] = []

    def get(name: str) -> str:
        return env.get(name, "").strip()

    name = get("JUPYTERHUB_SERVICE_NAME") or DEFAULT_NAME
    token = get("JUPYTERHUB_API_TOKEN")
    if not token:
        problems.append(
            "JUPYTERHUB_API_TOKEN is not set: start `jupyter ide service` from JupyterHub "
            "(c.JupyterHub.services with a command), or set it to the api_token of the "
            "service's entry in c.JupyterHub.services"
        )
    api_url = get("JUPYTERHUB_API_URL")
    if not api_url:
        problems.append(
            "JUPYTERHUB_API_URL is not set: the hub's API as this service reaches it, "
            "such as http://127.0.0.1:8081/hub/api"
        )
    elif urlparse(api_url).scheme not in ("http", "https") or not urlparse(api_url).netloc:
        problems.append(f"JUPYTERHUB_API_URL={api_url!r} is not an http(s) URL")
    service_url = get("JUPYTERHUB_SERVICE_URL")
    ip, port = "", 0
    if not service_url:
        problems.append(
            "JUPYTERHUB_SERVICE_URL is not set: the address this service listens on, the "
            "'url' of its entry in c.JupyterHub.services, such as http://127.0.0.1:10101"
        )
    else:
        parsed = urlparse(service_url)
        try:
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
        except ValueError:
            port = 0
        ip = parsed.hostname or ""
        if parsed.scheme not in ("http", "https") or not port:
            problems.append(f"JUPYTERHUB_SERVICE_URL={service_url!r} is not an http(s) URL")
    hub_base = _slashed(get("JUPYTERHUB_BASE_URL") or "/")
    base_url = _slashed(get("JUPYTERHUB_SERVICE_PREFIX") or f"{hub_base}services/{name}/")
    raw_scopes = get("JUPYTERHUB_OAUTH_ACCESS_SCOPES")
    scopes = (
        _scopes(raw_scopes, problems)
        if raw_scopes
        else frozenset({f"access:services!service={name}"})
    )
    if problems or scopes is None:
        raise HubEnvironmentError(
            [f"jupyter ide service cannot start: {problem}" for problem in problems]
        )
    return HubEnvironment(
        service_name=name,
        ip=ip,
        port=port,
        base_url=base_url,
        api_url=api_url,
        api_token=token,
        client_id=get("JUPYTERHUB_CLIENT_ID") or f"service-{name}",
        oauth_callback_url=get("JUPYTERHUB_OAUTH_CALLBACK_URL") or f"{base_url}oauth_callback",
        access_scopes=scopes,
        hub_prefix=f"{hub_base}hub/",
        hub_host=get("JUPYTERHUB_HOST"),
    )
