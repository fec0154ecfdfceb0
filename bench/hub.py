"""Hub: what a user's server adds in front of the jupyter-ide service (issue #14).

One real JupyterHub (deploy/jupyterhub_config.py, the managed service, a local OIDC provider,
PostgreSQL, Redis, moto S3) spawns one student's ``jupyterhub-singleuser`` as a process, the
service's client (jupyter_ide/hubclient). Two peers, both reached through the hub's proxy as a
browser reaches them, with the student's own token:

- ``service direct``: the service's own APIs (``/services/ide/api/...``), the baseline;
- ``via user server``: the student's server (``/user/<name>/api/...``), whose kernels are the
  service's through Jupyter's GatewayClient and whose files are the service's through its
  contents API.

Measured, the peers alternating round by round: a kernel start (the start request up to the
first ``execute_reply``) cold (pool off, one hub) and from the warm pool (a second hub with a
pool of one ``ide-python`` kernel, refilled between starts, untimed); the execute round trip
on one started kernel; saving a 10 kB file and listing a folder of 100 files.

Run alone: ``.venv/bin/python -m bench.hub [--starts N] [--round-trips N] [--ops N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.hubfixture import (
    ACCESS,
    ServiceHub,
    service_hub,
    start_user_server,
    user_server_request,
    user_servers_config,
)
from tests.kernel_host import require_images
from tests.s3_server import MotoServer

from .quick import quick
from .stats import p95, print_table

DIRECT, VIA_USER = "service direct", "via user server"
PEERS = (DIRECT, VIA_USER)
REFILL_WAIT = 2.5  # seconds after a warm start for the pool's replacement to be ready
GOALS = {"warm start": 15.0, "execute round trip": 2.0}  # ms the user server may add
CONTENTS_GOAL = 1.5  # x direct


@dataclass
class Peer:
    """One way to the service: a base URL (through the proxy) and the student's token."""

    name: str
    base: str
    token: str

    def request(self, method: str, path: str, body: Any = None) -> HTTPRequest:
        """An HTTP request to ``path`` under this peer's base URL."""
        return HTTPRequest(
            self.base + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            body=None if body is None and method in ("GET", "DELETE") else json.dumps(body or {}),
            request_timeout=180,
        )

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``path``; return its JSON (None when empty); fail on an error status."""
        reply = await AsyncHTTPClient().fetch(self.request(method, path, body), raise_error=False)
        if reply.code >= 400:
            raise RuntimeError(f"{self.name}: {method} {path}: {reply.code} {reply.body[:300]!r}")
        return json.loads(reply.body) if reply.body else None


class Channel:
    """A kernel's channels websocket, kept open for repeated executes."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        self.ws = ws
        self.session = uuid.uuid4().hex

    @classmethod
    async def open(cls, peer: Peer, kernel_id: str) -> Channel:
        """Connect to ``kernel_id``'s channels through ``peer``."""
        url = "ws" + peer.base.removeprefix("http") + f"/api/kernels/{kernel_id}/channels"
        headers = {"Authorization": f"token {peer.token}"}
        ws = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=120))
        return cls(ws)

    async def execute(self, code: str) -> None:
        """Send ``code``; return when its ``execute_reply`` came (ok) and the kernel is idle."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "bench"}
        header |= {"session": self.session, "date": "", "version": "5.3"}
        content = {"code": code, "silent": False, "allow_stdin": False}
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        await self.ws.write_message(json.dumps({**message, "channel": "shell"}))
        replied = idle = False
        while not (replied and idle):
            raw = await asyncio.wait_for(self.ws.read_message(), 120)
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if reply["msg_type"] == "execute_reply":
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"execute failed: {reply['content']}")
                replied = True
            elif reply["msg_type"] == "status":
                idle = idle or reply["content"]["execution_state"] == "idle"

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()


async def start_to_first_reply(peer: Peer) -> tuple[float, str]:
    """Start an ide-python kernel through ``peer``; return ms to its first reply, and its id."""
    began = time.perf_counter()
    model = await peer.call("POST", "/api/kernels", {"name": "ide-python"})
    channel = await Channel.open(peer, model["id"])
    try:
        await channel.execute("1")
        return (time.perf_counter() - began) * 1000, str(model["id"])
    finally:
        channel.close()


async def measure_starts(peers: list[Peer], starts: int, warm: bool) -> dict[str, list[float]]:
    """Start ``starts`` kernels per peer, one per peer a round; shut each down (untimed)."""
    found: dict[str, list[float]] = {peer.name: [] for peer in peers}
    for i in range(starts):
        for peer in peers if i % 2 == 0 else reversed(peers):
            if warm:
                await asyncio.sleep(REFILL_WAIT)  # the pool holds a ready kernel again
            took, kernel_id = await start_to_first_reply(peer)
            found[peer.name].append(took)
            await peer.call("DELETE", f"/api/kernels/{kernel_id}")
    return found


async def measure_round_trips(peers: list[Peer], count: int) -> dict[str, list[float]]:
    """Time ``count`` executes on one started kernel per peer, the peers interleaved."""
    channels = {}
    ids = {}
    for peer in peers:
        _, ids[peer.name] = await start_to_first_reply(peer)
        channels[peer.name] = await Channel.open(peer, ids[peer.name])
    found: dict[str, list[float]] = {peer.name: [] for peer in peers}
    try:
        for _ in range(count):
            for peer in peers:
                began = time.perf_counter()
                await channels[peer.name].execute("pass")
                found[peer.name].append((time.perf_counter() - began) * 1000)
    finally:
        for peer in peers:
            channels[peer.name].close()
            await peer.call("DELETE", f"/api/kernels/{ids[peer.name]}")
    return found


async def measure_contents(peers: list[Peer], ops: int) -> dict[str, dict[str, list[float]]]:
    """Time saving a 10 kB file and listing a 100-file folder through each peer."""
    text = ("x" * 99 + "\n") * 100
    for peer in peers:
        folder = f"bench-{peer.name.replace(' ', '-')}"
        await peer.call("PUT", f"/api/contents/{folder}", {"type": "directory"})
        for i in range(100):
            model = {"type": "file", "format": "text", "content": f"file {i}\n"}
            await peer.call("PUT", f"/api/contents/{folder}/f{i:03}.txt", model)
    rows: dict[str, dict[str, list[float]]] = {"save 10 kB file": {}, "list 100 files": {}}
    for row in rows.values():
        row.update({peer.name: [] for peer in peers})
    for i in range(ops):
        for peer in peers:
            folder = f"bench-{peer.name.replace(' ', '-')}"
            model = {"type": "file", "format": "text", "content": f"{i}\n{text}"}
            await _timed(
                rows["save 10 kB file"][peer.name],
                peer.call,
                "PUT",
                f"/api/contents/{folder}/saved.txt",
                model,
            )
            await _timed(
                rows["list 100 files"][peer.name], peer.call, "GET", f"/api/contents/{folder}"
            )
    return rows


async def _timed(into: list[float], call: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Run ``call(*args)`` and append its time in ms to ``into``."""
    began = time.perf_counter()
    await call(*args)
    into.append((time.perf_counter() - began) * 1000)


async def run_hub(pool: int, measure: Callable[[list[Peer]], Awaitable[None]]) -> None:
    """Start a hub (warm pool of ``pool``) with one student's server; run ``measure`` on it."""
    require_images("python")
    moto = MotoServer()
    moto.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
            await _measure_on_hub(Path(tmp), moto, pool, measure)
    finally:
        moto.stop()


async def _measure_on_hub(
    base: Path, moto: MotoServer, pool: int, measure: Callable[[list[Peer]], Awaitable[None]]
) -> None:
    """Start the hub and the student's server on ``base``; run ``measure``; stop them."""
    name = f"bench-{uuid.uuid4().hex[:6]}"
    with service_hub(base, moto, "managed", extra_config=user_servers_config(base, pool)) as (
        hub,
        _env,
    ):
        hub.add_user(name)
        token = hub.token(name, [f"access:servers!user={name}", ACCESS])
        await asyncio.to_thread(start_user_server, hub, name)
        try:
            await measure(_peers(hub, name, token))
        finally:
            await asyncio.to_thread(user_server_request, hub, name, "DELETE")


def _peers(hub: ServiceHub, name: str, token: str) -> list[Peer]:
    """The two ways to the service, both through the hub's proxy."""
    return [Peer(DIRECT, hub.service_url, token), Peer(VIA_USER, f"{hub.url}/user/{name}", token)]


def _added(rows: dict[str, list[float]]) -> float:
    """Return the user server's added median ms over direct."""
    return statistics.median(rows[VIA_USER]) - statistics.median(rows[DIRECT])


async def main(argv: list[str] | None = None) -> None:
    """Run both hubs' measurements and print the tables, the added times and the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3 if quick() else 15)
    parser.add_argument("--round-trips", type=int, default=5 if quick() else 200)
    parser.add_argument("--ops", type=int, default=5 if quick() else 100)
    args = parser.parse_args(argv if argv is not None else [])
    starts: dict[str, dict[str, list[float]]] = {}
    others: dict[str, dict[str, list[float]]] = {}

    async def cold(peers: list[Peer]) -> None:
        starts["cold start"] = await measure_starts(peers, args.starts, warm=False)

    async def warm(peers: list[Peer]) -> None:
        starts["warm start"] = await measure_starts(peers, args.starts, warm=True)
        others["execute round trip"] = await measure_round_trips(peers, args.round_trips)
        others.update(await measure_contents(peers, args.ops))

    await run_hub(0, cold)
    await run_hub(1, warm)
    load = os.getloadavg()[0]
    title = (
        f"hub: {args.starts} starts, {args.round_trips} round trips, {args.ops} contents ops per "
        f"peer ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, load {load:.1f}); ratio = over {DIRECT}"
    )
    print_table(title, {**starts, **others}, DIRECT)
    print("\nadded by the user server (median ms over direct):")
    for operation, rows in {**starts, **others}.items():
        goal = GOALS.get(operation)
        added = _added(rows)
        verdict = (
            ""
            if goal is None
            else f"  goal < {goal:.0f} ms: {'met' if added < goal else 'NOT met'}"
        )
        print(f"  {operation:<22}{added:>+9.2f} ms  (p95 {p95(rows[VIA_USER]):.2f}){verdict}")
    for operation in ("save 10 kB file", "list 100 files"):
        rows = others[operation]
        ratio = statistics.median(rows[VIA_USER]) / statistics.median(rows[DIRECT])
        verdict = "met" if ratio < CONTENTS_GOAL else "NOT met"
        print(f"  {operation}: {ratio:.2f}x direct, goal < {CONTENTS_GOAL}x: {verdict}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
