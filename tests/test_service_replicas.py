"""Two replicas of the jupyter-ide service behind haproxy, and one of them killed.

A real hub knows the service as an external one whose URL is haproxy's; haproxy
(tests/balancer.py, the README's affinity rule) sends each caller's kernel calls to one
replica and the stateless calls to either. Each replica has its own data dirs, as on another
machine; they share PostgreSQL, Redis and S3. One replica is killed with SIGKILL: the user's
kernel on it is reported dead (not hung) once its heartbeat is gone, the user's next kernel
starts on the other replica with the same files, and the AI quota in Redis still holds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from tornado.httpclient import HTTPRequest

from .hubfixture import ACCESS, browser_sign_in, call_with_token, tail
from .kernel_host import require_images
from .kernel_ws import run_cell
from .replicas import Replicas, two_replicas
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PER_MINUTE = 6  # the AI requests one user may make a minute, counted in Redis
KERNELS_PER_USER = 2  # the kernels one user may run at once, on all replicas together
HEARTBEAT = ["--SandboxManager.heartbeat_interval=1", "--SandboxManager.heartbeat_ttl=3"]
DEAD_WITHIN = 30  # s: the killed run's heartbeat lapses (3 s), then its kernels read dead
CALL_TIMEOUT = 20  # s: every call answers within this, before and after the kill


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up."""


@pytest.fixture
def replicas(
    tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer
) -> Iterator[Replicas]:
    """A hub whose external service is haproxy in front of two replicas."""
    require_images("python")
    base = tmp_path_factory.mktemp("service-replicas")
    args = [
        f"--AISettings.requests_per_minute={PER_MINUTE}",
        f"--ServiceKernelManager.max_kernels_per_user={KERNELS_PER_USER}",
        *HEARTBEAT,
    ]
    with two_replicas(base, moto_server, args) as started:
        yield started


def _call(url: str, token: str, method: str = "GET", body: Any = None) -> requests.Response:
    """Call ``url`` with ``token`` (every call answers within CALL_TIMEOUT)."""
    return call_with_token(url, token, method, body, timeout=CALL_TIMEOUT)


def _cell(service: str, token: str, kernel_id: str, code: str) -> str:
    """Run ``code`` on a kernel through its channels websocket; return its output."""
    url = "ws" + service.removeprefix("http") + f"/api/kernels/{kernel_id}/channels"
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=120)
    return asyncio.run(run_cell(request, code))


def _chat(url: str, token: str) -> requests.Response:
    """Ask the AI proxy at ``url`` (a service URL) one question."""
    chat = {"model": "echo", "messages": [{"role": "user", "content": "hello pool"}]}
    return _call(f"{url}/ide/api/ai/v1/chat/completions", token, "POST", chat)


def _logs(replicas: Replicas) -> str:
    """Both replicas' log tails, for a failure message."""
    return "\n".join(f"--- {r.log.name}\n{tail(r.log, 3000)}" for r in replicas.replicas)


def _signed_in_on_both(replicas: Replicas) -> None:
    """Check the OAuth sign-in's cookies (state, then login) are read by every replica."""
    hub = replicas.hub
    name = f"bea-{uuid.uuid4().hex[:6]}"
    hub.add_user(name)
    browser = requests.Session()
    for attempt in range(4):  # leastconn spreads the redirect and the callback over both
        browser.cookies.clear()
        page = browser_sign_in(browser, f"{hub.service_url}/ide", name)
        assert page.status_code == 200, (attempt, page.url, page.text[:300], _logs(replicas))
        assert page.url == f"{hub.service_url}/ide", page.url
    for replica in replicas.replicas:  # straight to each replica, with the same cookies
        answer = browser.get(f"{replica.url}/ide/api/auth/me", timeout=CALL_TIMEOUT)
        assert answer.status_code == 200, (replica.url, answer.status_code, answer.text)
        assert answer.json()["name"] == name


def test_a_killed_replica_moves_its_users_to_the_other(replicas: Replicas) -> None:
    """SIGKILL one replica: dead kernel reported, next kernel on the other, files, quota."""
    hub = replicas.hub
    service = hub.service_url  # the hub's proxy, then haproxy
    name = f"ada-{uuid.uuid4().hex[:6]}"
    hub.add_user(name)
    token = hub.token(name, [ACCESS])

    saved = {"type": "file", "format": "text", "content": "saved before the kill\n"}
    put = _call(f"{service}/api/contents/saved.txt", token, "PUT", saved)
    assert put.status_code == 201, put.text
    started = _call(f"{service}/api/kernels", token, "POST", {"name": "ide-python"})
    assert started.status_code == 201, (started.text, _logs(replicas))
    kernel_id = started.json()["id"]
    code = "open('/workspace/by-code.txt', 'w').write('written by a cell\\n'); print('ok')"
    assert _cell(service, token, kernel_id, code).strip() == "ok"
    deadline = time.monotonic() + 30
    while _call(f"{service}/api/contents/by-code.txt", token).status_code != 200:
        assert time.monotonic() < deadline, "the cell's file never reached the contents API"
        time.sleep(0.5)

    # The kernel lives on one replica; the other neither calls it dead nor starts it again.
    answers = {r.url: _call(f"{r.url}/api/kernels/{kernel_id}", token) for r in replicas.replicas}
    holders = [r for r in replicas.replicas if answers[r.url].status_code == 200]
    assert len(holders) == 1, {u: (a.status_code, a.text) for u, a in answers.items()}
    holder = holders[0]
    other = next(r for r in replicas.replicas if r is not holder)
    assert answers[holder.url].json()["execution_state"] != "dead"
    assert answers[other.url].status_code == 421, answers[other.url].text
    assert "another replica" in answers[other.url].json()["message"]
    again = _call(f"{other.url}/api/kernels/{kernel_id}/restart", token, "POST", {})
    assert again.status_code == 421, again.text
    listed = _call(f"{other.url}/api/kernels", token).json()
    assert kernel_id not in {k["id"] for k in listed}, listed  # not shown dead while it lives
    # Affinity: every kernel call of this caller through haproxy reaches the holder.
    for _ in range(6):
        through = _call(f"{service}/api/kernels/{kernel_id}", token)
        assert through.status_code == 200, through.text
    # The per-user kernel limit counts the kernels every live replica runs for the caller.
    second = _call(f"{other.url}/api/kernels", token, "POST", {"name": "ide-python"})
    assert second.status_code == 201, (second.text, _logs(replicas))
    over = _call(f"{other.url}/api/kernels", token, "POST", {"name": "ide-python"})
    assert over.status_code == 429 and "2 kernels" in over.json()["message"], over.text
    gone = _call(f"{other.url}/api/kernels/{second.json()['id']}", token, "DELETE")
    assert gone.status_code == 204, gone.text

    _signed_in_on_both(replicas)  # a browser too, while both run

    # The AI quota is one count in Redis, whichever replica answers (a calendar minute's
    # count: start early in a minute, so that the checks after the kill fall in the same one).
    while time.gmtime().tm_sec > 30:
        time.sleep(1)
    for n in range(PER_MINUTE):
        answer = _chat((holder, other)[n % 2].url, token)
        assert answer.status_code == 200, answer.text
    refused = _chat(service, token)
    assert refused.status_code == 429, refused.text

    os.kill(holder.process.pid, signal.SIGKILL)  # a crash: no clean-up at all
    holder.process.wait(timeout=10)
    after_kill = _chat(service, token)  # the survivor answers, with the same count
    assert after_kill.status_code == 429, after_kill.text

    # Reported dead, not hung: each call answers at once; dead once the heartbeat is gone.
    deadline = time.monotonic() + DEAD_WITHIN
    while True:
        model = _call(f"{service}/api/kernels/{kernel_id}", token)
        assert model.status_code in (200, 421), (model.status_code, model.text)
        if model.status_code == 200 and model.json()["execution_state"] == "dead":
            break
        assert time.monotonic() < deadline, (model.text, _logs(replicas))
        time.sleep(1)
    listed = {k["id"]: k for k in _call(f"{service}/api/kernels", token).json()}
    assert listed[kernel_id]["execution_state"] == "dead", listed

    # The next kernel starts on the survivor, with the same files.
    fresh = _call(f"{service}/api/kernels", token, "POST", {"name": "ide-python"})
    assert fresh.status_code == 201, (fresh.text, _logs(replicas))
    fresh_id = fresh.json()["id"]
    on_other = _call(f"{other.url}/api/kernels/{fresh_id}", token)
    assert on_other.status_code == 200 and on_other.json()["execution_state"] != "dead"
    code = "print(open('/workspace/saved.txt').read() + open('/workspace/by-code.txt').read())"
    out = _cell(service, token, fresh_id, code)
    assert out.split() == "saved before the kill written by a cell".split(), out

    # The dead kernel restarts under its id on the survivor, in the same workspace.
    restarted = _call(f"{service}/api/kernels/{kernel_id}/restart", token, "POST", {})
    assert restarted.status_code == 200, (restarted.text, _logs(replicas))
    out = _cell(service, token, kernel_id, "print(open('/workspace/saved.txt').read())")
    assert out.strip() == "saved before the kill", out

    assert _call(f"{service}/api/contents/saved.txt", token).status_code == 200
    for kid in (kernel_id, fresh_id):
        assert _call(f"{service}/api/kernels/{kid}", token, "DELETE").status_code == 204
