"""Start `jupyter ide judge-worker` processes as tests/launch.py starts servers. No tests here.

Each worker gets a fresh HOME (its own data dir, as on another node), the environment the
test passes and nothing else of the test process's settings. On exit it gets SIGTERM (SIGKILL
after a grace period), the containers labelled with its server id go, and its HOME goes.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker

from jupyter_ide.kernels.judge.worker_app import READY_LINE
from jupyter_ide.kernels.profile import LABEL_SERVER

from .launch import PASSED_ENV, REPO, STOP_TIMEOUT, VENV_BIN, LaunchError, _home_for, _remove_home

START_TIMEOUT = 120.0


@dataclass
class Worker:
    """A running judge worker: its process, HOME, log and consumer name in the group."""

    process: subprocess.Popen[bytes]
    home: Path
    log_path: Path
    consumer: str = ""

    def log(self) -> str:
        """What the worker printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the worker's process (its boxes stay until another run reaps them)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def server_id(self) -> str:
        """The server id the worker's boxes are labelled with."""
        path = self.home / ".local" / "share" / "jupyter" / "jupyter_ide" / "server_id"
        try:
            return path.read_text().strip()
        except OSError:
            return ""


def _wait_ready(worker: Worker, timeout: float) -> None:
    """Wait for the worker's ready line; raise with its log when it exits or never says it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise LaunchError(f"judge-worker exited {worker.process.returncode}:\n{worker.log()}")
        found = re.search(rf"{READY_LINE}: .* as (\S+)", worker.log())
        if found:
            worker.consumer = found.group(1)
            return
        time.sleep(0.3)
    raise LaunchError(f"judge-worker was not ready in {timeout:.0f} s:\n{worker.log()[-4000:]}")


@contextlib.contextmanager
def judge_worker(env: Mapping[str, str], args: tuple[str, ...] = ()) -> Iterator[Worker]:
    """Run `jupyter ide judge-worker` with ``env``; yield it once ready; stop and clean up."""
    home = _home_for(pwd.getpwuid(os.geteuid()))
    run_env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    run_env["PATH"] = f"{VENV_BIN}:{run_env.get('PATH', '/usr/local/bin:/usr/bin:/bin')}"
    run_env.update(HOME=str(home), PYTHONPATH=str(REPO))
    run_env.update(env)
    log_path = home / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "jupyter"), "ide", "judge-worker", *args],
            env=run_env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, home, log_path)
    try:
        _wait_ready(worker, START_TIMEOUT)
        yield worker
    finally:
        _stop(worker)
        _remove_containers(worker.server_id())
        _remove_home(home)


def _stop(worker: Worker) -> None:
    """SIGTERM, wait, then SIGKILL the worker's process group."""
    process = worker.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _remove_containers(server_id: str) -> None:
    """Remove every container labelled with ``server_id``."""
    if not server_id:
        return
    client = docker.from_env(timeout=30)
    try:
        for container in client.containers.list(
            all=True, filters={"label": f"{LABEL_SERVER}={server_id}"}
        ):
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
    finally:
        client.close()
