"""The IDE is whole however the server is launched: `jupyter server`, jupyterhub-singleuser.

Each test starts a real server process with no config of its own: the installed jupyter-config
file enables the extension, as `pip install` leaves it for users. Then it checks what users
need: /api/contents is the IDE's (files have a history), /api/kernelspecs lists the sandboxed
ide-* kernelspecs, and sign-in is the IDE's (its API tokens open Jupyter's APIs) or the hub's.
`jupyter lab` is not installed in the project's environment; it starts the same ServerApp.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_ide.kernels.kernelspecs import LANGUAGES, spec_name

BIN = Path(sys.executable).parent
PROXY = Path(__file__).resolve().parent / "hub" / "node_modules" / ".bin"
PROXY = PROXY / "configurable-http-proxy"
INSTALLED_CONFIG = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d"
START_TIMEOUT = 90
IDE_SPECS = {spec_name(language.key) for language in LANGUAGES}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(
    method: str, url: str, token: str, body: Any = None, scheme: str = "token"
) -> tuple[int, Any]:
    """Send one request with ``Authorization: <scheme> <token>``; return status and JSON."""
    data = None if body is None else json.dumps(body).encode()
    if data is None and method in ("POST", "PUT"):
        data = b""
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": f"{scheme} {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        with e:
            raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def clean_env(home: Path) -> dict[str, str]:
    """An environment with nothing of the test process's Jupyter settings; a fresh HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    env["HOME"] = str(home)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{home / 'state' / 'ide.db'}"
    env["JUPYTER_IDE_STORAGE_URL"] = (home / "state" / "blobs").as_uri()
    # JupyterHub's form (`openssl rand -hex 32`): it used to leave the server without the IDE.
    env["JUPYTER_IDE_CRYPT_KEY"] = secrets.token_hex(32)
    return env


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, token: str = "") -> None:
    """Poll ``url`` until it answers 200, or fail showing the process's log."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            if call("GET", url, token)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and wait for it."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class Server:
    """A running server: where its API is, and the token that signs in to it."""

    api: str
    token: str


def check_the_ide_is_whole(server: Server) -> None:
    """Contents with history, ide-* kernelspecs, and the IDE's pages and APIs."""
    status, _ = call("PUT", f"{server.api}/api/contents/a.py", server.token, _file("one"))
    assert status in (200, 201), status
    assert call("PUT", f"{server.api}/api/contents/a.py", server.token, _file("two"))[0] == 200
    status, history = call("GET", f"{server.api}/ide/api/history?path=a.py", server.token)
    assert status == 200, history
    assert len(history["versions"]) >= 1, history
    status, specs = call("GET", f"{server.api}/api/kernelspecs", server.token)
    assert status == 200
    assert IDE_SPECS <= set(specs["kernelspecs"]), sorted(specs["kernelspecs"])
    assert specs["default"] == "ide-python"
    status, health = call("GET", f"{server.api}/ide/api/health", server.token)
    assert status == 200, health


def _file(text: str) -> dict[str, str]:
    return {"type": "file", "format": "text", "content": text}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh HOME for one server."""
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    return path


def test_the_installed_config_file_enables_the_extension() -> None:
    """pip (also `pip install -e`) leaves the file that enables jupyter_ide in the prefix."""
    data = json.loads((INSTALLED_CONFIG / "jupyter_ide.json").read_text())
    assert data["ServerApp"]["jpserver_extensions"] == {"jupyter_ide": True}


@pytest.fixture
def jupyter_server(home: Path) -> Iterator[Server]:
    """`jupyter server` with no config of its own: only the installed files say what runs."""
    port, token = free_port(), secrets.token_hex(16)
    (home / "root").mkdir()
    log = home / "server.log"
    argv = [
        str(BIN / "jupyter-server"),
        "--ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home / 'root'}",
        "--SandboxManager.pool_size=0",
        "--JudgeSettings.pool_size=0",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, env=clean_env(home), cwd=home, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status", process, log, token)
        yield Server(f"http://127.0.0.1:{port}", token)
    finally:
        stop(process)


def test_jupyter_server_runs_the_whole_ide(jupyter_server: Server) -> None:
    """Under plain `jupyter server`: our contents, kernelspecs and sign-in (API tokens work)."""
    check_the_ide_is_whole(jupyter_server)
    status, pair = call("POST", f"{jupyter_server.api}/ide/api/auth/token", jupyter_server.token)
    assert status == 201, pair
    status, listing = call(
        "GET", f"{jupyter_server.api}/api/contents", pair["access_token"], scheme="Bearer"
    )
    assert status == 200, listing
    assert [item["name"] for item in listing["content"]] == ["a.py"]


def test_a_config_that_replaces_a_manager_is_refused(home: Path) -> None:
    """A server told to use Jupyter's contents manager exits, naming the setting and the fix."""
    argv = [
        str(BIN / "jupyter-server"),
        "--ip=127.0.0.1",
        f"--port={free_port()}",
        "--no-browser",
        "--ServerApp.contents_manager_class="
        "jupyter_server.services.contents.largefilemanager.AsyncLargeFileManager",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    done = subprocess.run(
        argv, env=clean_env(home), cwd=home, capture_output=True, text=True, timeout=90
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("jupyter-ide cannot start: c.ServerApp.contents_manager_class is")
    assert "jupyter_ide.contents_manager.IDEContentsManager" in last


@dataclass
class Hub:
    """A running JupyterHub (proxy, hub API) with an admin token."""

    url: str
    admin_token: str


@pytest.fixture
def hub(home: Path) -> Iterator[Hub]:
    """JupyterHub with its proxy, spawning local jupyterhub-singleuser servers."""
    if not PROXY.exists():
        pytest.fail("tests/hub peers are not installed: `make test` runs npm ci there")
    hub_port, api_port, proxy_api = free_port(), free_port(), free_port()
    admin_token = secrets.token_hex(16)
    config = home / "jupyterhub_config.py"
    env = clean_env(home)
    config.write_text(
        textwrap.dedent(
            f"""
            c = get_config()  # noqa
            c.JupyterHub.bind_url = "http://127.0.0.1:{hub_port}"
            c.JupyterHub.hub_bind_url = "http://127.0.0.1:{api_port}"
            c.JupyterHub.db_url = "sqlite:///{home / "hub.sqlite"}"
            c.JupyterHub.cookie_secret_file = "{home / "cookie_secret"}"
            c.ConfigurableHTTPProxy.command = ["{PROXY}"]
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
            c.JupyterHub.authenticator_class = "dummy"
            c.Authenticator.allowed_users = {{"ada"}}
            c.JupyterHub.services = [
                {{"name": "tester", "api_token": "{admin_token}", "admin": True}}
            ]
            c.JupyterHub.spawner_class = "simple"
            c.Spawner.cmd = ["{BIN / "jupyterhub-singleuser"}"]
            c.Spawner.args = ["--allow-root", "--SandboxManager.pool_size=0",
                              "--JudgeSettings.pool_size=0"]
            c.Spawner.environment = {{
                "JUPYTER_IDE_DB_URL": "{env["JUPYTER_IDE_DB_URL"]}",
                "JUPYTER_IDE_STORAGE_URL": "{env["JUPYTER_IDE_STORAGE_URL"]}",
            }}
            c.Spawner.http_timeout = 60
            c.Spawner.start_timeout = 90
            c.SimpleLocalProcessSpawner.home_dir_template = "{home}/users/{{username}}"
            """
        )
    )
    log = home / "hub.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(config)],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{hub_port}/hub/api", process, log)
        yield Hub(f"http://127.0.0.1:{hub_port}", admin_token)
    finally:
        stop(process)


def test_jupyterhub_singleuser_runs_the_whole_ide(hub: Hub, home: Path) -> None:
    """A hub-spawned server has our contents and kernelspecs, and signs users in via the hub."""
    api = f"{hub.url}/hub/api"
    assert call("POST", f"{api}/users/ada", hub.admin_token)[0] in (201, 409)
    status, body = call("POST", f"{api}/users/ada/server", hub.admin_token)
    assert status in (201, 202), body
    status, made = call("POST", f"{api}/users/ada/tokens", hub.admin_token, {"note": "test"})
    assert status == 201, made
    server = Server(f"{hub.url}/user/ada", made["token"])
    deadline = time.monotonic() + START_TIMEOUT
    while call("GET", f"{server.api}/api/status", server.token)[0] != 200:
        if time.monotonic() > deadline:
            pytest.fail(f"ada's server did not start:\n{(home / 'hub.log').read_text()[-4000:]}")
        time.sleep(0.5)
    try:
        check_the_ide_is_whole(server)
        status, me = call("GET", f"{server.api}/ide/api/auth/me", server.token)
        assert status == 200, me
        assert (me["name"], me["role"]) == ("ada", "student")
        # The hub signs every request in (its access scopes): our API tokens would not work.
        status, refused = call("POST", f"{server.api}/ide/api/auth/token", server.token)
        assert status == 409 and "JupyterHub API token" in refused["message"], refused
    finally:
        call("DELETE", f"{api}/users/ada/server", hub.admin_token)
