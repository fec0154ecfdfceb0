"""The debugger under a real JupyterHub: from a user's own server, through the service.

Python: DAP over the kernel websocket of Ada's server, whose kernels are the service's
(the control channel passes through both hops); another user cannot reach that kernel at the
service, so cannot debug it. C: Ada's server passes the debug socket on to the service, which
starts the debug sandbox for the caller its token names; a session is the socket's own.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from .dap_kernel import KernelDAP
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
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CELL = "x = [1, 2]\ny = len(x)\nprint('y', y)\n"
C_PROGRAM = (
    '#include <stdio.h>\nint main(void) {\n    int n = 41;\n    n++;\n    printf("%d\\n", n);\n}\n'
)


@dataclass
class Pair:
    """The hub and two users' tokens."""

    hub: ServiceHub
    a: str
    b: str
    tokens: dict[str, str]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Pair]:
    """A hub running the service, with two users; Ada's own server started by the hub."""
    require_images("python", "c")
    tag = uuid.uuid4().hex[:6]
    a, b = f"ada-{tag}", f"bob-{tag}"
    base = tmp_path_factory.mktemp("debugger-hub")
    config = user_servers_config(base, pool=0)
    with service_hub(base, moto_server, "managed", extra_config=config) as (hub, _env):
        tokens = {}
        for name in (a, b):
            hub.add_user(name)
            tokens[name] = hub.token(name, [f"access:servers!user={name}", ACCESS])
        start_user_server(hub, a)
        yield Pair(hub, a, b, tokens)
        user_server_request(hub, a, "DELETE")


def _ws(pair: Pair, who: str, path: str, at_service: bool = False) -> HTTPRequest:
    """A websocket request as ``who`` to Ada's server (or straight to the service)."""
    base = pair.hub.service_url if at_service else f"{pair.hub.url}/user/{pair.a}"
    url = "ws" + f"{base}{path}".removeprefix("http")
    return HTTPRequest(url, headers={"Authorization": f"token {pair.tokens[who]}"})


def test_python_debugging_through_the_service_is_the_owners_only(pair: Pair) -> None:
    """Ada stops at a breakpoint in her kernel at the service; Bob cannot reach that kernel."""
    token = pair.tokens[pair.a]
    started = user_server_call(
        pair.hub, pair.a, token, "/api/kernels", "POST", {"name": "ide-python"}
    )
    assert started.status_code == 201, (started.text, tail(pair.hub.log))
    kernel_id = started.json()["id"]
    channels = f"/api/kernels/{kernel_id}/channels"

    async def scenario() -> None:
        dap = await KernelDAP.connect(_ws(pair, pair.a, channels))
        try:
            await dap.start()
            await dap.breakpoints(CELL, [2])
            await dap.request("configurationDone")
            run = await dap.execute(CELL)
            stopped = await dap.event("stopped")
            thread = stopped["body"]["threadId"]
            trace = await dap.request("stackTrace", {"threadId": thread})
            frame = trace["body"]["stackFrames"][0]
            assert frame["line"] == 2, frame
            value = await dap.request(
                "evaluate", {"expression": "x", "frameId": frame["id"], "context": "watch"}
            )
            assert value["body"]["result"] == "[1, 2]", value
            # Bob cannot open Ada's kernel's channels at the service (nor reach her server),
            # so cannot send it a debug request.
            with pytest.raises(HTTPClientError) as refused:
                await websocket_connect(_ws(pair, pair.b, channels, at_service=True))
            assert refused.value.code == 404
            with pytest.raises(HTTPClientError):
                await websocket_connect(_ws(pair, pair.b, channels))
            await dap.request("continue", {"threadId": thread})
            assert (await dap.reply_to(run))["status"] == "ok"
        finally:
            dap.close()

    try:
        asyncio.run(scenario())
    finally:
        user_server_call(pair.hub, pair.a, token, f"/api/kernels/{kernel_id}", "DELETE")


def test_c_debugging_through_the_service(pair: Pair) -> None:
    """Ada's server passes the debug socket on; the service runs her C program under lldb."""

    async def scenario() -> None:
        ws = await websocket_connect(_ws(pair, pair.a, "/ide/api/debug/ws/c"))
        seq = 0

        async def read_until(match: object) -> dict:
            while True:
                raw = await asyncio.wait_for(ws.read_message(), 90)
                assert raw is not None, "the debug socket closed"
                message = json.loads(raw)
                if match(message):  # type: ignore[operator]
                    return dict(message)

        async def request(command: str, arguments: dict) -> dict:
            nonlocal seq
            seq += 1
            mine = seq
            body = {"seq": mine, "type": "request", "command": command, "arguments": arguments}
            await ws.write_message(json.dumps(body))
            return await read_until(lambda m: m.get("request_seq") == mine)

        try:
            await ws.write_message(
                json.dumps({"type": "start", "name": "count.c", "source": C_PROGRAM})
            )
            started = await read_until(lambda m: m.get("type") in ("started", "error"))
            assert started["type"] == "started", started
            await request("initialize", {"adapterID": "lldb"})
            await request("launch", {})
            await request(
                "setBreakpoints",
                {"source": {"path": started["sourcePath"]}, "breakpoints": [{"line": 4}]},
            )
            await request("configurationDone", {})
            stopped = await read_until(lambda m: m.get("event") == "stopped")
            thread = stopped["body"]["threadId"]
            trace = await request("stackTrace", {"threadId": thread})
            frame = trace["body"]["stackFrames"][0]
            assert frame["line"] == 4, frame
            n = await request("evaluate", {"expression": "n", "frameId": frame["id"]})
            assert n["body"]["result"] == "41", n
            await request("continue", {"threadId": thread})
            out = await read_until(lambda m: "42" in str(m.get("body", {}).get("output", "")))
            assert out["event"] == "output"
        finally:
            ws.close()

    asyncio.run(scenario())
