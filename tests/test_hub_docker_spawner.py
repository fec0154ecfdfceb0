"""Trust, with hub users' servers as containers (DockerSpawner), as a deployment runs them.

The suite builds the user image here (jupyter-ide/singleuser, from our offline core image and a
wheel of this checkout; reused while the wheel is unchanged), makes a user-defined bridge
network, and starts a real hub (deploy/jupyterhub_config.py, the managed service) whose hub API
and service listen on that network's gateway address; PostgreSQL, Redis, moto and the AI pool
stay on the host's 127.0.0.1. An instructor and two students; one student signs in through the
local OIDC provider as a browser does. From inside a student's server container and from a
kernel started through it: no secret of the service's, the hub's or another user's can be
found, and the database, Redis and S3 cannot be reached. Across servers and the service: no
student reaches another's files or kernels, client-sent kernel owners and volumes are ignored,
and forged, expired and other-service tokens are refused.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from sqlalchemy.engine import make_url
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_ide.kernels.images.userimage import (
    CHECKOUT,
    build_wheel,
    ensure_user_image,
    wheel_digest,
)
from jupyter_ide.kernels.profile import LABEL_KERNEL_ID, LABEL_OWNER

from .hubfixture import (
    ACCESS,
    ServiceHub,
    browser_sign_in,
    free_port,
    service_hub,
    start_user_server,
    tail,
    user_server_call,
    user_server_request,
)
from .kernel_host import require_images
from .kernel_ws import run_cell
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Looks for each secret (given on stdin or in the cell, XOR-masked so that no process's
# command line, environment or file holds it) in every readable /proc/*/environ and cmdline,
# its own environment and every readable regular file (/proc, /sys and /dev aside).
SCAN = r"""
import json, os, socket

def unmask(blob):
    key, data = (bytes.fromhex(part) for part in blob.split(":"))
    values = bytes(b ^ key[i % len(key)] for i, b in enumerate(data))
    return [v.encode() for v in json.loads(values.decode())]

def scan(needles):
    found, counts = [], {"procs": 0, "files": 0}
    def check(where, data):
        for index, needle in enumerate(needles):
            if needle in data:
                found.append([where, index])
    check("os.environ", "\0".join(f"{k}={v}" for k, v in os.environ.items()).encode())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as f:
                    check(f"/proc/{pid}/{part}", f.read())
                counts["procs"] += part == "environ"
            except OSError:
                pass
    for top, dirs, files in os.walk("/"):
        if top == "/":
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
        for name in files:
            path = os.path.join(top, name)
            try:
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if os.path.getsize(path) > 16 << 20:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            counts["files"] += 1
            check(path, data)
    return {"found": found, **counts}

def reach(targets):
    shown = {}
    for host, port in targets:
        try:
            socket.create_connection((host, port), timeout=3).close()
            shown[f"{host}:{port}"] = "open"
        except OSError as e:
            shown[f"{host}:{port}"] = type(e).__name__
    return shown
"""


def _mask(values: list[str]) -> str:
    """The values as ``key:data`` hex, XOR-masked with a random key (SCAN's unmask)."""
    key = secrets.token_bytes(16)
    data = json.dumps(values).encode()
    masked = bytes(b ^ key[i % len(key)] for i, b in enumerate(data))
    return f"{key.hex()}:{masked.hex()}"


@dataclass
class Deployment:
    """The hub with DockerSpawner, its network, three people and what must not leak."""

    hub: ServiceHub
    env: dict[str, str]
    network: str
    gateway: str
    teacher: str
    a: str
    b: str
    tokens: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)

    def server(self, who: str) -> str:
        """The URL of ``who``'s own server, through the hub's proxy."""
        return f"{self.hub.url}/user/{who}"

    def call(
        self, who: str, path: str, method: str = "GET", body: Any = None, token: str = ""
    ) -> requests.Response:
        """Call ``path`` on ``who``'s server with their token (or ``token``)."""
        return user_server_call(self.hub, who, token or self.tokens[who], path, method, body)

    def container(self, who: str) -> Any:
        """``who``'s server container (on the test network, with their JUPYTERHUB_USER)."""
        engine = docker.from_env(timeout=60)
        wanted = f"JUPYTERHUB_USER={who}"
        for container in engine.containers.list(filters={"network": self.network}):
            if wanted in container.attrs["Config"]["Env"]:
                return container
        raise AssertionError(f"no server container for {who} on {self.network}")

    def exec_python(self, who: str, code: str, stdin: str = "") -> Any:
        """Run ``code`` with python3 in ``who``'s server container as its user; its JSON."""
        container = self.container(who)
        done = subprocess.run(
            ["docker", "exec", "-i", container.id, "python3", "-c", code],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    def channels(self, who: str, kernel_id: str, token: str = "") -> HTTPRequest:
        """The websocket request for a kernel's channels through ``who``'s server."""
        ws = "ws" + self.server(who).removeprefix("http")
        return HTTPRequest(
            f"{ws}/api/kernels/{kernel_id}/channels",
            headers={"Authorization": f"token {token or self.tokens[who]}"},
            request_timeout=180,
        )

    def start_kernel(self, who: str, body: dict[str, Any] | None = None) -> str:
        """Start a kernel through ``who``'s server; its id."""
        started = self.call(who, "/api/kernels", "POST", body or {"name": "ide-python"})
        assert started.status_code == 201, (started.text, tail(self.hub.log, 6000))
        return str(started.json()["id"])

    def stop_kernel(self, who: str, kernel_id: str) -> None:
        """Shut a kernel down through ``who``'s server."""
        gone = self.call(who, f"/api/kernels/{kernel_id}", "DELETE")
        assert gone.status_code == 204, gone.text


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process Jupyter server here."""


@pytest.fixture(scope="module")
def bridge() -> Iterator[tuple[str, str]]:
    """A user-defined bridge network for the user containers; its name and gateway address."""
    engine = docker.from_env(timeout=60)
    network = engine.networks.create(f"jupyter-ide-test-{uuid.uuid4().hex[:8]}", driver="bridge")
    try:
        network.reload()
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
        yield network.name, gateway
    finally:
        for container in engine.containers.list(all=True, filters={"network": network.name}):
            container.remove(force=True)  # a server the hub failed to stop
        network.remove()


def _service_token(service_url: str) -> str:
    """The hub API token of the service at ``service_url``, from its process's environment."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        wanted = f"JUPYTERHUB_SERVICE_URL={service_url}".encode()
        if b"JUPYTERHUB_SERVICE_NAME=ide" in environ and any(
            item.startswith(wanted) for item in environ
        ):
            for item in environ:
                if item.startswith(b"JUPYTERHUB_API_TOKEN="):
                    return item.split(b"=", 1)[1].decode()
    raise AssertionError("no process of the jupyter-ide service holds a hub API token")


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    moto_server: MotoServer,
    bridge: tuple[str, str],
) -> Iterator[Deployment]:
    """The hub spawning the user image on the bridge; a teacher and two students' servers."""
    require_images("python")
    image = ensure_user_image(progress=lambda line: print(line, flush=True)).tag
    network, gateway = bridge
    tag = uuid.uuid4().hex[:6]
    teacher, a, b = f"tess-{tag}", f"ada-{tag}", f"bob-{tag}"
    base = tmp_path_factory.mktemp("hub-docker")
    service_url = f"http://{gateway}:{free_port()}"
    api_url = f"http://{gateway}:{free_port()}"
    extra_env = {
        "JUPYTER_IDE_SINGLEUSER_IMAGE": image,
        "DOCKER_NETWORK_NAME": network,
        # The service listens where the containers reach it; its other peers stay on loopback.
        "JUPYTER_IDE_SERVICE_URL": service_url,
        "JUPYTER_IDE_USER_SERVICE_URL": f"{service_url}/services/ide/",
        # Keys no file of any package could hold by chance (moto takes any).
        "AWS_ACCESS_KEY_ID": f"AKIA{secrets.token_hex(8).upper()}",
        "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        "JUPYTER_IDE_AI_POOL_KEY": f"sk-{secrets.token_hex(20)}",
    }
    extra_config = f"""
        c.JupyterHub.hub_bind_url = {api_url!r}
        c.JupyterHub.hub_connect_url = {api_url!r}
        c.DockerSpawner.remove = True
        c.Spawner.http_timeout = 120
        c.Spawner.start_timeout = 180
    """
    with service_hub(base, moto_server, "managed", extra_env, extra_config) as (hub, env):
        tokens = {}
        hub.add_user(teacher, groups=("instructors",))
        for name in (teacher, a, b):
            hub.add_user(name)
            tokens[name] = hub.token(name, [f"access:servers!user={name}", ACCESS])
        try:
            for name in (a, b):
                start_user_server(hub, name)
            found = Deployment(hub, env, network, gateway, teacher, a, b, tokens)
            server_token = {
                name: next(
                    item.split("=", 1)[1]
                    for item in found.container(name).attrs["Config"]["Env"]
                    if item.startswith("JUPYTERHUB_API_TOKEN=")
                )
                for name in (a, b)
            }
            # Ada's own AI key, stored through her server: the service alone holds it.
            own_key = f"sk-ada-{secrets.token_hex(16)}"
            stored = found.call(a, "/ide/api/ai/keys/openai", "PUT", {"api_key": own_key})
            assert stored.status_code == 200, stored.text
            db = make_url(env["JUPYTER_IDE_DB_URL"])
            found.secrets = {
                "database URL": env["JUPYTER_IDE_DB_URL"],
                "database name": str(db.database),
                "Redis URL": env["JUPYTER_IDE_REDIS_URL"],
                "S3 access key": env["AWS_ACCESS_KEY_ID"],
                "S3 secret key": env["AWS_SECRET_ACCESS_KEY"],
                "S3 bucket URL": env["JUPYTER_IDE_STORAGE_URL"],
                "crypt key": env["JUPYTER_IDE_CRYPT_KEY"],
                "AI pool URL": env["JUPYTER_IDE_AI_POOL_URL"],
                "AI pool key": env["JUPYTER_IDE_AI_POOL_KEY"],
                "hub crypt key": env["JUPYTERHUB_CRYPT_KEY"],
                "service's hub token": _service_token(service_url),
                "test admin's token": hub.admin_token,
                "other service's token": hub.other_token,
                "teacher's token": tokens[teacher],
                "B's token": tokens[b],
                "B's server token": server_token[b],
                "A's stored AI key": own_key,
                "A's token (not A's server's)": tokens[a],
            }
            yield found
        finally:
            for name in (a, b):
                user_server_request(hub, name, "DELETE")
            _wait_until_gone(network, (a, b))


def _wait_until_gone(network: str, names: tuple[str, ...]) -> None:
    """Wait until the hub has stopped and removed the servers' containers (remove=True)."""
    engine = docker.from_env(timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        left = [
            c
            for c in engine.containers.list(all=True, filters={"network": network})
            if any(f"JUPYTERHUB_USER={n}" in c.attrs["Config"]["Env"] for n in names)
        ]
        if not left:
            return
        time.sleep(0.5)


def _json(reply: requests.Response) -> Any:
    """The reply's JSON body, failing with the reply when it is not JSON."""
    try:
        return reply.json()
    except ValueError as e:
        raise AssertionError(f"{reply.status_code}: {reply.text[:500]}") from e


def _save(dep: Deployment, who: str, path: str, text: str) -> None:
    """Save a text file through ``who``'s server."""
    model = {"type": "file", "format": "text", "content": text}
    saved = dep.call(who, f"/api/contents/{path}", "PUT", model)
    assert saved.status_code in (200, 201), saved.text


def _targets(dep: Deployment) -> list[tuple[str, int]]:
    """The database's, Redis's and moto's ports on the gateway and on loopback."""
    db, redis = make_url(dep.env["JUPYTER_IDE_DB_URL"]), make_url(dep.env["JUPYTER_IDE_REDIS_URL"])
    moto = urllib.parse.urlsplit(dep.env["JUPYTER_IDE_S3_ENDPOINT_URL"])
    pool = urllib.parse.urlsplit(dep.env["JUPYTER_IDE_AI_POOL_URL"])
    ports = [db.port or 5432, redis.port or 6379, moto.port or 80, pool.port or 80]
    return [(host, port) for host in (dep.gateway, "127.0.0.1") for port in ports]


def test_user_servers_are_containers_of_the_user_image(deployment: Deployment) -> None:
    """Each student's server runs the user image, non-root, on the bridge, told the service."""
    dep = deployment
    container = dep.container(dep.a)
    assert container.image.tags == [dep.env["JUPYTER_IDE_SINGLEUSER_IMAGE"]]
    assert container.attrs["Config"]["User"] == "1000:1000"
    assert list(container.attrs["NetworkSettings"]["Networks"]) == [dep.network]
    environ = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert environ["JUPYTER_IDE_SERVICE_URL"] == dep.env["JUPYTER_IDE_USER_SERVICE_URL"]
    assert environ["JUPYTERHUB_API_URL"].startswith(f"http://{dep.gateway}:")
    assert container.attrs["HostConfig"]["AutoRemove"] or container.attrs["HostConfig"].get(
        "RestartPolicy", {}
    ).get("Name") in ("", "no")
    ids = dep.exec_python(dep.a, "import json, os; print(json.dumps([os.getuid(), os.getgid()]))")
    assert ids == [1000, 1000]
    # The server answers through the hub's proxy, as the service's client.
    me = _json(dep.call(dep.a, "/ide/api/auth/me"))
    assert me["name"] == dep.a, me
    # JupyterLab is served from the container too, offering the service's terminals.
    lab = dep.call(dep.a, "/lab")
    assert lab.status_code == 200, lab.text[:500]
    page_config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab.text, re.S
    )
    assert page_config is not None, lab.text[:500]
    config = json.loads(page_config.group(1))
    assert config["appName"] == "JupyterLab" and config["terminalsAvailable"] is True, config
    assert dep.container(dep.b).id != container.id


def test_no_secret_is_found_in_a_students_server_container(deployment: Deployment) -> None:
    """/proc, the environment and every readable file of Ada's server: no secret of anyone's."""
    dep = deployment
    names = [n for n in dep.secrets if not n.startswith("A's token")]
    own = next(
        item.split("=", 1)[1]
        for item in dep.container(dep.a).attrs["Config"]["Env"]
        if item.startswith("JUPYTERHUB_API_TOKEN=")
    )
    values = [dep.secrets[n] for n in names] + [own]
    code = SCAN + "import sys\nprint(json.dumps(scan(unmask(sys.stdin.read()))))\n"
    result = dep.exec_python(dep.a, code, stdin=_mask(values))
    # The one thing to find: Ada's server's own token, in its environment (the scan works).
    where_own = {where for where, index in result["found"] if index == len(names)}
    assert "os.environ" in where_own and any(w.endswith("/environ") for w in where_own)
    leaks = [(where, names[index]) for where, index in result["found"] if index < len(names)]
    assert leaks == [], leaks
    assert result["files"] > 10000, result  # the whole image was read
    assert result["procs"] >= 2, result  # the server and the scan itself at least


def test_no_secret_is_found_in_a_students_kernel(deployment: Deployment) -> None:
    """The same scan, as a cell in a kernel started through Ada's server (not even her token)."""
    dep = deployment
    names = list(dep.secrets)
    marker = f"saved by ada {secrets.token_hex(12)}"
    values = [dep.secrets[n] for n in names] + [marker]
    _save(dep, dep.a, "marker.txt", marker)
    kernel_id = dep.start_kernel(dep.a)
    try:
        code = SCAN + f"print(json.dumps(scan(unmask({_mask(values)!r}))))\n"
        out = asyncio.run(run_cell(dep.channels(dep.a, kernel_id), code, 240))
        result = json.loads(out)
        # The one thing to find: a file Ada saved, in her workspace (the scan reads files).
        assert ["/workspace/marker.txt", len(names)] in result["found"], result["found"]
        leaks = [(where, names[index]) for where, index in result["found"] if index < len(names)]
        assert leaks == [], leaks
        assert result["files"] > 5000, result
    finally:
        dep.stop_kernel(dep.a, kernel_id)


async def _terminal_output(request: HTTPRequest, command: str, pattern: str) -> str:
    """Type ``command`` in a terminal; return the first match of ``pattern`` in its output."""
    ws = await websocket_connect(request)
    seen = ""
    try:
        await ws.write_message(json.dumps(["stdin", command + "\r"]))
        async with asyncio.timeout(300):
            while (found := re.search(pattern, seen, re.S)) is None:
                message = await ws.read_message()
                assert message is not None, f"the terminal closed; it said: {seen[-2000:]!r}"
                kind, *content = json.loads(message)
                if kind == "stdout":
                    seen += str(content[0])
    finally:
        ws.close()
    return found.group(1)


def test_no_secret_is_found_in_a_students_terminal(deployment: Deployment) -> None:
    """The scan and the port checks typed in a terminal of Ada's server (the service's sandbox)."""
    dep = deployment
    names = list(dep.secrets)
    marker = f"saved by ada for her terminal {secrets.token_hex(12)}"
    values = [dep.secrets[n] for n in names] + [marker]
    _save(dep, dep.a, "term-marker.txt", marker)
    script = SCAN + (
        f"shown = {{'scan': scan(unmask({_mask(values)!r})), 'reach': reach({_targets(dep)!r})}}\n"
        "print('SCAN' + 'BEGIN' + json.dumps(shown) + 'SCAN' + 'END')\n"
    )
    _save(dep, dep.a, "scan_secrets.py", script)
    opened = dep.call(dep.a, "/api/terminals", "POST", {})
    assert opened.status_code == 200, opened.text
    name = _json(opened)["name"]
    try:
        ws = "ws" + dep.server(dep.a).removeprefix("http") + f"/terminals/websocket/{name}"
        request = HTTPRequest(
            ws, headers={"Authorization": f"token {dep.tokens[dep.a]}"}, request_timeout=60
        )
        out = asyncio.run(
            _terminal_output(request, "python3 scan_secrets.py", r"SCANBEGIN(.*?)SCANEND")
        )
        shown = json.loads(out.replace("\r", "").replace("\n", ""))
        result = shown["scan"]
        assert any(
            where.endswith("/term-marker.txt") and index == len(names)
            for where, index in result["found"]
        ), result["found"]
        leaks = [(where, names[index]) for where, index in result["found"] if index < len(names)]
        assert leaks == [], leaks
        assert result["files"] > 5000, result
        assert "open" not in shown["reach"].values(), shown["reach"]
    finally:
        closed = dep.call(dep.a, f"/api/terminals/{name}", "DELETE")
        assert closed.status_code == 204, closed.text


def test_the_database_redis_and_s3_are_out_of_reach(deployment: Deployment) -> None:
    """From Ada's server and her kernel, no connection to PostgreSQL, Redis, moto or the pool."""
    dep = deployment
    targets = _targets(dep)
    service = urllib.parse.urlsplit(dep.env["JUPYTER_IDE_USER_SERVICE_URL"])
    control = [(str(service.hostname), int(service.port or 80))]
    code = SCAN + f"print(json.dumps(reach({[*targets, *control]!r})))\n"
    shown = dep.exec_python(dep.a, code)
    # The server reaches the service on the gateway (so the network works) and nothing else.
    assert shown.pop(f"{control[0][0]}:{control[0][1]}") == "open", shown
    assert "open" not in shown.values(), shown
    assert len(shown) == len(targets)
    kernel_id = dep.start_kernel(dep.a)
    try:
        out = asyncio.run(run_cell(dep.channels(dep.a, kernel_id), code))
        from_kernel = json.loads(out)
        assert "open" not in from_kernel.values(), from_kernel
    finally:
        dep.stop_kernel(dep.a, kernel_id)


def test_a_student_reaches_nothing_of_anothers(deployment: Deployment) -> None:
    """Bob's token opens nothing of Ada's server; Bob's server and the service show none of hers."""
    dep = deployment
    a, b = dep.a, dep.b
    _save(dep, a, "ada-private.txt", "ada only\n")
    _save(dep, a, "ada-private.txt", "ada only, again\n")  # a version in her history
    made = dep.call(a, "/api/contents/ada-private.txt/checkpoints", "POST")
    assert made.status_code == 201, made.text
    kernel_id = dep.start_kernel(a)
    opened = dep.call(a, "/api/terminals", "POST", {})
    assert opened.status_code == 200, opened.text
    terminal = _json(opened)["name"]
    try:
        for path in (
            "/api/contents/ada-private.txt",
            "/api/contents/ada-private.txt/checkpoints",
            "/api/contents",
            "/api/kernels",
            f"/api/kernels/{kernel_id}",
            "/api/sessions",
            "/api/terminals",
            f"/api/terminals/{terminal}",
            "/ide/api/auth/me",
            "/ide/api/ai/usage",
            "/ide/api/ai/keys",
            "/ide/api/ai/transcripts",
            "/ide/api/history?path=ada-private.txt",
            "/files/ada-private.txt",
        ):
            reply = dep.call(a, path, token=dep.tokens[b])
            assert reply.status_code in (403, 404), (path, reply.status_code, reply.text[:200])
            assert "ada only" not in reply.text
        changed = dep.call(
            a,
            "/api/contents/ada-private.txt",
            "PUT",
            {"type": "file", "format": "text", "content": "bob was here"},
            token=dep.tokens[b],
        )
        assert changed.status_code in (403, 404), changed.text
        killed = dep.call(a, f"/api/kernels/{kernel_id}", "DELETE", token=dep.tokens[b])
        assert killed.status_code in (403, 404), killed.text

        async def connect_as_bob() -> str:
            try:
                await run_cell(dep.channels(a, kernel_id, dep.tokens[b]), "print(1)", 30)
            except Exception as e:  # the handshake is refused
                return type(e).__name__
            return "connected"

        assert asyncio.run(connect_as_bob()) != "connected"
        # Through Bob's own server and the service with Bob's token: nothing of Ada's.
        assert dep.call(b, "/api/contents/ada-private.txt").status_code == 404
        listed = {item["name"] for item in _json(dep.call(b, "/api/contents"))["content"]}
        assert "ada-private.txt" not in listed
        assert kernel_id not in {k["id"] for k in _json(dep.call(b, "/api/kernels"))}
        assert dep.call(b, f"/api/kernels/{kernel_id}").status_code == 404
        assert dep.call(b, f"/api/kernels/{kernel_id}", "DELETE").status_code == 404

        async def connect_through_bobs_server() -> str:
            try:
                return await run_cell(dep.channels(b, kernel_id), "print('in')", 30)
            except Exception as e:
                return type(e).__name__

        assert "in" not in asyncio.run(connect_through_bobs_server()).split()
        # Her terminal, history and AI key, through Bob's server: none of them.
        assert dep.call(b, f"/api/terminals/{terminal}").status_code == 404
        assert terminal not in {t["name"] for t in _json(dep.call(b, "/api/terminals"))}

        async def terminal_through_bobs_server() -> str:
            ws = "ws" + dep.server(b).removeprefix("http") + f"/terminals/websocket/{terminal}"
            request = HTTPRequest(ws, headers={"Authorization": f"token {dep.tokens[b]}"})
            try:
                socket = await websocket_connect(request)
            except HTTPClientError as e:
                return f"refused {e.code}"
            seen = ""
            try:
                await socket.write_message(json.dumps(["stdin", "ls; echo END-$((1+1))\r"]))
                async with asyncio.timeout(30):
                    while "END-2" not in seen:
                        message = await socket.read_message()
                        if message is None:
                            return f"closed after {seen!r}"
                        kind, *content = json.loads(message)
                        seen += str(content[0]) if kind == "stdout" else ""
            finally:
                socket.close()
            return f"a shell: {seen!r}"

        # Refused before the upgrade: Bob's server asks the service, which has no such terminal
        # of Bob's.
        shown = asyncio.run(terminal_through_bobs_server())
        assert shown == "refused 404", shown
        history = dep.call(b, "/ide/api/history?path=ada-private.txt")
        assert history.status_code == 404 or _json(history)["versions"] == [], history.text
        checkpoints = dep.call(b, "/api/contents/ada-private.txt/checkpoints")
        assert checkpoints.status_code == 404 or _json(checkpoints) == [], checkpoints.text
        theirs = dep.call(a, "/api/contents/ada-private.txt/checkpoints")
        assert theirs.status_code == 200 and _json(theirs) != [], theirs.text  # she has one
        hers = _json(dep.call(a, "/ide/api/history?path=ada-private.txt"))
        assert hers["versions"], hers
        assert _json(dep.call(b, "/ide/api/ai/keys"))["keys"] == []
        assert dep.call(b, "/ide/api/ai/keys/openai", "DELETE").status_code == 404
        mine_keys = _json(dep.call(a, "/ide/api/ai/keys"))["keys"]
        assert [k["provider"] for k in mine_keys] == ["openai"], mine_keys
        hub = dep.hub
        assert hub.call(f"/api/kernels/{kernel_id}", dep.tokens[b]).status_code == 404
        assert hub.call("/api/contents/ada-private.txt", dep.tokens[b]).status_code == 404
        # Ada's kernel and file are untouched.
        mine = _json(dep.call(a, "/api/contents/ada-private.txt"))
        assert mine["content"] == "ada only, again\n"
        assert kernel_id in {k["id"] for k in _json(dep.call(a, "/api/kernels"))}
        assert terminal in {t["name"] for t in _json(dep.call(a, "/api/terminals"))}
    finally:
        dep.stop_kernel(a, kernel_id)
        assert dep.call(a, f"/api/terminals/{terminal}", "DELETE").status_code == 204


def _kernel_container(kernel_id: str) -> Any:
    """The sandbox container of a kernel (by the service's kernel-id label)."""
    engine = docker.from_env(timeout=60)
    found = engine.containers.list(filters={"label": f"{LABEL_KERNEL_ID}={kernel_id}"})
    assert len(found) == 1, found
    return found[0]


def test_client_sent_kernel_owner_and_volumes_are_ignored(deployment: Deployment) -> None:
    """KERNEL_USERNAME / KERNEL_VOLUMES sent through Ada's server and to the service: hers."""
    dep = deployment
    a, b = dep.a, dep.b
    _save(dep, a, "ada-mine.txt", "ada\n")
    _save(dep, b, "bob-mine.txt", "bob\n")
    env = {
        "KERNEL_USERNAME": b,
        "KERNEL_VOLUMES": "[{'name': 'root', 'host_path': '/'}]",
        "KERNEL_VOLUME_MOUNTS": "[{'name': 'root', 'mountPath': '/host'}]",
        "KERNEL_UID": "0",
        "KERNEL_IMAGE": dep.env["JUPYTER_IDE_SINGLEUSER_IMAGE"],
    }
    body = {"name": "ide-python", "env": env}
    through_server = dep.start_kernel(a, body)
    direct = dep.hub.call("/api/kernels", dep.tokens[a], "POST", body)
    assert direct.status_code == 201, direct.text
    kernels = [through_server, str(direct.json()["id"])]
    try:
        code = (
            "import os, json\n"
            "print(json.dumps([os.getuid(), sorted(os.listdir('/workspace')),"
            " os.path.exists('/host'), os.environ.get('KERNEL_USERNAME')]))\n"
        )
        bobs = {k["id"] for k in _json(dep.hub.call("/api/kernels", dep.tokens[b]))}
        adas = {k["id"] for k in _json(dep.hub.call("/api/kernels", dep.tokens[a]))}
        service_ws = "ws" + dep.hub.service_url.removeprefix("http")
        requests_for = {
            # The kernel Ada's server started, through her server; the other at the service.
            kernels[0]: dep.channels(a, kernel_id=kernels[0]),
            kernels[1]: HTTPRequest(
                f"{service_ws}/api/kernels/{kernels[1]}/channels",
                headers={"Authorization": f"token {dep.tokens[a]}"},
                request_timeout=180,
            ),
        }
        for kernel_id in kernels:
            assert kernel_id in adas and kernel_id not in bobs
            out = asyncio.run(run_cell(requests_for[kernel_id], code))
            uid, listed, host, username = json.loads(out)
            assert uid != 0 and not host and username != b, out
            assert "ada-mine.txt" in listed and "bob-mine.txt" not in listed, out
            container = _kernel_container(kernel_id)
            assert container.labels[LABEL_OWNER] == a
            assert container.image.tags != [dep.env["JUPYTER_IDE_SINGLEUSER_IMAGE"]]
            sources = [m.get("Source", "") for m in container.attrs["Mounts"]]
            assert "/" not in sources, sources
            assert not [s for s in sources if b in s], sources
            assert [m["Destination"] for m in container.attrs["Mounts"]] != [], container.attrs
            assert "/host" not in [m["Destination"] for m in container.attrs["Mounts"]]
    finally:
        dep.stop_kernel(a, kernels[0])
        dep.hub.call(f"/api/kernels/{kernels[1]}", dep.tokens[a], "DELETE")


def test_forged_expired_and_other_service_tokens_are_refused(deployment: Deployment) -> None:
    """By Ada's server and by the service (through the proxy and at its own address)."""
    dep = deployment
    a = dep.a
    expired = dep.hub.token(a, [f"access:servers!user={a}", ACCESS], expires_in=1)
    time.sleep(3)
    bad = {
        "forged": secrets.token_hex(32),
        "expired": expired,
        "other service": dep.hub.other_token,
        "empty": "",
    }
    service_direct = dep.env["JUPYTER_IDE_USER_SERVICE_URL"].rstrip("/")
    for what, token in bad.items():
        headers = {"Authorization": f"token {token}"} if token else {}
        for url in (
            f"{dep.server(a)}/api/contents",
            f"{dep.server(a)}/api/kernels",
            f"{dep.server(a)}/ide/api/auth/me",
            f"{dep.hub.service_url}/api/contents",
            f"{dep.hub.service_url}/api/kernels",
            f"{service_direct}/api/contents",
            f"{service_direct}/api/kernels",
            f"{service_direct}/ide/api/auth/me",
        ):
            reply = requests.get(url, headers=headers, timeout=60, allow_redirects=False)
            # 403 for a token, or a redirect to the hub's sign-in for a caller with none.
            if token or "/services/" not in url or url.startswith(service_direct):
                assert reply.status_code in (302, 401, 403), (what, url, reply.status_code)
            else:
                assert reply.status_code in (302, 403), (what, url, reply.status_code)
            assert reply.status_code != 200
    # The instructor's own token is no key to a student's server either.
    teacher = {"Authorization": f"token {dep.tokens[dep.teacher]}"}
    for path in ("/api/contents", "/api/kernels", "/ide/api/auth/me"):
        reply = requests.get(f"{dep.server(a)}{path}", headers=teacher, timeout=60)
        assert reply.status_code in (403, 404), (path, reply.status_code)
    # The good token works everywhere (so the refusals above are the tokens').
    good = {"Authorization": f"token {dep.tokens[a]}"}
    assert requests.get(f"{service_direct}/api/contents", headers=good, timeout=60).ok
    assert requests.get(f"{dep.server(a)}/api/contents", headers=good, timeout=60).ok


def test_files_flow_between_a_browser_session_on_the_server_and_the_kernel(
    deployment: Deployment,
) -> None:
    """Ada signs in at the OIDC provider; her save is read by her kernel's cell, and the reverse."""
    dep = deployment
    a = dep.a
    browser = requests.Session()
    page = browser_sign_in(browser, f"{dep.server(a)}/ide", a)
    assert page.status_code == 200, page.text[:500]
    assert page.url == f"{dep.server(a)}/ide", page.url
    # Signed in as Ada, the browser does not get into Bob's server.
    other = browser.get(f"{dep.server(dep.b)}/api/contents", timeout=60, allow_redirects=True)
    assert other.status_code in (403, 404) or "/hub/login" in other.url, other.status_code
    xsrf = next(c.value for c in browser.cookies if c.name == "_xsrf" and a in (c.path or ""))
    model = {"type": "file", "format": "text", "content": "typed in the browser\n"}
    saved = browser.put(
        f"{dep.server(a)}/api/contents/from-browser.txt",
        json=model,
        headers={"X-XSRFToken": str(xsrf)},
        timeout=60,
    )
    assert saved.status_code in (200, 201), saved.text
    kernel_id = dep.start_kernel(a)
    try:
        code = (
            "print(open('/workspace/from-browser.txt').read().strip())\n"
            "open('/workspace/from-cell.txt', 'w').write('written by a cell\\n')\n"
        )
        out = asyncio.run(run_cell(dep.channels(a, kernel_id), code))
        assert out.strip() == "typed in the browser", out
        deadline = time.monotonic() + 30
        while True:  # the kernel's workspace syncs back to the service
            shown = browser.get(f"{dep.server(a)}/api/contents/from-cell.txt", timeout=60)
            if shown.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shown.status_code == 200, shown.text
        assert shown.json()["content"] == "written by a cell\n"
    finally:
        dep.stop_kernel(a, kernel_id)


def test_the_user_image_is_rebuilt_only_when_the_wheels_contents_change(
    tmp_path: Path,
) -> None:
    """Two wheels of one checkout have one digest; a changed source file changes it, not Jupyter."""
    copy = tmp_path / "checkout"  # a snapshot: the wheels are of one state of the sources
    ignore = shutil.ignore_patterns("__pycache__", "node_modules")
    for name in ("jupyter_ide", "jupyter-config"):
        shutil.copytree(CHECKOUT / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "hatch_build.py", "README.md"):
        shutil.copyfile(CHECKOUT / name, copy / name)
    first = build_wheel(copy, tmp_path / "first")
    second = build_wheel(copy, tmp_path / "second")
    assert wheel_digest(first) == wheel_digest(second)
    with (copy / "jupyter_ide" / "_version.py").open("a") as f:
        f.write("# changed\n")
    changed = build_wheel(copy, tmp_path / "changed")
    assert wheel_digest(changed) != wheel_digest(first)
    # Once built (or found up to date), asking again reuses it.
    ensure_user_image(progress=lambda line: None)
    assert ensure_user_image(progress=lambda line: None).state == "reused"
    # A changed checkout with the same requirements re-installs its wheel on the same Jupyter
    # layer (jupyterhub, JupyterLab, the requirements); then this checkout's image is back.
    try:
        lines: list[str] = []
        assert ensure_user_image(copy, progress=lines.append).state == "built"
        assert any("singleuser-jupyter: reusing" in line for line in lines), lines
    finally:
        assert ensure_user_image(progress=lambda line: None).state == "built"
