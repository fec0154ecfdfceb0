"""The jupyter-ide service restarting mid-session: kernels shown dead and restarted, no file lost.

A real hub runs the managed service and one student's server (a local process, the service's
client). The service is killed as a crash would kill it; the hub starts it again. Through her
own server the student then sees her kernel dead, restarts it under the same id, and finds
every file she saved and every file her code wrote before the crash.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tornado.httpclient import HTTPRequest

from .hubfixture import (
    ACCESS,
    ServiceHub,
    call_with_token,
    service_hub,
    start_user_server,
    tail,
    user_server_request,
    user_servers_config,
)
from .kernel_host import require_images
from .kernel_ws import run_cell
from .s3_server import MotoServer

BACK_WITHIN = 120  # s: the hub polls its managed services every 30 s, then starts it again


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process Jupyter server here."""


@pytest.fixture
def student(
    tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer
) -> Iterator[tuple[ServiceHub, str, str]]:
    """A hub with the service and Ada's running server; yields the hub, her name and token."""
    require_images("python")
    name = f"ada-{uuid.uuid4().hex[:6]}"
    base = tmp_path_factory.mktemp("service-restart")
    with service_hub(base, moto_server, "managed", extra_config=user_servers_config(base, 0)) as (
        hub,
        _env,
    ):
        hub.add_user(name)
        token = hub.token(name, [f"access:servers!user={name}", ACCESS])
        start_user_server(hub, name)
        try:
            yield hub, name, token
        finally:
            user_server_request(hub, name, "DELETE")


def _call(url: str, token: str, method: str = "GET", body: Any = None) -> requests.Response:
    """Call ``url`` with ``token`` (every call answers within 180 s)."""
    return call_with_token(url, token, method, body, timeout=180)


def _service_pid() -> int:
    """The process id of the hub's managed jupyter-ide service."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"JUPYTERHUB_SERVICE_NAME=ide" in environ and b"service" in command:
            return int(entry.name)
    raise AssertionError("no jupyter-ide service process")


def _cell(server: str, token: str, kernel_id: str, code: str) -> str:
    """Run ``code`` on a kernel through ``server``'s channels websocket; return its output."""
    url = "ws" + server.removeprefix("http") + f"/api/kernels/{kernel_id}/channels"
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=120)
    return asyncio.run(run_cell(request, code))


def test_a_crash_of_the_service_shows_kernels_dead_and_loses_no_file(
    student: tuple[ServiceHub, str, str],
) -> None:
    """Killed mid-session: back by itself, her kernel dead then restarted, her files all there."""
    hub, name, token = student
    server = f"{hub.url}/user/{name}"
    saved = {"type": "file", "format": "text", "content": "saved before the crash\n"}
    assert _call(f"{server}/api/contents/saved.txt", token, "PUT", saved).status_code == 201
    started = _call(f"{server}/api/kernels", token, "POST", {"name": "ide-python"})
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    code = "open('/workspace/by-code.txt', 'w').write('written by a cell\\n'); print('ok')"
    assert _cell(server, token, kernel_id, code).strip() == "ok"
    deadline = time.monotonic() + 30
    while _call(f"{server}/api/contents/by-code.txt", token).status_code != 200:
        assert time.monotonic() < deadline, "the cell's file never reached the contents API"
        time.sleep(0.5)

    old = _service_pid()
    os.kill(old, signal.SIGKILL)  # a crash: no clean-up at all
    deadline = time.monotonic() + BACK_WITHIN
    while True:
        try:
            back = _call(f"{hub.service_url}/api/kernels", token)
            if back.status_code == 200 and _service_pid() != old:
                break
        except (requests.RequestException, AssertionError):
            pass
        assert time.monotonic() < deadline, f"the service did not come back:\n{tail(hub.log)}"
        time.sleep(1)

    # Through her own server (GatewayClient), the kernel is there and dead.
    listed = {k["id"]: k for k in _call(f"{server}/api/kernels", token).json()}
    assert listed[kernel_id]["execution_state"] == "dead", listed
    model = _call(f"{server}/api/kernels/{kernel_id}", token).json()
    assert model["execution_state"] == "dead", model
    # Another user does not see it, dead or not.
    other = f"bob-{uuid.uuid4().hex[:6]}"
    hub.add_user(other)
    bob = hub.token(other, [ACCESS])
    assert kernel_id not in {k["id"] for k in _call(f"{hub.service_url}/api/kernels", bob).json()}
    refused = _call(f"{hub.service_url}/api/kernels/{kernel_id}/restart", bob, "POST", {})
    assert refused.status_code == 404, refused.text

    restarted = _call(f"{server}/api/kernels/{kernel_id}/restart", token, "POST", {})
    assert restarted.status_code == 200, (restarted.text, tail(hub.log, 6000))
    assert restarted.json()["id"] == kernel_id
    code = "print(open('/workspace/saved.txt').read() + open('/workspace/by-code.txt').read())"
    out = _cell(server, token, kernel_id, code)
    assert out.split() == "saved before the crash written by a cell".split(), out
    live = _call(f"{hub.service_url}/api/kernels/{kernel_id}", token).json()
    assert live["execution_state"] != "dead", live

    # Shut down by her: gone for good, not dead.
    assert _call(f"{server}/api/kernels/{kernel_id}", token, "DELETE").status_code == 204
    assert kernel_id not in {k["id"] for k in _call(f"{server}/api/kernels", token).json()}
    assert _call(f"{hub.service_url}/api/kernels/{kernel_id}", token).status_code == 404
