"""Conditional breakpoints and logpoints, as the Debugger panel sends them (DAP setBreakpoints).

Python through ipykernel's debugger (debugpy) over the sandboxed kernel's control channel: a
breakpoint with ``condition`` stops only where it holds, a ``logMessage`` prints without
stopping. C through lldb-vscode in its debug sandbox: ``condition`` and ``hitCondition`` (it has
no logpoints), and its console carries no "No module named 'lldb'" from lldb's Python; in C++
lldb's Python formatters work (a std::vector shows its size).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .kernel_host import require_images
from .test_debugger import CDap, _kernel, _stopped_frame

LOOP = """\
seen = []
for i in range(6):
    seen.append(i)
print("seen", len(seen))
"""
C_LOOP = """\
#include <stdio.h>
int main(void) {
    int total = 0;
    for (int n = 0; n < 5; n++) {
        total += n;
    }
    printf("total %d\\n", total);
    return 0;
}
"""
C_PATH = "/tmp/ide-debug/main.c"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Serve the ide-* kernels, no warm pool."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["SandboxManager"] = {"pool_size": 0}
    return config


async def _local(dap: Any, frame_id: int, name: str) -> str:
    """The value of a local variable of a frame (through scopes and variables)."""
    scopes = await dap.request("scopes", {"frameId": frame_id})
    local = next(s for s in scopes["body"]["scopes"] if s["name"] == "Locals")
    reply = await dap.request("variables", {"variablesReference": local["variablesReference"]})
    return str(next(v["value"] for v in reply["body"]["variables"] if v["name"] == name))


async def _output_with(dap: Any, text: str, timeout: float = 30) -> str:
    """Wait until the DAP output events hold ``text``; return all their output."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        said = "".join(
            e["body"].get("output", "") for e in dap.events if e.get("event") == "output"
        )
        if text in said:
            return said
        assert loop.time() < deadline, said
        try:
            await dap._read(1)
        except asyncio.TimeoutError:
            pass


async def test_python_condition_stops_once_and_a_logpoint_prints(
    jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    """``i == 3`` on the loop's body stops exactly once, with i = 3; a logpoint on the same
    loop prints each i and never stops; the run then ends normally."""
    require_images("python")
    dap = await _kernel(jp_fetch, jp_ws_fetch)
    try:
        await dap.start()
        dumped = await dap.request("dumpCell", {"code": LOOP})
        path = dumped["body"]["sourcePath"]
        reply = await dap.request(
            "setBreakpoints",
            {
                "source": {"path": path},
                "breakpoints": [
                    {"line": 3, "condition": "i == 3"},
                    {"line": 4, "logMessage": "logged {len(seen)} items"},
                ],
            },
        )
        assert [b["verified"] for b in reply["body"]["breakpoints"]] == [True, True], reply
        await dap.request("configurationDone")
        before = len(dap.events)
        run = await dap.execute(LOOP)
        thread, frame = await _stopped_frame(dap, before)
        assert frame["line"] == 3, frame
        assert await _local(dap, frame["id"], "i") == "3"
        assert await _local(dap, frame["id"], "seen") == "[0, 1, 2]"
        after_stop = len(dap.events)
        assert (await dap.request("continue", {"threadId": thread}))["success"]
        assert (await dap.reply_to(run))["status"] == "ok"
        assert "seen 6" in "".join(dap.output.get(run, []))
        later = dap.events[after_stop:]
        assert not [e for e in later if e.get("event") == "stopped"], later
        # debugpy sends the logpoint's line as an output event of its own, maybe after the reply.
        logged = await _output_with(dap, "logged 6 items")
        assert logged.count("logged") == 1, logged  # printed where it is, not stopped there
    finally:
        dap.close()


class RecordingDap(CDap):
    """The C debug socket's client, keeping every message it read (``until`` takes some)."""

    def __init__(self, ws: Any) -> None:
        """Wrap the open socket."""
        super().__init__(ws)
        self.seen: list[dict[str, Any]] = []

    async def read(self, timeout: float = 60) -> dict[str, Any] | None:
        """Read the next message and keep it."""
        message = await super().read(timeout)
        if message is not None:
            self.seen.append(message)
        return message


async def _c_session(jp_ws_fetch: Any, source: str) -> RecordingDap:
    """Open the C debug socket for ``source``; return its client once the sandbox started."""
    dap = RecordingDap(await jp_ws_fetch("ide", "api", "debug", "ws", "c"))
    await dap.ws.write_message(json.dumps({"type": "start", "name": "main.c", "source": source}))
    started = await dap.until(lambda m: m.get("type") in ("started", "error"))
    assert started["type"] == "started", started
    return dap


async def _c_stop(dap: CDap) -> tuple[int, dict[str, Any]]:
    """Wait for a stop; return its thread and top frame."""
    stopped = await dap.event("stopped")
    thread = stopped["body"]["threadId"]
    trace = await dap.request("stackTrace", {"threadId": thread})
    return thread, trace["body"]["stackFrames"][0]


async def test_c_condition_and_hit_count_under_lldb(jp_ws_fetch: Any) -> None:
    """lldb-vscode: ``n == 3`` stops once with n = 3; a hit count of 2 on the printf line,
    reached once, never stops; the console has no lldb Python noise. (lldb-vscode-14 has no
    logpoints: it does not announce supportsLogPoints, and the panel does not send them.)"""
    require_images("c")
    dap = await _c_session(jp_ws_fetch, C_LOOP)
    try:
        init = await dap.request("initialize", {"adapterID": "lldb", "linesStartAt1": True})
        capabilities = init["body"]
        assert capabilities.get("supportsConditionalBreakpoints") is True, capabilities
        assert capabilities.get("supportsHitConditionalBreakpoints") is True, capabilities
        assert not capabilities.get("supportsLogPoints"), capabilities
        await dap.request("launch", {})
        reply = await dap.request(
            "setBreakpoints",
            {
                "source": {"path": C_PATH},
                "breakpoints": [
                    {"line": 5, "condition": "n == 3"},
                    {"line": 7, "hitCondition": "2"},
                ],
            },
        )
        assert reply["success"], reply
        await dap.request("configurationDone")
        thread, frame = await _c_stop(dap)
        assert (frame["line"], frame["source"]["path"]) == (5, C_PATH), frame
        assert await _local(dap, frame["id"], "n") == "3"
        assert await _local(dap, frame["id"], "total") == "3"  # 0 + 1 + 2
        await dap.request("continue", {"threadId": thread})
        exited = await dap.event("exited")
        assert exited["body"]["exitCode"] == 0, exited
        await dap.until(lambda m: "total 10" in str(m.get("body", {}).get("output", "")))
        # Everything said up to the end: one stop only, no lldb noise.
        await asyncio.sleep(0.5)
        while True:
            try:
                if await dap.read(timeout=1) is None:
                    break
            except asyncio.TimeoutError:
                break
        said = dap.seen
        assert len([m for m in said if m.get("event") == "stopped"]) == 1, said
        assert "No module named" not in json.dumps(said), said
    finally:
        dap.ws.close()


CPP = """\
#include <iostream>
#include <string>
#include <vector>
int main() {
    std::vector<int> v = {1, 2, 3};
    std::string s = "hi";
    std::cout << v.size() << s << std::endl;
    return 0;
}
"""


async def test_cpp_lldb_python_formatters_work(jp_ws_fetch: Any) -> None:
    """lldb's Python (its libstdc++ formatters) loads in the cpp image: a std::vector of three
    shows size=3, and the console has no Python traceback (with the module missing, lldb
    printed "No module named 'lldb'" / run_one_line tracebacks and showed size=1)."""
    require_images("cpp")
    dap = RecordingDap(await jp_ws_fetch("ide", "api", "debug", "ws", "cpp"))
    try:
        start = {"type": "start", "name": "main.cpp", "source": CPP}
        await dap.ws.write_message(json.dumps(start))
        started = await dap.until(lambda m: m.get("type") in ("started", "error"))
        assert started["type"] == "started", started
        await dap.request("initialize", {"adapterID": "lldb", "linesStartAt1": True})
        await dap.request("launch", {})
        await dap.request(
            "setBreakpoints",
            {"source": {"path": "/tmp/ide-debug/main.cpp"}, "breakpoints": [{"line": 7}]},
        )
        await dap.request("configurationDone")
        thread, frame = await _c_stop(dap)
        assert frame["line"] == 7, frame
        assert (await _local(dap, frame["id"], "v")).strip() == "size=3"
        assert (await _local(dap, frame["id"], "s")).strip() == '"hi"'
        await dap.request("continue", {"threadId": thread})
        await dap.event("exited")
        await dap.until(lambda m: "3hi" in str(m.get("body", {}).get("output", "")))
        console = "".join(
            str(m.get("body", {}).get("output", "")) for m in dap.seen if m.get("event") == "output"
        )
        assert "Traceback" not in console and "No module named" not in console, console
    finally:
        dap.ws.close()
