"""Terminals in Docker mode: each shell runs in a hardened sandbox container of its own.

Real dockerd and images, the server through pytest-jupyter (and once started the README's way
with tests/launch.py). The server's environment holds secrets the shell must not see.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_SERVER
from jupyter_ide.terminals.sandboxed import LABEL_TERMINAL

from .kernel_host import require_images
from .launch import Launched, _stop, launch
from .test_terminals import _first_output, _refused, _shell_output, _start

SECRET = "JUPYTER_IDE_TEST_SECRET"
LIMIT = 2


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """The engine and the terminals' image must be there (never skip)."""
    require_images("python")


@pytest.fixture
def engine() -> Iterator[docker.DockerClient]:
    """A client of the real engine, to look at the terminals' containers."""
    client = docker.from_env(timeout=30)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def server_secrets(monkeypatch: pytest.MonkeyPatch, ide_db_url: str) -> dict[str, str]:
    """Secrets in the server's environment (the same database URL its config names)."""
    values = {
        "JUPYTER_IDE_DB_URL": ide_db_url,
        "JUPYTER_IDE_CRYPT_KEY": secrets.token_hex(32),
        SECRET: secrets.token_hex(8),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Kernels and terminals must run in Docker; at most LIMIT terminals at once."""
    config = dict(jp_server_config)
    config["IDESettings"] = {**config["IDESettings"], "sandbox": "docker"}
    config["IDETerminalManager"] = {"terminal_limit": LIMIT}
    # No periodic scan: files the shell writes must come back through the terminal's sync.
    config["IDEContentsManager"] = {**config["IDEContentsManager"], "sync_interval": 0}
    return config


def _containers(engine: docker.DockerClient, server_id: str, name: str = "") -> list[Container]:
    """The terminal containers of one server (of one terminal, when ``name`` is given)."""
    labels = [f"{LABEL_SERVER}={server_id}", f"{LABEL_KIND}=terminal"]
    if name:
        labels.append(f"{LABEL_TERMINAL}={name}")
    # sparse: no inspect of each, which fails for one removed in between.
    return list(engine.containers.list(all=True, sparse=True, filters={"label": labels}))


def _server_id(serverapp: Any) -> str:
    """The id the server's sandbox containers are labelled with."""
    return str(serverapp.web_app.settings["jupyter_ide_sandbox"].server_id)


async def _until_gone(engine: docker.DockerClient, server_id: str, name: str) -> None:
    """Wait until the terminal's container is removed."""
    async with asyncio.timeout(30):
        while True:
            if not await asyncio.to_thread(_containers, engine, server_id, name):
                return
            await asyncio.sleep(0.2)


async def _read_until_closed(ws: WebSocketClientConnection) -> list[Any]:
    """Read the socket's messages until the server closes it."""
    seen = []
    async with asyncio.timeout(30):
        while (message := await ws.read_message()) is not None:
            seen.append(json.loads(message))
    return seen


async def test_a_terminal_shell_runs_in_the_hardened_sandbox(
    jp_fetch: Any,
    jp_ws_fetch: Any,
    jp_serverapp: Any,
    engine: docker.DockerClient,
    server_secrets: dict[str, str],
) -> None:
    """Not root, no network, no server secrets; the workspace is there and syncs back; exit
    removes the container, resizes reach it, and the name can be used again."""
    await jp_fetch(
        "api",
        "contents",
        "notes.txt",
        method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": "from the API\n"}),
    )
    server_id = _server_id(jp_serverapp)
    name = (await _start(jp_fetch, {"name": "work"}))["name"]
    [container] = _containers(engine, server_id, name)
    container.reload()
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and host["PidsLimit"] > 0 and host["Memory"] > 0
    assert "no-new-privileges:true" in host["SecurityOpt"]
    ws = await jp_ws_fetch("terminals", "websocket", name)

    out = await _shell_output(ws, "echo who:$(id -u):$(hostname):$(pwd):$((6*7))", ":42")
    uid, hostname, cwd = out.rsplit("who:", 1)[1].split(":")[:3]
    assert int(uid) != 0 and hostname == "sandbox" and cwd == "/workspace"
    out = await _shell_output(ws, "ls /workspace; echo listed$((6*7))", "listed42")
    assert "notes.txt" in out
    out = await _shell_output(ws, "env | sort; echo env$((6*7))", "env42")
    for variable, value in server_secrets.items():
        assert variable not in out and value not in out
    out = await _shell_output(
        ws,
        "getent hosts example.com || echo no-dns$((6*7)); "
        "(exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && echo open$((6*7)) || echo no-db$((6*7))",
        "no-db42",
    )
    assert "no-dns42" in out and "open42" not in out
    out = await _shell_output(ws, "touch /etc/x 2>&1; echo ro$((6*7))", "ro42")
    assert "Read-only file system" in out

    # A file the shell writes reaches the contents API (synced once the prompt is back).
    await _shell_output(ws, "echo from the shell > made.txt; echo made$((6*7))", "made42")
    async with asyncio.timeout(30):
        while True:
            try:
                reply = await jp_fetch("api", "contents", "made.txt", params={"content": "1"})
                break
            except HTTPClientError as e:
                assert e.code == 404
                await asyncio.sleep(0.2)
    assert json.loads(reply.body)["content"] == "from the shell\n"

    # The browser's resize reaches the container's TTY.
    await ws.write_message(json.dumps(["set_size", 33, 101, 600, 900]))
    async with asyncio.timeout(30):
        while True:  # the engine resizes it in a moment
            out = await _shell_output(ws, "echo size:$(stty size):$((6*7))", ":42")
            if "size:33 101:42" in out:
                break

    # exit ends the terminal: the socket closes, the container goes, the name is free again.
    await ws.write_message(json.dumps(["stdin", "exit\r"]))
    assert ["disconnect", 1] in await _read_until_closed(ws)
    await _until_gone(engine, server_id, name)
    assert name not in jp_serverapp.web_app.settings["terminal_manager"].terminals
    assert (await _start(jp_fetch, {"name": name}))["name"] == name
    ws = await jp_ws_fetch("terminals", "websocket", name)
    await _shell_output(ws, "echo again$((6*7))", "again42")
    gone = await jp_fetch("api", "terminals", name, method="DELETE")
    assert gone.code == 204
    assert not _containers(engine, server_id, name)  # removed before DELETE answered
    assert ["disconnect", 1] in await _read_until_closed(ws)


async def test_terminal_limit_and_names_are_clear_4xx(
    jp_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """A name in use is a 409, one terminal beyond the limit a 429 that says what to do; a
    missing image a 503 that says how to build it."""
    server_id = _server_id(jp_serverapp)
    manager = jp_serverapp.web_app.settings["terminal_manager"]
    image = manager.sandbox_image
    manager.sandbox_image = "jupyter-ide/no-such-image:0"
    code, message = await _refused(jp_fetch, {"name": "one"})
    assert code == 503 and "jupyter ide images build" in message
    assert not manager.terminals and not _containers(engine, server_id)
    manager.sandbox_image = image
    try:
        await _start(jp_fetch, {"name": "one"})
        code, message = await _refused(jp_fetch, {"name": "one"})
        assert (code, "already running" in message) == (409, True)
        await _start(jp_fetch, {})
        code, message = await _refused(jp_fetch, {})
        assert code == 429
        assert "the most allowed" in message and "close one" in message
        code, message = await _refused(jp_fetch, {"cwd": "../.."})
        assert (code, "with '..'" in message) == (400, True)
        assert len(_containers(engine, server_id)) == LIMIT
    finally:
        await manager.terminate_all()
    assert not _containers(engine, server_id)


async def test_a_megabyte_of_input_does_not_hang_the_server(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """1 MB typed at once into one terminal: the API answers, another terminal still takes
    input, and the flooded one ends at once on DELETE. A malformed message closes its socket."""
    server_id = _server_id(jp_serverapp)
    manager = jp_serverapp.web_app.settings["terminal_manager"]
    flooded = (await _start(jp_fetch, {"name": "flooded"}))["name"]
    other = (await _start(jp_fetch, {"name": "other"}))["name"]
    try:
        ws = await jp_ws_fetch("terminals", "websocket", flooded)
        chunk = "x" * 65536
        for _ in range(16):
            await ws.write_message(json.dumps(["stdin", chunk]))
        async with asyncio.timeout(30):
            listed = json.loads((await jp_fetch("api", "terminals")).body)
            assert sorted(t["name"] for t in listed) == [flooded, other]
            await jp_fetch("api", "contents")
        calm = await jp_ws_fetch("terminals", "websocket", other)
        await _shell_output(calm, "echo alive$((6*7))", "alive42")
        gone = await jp_fetch("api", "terminals", flooded, method="DELETE")
        assert gone.code == 204 and not _containers(engine, server_id, flooded)
        # A message that is not a terminal message closes that socket; the terminal stays.
        await calm.write_message("not json")
        await _read_until_closed(calm)
        assert calm.close_code == 1008
        assert other in manager.terminals
        calm = await jp_ws_fetch("terminals", "websocket", other)
        await _shell_output(calm, "echo still$((6*7))", "still42")
    finally:
        await manager.terminate_all()


@pytest.fixture
def dead_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DOCKER_HOST names a socket nobody listens on (set before the server starts)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")


async def test_docker_mode_without_an_engine_refuses_terminals_with_503(
    dead_engine: None, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """No shell starts on the host instead: the answer says how to fix it. (In auto mode the
    host shell is the fallback, and its first line says it is not sandboxed and why.)"""
    code, message = await _refused(jp_fetch, {})
    assert code == 503
    assert "no Docker engine answers" in message and "start dockerd" in message
    manager = jp_serverapp.web_app.settings["terminal_manager"]
    assert not manager.terminals and not manager.ptys_by_fd
    jp_serverapp.web_app.settings["jupyter_ide_sandbox"].mode = "auto"
    try:
        name = (await _start(jp_fetch, {}))["name"]
        ws = await jp_ws_fetch("terminals", "websocket", name)
        first = await _first_output(ws)
        assert "NOT sandboxed (no Docker engine answers)" in first
        ws.close()
    finally:
        await manager.terminate_all()


async def _launched_shell(server: Launched, name: str) -> str:
    """Run id and env in a terminal of the launched server; return what they printed."""
    ws = await websocket_connect(server.ws_url(f"terminals/websocket/{name}"))
    try:
        return await _shell_output(ws, "echo uid:$(id -u):; env; echo done$((6*7))", "done42")
    finally:
        ws.close()


def test_the_readme_server_in_docker_mode_sandboxes_terminals_and_removes_them_at_stop(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    """`jupyter ide` with JUPYTER_IDE_SANDBOX=docker: shells in containers, gone at stop."""
    key = secrets.token_hex(32)
    env = {
        "JUPYTER_IDE_SANDBOX": "docker",
        "JUPYTER_IDE_CRYPT_KEY": key,
        "JUPYTER_IDE_DB_URL": f"sqlite:///{tmp_path / 'ide.db'}",
    }
    with launch(env=env) as server:
        names = []
        for _ in range(2):
            started = server.fetch("POST", "api/terminals", {})
            assert started.status == 200, (started.status, started.text, server.log()[-3000:])
            names.append(started.body["name"])
        server_id = server.server_id()
        assert server_id
        assert len(_containers(engine, server_id)) == 2
        out = asyncio.run(_launched_shell(server, names[0]))
        assert key not in out and "JUPYTER_IDE_DB_URL" not in out
        assert "uid:0:" not in out and "uid:" in out
        _stop(server)
        assert not server.killed, server.final_log[-3000:] or server.log()[-3000:]
        assert not _containers(engine, server_id), server.log()[-3000:]
