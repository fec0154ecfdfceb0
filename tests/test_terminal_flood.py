"""A flood of output in a sandboxed terminal whose browser does not read: the server holds a
bounded number of bytes for it (the shell waits), and the terminal works afterwards.

Real dockerd and the python image; the client is tornado's, which stops reading its socket
once one message waits unread, as a browser tab that is frozen or on a slow link would.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tornado.websocket import WebSocketClientConnection

from .kernel_host import require_images
from .test_terminals import _shell_output, _start

BACKLOG = 256 * 1024
REPLAY = 64 * 1024
# One read of the shell's output is at most 64 KiB of text; as JSON (escapes) a few times that.
ONE_READ = 6 * 65536
FLOOD_SECONDS = 6.0


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """The engine and the terminals' image must be there (never skip)."""
    require_images("python")


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Terminals in Docker, with small bounds on what waits for a socket and on the replay."""
    config = dict(jp_server_config)
    config["IDESettings"] = {**config["IDESettings"], "sandbox": "docker"}
    config["IDETerminalManager"] = {
        "client_backlog_limit": BACKLOG,
        "replay_limit": REPLAY,
        "stalled_client_timeout": 0,
    }
    return config


def _rss() -> int:
    """The resident memory of this process (the server runs in it), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def _until(condition: Any) -> None:
    """Wait (at most 30 s) until ``condition()`` holds."""
    async with asyncio.timeout(30):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


def _unsent(socket: Any) -> int:
    """Bytes tornado holds for a server-side socket, not yet written to the connection."""
    stream = socket.ws_connection.stream
    return int(stream._total_write_index - stream._total_write_done_index)


async def test_output_flood_to_a_client_that_does_not_read_stays_bounded(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """`yes` writes for seconds to a socket nobody reads: the bytes waiting for it stay under
    the bound, the replay too, the server's memory does not grow with the output; once that
    socket is closed for stalling, a new one gets the terminal back (ctrl-C stops `yes`, a
    command runs)."""
    manager = jp_serverapp.web_app.settings["terminal_manager"]
    name = (await _start(jp_fetch, {"name": "flood"}))["name"]
    try:
        stuck: WebSocketClientConnection = await jp_ws_fetch("terminals", "websocket", name)
        term = manager.terminals[name]
        await _until(lambda: term.clients)
        server_side = term.clients[0]
        await stuck.write_message(json.dumps(["stdin", "yes flood-line-of-text\r"]))
        rss_before, most_unsent, paused_seen = _rss(), 0, False
        deadline = time.monotonic() + FLOOD_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            most_unsent = max(most_unsent, _unsent(server_side), server_side.pending_output)
            paused_seen = paused_seen or name in manager.paused_terminals()
            assert term.read_buffer.size <= REPLAY
        grown = _rss() - rss_before
        assert paused_seen, "the terminal was never paused for its stuck socket"
        assert 0 < most_unsent <= BACKLOG + ONE_READ, most_unsent
        assert grown < 16 * 1024 * 1024, f"the server grew by {grown} bytes"

        # A socket stalled past stalled_client_timeout is closed by the server.
        manager.stalled_client_timeout = 1.0
        await _until(lambda: server_side not in term.clients)
        stuck.close()
        fresh = await jp_ws_fetch("terminals", "websocket", name)
        await fresh.write_message(json.dumps(["stdin", "\x03"]))
        await _shell_output(fresh, "echo alive$((6*7))", "alive42")
        assert term.read_buffer.size <= REPLAY
        fresh.close()
    finally:
        await manager.terminate_all()
