"""Idle sandboxed kernels are culled, and their containers go with them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from jupyter_client.session import Session

from .kernel_host import require_images
from .test_kernels_server import _containers_of, _start


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Serve the ide-* kernelspecs; cull kernels idle for 4 s, or alone for 8 s if busy."""
    config = {**jp_server_config}
    config["ServerApp"] = {
        **config["ServerApp"],
        "kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager",
    }
    config["MappingKernelManager"] = {"cull_idle_timeout": 4, "cull_interval": 1}
    config["ClientActivityCulling"] = {"cull_disconnected_timeout": 8}
    return config


async def test_idle_kernels_are_culled_with_their_containers(jp_fetch: Any) -> None:
    require_images("python")
    kernel_id = await _start(jp_fetch)
    assert _containers_of(kernel_id)
    for _ in range(60):
        await asyncio.sleep(0.5)
        listed = json.loads((await jp_fetch("api", "kernels")).body)
        if kernel_id not in {k["id"] for k in listed}:
            break
    else:
        raise AssertionError("the idle kernel was not culled")
    for _ in range(20):
        if not _containers_of(kernel_id):
            break
        await asyncio.sleep(0.5)
    assert _containers_of(kernel_id) == []


THREAD_PRINTER = """
import threading, time
def _chatter():
    while True:
        print("tick", flush=True)
        time.sleep(0.2)
threading.Thread(target=_chatter, daemon=True).start()
print("started", flush=True)
"""
BUSY_PRINTER = "import time\nwhile True:\n    print('busy', flush=True)\n    time.sleep(0.2)\n"


async def _printing(jp_ws_fetch: Any, kernel_id: str, code: str, marker: str) -> Any:
    """Run ``code`` on the kernel over a websocket until ``marker`` is printed; the socket."""
    ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
    session = Session()
    msg = session.msg("execute_request", {"code": code, "silent": False, "allow_stdin": False})
    msg["channel"] = "shell"
    msg["parent_header"] = {}
    await ws.write_message(json.dumps(msg, default=str))
    async with asyncio.timeout(60):
        while True:
            raw = await ws.read_message()
            assert raw is not None, "the kernel's websocket closed"
            reply = json.loads(raw)
            if reply["msg_type"] == "stream" and marker in reply["content"]["text"]:
                return ws


async def test_printing_kernels_without_a_client_are_culled_a_connected_one_is_not(
    jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    """A kernel printing forever in a thread is culled once its client left (idle timeout);
    one printing in a busy loop too (the hard limit, busy or not); a kernel whose client
    stays connected is kept, printing all the while."""
    require_images("python")
    # Each connected as soon as it started (alone, a kernel is culled after 4 s).
    chatty = await _start(jp_fetch)
    (await _printing(jp_ws_fetch, chatty, THREAD_PRINTER, "tick")).close()
    busy = await _start(jp_fetch)
    (await _printing(jp_ws_fetch, busy, BUSY_PRINTER, "busy")).close()
    watched = await _start(jp_fetch)
    client = await _printing(jp_ws_fetch, watched, THREAD_PRINTER, "tick")
    try:
        culled: set[str] = set()
        async with asyncio.timeout(40):
            while culled != {chatty, busy}:
                await asyncio.sleep(0.5)
                listed = {k["id"]: k for k in json.loads((await jp_fetch("api", "kernels")).body)}
                culled = {chatty, busy} - set(listed)
                assert watched in listed, "the kernel a client is connected to was culled"
        assert listed[watched]["connections"] == 1
        # Still alive and answering, after both timeouts passed.
        (await _printing(jp_ws_fetch, watched, "print(6 * 7)", "42")).close()
    finally:
        client.close()
    assert _containers_of(chatty) == [] or not await _still_there(chatty)


async def _still_there(kernel_id: str) -> bool:
    """Whether the kernel's container is still there after a moment (removal is async)."""
    for _ in range(20):
        if not _containers_of(kernel_id):
            return False
        await asyncio.sleep(0.5)
    return True
