"""The debugger: DAP over a sandboxed Python kernel's control channel, through our server.

The browser's Debugger panel speaks exactly this (labextension/src/lib/debugSession.ts):
initialize + attach, dumpCell + setBreakpoints, then an ordinary execute request that stops
at the breakpoint; stackTrace, scopes, variables (expanded), evaluate, next, continue.
The time limit counts the kernel's CPU time, so a run paused at a breakpoint is not cut.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import docker
import pytest

from jupyter_ide.kernels.profile import LABEL_KIND

from .dap_kernel import KernelDAP
from .kernel_host import require_images

LIMIT = 3.0
GRACE = 2.0
CELL = """\
numbers = [1, 2, 3]
info = {"name": "ada", "size": len(numbers)}
total = sum(numbers)
print("total", total)
"""


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Serve the ide-* kernels with a short time limit."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["SandboxManager"] = {
        "pool_size": 0,
        "default_limits": {"time_limit": LIMIT},
        "time_limit_grace": GRACE,
    }
    return config


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """The engine and the Python image must be there (never skip)."""
    require_images("python")


async def _kernel(jp_fetch: Any, jp_ws_fetch: Any) -> KernelDAP:
    """Start an ide-python kernel through the REST API; return a DAP client on its websocket."""
    response = await jp_fetch(
        "api", "kernels", method="POST", body=json.dumps({"name": "ide-python"})
    )
    kernel_id = json.loads(response.body)["id"]
    dap = KernelDAP(await jp_ws_fetch("api", "kernels", kernel_id, "channels"))
    dap.kernel_id = kernel_id  # type: ignore[attr-defined]
    return dap


async def _stopped_frame(dap: KernelDAP, after: int) -> tuple[int, dict[str, Any]]:
    """Wait for a stop; return its thread and the top frame of the stack."""
    stopped = await dap.event("stopped", after=after)
    thread = stopped["body"]["threadId"]
    trace = await dap.request("stackTrace", {"threadId": thread})
    assert trace["success"], trace
    return thread, trace["body"]["stackFrames"][0]


async def test_breakpoint_variables_step_and_continue(jp_fetch: Any, jp_ws_fetch: Any) -> None:
    """kernel_info announces the debugger; a breakpoint in a cell stops the run; variables
    expand; a watch evaluates; next steps a line; continue runs to the end."""
    dap = await _kernel(jp_fetch, jp_ws_fetch)
    try:
        info = await dap.reply_to(await dap.send("shell", "kernel_info_request", {}))
        # ipykernel 7 says it in supported_features (protocol 5.5); older ones as "debugger".
        features = info.get("supported_features", [])
        assert "debugger" in features or info.get("debugger") is True, info
        await dap.start()
        path = await dap.breakpoints(CELL, [3])
        assert (await dap.request("configurationDone"))["success"]
        before = len(dap.events)
        run = await dap.execute(CELL)
        thread, frame = await _stopped_frame(dap, before)
        assert frame["line"] == 3 and frame["source"]["path"] == path, frame

        scopes = await dap.request("scopes", {"frameId": frame["id"]})
        local = next(s for s in scopes["body"]["scopes"] if s["name"] == "Locals")
        variables = await dap.request(
            "variables", {"variablesReference": local["variablesReference"]}
        )
        by_name = {v["name"]: v for v in variables["body"]["variables"]}
        assert by_name["numbers"]["value"] == "[1, 2, 3]", by_name
        assert "total" not in by_name  # line 3 has not run yet
        info = by_name["info"]
        assert info["variablesReference"] > 0, info
        children = await dap.request(
            "variables", {"variablesReference": info["variablesReference"]}
        )
        inside = {v["name"]: v["value"] for v in children["body"]["variables"]}
        assert inside.get("'name'") == "'ada'" and inside.get("'size'") == "3", inside

        watched = await dap.request(
            "evaluate",
            {"expression": "len(numbers) * 10", "frameId": frame["id"], "context": "watch"},
        )
        assert watched["body"]["result"] == "30", watched

        before = len(dap.events)
        assert (await dap.request("next", {"threadId": thread}))["success"]
        _, frame = await _stopped_frame(dap, before)
        assert frame["line"] == 4, frame
        total = await dap.request(
            "evaluate", {"expression": "total", "frameId": frame["id"], "context": "repl"}
        )
        assert total["body"]["result"] == "6", total

        assert (await dap.request("continue", {"threadId": thread}))["success"]
        reply = await dap.reply_to(run)
        assert reply["status"] == "ok", reply
        assert "total 6" in "".join(dap.output.get(run, [])), dap.output
    finally:
        dap.close()


async def test_paused_at_a_breakpoint_longer_than_the_limit_is_not_cut(
    jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    """The time limit counts CPU time: a run paused longer than limit + grace is not stopped."""
    dap = await _kernel(jp_fetch, jp_ws_fetch)
    try:
        await dap.start()
        code = "import time\nspent = time.process_time()\nprint('after the pause')\n"
        await dap.breakpoints(code, [3])
        await dap.request("configurationDone")
        before = len(dap.events)
        run = await dap.execute(code)
        thread, frame = await _stopped_frame(dap, before)
        assert frame["line"] == 3, frame
        # The paused time itself is what is tested: wall time passes, CPU time does not.
        await asyncio.sleep(LIMIT + GRACE + 2)
        assert (await dap.request("continue", {"threadId": thread}))["success"]
        reply = await dap.reply_to(run)
        assert reply["status"] == "ok", (reply, dap.output.get(run))
        assert "after the pause" in "".join(dap.output.get(run, []))
        # The kernel is the same one, alive, and still answers.
        again = await dap.execute("print(spent < 1)")
        assert (await dap.reply_to(again))["status"] == "ok"
        assert "True" in "".join(dap.output.get(again, []))
    finally:
        dap.close()


async def test_a_busy_loop_under_the_debugger_is_still_stopped(
    jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    """With the debugger attached, a loop that burns CPU is stopped at the time limit."""
    dap = await _kernel(jp_fetch, jp_ws_fetch)
    try:
        await dap.start()
        await dap.request("configurationDone")
        run = await dap.execute("while True:\n    pass\n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            reply = await dap.reply_to(run, timeout=LIMIT + GRACE + 30)
            assert reply["status"] == "error", reply
        except ConnectionError:
            pass  # killed after ignoring the interrupt: the kernel's websocket closed
        assert loop.time() - started >= LIMIT * 0.9
    finally:
        dap.close()


C_PROGRAM = """\
#include <stdio.h>
struct point { int x; int y; };
int main(void) {
    struct point p = {3, 4};
    int sum = p.x + p.y;
    printf("sum is %d\\n", sum);
    LOOP
    return 0;
}
"""


class CDap:
    """DAP over /ide/api/debug/ws/<language>: one JSON message per text frame."""

    def __init__(self, ws: Any) -> None:
        """Wrap the open socket."""
        self.ws = ws
        self.seq = 0
        self.messages: list[dict[str, Any]] = []

    async def read(self, timeout: float = 60) -> dict[str, Any] | None:
        """Read the next message (None once the socket closed)."""
        raw = await asyncio.wait_for(self.ws.read_message(), timeout)
        if raw is None:
            return None
        message = json.loads(raw)
        self.messages.append(message)
        return dict(message)

    async def until(self, match: Any, timeout: float = 60) -> dict[str, Any]:
        """Read until a message matches ``match`` (a predicate)."""
        for message in self.messages:
            if match(message):
                self.messages.remove(message)
                return message
        while True:
            message = await self.read(timeout)
            assert message is not None, f"socket closed; seen: {self.messages[-5:]}"
            if match(message):
                self.messages.remove(message)
                return message

    async def request(self, command: str, arguments: dict[str, Any] | None = None) -> dict:
        """Send a request; return its response."""
        self.seq += 1
        seq = self.seq
        body = {"seq": seq, "type": "request", "command": command, "arguments": arguments or {}}
        await self.ws.write_message(json.dumps(body))
        return await self.until(lambda m: m.get("type") == "response" and m["request_seq"] == seq)

    async def event(self, name: str, timeout: float = 60) -> dict[str, Any]:
        """Wait for an event."""
        return await self.until(lambda m: m.get("event") == name, timeout)


async def _c_session(jp_ws_fetch: Any, source: str, name: str = "main.c") -> CDap:
    dap = CDap(await jp_ws_fetch("ide", "api", "debug", "ws", "c"))
    await dap.ws.write_message(json.dumps({"type": "start", "name": name, "source": source}))
    started = await dap.until(lambda m: m.get("type") in ("started", "error"))
    assert started["type"] == "started", started
    return dap


async def test_c_breakpoint_variables_step_continue_under_lldb(jp_ws_fetch: Any) -> None:
    """A C program compiled with -g runs under lldb-vscode in the hardened sandbox: it stops at
    a breakpoint, a struct expands, next steps a line, continue runs to the end."""
    require_images("c")
    source = C_PROGRAM.replace("LOOP", "")
    dap = await _c_session(jp_ws_fetch, source)
    try:
        assert (await dap.request("initialize", {"adapterID": "lldb", "linesStartAt1": True}))[
            "success"
        ]
        # Whatever program a client names, the one compiled here runs.
        launched = await dap.request("launch", {"program": "/bin/sh", "cwd": "/"})
        assert launched["success"], launched
        process = await dap.event("process")
        assert process["body"]["name"] == "/tmp/ide-debug/main", process
        path = "/tmp/ide-debug/main.c"
        bps = await dap.request(
            "setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": 5}]}
        )
        assert bps["body"]["breakpoints"][0]["verified"] is True, bps
        await dap.request("configurationDone")
        stopped = await dap.event("stopped")
        thread = stopped["body"]["threadId"]
        trace = await dap.request("stackTrace", {"threadId": thread})
        top = trace["body"]["stackFrames"][0]
        assert (top["line"], top["source"]["path"]) == (5, path), top
        scopes = await dap.request("scopes", {"frameId": top["id"]})
        local = next(s for s in scopes["body"]["scopes"] if s["name"] == "Locals")
        variables = await dap.request(
            "variables", {"variablesReference": local["variablesReference"]}
        )
        point = next(v for v in variables["body"]["variables"] if v["name"] == "p")
        inside = await dap.request("variables", {"variablesReference": point["variablesReference"]})
        assert {v["name"]: v["value"] for v in inside["body"]["variables"]} == {"x": "3", "y": "4"}
        assert (await dap.request("next", {"threadId": thread}))["success"]
        await dap.event("stopped")
        trace = await dap.request("stackTrace", {"threadId": thread})
        assert trace["body"]["stackFrames"][0]["line"] == 6
        value = await dap.request(
            "evaluate",
            {
                "expression": "sum",
                "frameId": trace["body"]["stackFrames"][0]["id"],
                "context": "watch",
            },
        )
        assert value["body"]["result"] == "7", value
        await dap.request("continue", {"threadId": thread})
        exited = await dap.event("exited")
        assert exited["body"]["exitCode"] == 0
        output = await dap.until(lambda m: "sum is 7" in str(m.get("body", {}).get("output", "")))
        assert output["event"] == "output"
    finally:
        dap.ws.close()
    # Closing the socket removes the session's sandbox.
    engine = docker.from_env()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while engine.containers.list(all=True, filters={"label": f"{LABEL_KIND}=dap"}):
        assert loop.time() < deadline, "the debug sandbox outlived its socket"
        await asyncio.sleep(0.25)


async def test_c_paused_is_not_counted_but_a_loop_is_stopped(jp_ws_fetch: Any) -> None:
    """Paused past the limit, the C program is not stopped; its endless loop after it is."""
    require_images("c")
    source = C_PROGRAM.replace("LOOP", "for (;;) sum++;")
    dap = await _c_session(jp_ws_fetch, source)
    try:
        await dap.request("initialize", {"adapterID": "lldb"})
        await dap.request("launch", {})
        await dap.request(
            "setBreakpoints",
            {"source": {"path": "/tmp/ide-debug/main.c"}, "breakpoints": [{"line": 6}]},
        )
        await dap.request("configurationDone")
        stopped = await dap.event("stopped")
        await asyncio.sleep(LIMIT + 2)  # paused: wall time passes, CPU time does not
        resumed = await dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        assert resumed["success"], resumed
        said = await dap.until(
            lambda m: "Time limit reached" in str(m.get("body", {}).get("output", "")),
            timeout=LIMIT + 90,  # CPU seconds; on a crowded machine they take longer
        )
        assert f"limit {LIMIT:g} s" in said["body"]["output"]
        await dap.event("terminated")
    finally:
        dap.ws.close()


async def test_c_compile_errors_and_hostile_messages(jp_ws_fetch: Any) -> None:
    """The compiler's message comes back; bad start messages and requests are refused."""
    require_images("c")
    dap = await _c_session(jp_ws_fetch, "int main(void) { return undefined_name; }\n")
    said = await dap.until(lambda m: m.get("event") == "output")
    assert "did not compile" in said["body"]["output"], said
    assert "undefined_name" in said["body"]["output"], said
    await dap.event("terminated")
    dap.ws.close()

    for start, problem in (
        ({"type": "start", "name": "../etc/x.c", "source": ""}, "plain file name"),
        ({"type": "start", "name": "main.py", "source": ""}, "ends with .c"),
        ({"type": "start", "name": "main.c", "source": 5}, "program's text"),
        ({"type": "go"}, "first message"),
    ):
        ws = await jp_ws_fetch("ide", "api", "debug", "ws", "c")
        await ws.write_message(json.dumps(start))
        reply = json.loads(await asyncio.wait_for(ws.read_message(), 30))
        assert reply["type"] == "error" and problem in reply["message"], (start, reply)
        assert await asyncio.wait_for(ws.read_message(), 30) is None  # closed
    dap = await _c_session(jp_ws_fetch, C_PROGRAM.replace("LOOP", ""))
    try:
        refused = await dap.request("runInTerminal", {"args": ["sh"]})
        assert not refused["success"] and "does not take" in refused["message"]
    finally:
        dap.ws.close()
