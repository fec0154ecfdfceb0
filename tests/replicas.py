"""Replicas of the jupyter-ide service behind haproxy, under a real hub (tests and bench).

Each replica is a `jupyter ide service` process with data dirs of its own, as on another
machine, sharing the hub's PostgreSQL, Redis and S3; haproxy (tests/balancer.py, the README's
affinity rule) is the hub's external service URL.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from .balancer import haproxy
from .hubfixture import BIN, ServiceHub, free_port, service_hub, tail, wait_for_service
from .s3_server import MotoServer
from .test_service_external import OWN_SETTINGS


@dataclass
class Replica:
    """One `jupyter ide service` process: its direct URL (the service's prefix), log, process."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]


@dataclass
class Replicas:
    """The hub, its service URL through haproxy, the two replicas, and how to start one again."""

    hub: ServiceHub
    replicas: list[Replica]
    hub_env: dict[str, str]
    base: Path
    args: Sequence[str]


def start_replica(
    base: Path,
    hub: ServiceHub,
    hub_env: dict[str, str],
    n: int,
    args: Sequence[str],
    port: int | None = None,
) -> Replica:
    """Start replica ``n`` on a port of its own (or ``port``), with data dirs of its own."""
    port = port or free_port()
    own = base / f"replica{n}"
    env = {name: hub_env[name] for name in OWN_SETTINGS if name in hub_env}
    env.update(
        {
            "JUPYTERHUB_API_TOKEN": hub_env["JUPYTER_IDE_SERVICE_TOKEN"],
            "JUPYTERHUB_API_URL": f"{hub.url}/hub/api",
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
            "JUPYTER_IDE_AI_POOL_URL": hub_env["JUPYTER_IDE_AI_POOL_URL"],
            "JUPYTER_DATA_DIR": str(own / "data"),
            "JUPYTER_RUNTIME_DIR": str(own / "runtime"),
            "JUPYTER_CONFIG_DIR": str(own / "config"),
        }
    )
    log = base / f"replica{n}.log"
    command = [
        str(BIN / "jupyter"),
        "ide",
        "service",
        "--JudgeSettings.pool_size=0",
        "--SandboxManager.pool_size=0",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # root in CI containers
        *args,
    ]
    process = subprocess.Popen(
        command, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=base
    )
    return Replica(f"http://127.0.0.1:{port}/services/ide", log, process)


def stop_replica(process: subprocess.Popen[bytes]) -> None:
    """Stop a replica (if still running) and wait for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_up(replica: Replica) -> None:
    """Wait until a replica's extension refuses an anonymous call (it serves)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert replica.process.poll() is None, f"a replica exited:\n{tail(replica.log)}"
        try:
            if requests.get(f"{replica.url}/ide/api/health", timeout=5).status_code == 403:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"a replica did not start:\n{tail(replica.log)}")


@contextmanager
def two_replicas(
    base: Path, moto: MotoServer, args: Sequence[str], extra_env: dict[str, str] | None = None
) -> Iterator[Replicas]:
    """A hub whose external service is haproxy in front of two replicas started with ``args``.

    ``extra_env`` is more of the hub's environment (e.g. JUPYTER_IDE_INSTRUCTORS).
    """
    with service_hub(base, moto, "external", extra_env) as (hub, hub_env):
        port = int(hub_env["JUPYTER_IDE_SERVICE_URL"].rsplit(":", 1)[1])
        started: list[Replica] = []
        try:
            for n in range(2):  # one after the other: the first one migrates the database
                started.append(start_replica(base, hub, hub_env, n, args))
                wait_up(started[-1])
            backends = [r.url.split("/")[2] for r in started]
            with haproxy(base, port, backends):
                wait_for_service(hub, started[0].process)
                yield Replicas(hub, started, hub_env, base, args)
        finally:
            for replica in started:
                stop_replica(replica.process)
            hub.log = base / "replica0.log"
