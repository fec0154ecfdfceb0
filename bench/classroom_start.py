"""Classroom start: a class signs in at once and runs a first cell, no server spawned (#14).

One real JupyterHub (deploy/jupyterhub_config.py, the managed service with a warm pool of
``ide-python`` kernels, one per student, a local OIDC provider, PostgreSQL, Redis, moto S3).
When the pool is full, N students (``--students``, default 50) start together, each as a
browser does at the service's /ide: the hub's OAuth and the provider's login and consent
pages up to the /ide page, then what the /ide app does to open a notebook (a session, with
the page's OAuth cookie and XSRF token) up to the first ``execute_reply`` on the kernel's
websocket. Per student: sign-in, kernel (session request to first reply) and their sum;
and the wall time from the class's start to the last student's first reply.

Run alone: ``.venv/bin/python -m bench.classroom_start [--students N]``.
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
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.hubfixture import ACCESS, ServiceHub, browser_sign_in, service_hub
from tests.kernel_host import require_images
from tests.s3_server import MotoServer

from .quick import quick
from .stats import p95, print_table

PEER = "service /ide, no spawn"
POOL_WAIT = 600  # seconds for the warm pool to fill


@dataclass
class Start:
    """One student's start, in ms, and when it ended (perf_counter seconds)."""

    sign_in: float
    kernel: float
    ended: float


def _xsrf(session: requests.Session) -> str:
    """The service's XSRF cookie, which the /ide page sends back as a header."""
    return next(str(c.value) for c in session.cookies if c.name == "_xsrf" and "services" in c.path)


async def _first_reply(url: str, headers: dict[str, str]) -> None:
    """Connect to a kernel's channels websocket and run ``1`` until its execute_reply."""
    ws = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=180))
    try:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "bench"}
        header |= {"session": uuid.uuid4().hex, "date": "", "version": "5.3"}
        content = {"code": "1", "silent": False, "allow_stdin": False}
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        await ws.write_message(json.dumps({**message, "channel": "shell"}))
        while True:
            raw = await asyncio.wait_for(ws.read_message(), 180)
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            reply = json.loads(raw)
            if (
                reply.get("parent_header", {}).get("msg_id") == msg_id
                and reply["msg_type"] == "execute_reply"
            ):
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"execute failed: {reply['content']}")
                return
    finally:
        ws.close()


def student_start(hub: ServiceHub, name: str, go: threading.Event) -> Start:
    """Sign ``name`` in at the service's /ide as a browser does; open a notebook's kernel."""
    browser = requests.Session()
    go.wait()
    began = time.perf_counter()
    page = browser_sign_in(browser, f"{hub.service_url}/ide", name)
    if page.status_code != 200 or not page.url.startswith(f"{hub.service_url}/ide"):
        raise RuntimeError(f"{name}: sign-in ended at {page.status_code} {page.url}")
    signed_in = time.perf_counter()
    xsrf = _xsrf(browser)
    body: dict[str, Any] = {"path": "first.ipynb", "type": "notebook"}
    body["kernel"] = {"name": "ide-python"}
    reply = browser.post(
        f"{hub.service_url}/api/sessions", json=body, headers={"X-XSRFToken": xsrf}, timeout=180
    )
    if reply.status_code != 201:
        raise RuntimeError(f"{name}: session: {reply.status_code} {reply.text[:300]}")
    kernel_id = reply.json()["kernel"]["id"]
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies if "services" in c.path)
    url = "ws" + hub.service_url.removeprefix("http") + f"/api/kernels/{kernel_id}/channels"
    asyncio.run(_first_reply(url, {"Cookie": cookies, "X-XSRFToken": xsrf}))
    ended = time.perf_counter()
    return Start((signed_in - began) * 1000, (ended - signed_in) * 1000, ended)


def wait_for_pool(hub: ServiceHub, token: str, ready: int) -> None:
    """Wait until the service's warm pool holds ``ready`` ide-python kernels."""
    deadline = time.monotonic() + POOL_WAIT
    while True:
        reply = hub.call("/ide/api/sandbox", token)
        have = reply.json()["pool"].get("ide-python", {}).get("ready", 0) if reply.ok else 0
        if have >= ready:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the warm pool holds {have} of {ready} kernels after {POOL_WAIT} s")
        time.sleep(1)


def run_class(base: Path, moto: MotoServer, students: int) -> tuple[list[Start], float]:
    """Start the hub, fill the pool, start every student at once; their starts and the wall."""
    extra = f"""
        ide["command"] = [*ide["command"], "--SandboxManager.pool_specs=ide-python={students}"]
    """
    with service_hub(base, moto, "managed", extra_config=extra) as (hub, _env):
        tag = uuid.uuid4().hex[:6]
        names = [f"s{i:03}-{tag}" for i in range(students)]
        hub.add_user(names[0])
        wait_for_pool(hub, hub.token(names[0], [ACCESS]), students)
        go = threading.Event()
        with ThreadPoolExecutor(max_workers=students) as pool:
            futures = [pool.submit(student_start, hub, name, go) for name in names]
            time.sleep(0.5)  # every thread waits at the line
            began = time.perf_counter()
            go.set()
            starts = [future.result() for future in futures]
        wall = (max(s.ended for s in starts) - began) * 1000
    return starts, wall


async def main(argv: list[str] | None = None) -> None:
    """Run one class start and print per-student figures and the wall time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5 if quick() else 50)
    args = parser.parse_args(argv if argv is not None else [])
    if args.students < 2:
        parser.error("--students must be at least 2 (a p95 needs two)")
    require_images("python")
    moto = MotoServer()
    moto.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-classroom-") as tmp:
            starts, wall = await asyncio.to_thread(run_class, Path(tmp), moto, args.students)
    finally:
        moto.stop()
    rows = {
        "sign-in to /ide page": {PEER: [s.sign_in for s in starts]},
        "session to first reply": {PEER: [s.kernel for s in starts]},
        "start per student": {PEER: [s.sign_in + s.kernel for s in starts]},
    }
    load = os.getloadavg()[0]
    title = (
        f"classroom start: {args.students} students at once, warm ide-python kernels "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, load {load:.1f})"
    )
    print_table(title, rows, PEER)
    total = rows["start per student"][PEER]
    print(
        f"\nwall time, class start to the last first reply: {wall / 1000:.2f} s "
        f"(median start {statistics.median(total) / 1000:.2f} s, p95 {p95(total) / 1000:.2f} s)"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
