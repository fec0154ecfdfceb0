"""The time-limit watchdog believes nothing the kernel says: forged statuses and replies, the key
the kernel holds, and its connection file."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from jupyter_ide.kernels.sockets import CONNECTION_INSIDE
from jupyter_ide.kernels.watchdog import DELIMITER, TimeLimitWatchdog, execute_event

from .kernel_host import KernelHost, execute, require_images

LIMIT = 4.0
GRACE = 2.0
# Forged "idle" statuses for the running request, signed with the kernel's real key, then a
# loop that never ends. The old watchdog took each status for the end of the run.
FORGE_IDLE_THEN_LOOP = """
    import time
    kernel = get_ipython().kernel
    key = kernel.session.key  # the real key: user code holds it
    parent = kernel.get_parent("shell")
    for _ in range(FORGED):
        for state in ("idle", "busy", "idle"):
            kernel.session.send(kernel.iopub_socket, "status", {"execution_state": state},
                                parent=parent)
        started = time.time()
        while time.time() - started < 0.1:
            pass
    print("forged", len(key) > 0, flush=True)
    while True:
        pass
"""
# A forged execute_reply to the running request (the server passes it on), then a loop.
FORGE_REPLY_THEN_LOOP = """
    kernel = get_ipython().kernel
    parent = kernel.get_parent("shell")
    ident = kernel._parent_ident["shell"]
    stream = kernel.shell_stream
    content = {"status": "ok", "execution_count": 1, "user_expressions": {}, "payload": []}
    stream.io_loop.add_callback(
        lambda: kernel.session.send(stream, "execute_reply", content, parent, ident=ident)
    )
    while True:
        pass
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelHost]:
    """A sandbox with a short time limit, counting workspace syncs."""
    require_images("python")
    workspace = tmp_path_factory.mktemp("workspace")
    workspace.chmod(0o777)
    host = KernelHost(workspace, default_limits={"time_limit": LIMIT}, time_limit_grace=GRACE)
    host.syncs = 0  # type: ignore[attr-defined]

    async def count_sync() -> None:
        host.syncs += 1  # type: ignore[attr-defined]

    host.manager.after_run = count_sync
    yield host
    host.close()


@pytest.fixture
def kernel(host: KernelHost) -> Iterator[tuple[object, BlockingKernelClient]]:
    """A fresh Python kernel for one test."""
    km = host.start("ide-python")
    kc = host.client(km)
    yield km, kc
    kc.stop_channels()
    if km in host.kernels:
        host.shutdown(km, now=True)


def _replies(kc: BlockingKernelClient, msg_id: str, timeout: float) -> Iterator[dict]:
    """Yield the shell replies to ``msg_id`` until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            reply = kc.get_shell_msg(timeout=left)
        except Empty:
            return
        if reply["parent_header"].get("msg_id") == msg_id:
            yield reply


def _run(kc: BlockingKernelClient, code: str, timeout: float = 90) -> tuple[dict, str]:
    """Run ``code``; return its reply and what it printed.

    Not ``execute_interactive``: it stops reading output at the first "idle" status, and
    these tests forge such statuses.
    """
    msg_id = kc.execute(textwrap.dedent(code))
    reply = next(_replies(kc, msg_id, timeout))
    printed = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except Empty:
            break
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
    return reply["content"], "".join(printed)


def test_forged_idle_statuses_do_not_stop_the_clock(host: KernelHost, kernel) -> None:
    """User code that signs fake idle statuses with the kernel's key and then loops forever
    is still interrupted at the limit."""
    _, kc = kernel
    reply, out = _run(kc, FORGE_IDLE_THEN_LOOP.replace("FORGED", "20"))
    assert "forged True" in out, out
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    _, out, _ = execute(kc, "print(6 * 7)")
    assert out.strip() == "42"


def test_a_forged_reply_does_not_end_the_run(host: KernelHost, kernel) -> None:
    """A reply the kernel forges for its own request closes it early; the loop after it is
    still charged (CPU with no open request) and interrupted."""
    _, kc = kernel
    msg_id = kc.execute(textwrap.dedent(FORGE_REPLY_THEN_LOOP))
    replies = []
    for reply in _replies(kc, msg_id, timeout=90):
        replies.append(reply)
        if reply["content"]["status"] != "ok":  # the watchdog's interrupt ended the loop
            break
    assert replies, "no reply at all"
    assert replies[0]["content"]["status"] == "ok"  # the forged one came first
    last = replies[-1]["content"]
    assert last["status"] == "error" and last["ename"] == "KeyboardInterrupt", replies


def test_forged_statuses_trigger_no_workspace_syncs(host: KernelHost, kernel) -> None:
    """Syncs follow the replies to requests the server forwarded, one per run, whatever
    statuses the kernel publishes."""
    _, kc = kernel
    forge = """
        import time
        kernel = get_ipython().kernel
        parent = kernel.get_parent("shell")
        for _ in range(30):
            kernel.session.send(kernel.iopub_socket, "status", {"execution_state": "idle"},
                                parent=parent)
            time.sleep(0.1)
        print("done")
        """
    time.sleep(1)  # syncs of the kernel's start-up and handshake are done
    before = host.syncs  # type: ignore[attr-defined]
    reply, out = _run(kc, forge)
    assert reply["status"] == "ok" and "done" in out
    time.sleep(1)
    assert host.syncs - before == 1  # type: ignore[attr-defined]


def test_the_connection_file_is_unreadable_inside_once_started(kernel) -> None:
    """The key is in the kernel's memory, not in a file code can read (or find in the mounted
    socket folder) once the kernel has started."""
    km, kc = kernel
    _, out, err = execute(
        kc,
        textwrap.dedent(
            f"""
            import os
            try:
                print("read", repr(open({CONNECTION_INSIDE!r}).read()))
            except OSError as e:
                print("refused", type(e).__name__)
            print("ipc", sorted(os.listdir("/jide/ipc")))
            print("json", [p for p in os.listdir("/jide/ipc") if p.endswith(".json")])
            """
        ),
    )
    assert "refused PermissionError" in out, (out, err)
    assert "json []" in out
    # On the host, the server keeps its own connection file in a folder the sandbox cannot see.
    assert Path(km.connection_file).is_file()


def _frames(msg_type: str, msg_id: str, parent_id: str = "") -> list[bytes]:
    """A shell message as the proxy copies it: identities, delimiter, signature, parts."""
    header = json.dumps({"msg_type": msg_type, "msg_id": msg_id}).encode()
    parent = json.dumps({"msg_id": parent_id} if parent_id else {}).encode()
    return [b"client", DELIMITER, b"signature", header, parent, b"{}", b"{}"]


def test_shell_messages_are_read_as_requests_and_replies() -> None:
    assert execute_event(_frames("execute_request", "a")) == ("request", "a")
    assert execute_event(_frames("execute_reply", "r", "a")) == ("reply", "a")
    assert execute_event(_frames("kernel_info_request", "k")) is None
    assert execute_event([b"no delimiter"]) is None
    assert execute_event([DELIMITER, b"sig", b"{not json execute_re"]) is None


async def test_a_reply_closes_its_request_and_those_before_it_and_nothing_else() -> None:
    async def nothing() -> None:
        return None

    watchdog = TimeLimitWatchdog("inproc://unused", 5.0, 1.0, nothing, nothing)
    for msg_id in ("a", "b", "c"):
        watchdog.observe(("request", msg_id))
    watchdog.observe(("request", "a"))  # the same request twice is one run
    assert list(watchdog.pending) == ["a", "b", "c"]
    watchdog.observe(("reply", "zzz"))  # a reply to nothing the server sent
    assert list(watchdog.pending) == ["a", "b", "c"] and watchdog.runs_ended == 0
    watchdog.observe(("reply", "b"))  # in order: a ended too
    assert list(watchdog.pending) == ["c"] and watchdog.runs_ended == 1
    watchdog.observe(("reply", "c"))
    assert not watchdog.pending and watchdog.runs_ended == 2
    assert await watchdog.check() is True  # nothing open, nothing charged
