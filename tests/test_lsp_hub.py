"""Language servers of the jupyter-ide service under a real JupyterHub: each user's own.

The service starts every hub user's language servers in sandboxes over that user's
workspace. A connection is bound to the token's user: another user reaches only their own
server (another container, another workspace), never the first one's documents. A user's own
server (jupyterhub-singleuser, spawned by the hub) passes /lsp on to the service.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_OWNER, LABEL_SERVER

from .hubfixture import (
    ACCESS,
    ServiceHub,
    service_hub,
    start_user_server,
    tail,
    user_server_call,
    user_server_request,
    user_servers_config,
)
from .kernel_host import require_images
from .lsp_client import LspClient
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Class:
    """The hub running the service, two students and a token for each."""

    hub: ServiceHub
    a: str
    b: str
    tokens: dict[str, str]
    base: Path

    def server_id(self) -> str:
        """The service's server id (the label on every container it starts)."""
        return next(self.base.rglob("server_id")).read_text().strip()


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Class]:
    """One hub running the service, with two students; afterwards no container is left."""
    require_images("python")
    tag = uuid.uuid4().hex[:6]
    a, b = f"ada-{tag}", f"bob-{tag}"
    base = tmp_path_factory.mktemp("service-lsp")
    config = user_servers_config(base, pool=0)
    with service_hub(base, moto_server, "managed", extra_config=config) as (hub, _env):
        hub.add_user(a)
        hub.add_user(b)
        tokens = {
            a: hub.token(a, [f"access:servers!user={a}", ACCESS]),
            b: hub.token(b, [ACCESS]),
        }
        start_user_server(hub, a)  # Ada's own server: its /lsp is the service's
        yield Class(hub, a, b, tokens, base)
        user_server_request(hub, a, "DELETE")
    server_id = next(base.rglob("server_id")).read_text().strip()
    engine = docker.from_env(timeout=30)
    try:
        left = engine.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={server_id}"})
    finally:
        engine.close()
    assert not left, (left, tail(hub.log))


def _status(people: Class, who: str) -> dict[str, Any]:
    reply = people.hub.call("/lsp/status", people.tokens[who])
    assert reply.status_code == 200, (reply.status_code, reply.text, tail(people.hub.log))
    return dict(reply.json())


async def _connect(people: Class, who: str, key: str) -> WebSocketClientConnection:
    """Open /lsp/ws/<key> at the service through the hub's proxy with ``who``'s token."""
    url = "ws" + people.hub.service_url.removeprefix("http") + f"/lsp/ws/{key}"
    headers = {"Authorization": f"token {people.tokens[who]}"}
    return await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=60))


def _owners(people: Class) -> list[str]:
    engine = docker.from_env(timeout=30)
    try:
        labels = [f"{LABEL_SERVER}={people.server_id()}", f"{LABEL_KIND}=lsp"]
        found = engine.containers.list(filters={"label": labels})
        return sorted(c.labels[LABEL_OWNER] for c in found)
    finally:
        engine.close()


PY = "import os\nos.pa\nsecret_of_ada = 1\n"


def test_each_user_reaches_only_their_own_server(people: Class) -> None:
    """Ada's and Bob's pylsp are two containers over two workspaces; Bob's connection never
    sees Ada's document or her session, even when he names her file's URI."""
    a, b = people.a, people.b
    root_a = _status(people, a)["root_uri"]
    root_b = _status(people, b)["root_uri"]
    assert root_a != root_b

    async def run() -> None:
        ada = LspClient(await _connect(people, a, "pylsp"))
        await ada.initialize(root_a)
        uri = root_a + "/mine.py"
        ada.open(uri, "python", PY)
        reply = await ada.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 3}},
        )
        assert "result" in reply, reply
        bob = LspClient(await _connect(people, b, "pylsp"))
        await bob.initialize(root_b)
        # Bob asks about Ada's file by its URI: his server has no such document.
        stolen = await bob.request(
            "textDocument/completion",
            {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}},
        )
        text = str(stolen)
        assert "secret_of_ada" not in text
        assert not any("secret_of_ada" in str(m) for m in bob.seen)
        assert _owners(people) == sorted([a, b])
        status_b = _status(people, b)
        # Bob's status shows his own pylsp only (Ada's would count two clients); the other
        # servers are listed as jupyter-lsp lists them, not started.
        started = [k for k, v in status_b["sessions"].items() if v["status"] != "not_started"]
        assert started == ["pylsp"]
        assert status_b["sessions"]["pylsp"]["handler_count"] == 1
        ada.ws.close()
        bob.ws.close()

    asyncio.run(run())


def test_a_users_own_server_passes_lsp_on_to_the_service(people: Class) -> None:
    """Ada's jupyterhub-singleuser answers /lsp/status and /lsp/ws with the service's: her
    own sandboxed server (owner label hers), diagnostics on her URIs; Bob's token is refused."""
    a, b = people.a, people.b
    reply = user_server_call(people.hub, a, people.tokens[a], "/lsp/status")
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    status = reply.json()
    assert status["root_uri"] == _status(people, a)["root_uri"]
    assert "pylsp" in status["specs"] and status["specs"]["pylsp"]["in_sandbox"] is True
    refused = user_server_call(people.hub, a, people.tokens[b], "/lsp/status")
    assert refused.status_code in (302, 403, 404), refused.status_code

    async def run() -> None:
        url = "ws" + people.hub.url.removeprefix("http") + f"/user/{a}/lsp/ws/pylsp"
        headers = {"Authorization": f"token {people.tokens[a]}"}
        ws = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=60))
        client = LspClient(ws)
        root = status["root_uri"]
        await client.initialize(root)
        uri = root + "/through-server.py"
        client.open(uri, "python", "print(not_defined)\n")
        found = await client.diagnostics(uri)
        assert any("not_defined" in d["message"] for d in found), found
        assert a in _owners(people)
        ws.close()

    asyncio.run(run())


def test_a_warm_up_starts_the_callers_own_server_only(people: Class) -> None:
    """POST /lsp/warm through Ada's own server starts (or finds) her pylsp, never Bob's; Bob's
    call at the service starts his; each has one container, labelled with their name."""
    a, b = people.a, people.b
    bobs_before = _owners(people).count(b)
    reply = user_server_call(
        people.hub, a, people.tokens[a], "/lsp/warm", "POST", {"languages": ["python"]}
    )
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    assert reply.json()["servers"]["pylsp"] in ("started", "running")
    assert _owners(people).count(a) == 1
    assert _owners(people).count(b) == bobs_before
    reply = people.hub.call("/lsp/warm", people.tokens[b], "POST", {"languages": ["python"]})
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    assert _owners(people).count(a) == 1 and _owners(people).count(b) == 1
    refused = user_server_call(
        people.hub, a, people.tokens[b], "/lsp/warm", "POST", {"languages": ["python"]}
    )
    assert refused.status_code in (302, 403, 404), refused.status_code


def test_without_a_token_nothing_opens(people: Class) -> None:
    """No token: /lsp/status and /lsp/ws are refused before anything starts."""
    reply = people.hub.call("/lsp/status", None)
    assert reply.status_code in (302, 401, 403), reply.status_code
