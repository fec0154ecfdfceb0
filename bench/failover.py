"""Failover of the jupyter-ide service: how soon a killed replica's users are served again.

Setup, in one run on this machine: a real JupyterHub whose external service is haproxy in
front of two `jupyter ide service` replicas (tests/replicas.py: the README's affinity rule,
PostgreSQL, Redis, moto's S3, Docker sandboxes, default heartbeat settings). A user saves a
file and runs a cell on a kernel; the replica that holds the kernel is killed with SIGKILL.
From the kill, three clocks run at once, each polling through the hub's proxy and haproxy:

- files: the user's file is read again (the contents API answers 200);
- new kernel: a new kernel starts and runs a cell that reads the file;
- old kernel dead: the killed kernel is reported ``dead`` (then it can be restarted).

Peers:
- "two replicas": the survivor takes over (haproxy's health check drops the dead one);
- "one replica, restarted": the other replica is stopped first, so one process serves, and it
  is started again right after the kill, as systemd or the hub would restart a lone service.

Run alone: ``.venv/bin/python -m bench.failover [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from tornado.httpclient import HTTPRequest

from tests.hubfixture import ACCESS, call_with_token
from tests.kernel_ws import run_cell
from tests.replicas import Replica, Replicas, start_replica, stop_replica, two_replicas, wait_up
from tests.s3_server import MotoServer

from .quick import quick
from .stats import p95

ROUNDS = 1 if quick() else 3
# Quick mode (a smoke run in the suite) does not wait out the default 20 s heartbeat.
ARGS = (
    ["--SandboxManager.heartbeat_interval=1", "--SandboxManager.heartbeat_ttl=3"] if quick() else []
)
GIVE_UP = 120.0  # s: a clock that has not stopped by then reads as a failure
POLL = 0.1  # s between polls of one clock
CONTENT = "served again\n"
CLOCKS = ("files", "new kernel", "old kernel dead")


def _call(url: str, token: str, method: str = "GET", body: Any = None) -> requests.Response:
    """Call ``url`` with ``token`` (short: a dead backend must not stall a clock for long)."""
    return call_with_token(url, token, method, body, timeout=30)


def _cell(service: str, token: str, kernel_id: str, code: str) -> str:
    """Run ``code`` on a kernel through the service's channels websocket; return its output."""
    url = "ws" + service.removeprefix("http") + f"/api/kernels/{kernel_id}/channels"
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=60)
    return asyncio.run(run_cell(request, code, timeout=60))


def _until(check: Any, since: float) -> float:
    """Poll ``check()`` until it is true; return seconds since ``since`` (inf on giving up)."""
    while time.monotonic() - since < GIVE_UP:
        try:
            if check():
                return time.monotonic() - since
        except (requests.RequestException, OSError, asyncio.TimeoutError):
            pass
        time.sleep(POLL)
    return float("inf")


def _new_kernel_works(service: str, token: str) -> bool:
    """Start a kernel and read the user's file from it; shut it down again."""
    started = _call(f"{service}/api/kernels", token, "POST", {"name": "ide-python"})
    if started.status_code != 201:
        return False
    kernel_id = started.json()["id"]
    try:
        out = _cell(service, token, kernel_id, "print(open('/workspace/kept.txt').read())")
        return out.strip() == CONTENT.strip()
    finally:
        _call(f"{service}/api/kernels/{kernel_id}", token, "DELETE")


def _holder(replicas: Replicas, token: str, kernel_id: str) -> Replica:
    """Return the replica that runs ``kernel_id`` (asked directly)."""
    for replica in replicas.replicas:
        if _call(f"{replica.url}/api/kernels/{kernel_id}", token).status_code == 200:
            return replica
    raise RuntimeError(f"no replica holds kernel {kernel_id}")


def _restart(replicas: Replicas, replica: Replica) -> None:
    """Start ``replica`` again in its place (same port, data dirs and arguments)."""
    n = replicas.replicas.index(replica)
    port = int(replica.url.split("/")[2].rsplit(":", 1)[1])
    again = start_replica(
        replicas.base, replicas.hub, replicas.hub_env, n, replicas.args, port=port
    )
    replicas.replicas[n] = again
    wait_up(again)


def one_round(replicas: Replicas, lone: bool) -> dict[str, float]:
    """Kill the replica holding a user's kernel; return each clock's seconds."""
    service = replicas.hub.service_url
    name = f"fo-{uuid.uuid4().hex[:6]}"
    replicas.hub.add_user(name)
    token = replicas.hub.token(name, [ACCESS])
    saved = {"type": "file", "format": "text", "content": CONTENT}
    assert _call(f"{service}/api/contents/kept.txt", token, "PUT", saved).status_code == 201
    started = _call(f"{service}/api/kernels", token, "POST", {"name": "ide-python"})
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    assert _cell(service, token, kernel_id, "print(6 * 7)").strip() == "42"
    holder = _holder(replicas, token, kernel_id)
    other = next(r for r in replicas.replicas if r is not holder)
    if lone:  # one process serves: the other one is not there at all
        stop_replica(other.process)
        stopped = time.monotonic()
        _until(lambda: _call(f"{service}/api/contents", token).status_code == 200, stopped)

    since = time.monotonic()
    os.kill(holder.process.pid, signal.SIGKILL)
    holder.process.wait(10)
    with ThreadPoolExecutor(4) as pool:
        if lone:  # what a supervisor does: start it again at once
            pool.submit(_restart, replicas, holder)

        def files() -> bool:
            return _call(f"{service}/api/contents/kept.txt", token).status_code == 200

        def dead() -> bool:
            model = _call(f"{service}/api/kernels/{kernel_id}", token)
            return model.status_code == 200 and model.json()["execution_state"] == "dead"

        clocks = {
            "files": pool.submit(_until, files, since),
            "new kernel": pool.submit(_until, lambda: _new_kernel_works(service, token), since),
            "old kernel dead": pool.submit(_until, dead, since),
        }
        measured = {clock: future.result() for clock, future in clocks.items()}
    _call(f"{service}/api/kernels/{kernel_id}", token, "DELETE")
    if lone:
        _restart(replicas, other)
    else:
        _restart(replicas, holder)
    # Both back in haproxy (its check needs two good answers in a row) before the next round.
    time.sleep(2)
    return measured


def print_report(results: dict[str, list[dict[str, float]]]) -> None:
    """Print each peer's median and p95 per clock, and the ratio to the lone replica."""
    print("\nService failover: SIGKILL of the replica holding the user's kernel (seconds)")
    print(f"{'clock':<18}{'peer':<26}{'median s':>10}{'p95 s':>9}{'ratio':>8}{'rounds':>8}")
    lone = "one replica, restarted"
    for clock in CLOCKS:
        base = statistics.median(r[clock] for r in results[lone])
        for peer, rounds in results.items():
            values = [r[clock] for r in rounds]
            median = statistics.median(values)
            high = p95(values) if len(values) > 1 else values[0]
            ratio = median / base if base else float("nan")
            print(f"{clock:<18}{peer:<26}{median:>10.2f}{high:>9.2f}{ratio:>8.2f}{len(values):>8}")
    print(f"(inf = not served again within {GIVE_UP:.0f} s)")


def run(rounds: int) -> None:
    """Start the hub and two replicas; run the rounds of both peers; print the table."""
    moto = MotoServer()
    moto.start()
    results: dict[str, list[dict[str, float]]] = {"one replica, restarted": [], "two replicas": []}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp:
            with two_replicas(Path(tmp), moto, ARGS) as replicas:
                for _ in range(rounds):
                    for peer in results:
                        lone = peer == "one replica, restarted"
                        results[peer].append(one_round(replicas, lone))
    finally:
        moto.stop()
    print_report(results)


async def main(rounds: int = ROUNDS) -> None:
    """Run the bench (its processes and polls in a thread of their own)."""
    await asyncio.to_thread(run, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Failover of the jupyter-ide service.")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    asyncio.run(main(parser.parse_args().rounds))
