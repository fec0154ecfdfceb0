"""The debugger under a real JupyterHub: through the jupyter-ide service, as each user.

Python: DAP over the service's kernel websocket (the control channel passes through), and
another user cannot reach that kernel, so cannot debug it. C: the service starts the debug
sandbox for the caller its token names; a session is the socket's own.
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
from .hubfixture import ACCESS, ServiceHub, service_hub, tail
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
    """A hub running the service, with two users."""
    require_images("python", "c")
    tag = uuid.uuid4().hex[:6]
    a, b = f"ada-{tag}", f"bob-{tag}"
    base = tmp_path_factory.mktemp("debugger-hub")
    with service_hub(base, moto_server, "managed") as (hub, _env):
        hub.add_user(a)
        hub.add_user(b)
        yield Pair(hub, a, b, {a: hub.token(a, [ACCESS]), b: hub.token(b, [ACCESS])})


def _ws(pair: Pair, who: str, path: str) -> HTTPRequest:
    url = "ws" + f"{pair.hub.service_url}{path}".removeprefix("http")
    return HTTPRequest(url, headers={"Authorization": f"token {pair.tokens[who]}"})


def test_python_debugging_through_the_service_is_the_owners_only(pair: Pair) -> None:
    """Ada stops at a breakpoint in her kernel at the service; Bob cannot reach that kernel."""
    started = pair.hub.call("/api/kernels", pair.tokens[pair.a], "POST", {"name": "ide-python"})
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
            # Bob cannot open Ada's kernel's channels, so cannot send it a debug request.
            with pytest.raises(HTTPClientError) as refused:
                await websocket_connect(_ws(pair, pair.b, channels))
            assert refused.value.code == 404
            await dap.request("continue", {"threadId": thread})
            assert (await dap.reply_to(run))["status"] == "ok"
        finally:
            dap.close()

    try:
        asyncio.run(scenario())
    finally:
        pair.hub.call(f"/api/kernels/{kernel_id}", pair.tokens[pair.a], "DELETE")


def test_c_debugging_through_the_service(pair: Pair) -> None:
    """The service compiles and runs Ada's C program under lldb in her sandbox."""

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
