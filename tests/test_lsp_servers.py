"""Language servers in sandboxes through jupyter-lsp's protocol (/lsp/status, /lsp/ws/<server>).

Real dockerd and the language images; the server through pytest-jupyter. Each server runs in
a sandbox container of the user's (kind=lsp) with the kernels' hardened profile and the
workspace at /workspace; the browser's file URIs are mapped to it and back.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container
from jupyter_lsp.schema import SERVERS_RESPONSE
from jupyter_lsp.session import LanguageServerSession
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_SERVER
from jupyter_ide.lsp.handlers import lsp_manager
from jupyter_ide.lsp.manager import LABEL_SERVER_KEY

from .kernel_host import require_images
from .launch import launch
from .lsp_client import LspClient

IDLE = 5.0  # seconds of silence before a server is removed (idle test)


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """The engine and the servers' images must be there (never skip)."""
    require_images("python", "cpp", "javascript", "go", "bash")


@pytest.fixture
def engine() -> Iterator[docker.DockerClient]:
    """A client of the real engine, to look at (and kill) the servers' containers."""
    client = docker.from_env(timeout=30)
    yield client
    client.close()


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Sandboxes required."""
    config = dict(jp_server_config)
    config["IDESettings"] = {**config["IDESettings"], "sandbox": "docker"}
    return config


def _containers(engine: docker.DockerClient, serverapp: Any, key: str = "") -> list[Container]:
    """The running language-server containers of one server (of one kind of server)."""
    server_id = serverapp.web_app.settings["jupyter_ide_sandbox"].server_id
    labels = [f"{LABEL_SERVER}={server_id}", f"{LABEL_KIND}=lsp"]
    if key:
        labels.append(f"{LABEL_SERVER_KEY}={key}")
    return list(engine.containers.list(sparse=True, filters={"label": labels}))


async def _status(jp_fetch: Any) -> dict[str, Any]:
    response = await jp_fetch("lsp", "status")
    return dict(json.loads(response.body))


async def _put(jp_fetch: Any, path: str, text: str) -> None:
    body = {"type": "file", "format": "text", "content": text}
    await jp_fetch("api", "contents", path, method="PUT", body=json.dumps(body))


async def _client(jp_fetch: Any, jp_ws_fetch: Any, key: str) -> tuple[LspClient, str]:
    root = (await _status(jp_fetch))["root_uri"]
    client = LspClient(await jp_ws_fetch("lsp", "ws", key))
    await client.initialize(root)
    return client, root


PY = "import os\nos.pa\nprint(undefined_name)\nx=1\n"


async def test_pylsp_diagnostics_and_completion_in_a_sandbox(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """pyflakes and pycodestyle diagnostics land on the browser's URI; os.pa completes to path;
    the server runs in a kind=lsp container with no network and the workspace mounted."""
    await _put(jp_fetch, "a.py", PY)
    client, root = await _client(jp_fetch, jp_ws_fetch, "pylsp")
    uri = root + "/a.py"
    client.open(uri, "python", PY)
    diagnostics = await client.diagnostics(uri)
    messages = " | ".join(d["message"] for d in diagnostics)
    assert "undefined name 'undefined_name'" in messages  # pyflakes
    sources = {d.get("source") for d in diagnostics}
    assert {"pyflakes", "pycodestyle"} <= sources, sources
    reply = await client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}},
    )
    assert "result" in reply, reply
    result = reply["result"]
    items = result["items"] if isinstance(result, dict) else result
    assert "path" in {item["label"] for item in items}
    # Definitions come back in the browser's URIs too (os is outside the workspace: not mapped).
    boxes = _containers(engine, jp_serverapp, "pylsp")
    assert len(boxes) == 1
    attrs = engine.api.inspect_container(boxes[0].id)
    assert attrs["HostConfig"]["NetworkMode"] == "none"
    assert attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert attrs["Config"]["User"] != "root" and attrs["HostConfig"]["CapDrop"] == ["ALL"]
    assert attrs["HostConfig"]["Memory"] > 0 and attrs["HostConfig"]["NanoCpus"] > 0
    assert any(m["Destination"] == "/workspace" for m in attrs["Mounts"])
    # jedi's parse cache came from the image (copied, times kept), not parsed again here.
    baked, seeded = (
        dict(
            line.split(" ", 1)
            for line in boxes[0]
            .exec_run(["find", where, "-type", "f", "-printf", "%P %T@\n"])
            .output.decode()
            .splitlines()
        )
        for where in ("/opt/ide/jedi-cache", "/home/sandbox/.cache/jedi")
    )
    assert baked and {name: seeded.get(name) for name in baked} == baked
    status = await _status(jp_fetch)
    assert status["sessions"]["pylsp"]["status"] == "started"
    assert status["sessions"]["pylsp"]["handler_count"] == 1
    client.ws.close()


async def test_status_has_jupyter_lsp_shape(jp_fetch: Any) -> None:
    """/lsp/status validates against jupyter-lsp's own schema, with its session keys."""
    status = await _status(jp_fetch)
    assert list(SERVERS_RESPONSE.iter_errors(status)) == []
    assert {"version", "sessions", "specs"} <= set(status) and status["version"] == 2
    # Every server is a session, as with jupyter-lsp (JupyterLab connects only to those).
    assert set(status["sessions"]) == set(status["specs"])
    assert status["sessions"]["gopls"]["status"] in {"not_started", "started", "stopped"}
    assert {
        "pylsp",
        "clangd",
        "typescript-language-server",
        "gopls",
        "bash-language-server",
    } <= set(status["specs"])
    for spec in status["specs"].values():
        assert spec["argv"] == [""] and spec["env"] == {}  # censored as jupyter-lsp does
    theirs = LanguageServerSession(
        language_server="pylsp", spec={"argv": ["x"], "languages": ["python"], "version": 2}
    )
    assert status["root_uri"].startswith("file:///")
    assert set(theirs.to_json()) == {
        "handler_count",
        "status",
        "last_server_message_at",
        "last_handler_message_at",
        "spec",
    }


SOURCES = {
    "clangd": ("main.c", "c", "int main(void) {\n  return undeclared_thing;\n}\n", "undeclared"),
    "typescript-language-server": (
        "app.js",
        "javascript",
        "// @ts-check\nconst n = 1;\nn = 2;\nundefinedFunction();\n",
        "",
    ),
    "gopls": ("main.go", "go", "package main\n\nfunc main() {\n\tx := 1\n}\n", "x"),
    "bash-language-server": ("run.sh", "shellscript", "#!/bin/bash\nrm $1\n", "quote"),
}


@pytest.mark.parametrize("key", sorted(SOURCES))
async def test_other_servers_give_diagnostics(jp_fetch: Any, jp_ws_fetch: Any, key: str) -> None:
    """clangd (undeclared variable), typescript-language-server, gopls and bash-language-server
    each publish a diagnostic on the browser's URI of a broken file."""
    name, language, text, expected = SOURCES[key]
    await _put(jp_fetch, name, text)
    client, root = await _client(jp_fetch, jp_ws_fetch, key)
    uri = f"{root}/{name}"
    client.open(uri, language, text)
    diagnostics = await client.diagnostics(uri, timeout=90)
    assert diagnostics, key
    if expected:
        assert any(expected in d["message"] for d in diagnostics), diagnostics
    client.ws.close()


async def test_a_killed_server_is_replaced_within_5_s(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """Kill the container mid-session: the socket stays open, the next request is answered by
    a new server within 5 s, and that server has the open document (completion works)."""
    await _put(jp_fetch, "b.py", PY)
    client, root = await _client(jp_fetch, jp_ws_fetch, "pylsp")
    uri = root + "/b.py"
    client.open(uri, "python", PY)
    await client.diagnostics(uri)
    (first,) = _containers(engine, jp_serverapp, "pylsp")
    await asyncio.to_thread(engine.api.kill, first.id)
    started = time.monotonic()
    symbols = {"textDocument": {"uri": uri}}
    reply = await client.request("textDocument/documentSymbol", symbols, timeout=5)
    if "error" in reply:  # the request raced the kill: the next one goes to the new server
        reply = await client.request("textDocument/documentSymbol", symbols, timeout=5)
    took = time.monotonic() - started
    assert "result" in reply, reply
    assert "x" in {symbol["name"] for symbol in reply["result"]}  # the replayed document
    assert took < 5, took
    (second,) = _containers(engine, jp_serverapp, "pylsp")
    assert second.id != first.id
    reply = await client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}},
    )
    items = reply["result"]["items"] if isinstance(reply["result"], dict) else reply["result"]
    assert "path" in {item["label"] for item in items}
    client.ws.close()


EVIL = """
import os, socket, sys
lines = ["hostname=" + socket.gethostname()]
for host in sys.argv[1:] or HOSTS:
    try:
        socket.create_connection((host, PORT), timeout=2).close()
        lines.append("connected " + host)
    except OSError as e:
        lines.append("no network: %s" % e)
try:
    open(OUTSIDE).read()
    lines.append("read outside")
except OSError as e:
    lines.append("outside unreadable: %s" % e)
try:
    open(MARKER, "w").write("ran")
except OSError:
    pass
open(os.path.join(os.getcwd(), "imported.txt"), "w").write("\\n".join(lines))
# then the real module, so the server goes on
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
del sys.modules[__name__]
import importlib
sys.modules[__name__] = importlib.import_module(__name__)
"""


def _host_addresses() -> list[str]:
    """This machine's addresses a container could try (loopback and the bridge's)."""
    found = {"127.0.0.1"}
    for *_, address in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
        found.add(str(address[0]))
    found.add("172.17.0.1")
    return sorted(found)


async def test_workspace_code_imported_by_pylsp_runs_only_in_the_sandbox(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, tmp_path: Path
) -> None:
    """pylsp never imports a workspace module (ujson.py, shadowing the real one: pylsp runs
    with python -I); a client's config naming a workspace program as jedi's interpreter runs
    it in the container only: no network to the host, no file outside the workspace, no
    marker on the host."""
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    marker = tmp_path / "host-marker"
    outside = tmp_path / "secret.txt"
    outside.write_text("host secret")
    code = (
        f"HOSTS = {_host_addresses()!r}\nPORT = {port}\nMARKER = {str(marker)!r}\n"
        f"OUTSIDE = {str(outside)!r}\n" + EVIL
    )
    await _put(jp_fetch, "ujson.py", code)
    client, root = await _client(jp_fetch, jp_ws_fetch, "pylsp")
    uri = root + "/c.py"
    client.open(uri, "python", PY)
    await client.diagnostics(uri)  # the server works
    workspace = Path(jp_serverapp.contents_manager.workspace_dir)
    assert not (workspace / "imported.txt").exists()  # the workspace's ujson.py never ran
    # A program of the workspace as jedi's "python" (a client's setting): it runs, inside.
    fake = workspace / "venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/usr/bin/python3\n" + code.split("# then the real module")[0])
    fake.chmod(0o755)
    settings = {"pylsp": {"plugins": {"jedi": {"environment": "/workspace/venv/bin/python"}}}}
    client.notify("workspace/didChangeConfiguration", {"settings": settings})
    await client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}},
    )
    proof = (workspace / "imported.txt").read_text()
    assert "hostname=sandbox" in proof
    assert "connected" not in proof and "no network" in proof
    assert "outside unreadable" in proof
    assert not marker.exists()
    try:
        accepted = listener.accept()
    except BlockingIOError:
        accepted = None
    assert accepted is None
    listener.close()
    client.ws.close()


async def test_idle_servers_are_removed_and_come_back(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """After IDLE silent seconds the container is removed; the next message starts a new one
    that knows the open document."""
    lsp_manager(jp_serverapp.web_app.settings).idle_timeout = IDLE
    await _put(jp_fetch, "d.py", PY)
    client, root = await _client(jp_fetch, jp_ws_fetch, "pylsp")
    uri = root + "/d.py"
    client.open(uri, "python", PY)
    await client.diagnostics(uri)
    assert len(_containers(engine, jp_serverapp, "pylsp")) == 1
    async with asyncio.timeout(IDLE + 20):
        while _containers(engine, jp_serverapp, "pylsp"):  # noqa: ASYNC110 (the engine's state)
            await asyncio.sleep(0.3)
        while (await _status(jp_fetch))["sessions"]["pylsp"]["status"] != "stopped":  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    reply = await client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}},
    )
    items = reply["result"]["items"] if isinstance(reply["result"], dict) else reply["result"]
    assert "path" in {item["label"] for item in items}
    client.ws.close()


async def test_hostile_requests_are_refused(jp_fetch: Any, jp_ws_fetch: Any) -> None:
    """An unknown server is a 404 before the upgrade; a frame that is not JSON-RPC closes
    the socket with 1007 and a reason; a bad name never matches the route."""
    with pytest.raises(HTTPClientError) as caught:
        await jp_ws_fetch("lsp", "ws", "no-such-server")
    assert caught.value.code == 404
    ws = await jp_ws_fetch("lsp", "ws", "pylsp")
    ws.write_message("not json")
    assert await ws.read_message() is None
    assert ws.close_code == 1007 and "JSON" in (ws.close_reason or "")
    ws = await jp_ws_fetch("lsp", "ws", "pylsp")
    ws.write_message(json.dumps({"method": "initialize"}))
    assert await ws.read_message() is None
    assert ws.close_code == 1007 and "JSON-RPC" in (ws.close_reason or "")


async def test_under_jupyter_server_only_sandboxed_servers_answer(
    engine: docker.DockerClient,
) -> None:
    """`jupyter server` with jupyterlab (and so jupyter-lsp) installed: /lsp/status lists our
    sandboxed servers only, and a /lsp/ws connection starts a kind=lsp container."""
    with launch(app="server", env={"JUPYTER_IDE_SANDBOX": "docker"}) as server:
        reply = await asyncio.to_thread(server.fetch, "GET", "/lsp/status")
        assert reply.status == 200, reply.text
        specs = reply.body["specs"]
        assert specs and all(spec["in_sandbox"] is True for spec in specs.values()), specs
        assert set(specs) == {
            "pylsp",
            "clangd",
            "typescript-language-server",
            "gopls",
            "bash-language-server",
        }
        root = reply.body["root_uri"]
        ws = await websocket_connect(server.ws_url("/lsp/ws/pylsp"))
        client = LspClient(ws)
        await client.initialize(root)
        labels = [f"{LABEL_SERVER}={server.server_id()}", f"{LABEL_KIND}=lsp"]
        boxes = engine.containers.list(sparse=True, filters={"label": labels})
        assert len(boxes) == 1
        ws.close()
        assert "jupyter_lsp: jupyter-ide serves /lsp" in server.log()  # kept from loading
