"""A real JupyterHub running the jupyter-ide service, configured by deploy/jupyterhub_config.py.

The hub loads the deployment's own config (its service block, roles and sign-in through a
local OpenID Connect provider), then only what a test run needs on top: loopback ports, the
proxy from tests/hub, a test-only admin service whose token creates users, groups and tokens,
and a second service ("other") whose access scope is not the IDE's. The jupyter-ide service
gets PostgreSQL, Redis, S3 (moto) and an OpenAI-format pool (a local fake) through the
service block's environment, as a deployment gives them.
"""

from __future__ import annotations

import asyncio
import html.parser
import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from sqlalchemy.engine import make_url
from tornado.httpserver import HTTPServer

from .fakes import openai_server
from .s3_server import CREDENTIALS, MotoServer
from .services import _libpq, postgres_url, redis_url

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO / "tests" / "hub"
DEPLOY_CONFIG = REPO / "deploy" / "jupyterhub_config.py"
BIN = Path(sys.executable).parent
START_TIMEOUT = 120
SERVICE = "ide"
ACCESS = f"access:services!service={SERVICE}"
# What only the service may hold (the hub gives it to the service alone): no user's server,
# kernel or shell may see any of it.
SERVICE_SECRETS = (
    "JUPYTER_IDE_DB_URL",
    "JUPYTER_IDE_REDIS_URL",
    "JUPYTER_IDE_STORAGE_URL",
    "JUPYTER_IDE_S3_ENDPOINT_URL",
    "JUPYTER_IDE_CRYPT_KEY",
    "JUPYTER_IDE_AI_POOL_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def secret_values(env: dict[str, str]) -> dict[str, str]:
    """Return the service's secrets in ``env`` whose values a scan can look for.

    moto's keys are the word "testing", which any text may hold: their names are still
    checked, their values are not.
    """
    dummies = set(CREDENTIALS.values())
    return {n: env[n] for n in SERVICE_SECRETS if env.get(n) and env[n] not in dummies}


def call_with_token(
    url: str, token: str, method: str = "GET", body: Any = None, timeout: float = 120
) -> requests.Response:
    """Call ``url`` with ``token`` in the Authorization header and ``body`` as JSON."""
    return requests.request(
        method,
        url,
        headers={"Authorization": f"token {token}"},
        data=None if body is None else json.dumps(body),
        timeout=timeout,
    )


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, size: int = 4000) -> str:
    """The end of a log file."""
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


@dataclass
class ServiceHub:
    """A running hub with the jupyter-ide service behind its proxy."""

    url: str
    admin_token: str
    other_token: str
    log: Path
    base: Path
    ai_requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def service_url(self) -> str:
        """The service's public URL (through the hub's proxy), without a trailing slash."""
        return f"{self.url}/services/{SERVICE}"

    def hub_api(self, method: str, path: str, body: Any = None, token: str = "") -> Any:
        """Call the hub's REST API (as the test admin by default); fail on an error status."""
        reply = requests.request(
            method,
            f"{self.url}/hub/api{path}",
            headers={"Authorization": f"token {token or self.admin_token}"},
            json=body,
            timeout=30,
        )
        if reply.status_code >= 400:
            raise AssertionError(f"{method} /hub/api{path}: {reply.status_code} {reply.text}")
        return reply.json() if reply.content else None

    def add_user(self, name: str, groups: tuple[str, ...] = ()) -> None:
        """Create a hub user (the config may have made them already), in ``groups``."""
        if not self._exists(f"/users/{name}"):
            self.hub_api("POST", f"/users/{name}")
        for group in groups:
            if not self._exists(f"/groups/{group}"):
                self.hub_api("POST", f"/groups/{group}")
            self.hub_api("POST", f"/groups/{group}/users", {"users": [name]})

    def _exists(self, path: str) -> bool:
        """Whether the hub's API has ``path`` (a user, a group)."""
        reply = requests.get(
            f"{self.url}/hub/api{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            timeout=30,
        )
        return reply.status_code == 200

    def token(self, user: str, scopes: list[str], expires_in: int | None = None) -> str:
        """Make an API token for ``user`` with ``scopes`` (as a user does at /hub/token)."""
        body: dict[str, Any] = {"scopes": scopes, "note": "jupyter-ide service test"}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return str(self.hub_api("POST", f"/users/{user}/tokens", body)["token"])

    def call(
        self,
        path: str,
        token: str | None,
        method: str = "GET",
        body: Any = None,
        scheme: str = "token",
    ) -> requests.Response:
        """Call the service at ``path`` with ``token`` (None: no credentials)."""
        headers = {} if token is None else {"Authorization": f"{scheme} {token}"}
        data = None if body is None else json.dumps(body)
        return requests.request(
            method,
            f"{self.service_url}{path}",
            headers=headers,
            data=data,
            timeout=120,
            allow_redirects=False,
        )


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards."""
    admin = postgres_url()
    name = f"jupyter_ide_service_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(admin).set(database=name).render_as_string(hide_password=False)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fake_ai_pool(seen: list[dict[str, Any]]) -> Iterator[str]:
    """The OpenAI-format fake in a thread of its own; yields its /v1 URL."""
    ready = threading.Event()
    port = free_port()
    state: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = HTTPServer(openai_server.make_app(seen))
        server.listen(port, "127.0.0.1")
        state.update(loop=loop, server=server)
        ready.set()
        loop.run_forever()
        server.stop()
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the fake AI pool did not start")
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        thread.join(10)


def _start(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start a peer with its output in ``log``."""
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=cwd)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a peer and wait for it (the hub stops its managed service first)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait(check: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``check()`` until true, or fail showing the log."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what}: the process exited early:\n{tail(log)}")
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {START_TIMEOUT} s:\n{tail(log)}")


def hub_config(
    base: Path,
    api_port: int,
    tokens: dict[str, str],
    service_dirs: dict[str, str],
    extra_config: str = "",
) -> str:
    """The hub's config: the deployment's, then the test run's loopback set-up (and extra)."""
    proxy = PEERS / "node_modules" / ".bin" / "configurable-http-proxy"
    return textwrap.dedent(
        f"""
        c = get_config()  # noqa
        load_subconfig({str(DEPLOY_CONFIG)!r})  # noqa

        c.JupyterHub.hub_bind_url = "http://127.0.0.1:{api_port}"
        c.JupyterHub.cookie_secret_file = {str(base / "cookie_secret")!r}
        c.ConfigurableHTTPProxy.command = [{str(proxy)!r}]
        c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
        c.Authenticator.auto_login = True
        c.JupyterHub.log_level = "DEBUG"

        ide = c.JupyterHub.services[0]
        if "command" in ide:  # managed: its own data dirs; the venv's jupyter
            ide["command"] = [{str(BIN / "jupyter")!r}, *ide["command"][1:],
                              "--JudgeSettings.pool_size=0",
                              # No warm kernels unless a test asks (SandboxManager.pool_specs).
                              "--SandboxManager.pool_size=0",
                              "--IDESettings.freeze_startup_heap=False"]
            ide["environment"].update({json.dumps(service_dirs)})
        # Test-only: an admin service whose token sets users, groups and tokens up ...
        c.JupyterHub.services.append({{"name": "test-admin", "api_token": {tokens["admin"]!r}}})
        c.JupyterHub.load_roles.append(
            {{"name": "test-admin", "services": ["test-admin"],
              "scopes": ["admin:users", "admin:groups", "tokens", "read:services"]}}
        )
        # ... and another service, which may itself call the IDE's (its token is no user's).
        # No URL: the hub would wait 30 s at start for a server nobody runs.
        c.JupyterHub.services.append({{"name": "other", "api_token": {tokens["other"]!r}}})
        c.JupyterHub.load_roles.append(
            {{"name": "other-service", "services": ["other"], "scopes": [{ACCESS!r}]}}
        )
        for role in c.JupyterHub.load_roles:
            if role["name"] == "user":
                role["scopes"] = [*role["scopes"], "access:services!service=other"]
        """
    ) + textwrap.dedent(extra_config)


@contextmanager
def service_hub(
    base: Path,
    moto: MotoServer,
    mode: str = "managed",
    extra_env: dict[str, str] | None = None,
    extra_config: str = "",
) -> Iterator[tuple[ServiceHub, dict[str, str]]]:
    """Start the OIDC provider, the hub and (managed) the service; yield it and the hub's env.

    ``mode="external"`` leaves starting the service to the caller (the hub's env tells how).
    ``extra_config`` is hub config (Python text) appended after the test run's own.
    """
    if not (PEERS / "node_modules" / "oidc-provider").is_dir():
        raise AssertionError("tests/hub peers are not installed: `make test` runs npm ci there")
    oidc_port, hub_port, api_port, service_port = (free_port() for _ in range(4))
    issuer = f"http://127.0.0.1:{oidc_port}"
    hub_url = f"http://127.0.0.1:{hub_port}"
    client_secret = secrets.token_hex(16)
    tokens = {"admin": secrets.token_hex(32), "other": secrets.token_hex(32)}
    bucket = f"svc-{uuid.uuid4().hex[:16]}"
    moto.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    ai_seen: list[dict[str, Any]] = []
    with fresh_postgres() as db_url, fake_ai_pool(ai_seen) as pool_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "AWS_"))}
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
                "JUPYTERHUB_BIND_URL": hub_url,
                "JUPYTERHUB_DB_URL": f"sqlite:///{base / 'hub.sqlite'}",
                "JUPYTER_IDE_OAUTH_PROVIDER": "generic",
                "OIDC_ISSUER": issuer,
                "OAUTH_CLIENT_ID": "jupyterhub",
                "OAUTH_CLIENT_SECRET": client_secret,
                "OAUTH_CALLBACK_URL": f"{hub_url}/hub/oauth_callback",
                "JUPYTER_IDE_ALLOW_ALL": "1",
                "JUPYTER_IDE_SERVICE": mode,
                "JUPYTER_IDE_SERVICE_URL": f"http://127.0.0.1:{service_port}",
                # What only the service may hold: the hub passes it on to the service alone.
                "JUPYTER_IDE_DB_URL": db_url,
                "JUPYTER_IDE_REDIS_URL": redis_url(),
                "JUPYTER_IDE_STORAGE_URL": f"s3://{bucket}/blobs",
                "JUPYTER_IDE_S3_ENDPOINT_URL": moto.url,
                "JUPYTER_IDE_CRYPT_KEY": secrets.token_hex(32),
                "JUPYTER_IDE_AI_POOL_URL": pool_url,
                "JUPYTER_IDE_SANDBOX": "docker",
                # The folder's cap is tested elsewhere; no loop mounts per test user here.
                "JUPYTER_IDE_WORKSPACE_VOLUME": "sync",
                **CREDENTIALS,
                **(extra_env or {}),
            }
        )
        if mode == "external":
            env["JUPYTER_IDE_SERVICE_TOKEN"] = secrets.token_hex(32)
        service_dirs = {
            "JUPYTER_DATA_DIR": str(base / "service" / "data"),
            "JUPYTER_RUNTIME_DIR": str(base / "service" / "runtime"),
            "JUPYTER_CONFIG_DIR": str(base / "service" / "config"),
        }
        config = base / "jupyterhub_config.py"
        config.write_text(hub_config(base, api_port, tokens, service_dirs, extra_config))
        oidc_log, hub_log = base / "oidc.log", base / "hub.log"
        oidc = _start(
            [
                "node",
                str(PEERS / "oidc_provider.mjs"),
                str(oidc_port),
                f"{hub_url}/hub/oauth_callback",
                client_secret,
            ],
            oidc_log,
            env,
            base,
        )
        hub_process: subprocess.Popen[bytes] | None = None
        try:
            _wait(
                lambda: requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok,
                "the OIDC provider",
                oidc,
                oidc_log,
            )
            hub_process = _start([str(BIN / "jupyterhub"), "-f", str(config)], hub_log, env, base)
            _wait(
                lambda: requests.get(f"{hub_url}/hub/api", timeout=2).ok,
                "the hub",
                hub_process,
                hub_log,
            )
            hub = ServiceHub(hub_url, tokens["admin"], tokens["other"], hub_log, base, ai_seen)
            if mode == "managed":
                wait_for_service(hub, hub_process)
            yield hub, env | service_dirs
        finally:
            if hub_process is not None:
                _stop(hub_process)
            _stop(oidc)


def user_servers_config(base: Path, pool: int = 1) -> str:
    """Hub config: users' servers as local processes (root in CI: --allow-root), warm ``pool``."""
    home = base / "home"
    return f"""
        ide["command"] = [*ide["command"], "--SandboxManager.pool_specs=ide-python={pool}"]
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = "{home}/{{username}}"
        c.Spawner.args = ["--allow-root"] if {os.geteuid() == 0} else []
        c.Spawner.http_timeout = 90
        c.Spawner.start_timeout = 120
    """


def user_server_call(
    hub: ServiceHub, who: str, token: str, path: str, method: str = "GET", body: Any = None
) -> requests.Response:
    """Call ``path`` on ``who``'s own server, through the hub's proxy, with ``token``."""
    return requests.request(
        method,
        f"{hub.url}/user/{who}{path}",
        headers={"Authorization": f"token {token}"},
        data=None if body is None else json.dumps(body),
        timeout=180,
        allow_redirects=False,
    )


def user_server_request(hub: ServiceHub, name: str, method: str, path: str = "/server") -> Any:
    """Call the hub's API on ``name``'s server as they do (a token with the servers scope)."""
    token = hub.token(name, [f"servers!user={name}"])
    return requests.request(
        method,
        f"{hub.url}/hub/api/users/{name}{path}",
        headers={"Authorization": f"token {token}"},
        timeout=60,
    )


def start_user_server(hub: ServiceHub, name: str) -> None:
    """Start ``name``'s server through the hub's API and wait until it is ready."""
    reply = user_server_request(hub, name, "POST")
    assert reply.status_code in (201, 202), reply.text
    deadline = time.monotonic() + 150
    while reply.status_code != 201 and time.monotonic() < deadline:
        user = user_server_request(hub, name, "GET", "").json()
        if ((user.get("servers") or {}).get("") or {}).get("ready"):
            return
        time.sleep(0.5)
    if reply.status_code != 201:
        raise AssertionError(f"{name}'s server did not start:\n{tail(hub.log, 8000)}")


def wait_for_service(hub: ServiceHub, process: subprocess.Popen[bytes]) -> None:
    """Wait until the service answers through the proxy (refusing an anonymous call)."""
    _wait(
        lambda: hub.call("/api/contents", None).status_code == 403,
        "the jupyter-ide service behind the hub",
        process,
        hub.log,
    )


class _Forms(html.parser.HTMLParser):
    """The forms of a page: action and hidden inputs of each."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and values.get("type") == "hidden":
            self.forms[-1]["fields"][values.get("name", "")] = values.get("value", "")


def submit_form(
    session: requests.Session, page: requests.Response, fields: dict[str, str]
) -> requests.Response:
    """Submit the first form of ``page`` with its hidden inputs and ``fields``, as a browser."""
    parser = _Forms()
    parser.feed(page.text)
    if not parser.forms:
        raise AssertionError(f"no form on {page.url}: {page.text[:500]}")
    form = parser.forms[0]
    action = urllib.parse.urljoin(page.url, form["action"] or page.url)
    return session.post(action, data={**form["fields"], **fields}, timeout=60)


def browser_sign_in(session: requests.Session, start_url: str, name: str) -> requests.Response:
    """Open ``start_url`` as a browser: the hub's OAuth, the provider's login and consent."""
    page = session.get(start_url, timeout=60)
    page = submit_form(session, page, {"login": name, "password": "any"})
    if "/interaction/" in page.url:  # the provider's consent page
        page = submit_form(session, page, {})
    return page
