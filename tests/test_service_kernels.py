"""Kernels of the jupyter-ide service under a real JupyterHub, through the gateway protocol.

Each hub user's token starts, lists and connects to that user's kernels only; a kernel runs in
a sandbox container with its owner's workspace at /workspace, whatever the client sends; a
plain Jupyter Server with ``GatewayClient.url`` set to the service runs cells through it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from tornado.httpclient import HTTPRequest

from jupyter_ide.kernels.profile import LABEL_KERNEL_ID, LABEL_SERVER

from .hubfixture import ACCESS, ServiceHub, free_port, service_hub, tail
from .kernel_host import require_images
from .kernel_ws import run_cell
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIMIT = 2  # ServiceKernelManager.max_kernels_per_user in these tests
BIN = Path(sys.executable).parent


@dataclass
class Class:
    """The hub, two students and a token for each."""

    hub: ServiceHub
    a: str
    b: str
    tokens: dict[str, str]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Class]:
    """One hub running the service (a small per-user kernel limit), with two students.

    Afterwards the service has left nothing behind: no kernel containers, no hand-off mounts.
    """
    require_images("python")
    tag = uuid.uuid4().hex[:6]
    a, b = f"ada-{tag}", f"bob-{tag}"
    # One warm ide-python kernel (the others start cold): both ways of starting are exercised.
    extra = f"""
        ide["command"] = [*ide["command"], "--ServiceKernelManager.max_kernels_per_user={LIMIT}",
                          "--SandboxManager.pool_specs=ide-python=1"]
    """
    base = tmp_path_factory.mktemp("service-kernels")
    with service_hub(base, moto_server, "managed", extra_config=extra) as (hub, _env):
        hub.add_user(a)
        hub.add_user(b)
        yield Class(hub, a, b, {a: hub.token(a, [ACCESS]), b: hub.token(b, [ACCESS])})
    server_id = next(base.rglob("server_id")).read_text().strip()
    engine = docker.from_env(timeout=30)
    left = engine.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={server_id}"})
    mounts = [
        line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(base) in line
    ]
    assert not left and not mounts, (left, mounts, tail(hub.log))


def _json(reply: requests.Response) -> Any:
    """The reply's JSON body, failing with the reply when it is not JSON."""
    try:
        return reply.json()
    except ValueError as e:
        raise AssertionError(f"{reply.status_code}: {reply.text[:500]}") from e


def _start(people: Class, who: str, body: dict[str, Any] | None = None) -> str:
    """Start a kernel as ``who``; return its id."""
    reply = people.hub.call(
        "/api/kernels", people.tokens[who], "POST", body or {"name": "ide-python"}
    )
    assert reply.status_code == 201, (reply.status_code, reply.text, tail(people.hub.log))
    model = _json(reply)
    assert model["name"] == "ide-python", model
    return str(model["id"])


def _stop(people: Class, who: str, kernel_id: str) -> None:
    """Shut one of ``who``'s kernels down."""
    reply = people.hub.call(f"/api/kernels/{kernel_id}", people.tokens[who], "DELETE")
    assert reply.status_code == 204, reply.text


def _save(people: Class, who: str, path: str, text: str) -> None:
    """Save a text file as ``who`` through the service's contents API."""
    model = {"type": "file", "format": "text", "content": text}
    reply = people.hub.call(f"/api/contents/{path}", people.tokens[who], "PUT", model)
    assert reply.status_code in (200, 201), reply.text


def _ws_url(http_url: str) -> str:
    """The websocket URL of an http URL."""
    return "ws" + http_url.removeprefix("http")


async def _run_cell(url: str, headers: dict[str, str], code: str, timeout: float = 120) -> str:
    """Run one cell over a kernel's channels websocket; return what it printed (and errors)."""
    return await run_cell(HTTPRequest(url, headers=headers, request_timeout=timeout), code, timeout)


def _cell(people: Class, who: str, kernel_id: str, code: str) -> str:
    """Run a cell in ``who``'s kernel through the service's channels websocket."""
    url = _ws_url(f"{people.hub.service_url}/api/kernels/{kernel_id}/channels")
    headers = {"Authorization": f"token {people.tokens[who]}"}
    return asyncio.run(_run_cell(url, headers, code))


def _served(people: Class, who: str, path: str, expected: str) -> None:
    """Wait until the contents API serves ``path`` to ``who`` with ``expected`` (it syncs)."""
    deadline = time.monotonic() + 60
    while True:
        reply = people.hub.call(f"/api/contents/{path}", people.tokens[who])
        if reply.status_code == 200 and _json(reply).get("content") == expected:
            return
        assert time.monotonic() < deadline, (reply.status_code, reply.text[:500])
        time.sleep(0.5)


def _wait_for_a_warm_kernel(people: Class) -> None:
    """Wait until the service's warm pool has an ide-python kernel ready."""
    deadline = time.monotonic() + 180
    while True:
        state = _json(people.hub.call("/ide/api/sandbox", people.tokens[people.a]))
        if state["pool"].get("ide-python", {}).get("ready", 0) >= 1:
            return
        assert time.monotonic() < deadline, state
        time.sleep(0.5)


def _containers_of(people: Class, kernel_id: str) -> int:
    """How many containers carry ``kernel_id`` as their kernel id (a cold start's do)."""
    engine = docker.from_env(timeout=30)
    found = engine.containers.list(all=True, filters={"label": f"{LABEL_KERNEL_ID}={kernel_id}"})
    return len(found)


def test_a_students_kernel_runs_on_their_own_files(people: Class) -> None:
    """A hub token starts ide-python; its cell reads a saved file and writes one served back."""
    _save(people, people.a, "hello.txt", "saved in the editor")
    health = _json(people.hub.call("/ide/api/health", people.tokens[people.a]))
    kernels = health["subsystems"]["kernels"]
    # As root warm kernels are handed over (hand-off mounts); otherwise every start is cold.
    warm = os.geteuid() == 0
    assert kernels["state"] == ("ok" if warm else "off"), kernels
    if warm:
        _wait_for_a_warm_kernel(people)
    kernel_id = _start(people, people.a)
    # A warm kernel keeps its container (labelled with its pool id); a cold one has its own.
    assert _containers_of(people, kernel_id) == (0 if warm else 1)
    try:
        out = _cell(people, people.a, kernel_id, "print(open('/workspace/hello.txt').read())")
        assert "saved in the editor" in out, out
        code = "open('/workspace/from-cell.txt', 'w').write('written by a cell')"
        assert _cell(people, people.a, kernel_id, code) == ""
        _served(people, people.a, "from-cell.txt", "written by a cell")
    finally:
        _stop(people, people.a, kernel_id)
    assert kernel_id not in {
        k["id"] for k in _json(people.hub.call("/api/kernels", people.tokens[people.a]))
    }


def test_another_student_cannot_see_or_touch_a_kernel(people: Class) -> None:
    """Bob gets 404 for every route on Ada's kernel, as if it did not exist."""
    hub, a, b = people.hub, people.a, people.b
    kernel_id = _start(people, a)
    try:
        tb = people.tokens[b]
        assert kernel_id in {k["id"] for k in _json(hub.call("/api/kernels", people.tokens[a]))}
        assert kernel_id not in {k["id"] for k in _json(hub.call("/api/kernels", tb))}
        assert hub.call(f"/api/kernels/{kernel_id}", tb).status_code == 404
        assert hub.call(f"/api/kernels/{kernel_id}/interrupt", tb, "POST").status_code == 404
        assert hub.call(f"/api/kernels/{kernel_id}/restart", tb, "POST").status_code == 404
        assert hub.call(f"/api/kernels/{kernel_id}", tb, "DELETE").status_code == 404
        url = _ws_url(f"{hub.service_url}/api/kernels/{kernel_id}/channels")
        with pytest.raises(Exception, match="404"):
            asyncio.run(_run_cell(url, {"Authorization": f"token {tb}"}, "print(1)", 30))
        # Ada's kernel is untouched by all that.
        assert _json(hub.call(f"/api/kernels/{kernel_id}", people.tokens[a]))["id"] == kernel_id
        assert _cell(people, a, kernel_id, "print(6 * 7)").strip() == "42"
        # Her own interrupt and restart work; restarted, it runs on her files again.
        _save(people, a, "after-restart.txt", "still ada's")
        assert (
            hub.call(f"/api/kernels/{kernel_id}/interrupt", people.tokens[a], "POST").status_code
            == 204
        )
        restarted = hub.call(f"/api/kernels/{kernel_id}/restart", people.tokens[a], "POST")
        assert restarted.status_code == 200, restarted.text
        out = _cell(people, a, kernel_id, "print(open('/workspace/after-restart.txt').read())")
        assert out.strip() == "still ada's", out
    finally:
        _stop(people, a, kernel_id)


def test_client_sent_user_volumes_uid_and_image_are_ignored(people: Class) -> None:
    """A start body naming Bob, his folder, uid 0 and another image starts Ada's sandbox."""
    a, b = people.a, people.b
    _save(people, a, "ada-only.txt", "ada")
    _save(people, b, "bob-only.txt", "bob")
    env = {
        "KERNEL_USERNAME": b,
        "KERNEL_VOLUMES": "[{'name': 'bob', 'host_path': '/'}]",
        "KERNEL_VOLUME_MOUNTS": "[{'name': 'bob', 'mountPath': '/workspace'}]",
        "KERNEL_UID": "0",
        "KERNEL_GID": "0",
        "KERNEL_IMAGE": "x",
        "KERNEL_ID": str(uuid.uuid4()),
    }
    kernel_id = _start(people, a, {"name": "ide-python", "env": env})
    try:
        assert kernel_id != env["KERNEL_ID"]
        code = "import os; print(os.getuid(), sorted(os.listdir('/workspace')))"
        out = _cell(people, a, kernel_id, code)
        uid, listed = out.split(" ", 1)
        assert uid != "0", out
        assert "ada-only.txt" in listed and "bob-only.txt" not in listed, out
        assert kernel_id not in {
            k["id"] for k in _json(people.hub.call("/api/kernels", people.tokens[b]))
        }
    finally:
        _stop(people, a, kernel_id)


def test_a_kernel_starts_in_a_folder_of_its_owners_workspace_only(people: Class) -> None:
    """path and KERNEL_WORKING_DIR pick a folder of /workspace; anything leaving it is the root."""
    a, hub = people.a, people.hub
    made = hub.call("/api/contents/lab1", people.tokens[a], "PUT", {"type": "directory"})
    assert made.status_code in (200, 201), made.text
    cases = [
        ({"name": "ide-python", "path": "lab1"}, "/workspace/lab1"),
        (
            {"name": "ide-python", "env": {"KERNEL_WORKING_DIR": "/workspace/lab1"}},
            "/workspace/lab1",
        ),
        ({"name": "ide-python", "path": "../../etc"}, "/workspace"),
        ({"name": "ide-python", "env": {"KERNEL_WORKING_DIR": "/etc"}}, "/workspace"),
    ]
    for body, expected in cases:
        kernel_id = _start(people, a, body)
        try:
            out = _cell(people, a, kernel_id, "import os; print(os.getcwd())")
            assert out.strip() == expected, (body, out)
        finally:
            _stop(people, a, kernel_id)


def test_warm_kernels_show_each_user_only_their_own_files(people: Class) -> None:
    """Warm kernels handed to Ada, then Bob (one after the other): each sees only their files."""
    a, b = people.a, people.b
    _save(people, a, "ada-warm.txt", "ada")
    _save(people, b, "bob-warm.txt", "bob")
    listing = "import os; print(sorted(os.listdir('/workspace')))"
    for who, mine, theirs in (
        (a, "ada-warm.txt", "bob-warm.txt"),
        (b, "bob-warm.txt", "ada-warm.txt"),
    ):
        if os.geteuid() == 0:
            _wait_for_a_warm_kernel(people)
        kernel_id = _start(people, who)
        try:
            assert _containers_of(people, kernel_id) == (0 if os.geteuid() == 0 else 1)
            out = _cell(people, who, kernel_id, listing)
            assert mine in out and theirs not in out, (who, out)
        finally:
            _stop(people, who, kernel_id)


def test_each_user_may_run_only_so_many_kernels(people: Class) -> None:
    """Past the per-user limit a start is a 429 that says so; another user still starts."""
    a, b = people.a, people.b
    started = [_start(people, a) for _ in range(LIMIT)]
    try:
        refused = people.hub.call("/api/kernels", people.tokens[a], "POST", {"name": "ide-python"})
        assert refused.status_code == 429, refused.text
        assert "shut one down" in _json(refused)["message"]
        theirs = _start(people, b)
        _stop(people, b, theirs)
    finally:
        for kernel_id in started:
            _stop(people, a, kernel_id)
    again = _start(people, a)  # room again once they are shut down
    _stop(people, a, again)


def test_starts_at_the_same_time_cannot_pass_the_limit(people: Class) -> None:
    """Several starts sent at once: exactly the limit start, the rest are 429s."""
    b = people.b

    def start(_: int) -> requests.Response:
        return people.hub.call("/api/kernels", people.tokens[b], "POST", {"name": "ide-python"})

    with ThreadPoolExecutor(max_workers=LIMIT + 2) as pool:
        replies = list(pool.map(start, range(LIMIT + 2)))
    started = [str(_json(r)["id"]) for r in replies if r.status_code == 201]
    try:
        assert sorted(r.status_code for r in replies) == [201] * LIMIT + [429] * 2, [
            (r.status_code, r.text[:200]) for r in replies
        ]
    finally:
        for kernel_id in started:
            _stop(people, b, kernel_id)


def test_kernels_refuse_tokens_that_sign_nobody_in(people: Class) -> None:
    """No, forged and other-service tokens get no kernels, and start none."""
    hub = people.hub
    body = {"name": "ide-python"}
    assert hub.call("/api/kernels", None).status_code == 403
    assert hub.call("/api/kernels", None, "POST", body).status_code == 403
    assert hub.call("/api/kernels", "f" * 32).status_code == 401
    assert hub.call("/api/kernels", "f" * 32, "POST", body).status_code == 401
    assert hub.call("/api/kernels", hub.other_token).status_code in (401, 403)
    assert hub.call("/api/kernels", hub.other_token, "POST", body).status_code in (401, 403)
    assert hub.call("/api/kernelspecs", "f" * 32).status_code == 401


def test_other_kernel_names_map_to_sandboxed_ones_or_are_refused(people: Class) -> None:
    """python3 runs as ide-python (policy.py); a kernel with no sandboxed twin is a 400."""
    hub, a = people.hub, people.a
    kernel_id = _start(people, a, {"name": "python3"})  # _start checks it is ide-python
    _stop(people, a, kernel_id)
    refused = hub.call("/api/kernels", people.tokens[a], "POST", {"name": "ir"})
    assert refused.status_code == 400, refused.text
    assert "ide-python" in _json(refused)["message"]
    specs = _json(hub.call("/api/kernelspecs", people.tokens[a]))
    assert "ide-python" in specs["kernelspecs"]
    assert _json(hub.call("/api/kernelspecs/python3", people.tokens[a]))["name"] == "ide-python"
    default = _start(people, a, {})  # no name: the default kernel, sandboxed as any other
    _stop(people, a, default)
    bad = hub.call("/api/kernels", people.tokens[a], "POST", {"name": 3})
    assert bad.status_code == 400, bad.text


@pytest.fixture
def gateway_server(people: Class, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A plain Jupyter Server whose kernels are the service's (GatewayClient), as Ada."""
    port, token = free_port(), uuid.uuid4().hex
    config = tmp_path / "config"
    config.mkdir()
    # Plain Jupyter: none of the environment's server extensions.
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {"jupyter_ide": False, "jupyter_server_terminals": False}
                }
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "AWS_"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [
            str(BIN / "jupyter"),
            "server",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
            f"--GatewayClient.url={people.hub.service_url}",
            f"--GatewayClient.auth_token={people.tokens[people.a]}",
            "--GatewayClient.auth_scheme=token",
            "--GatewayClient.request_timeout=120",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, tail(log)
            try:
                if requests.get(f"{url}/api/status", params={"token": token}, timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, tail(log)
            time.sleep(0.5)
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_jupyters_gateway_client_runs_cells_through_the_service(
    people: Class, gateway_server: tuple[str, str]
) -> None:
    """jupyter server --GatewayClient.url=<service>: its kernels are Ada's, in her sandbox."""
    url, token = gateway_server
    headers = {"Authorization": f"token {token}"}
    specs = requests.get(f"{url}/api/kernelspecs", headers=headers, timeout=60)
    assert specs.ok and "ide-python" in specs.json()["kernelspecs"], specs.text
    _save(people, people.a, "via-gateway.txt", "ada's file, seen through the gateway")
    started = requests.post(
        f"{url}/api/kernels", headers=headers, json={"name": "ide-python"}, timeout=180
    )
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    try:
        # The service knows it as Ada's kernel (the gateway client's token is hers).
        ada = {k["id"] for k in _json(people.hub.call("/api/kernels", people.tokens[people.a]))}
        assert kernel_id in ada
        code = "import os; print(os.getuid() != 0, open('/workspace/via-gateway.txt').read())"
        out = asyncio.run(
            _run_cell(_ws_url(f"{url}/api/kernels/{kernel_id}/channels"), headers, code)
        )
        assert out.strip() == "True ada's file, seen through the gateway", out
    finally:
        gone = requests.delete(f"{url}/api/kernels/{kernel_id}", headers=headers, timeout=60)
        assert gone.status_code == 204, gone.text
    assert kernel_id not in {
        k["id"] for k in _json(people.hub.call("/api/kernels", people.tokens[people.a]))
    }
