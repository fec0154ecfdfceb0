"""Live view latency: a student's keystroke to each watching instructor's copy, p50 and p95.

50 students type (one keystroke every ~200 ms each, into their own file's room) while 2
instructors watch all 50 rooms: 100 viewer sockets. Each keystroke carries a marker; the
latency is from its send to its arrival in each instructor's document. Every peer is a real
y-websocket client (pycrdt) over its own socket to a real server process.

Side by side, the same traffic through jupyter-collaboration's own room server (pycrdt-websocket
rooms served by jupyter-collaboration in a `jupyter server` of its own venv), where viewers are
ordinary peers (it has no read-only viewers). Goal: our p95 under 500 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pycrdt import TextEvent

from jupyter_ide.classroom.live_client import LivePeer, connect
from tests.e2e.conftest import _free_port
from tests.e2e.course_users import signed_in_as
from tests.e2e.test_course_choice_ui import _call, _hub_like_server, _sign_in

from .peer_venvs import peer_venv
from .quick import quick, skipped
from .stats import p95, print_table

STUDENTS = 5 if quick() else 50
INSTRUCTORS = 2
SECONDS = 3.0 if quick() else 20.0
EVERY = 0.2  # seconds between one student's keystrokes
GOAL_P95_MS = 500.0
COURSE = "bench-live"
MARK = re.compile(r"\u27e8(\d+):(\d+)\u27e9")  # ⟨student:seq⟩

Opener = Callable[[str, int], Awaitable[LivePeer]]  # (who, student index) -> a joined peer


class Clock:
    """Send times of keystrokes and the latencies of their arrivals."""

    def __init__(self) -> None:
        self.sent: dict[tuple[int, int], float] = {}
        self.latencies: list[float] = []
        self.missing = 0

    def arrived(self, event: TextEvent) -> None:
        """Record each marker an instructor's document received."""
        now = time.perf_counter()
        for op in getattr(event, "delta", ()):
            inserted = op.get("insert") if isinstance(op, dict) else None
            if isinstance(inserted, str):
                for student, seq in MARK.findall(inserted):
                    sent = self.sent.get((int(student), int(seq)))
                    if sent is not None:
                        self.latencies.append((now - sent) * 1000)


async def run_traffic(open_peer: Opener) -> tuple[list[float], int, int]:
    """Join every room, type for SECONDS, wait for the last keystrokes; return the latencies,
    the keystrokes sent and the arrivals expected."""
    clock = Clock()
    students = [await open_peer(f"s{i:02d}", i) for i in range(STUDENTS)]
    viewers = []
    for t in range(INSTRUCTORS):
        for i in range(STUDENTS):
            peer = await open_peer(f"t{t}", i)
            peer.text.observe(clock.arrived)
            viewers.append(peer)
    sent = 0

    async def typing(index: int, peer: LivePeer) -> None:
        nonlocal sent
        rng = random.Random(index)
        await asyncio.sleep(rng.uniform(0, EVERY))
        end = time.perf_counter() + SECONDS
        seq = 0
        while time.perf_counter() < end:
            clock.sent[(index, seq)] = time.perf_counter()
            peer.type(len(peer.text), f"\u27e8{index}:{seq}\u27e9")
            sent += 1
            seq += 1
            await asyncio.sleep(EVERY * rng.uniform(0.8, 1.2))

    await asyncio.gather(*(typing(i, p) for i, p in enumerate(students)))
    expected = sent * INSTRUCTORS
    deadline = time.perf_counter() + 10
    while len(clock.latencies) < expected and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    for peer in students + viewers:
        peer.close()
    return clock.latencies, sent, expected


# -- ours ----------------------------------------------------------------------------------------


@contextmanager
def our_server() -> Iterator[Any]:
    """A jupyter-ide server (as the service is for a hub's users) with the course set up."""
    users = {f"s{i:02d}": "student" for i in range(STUDENTS)}
    users.update({f"t{t}": "instructor" for t in range(INSTRUCTORS)}, root="admin")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        base = Path(tmp)
        config = {
            "ServerApp": {"identity_provider_class": "tests.e2e.course_users.CourseUsersIdentity"},
            "CourseUsersIdentity": {"users": users},
            "IDESettings": {"storage_url": (base / "blobs").as_uri()},
            "JudgeSettings": {"pool_size": 0},
            "SandboxManager": {"pool_size": 0},
        }
        with _hub_like_server(base, config) as server:
            for who in users:
                _sign_in(server, who)
            _call(server, "root", "POST", "/ide/api/courses", {"name": COURSE, "title": "Bench"})
            for who, role in users.items():
                if role != "admin":
                    path = f"/ide/api/courses/{COURSE}/members/{who}"
                    _call(server, "root", "PUT", path, {"role": role})
            yield server


async def ours() -> tuple[list[float], int, int]:
    """The traffic through jupyter-ide's live rooms (instructors read-only)."""
    with our_server() as server:
        ws = "ws" + server.url.removeprefix("http")

        async def open_peer(who: str, index: int) -> LivePeer:
            student = f"s{index:02d}"
            if who == student:
                url = f"{ws}/ide/api/classroom/live/socket?path=main.py"
            else:
                url = f"{ws}/ide/api/classroom/{COURSE}/live/{student}/socket?path=main.py"
            return await connect(url, signed_in_as(who))

        return await run_traffic(open_peer)


# -- jupyter-collaboration ----------------------------------------------------------------------

PEER_SPECS = ("jupyter-collaboration", "jupyter_server")


@contextmanager
def collaboration_server(venv: Path) -> Iterator[tuple[str, str]]:
    """`jupyter server` of the peer's venv, jupyter-collaboration loaded; (url, token)."""
    with tempfile.TemporaryDirectory(prefix="bench-collab-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
        for name in ("config", "data", "runtime"):
            (Path(tmp) / name).mkdir()
            env[f"JUPYTER_{name.upper()}_DIR"] = str(Path(tmp) / name)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        port, token = _free_port(), secrets.token_hex(16)
        log = (Path(tmp) / "server.log").open("wb")
        process = subprocess.Popen(
            [
                str(venv / "bin" / "jupyter-server"),
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("jupyter-collaboration's server did not start") from None
                    time.sleep(0.2)
            yield url, token
        except Exception:
            log.flush()
            tail = (Path(tmp) / "server.log").read_text(errors="replace")[-3000:]
            print(f"jupyter-collaboration's server log (end):\n{tail}", file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            log.close()


def _http(url: str, method: str, body: Any) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method=method
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def collaboration(venv: Path) -> tuple[list[float], int, int]:
    """The same traffic through jupyter-collaboration's rooms (every peer may write)."""
    with collaboration_server(venv) as (url, token):
        rooms: list[str] = []
        for i in range(STUDENTS):
            path = f"s{i:02d}.py"
            _http(
                f"{url}/api/contents/{path}?token={token}",
                "PUT",
                {"type": "file", "format": "text", "content": ""},
            )
            session = _http(
                f"{url}/api/collaboration/session/{quote(path)}?token={token}",
                "PUT",
                {"format": "text", "type": "file"},
            )
            rooms.append(
                f"{url.replace('http', 'ws', 1)}/api/collaboration/room/"
                f"text:file:{session['fileId']}?sessionId={session['sessionId']}&token={token}"
            )

        async def open_peer(who: str, index: int) -> LivePeer:
            return await connect(rooms[index])

        return await run_traffic(open_peer)


async def main() -> None:
    """Run both sides; print the table; say whether the goal is met."""
    rows: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, tuple[int, int, int]] = {}
    latencies, sent, expected = await ours()
    operation = f"keystroke to instructor ({STUDENTS} typing, {INSTRUCTORS} watching)"
    rows[operation] = {"jupyter-ide live view": latencies}
    counts["jupyter-ide live view"] = (sent, expected, len(latencies))
    venv = peer_venv("jupyter-collaboration", *PEER_SPECS, install=not quick())
    if venv is None:
        skipped("jupyter-collaboration", "installing it takes a minute")
    else:
        try:
            theirs = await collaboration(venv)
            rows[operation]["jupyter-collaboration rooms"] = theirs[0]
            counts["jupyter-collaboration rooms"] = (*theirs[1:], len(theirs[0]))
        except Exception as e:  # the peer is optional: say why it is missing
            print(f"jupyter-collaboration side failed: {e!r}", file=sys.stderr, flush=True)
    print_table("Live view latency (ms)", rows, "jupyter-ide live view")
    for peer, (keys, want, got) in counts.items():
        print(f"{peer}: {keys} keystrokes, {got} of {want} arrivals measured")
    ours_p95 = p95(latencies)
    verdict = "met" if ours_p95 < GOAL_P95_MS else "NOT met"
    print(f"goal p95 < {GOAL_P95_MS:.0f} ms: {verdict} ({ours_p95:.1f} ms)", flush=True)
    if counts["jupyter-ide live view"][2] < counts["jupyter-ide live view"][1]:
        raise RuntimeError("keystrokes were lost on the way to the instructors")


if __name__ == "__main__":
    asyncio.run(main())
