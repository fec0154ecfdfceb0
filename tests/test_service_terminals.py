"""Terminals of the jupyter-ide service under a real JupyterHub: each hub user's own shells.

A hub token opens a terminal through the hub's proxy; its shell runs in a hardened sandbox
container over that user's workspace, sees none of the service's secrets, and what it writes
reaches that user's files only. Another user's token finds nothing of it (404 everywhere),
names are each user's own, a user may run only so many, and DELETE removes the container.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from docker.models.containers import Container
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_ide.kernels.profile import LABEL_KIND, LABEL_OWNER, LABEL_SERVER
from jupyter_ide.terminals.sandboxed import LABEL_TERMINAL

from .hubfixture import ACCESS, SERVICE_SECRETS, ServiceHub, secret_values, service_hub, tail
from .kernel_host import require_images
from .s3_server import MotoServer
from .test_terminals import _shell_output

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIMIT = 2  # ServiceTerminals.max_terminals_per_user in these tests


@dataclass
class Class:
    """The hub, two students, a token for each and the service's environment."""

    hub: ServiceHub
    a: str
    b: str
    tokens: dict[str, str]
    env: dict[str, str]
    base: Path

    def server_id(self) -> str:
        """The service's server id (the label on every container it starts)."""
        return next(self.base.rglob("server_id")).read_text().strip()


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Class]:
    """One hub running the service (LIMIT terminals per user), with two students.

    Afterwards the service has left no container behind.
    """
    require_images("python")
    tag = uuid.uuid4().hex[:6]
    a, b = f"ada-{tag}", f"bob-{tag}"
    # No periodic scan of workspaces: files a shell writes must come back through its sync.
    extra = f"""
        ide["command"] = [*ide["command"], "--ServiceTerminals.max_terminals_per_user={LIMIT}",
                          "--IDEContentsManager.sync_interval=0"]
    """
    base = tmp_path_factory.mktemp("service-terminals")
    with service_hub(base, moto_server, "managed", extra_config=extra) as (hub, env):
        hub.add_user(a)
        hub.add_user(b)
        tokens = {a: hub.token(a, [ACCESS]), b: hub.token(b, [ACCESS])}
        yield Class(hub, a, b, tokens, env, base)
    server_id = next(base.rglob("server_id")).read_text().strip()
    engine = docker.from_env(timeout=30)
    try:
        left = engine.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={server_id}"})
    finally:
        engine.close()
    assert not left, (left, tail(hub.log))


def _json(reply: requests.Response) -> Any:
    """The reply's JSON body, failing with the reply when it is not JSON."""
    try:
        return reply.json()
    except ValueError as e:
        raise AssertionError(f"{reply.status_code}: {reply.text[:500]}") from e


def _open(people: Class, who: str, body: dict[str, Any] | None = None) -> str:
    """Open a terminal as ``who``; return its name."""
    reply = people.hub.call("/api/terminals", people.tokens[who], "POST", body or {})
    assert reply.status_code == 200, (reply.status_code, reply.text, tail(people.hub.log))
    return str(_json(reply)["name"])


def _close(people: Class, who: str, name: str) -> None:
    """Close one of ``who``'s terminals."""
    reply = people.hub.call(f"/api/terminals/{name}", people.tokens[who], "DELETE")
    assert reply.status_code == 204, reply.text


def _names(people: Class, who: str) -> set[str]:
    """The names of the terminals ``who`` sees listed."""
    reply = people.hub.call("/api/terminals", people.tokens[who])
    assert reply.status_code == 200, reply.text
    return {str(model["name"]) for model in _json(reply)}


def _containers(people: Class, owner: str, name: str) -> list[Container]:
    """The containers of ``owner``'s terminal ``name``."""
    labels = [
        f"{LABEL_SERVER}={people.server_id()}",
        f"{LABEL_KIND}=terminal",
        f"{LABEL_OWNER}={owner}",
        f"{LABEL_TERMINAL}={name}",
    ]
    engine = docker.from_env(timeout=30)
    try:
        return list(engine.containers.list(all=True, filters={"label": labels}))
    finally:
        engine.close()


async def _connect(people: Class, who: str, name: str) -> WebSocketClientConnection:
    """Open terminal ``name``'s websocket through the hub's proxy with ``who``'s token."""
    url = "ws" + people.hub.service_url.removeprefix("http") + f"/terminals/websocket/{name}"
    headers = {"Authorization": f"token {people.tokens[who]}"}
    return await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=60))


def _shell(people: Class, who: str, name: str, command: str, marker: str) -> str:
    """Run ``command`` in ``who``'s terminal ``name``; return its output up to ``marker``."""

    async def run() -> str:
        ws = await _connect(people, who, name)
        try:
            return await _shell_output(ws, command, marker)
        finally:
            ws.close()

    return asyncio.run(run())


def _connect_status(people: Class, who: str, name: str) -> int:
    """Try ``name``'s websocket as ``who``; return the refusal's status (0: it opened)."""

    async def attempt() -> int:
        try:
            ws = await _connect(people, who, name)
        except HTTPClientError as e:
            return e.code
        ws.close()
        return 0

    return asyncio.run(attempt())


def _served(people: Class, who: str, path: str, expected: str) -> None:
    """Wait until the contents API serves ``path`` to ``who`` with ``expected`` (it syncs)."""
    deadline = time.monotonic() + 60
    while True:
        reply = people.hub.call(f"/api/contents/{path}", people.tokens[who])
        if reply.status_code == 200 and _json(reply).get("content") == expected:
            return
        assert time.monotonic() < deadline, (reply.status_code, reply.text[:500])
        time.sleep(0.5)


def test_a_students_shell_runs_sandboxed_on_their_own_files(people: Class) -> None:
    """Ada's shell: her workspace, none of the service's secrets; its file reaches her files."""
    hub, a, b = people.hub, people.a, people.b
    saved = hub.call(
        "/api/contents/notes.txt",
        people.tokens[a],
        "PUT",
        {"type": "file", "format": "text", "content": "from the editor\n"},
    )
    assert saved.status_code in (200, 201), saved.text
    name = _open(people, a)
    try:
        [container] = _containers(people, a, name)
        container.reload()
        host = container.attrs["HostConfig"]
        assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True, host
        assert host["CapDrop"] == ["ALL"] and "no-new-privileges:true" in host["SecurityOpt"]
        assert host["PidsLimit"] > 0 and host["Memory"] > 0, host

        out = _shell(
            people,
            a,
            name,
            "echo hi > t.txt; cat t.txt; echo who:$(id -u):$(pwd):; ls; env; echo done$((6*7))",
            "done42",
        )
        uid, cwd = out.rsplit("who:", 1)[1].split(":")[:2]
        assert int(uid) != 0 and cwd == "/workspace", out
        # (The shell's TTY echoes the command line first; the output follows.)
        assert "hi\r\nwho:" in out and "notes.txt" in out, out
        for variable in (*SERVICE_SECRETS, "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_"):
            assert variable not in out, variable
        values = secret_values(people.env)
        assert len(values) >= 6, values  # the scan below looks for real values
        for variable, value in values.items():
            assert value not in out, variable

        # What the shell wrote is Ada's file, served by the service; Bob has no such file.
        _served(people, a, "t.txt", "hi\n")
        assert hub.call("/api/contents/t.txt", people.tokens[b]).status_code == 404
    finally:
        _close(people, a, name)
    # DELETE answered once the container was gone.
    assert not _containers(people, a, name)
    assert name not in _names(people, a)
    assert hub.call(f"/api/terminals/{name}", people.tokens[a]).status_code == 404


def test_another_student_cannot_see_or_touch_a_terminal(people: Class) -> None:
    """Bob gets 404 for every route on Ada's terminal, as if it did not exist."""
    hub, a, b = people.hub, people.a, people.b
    tb = people.tokens[b]
    name = _open(people, a, {"name": "adas"})
    try:
        assert name == "adas" and name in _names(people, a)
        assert name not in _names(people, b)
        assert hub.call(f"/api/terminals/{name}", tb).status_code == 404
        assert hub.call(f"/api/terminals/{name}", tb, "DELETE").status_code == 404
        assert _connect_status(people, b, name) == 404
        # Ada's terminal is untouched by all that.
        assert _json(hub.call(f"/api/terminals/{name}", people.tokens[a]))["name"] == name
        assert "still42" in _shell(people, a, name, "echo still$((6*7))", "still42")
        assert len(_containers(people, a, name)) == 1
    finally:
        _close(people, a, name)


def test_names_are_each_users_own(people: Class) -> None:
    """Ada and Bob may both name a terminal "1": two shells, each over its owner's files."""
    a, b = people.a, people.b
    for who, content in ((a, "ada"), (b, "bob")):
        saved = people.hub.call(
            "/api/contents/whose.txt",
            people.tokens[who],
            "PUT",
            {"type": "file", "format": "text", "content": content},
        )
        assert saved.status_code in (200, 201), saved.text
    assert _open(people, a, {"name": "1"}) == "1"
    try:
        assert _open(people, b, {"name": "1"}) == "1"
        try:
            for who, content in ((a, "ada"), (b, "bob")):
                out = _shell(people, who, "1", "echo [$(cat whose.txt)]$((6*7))", "]42")
                assert f"[{content}]42" in out, (who, out)
        finally:
            _close(people, b, "1")
        assert _names(people, a) == {"1"} and _names(people, b) == set()
    finally:
        _close(people, a, "1")


def test_bad_requests_are_400s_that_say_why(people: Class) -> None:
    """Bodies that are not a terminal's: 400 with a message, and no terminal starts."""
    hub, ta = people.hub, people.tokens[people.a]
    cases: list[tuple[Any, str]] = [
        (["name"], "JSON object"),
        ({"shell_command": ["/bin/sh"]}, "Unknown field"),
        ({"name": "a b"}, "letters, digits or underscores"),
        ({"name": 7}, "letters, digits or underscores"),
        ({"cwd": "../.."}, "'..'"),
        ({"cwd": "/etc"}, "relative to your workspace"),
        ({"cwd": "no-such-folder"}, "No such folder"),
    ]
    for body, message in cases:
        reply = hub.call("/api/terminals", ta, "POST", body)
        assert reply.status_code == 400, (body, reply.status_code, reply.text)
        assert message in _json(reply)["message"], (body, reply.text)
    broken = requests.post(
        f"{hub.service_url}/api/terminals",
        headers={"Authorization": f"token {ta}"},
        data="{not json",
        timeout=60,
    )
    assert broken.status_code == 400, broken.text
    assert _names(people, people.a) == set()


def test_each_user_may_run_only_so_many_terminals(people: Class) -> None:
    """Past the per-user limit a new terminal is a 429 that says so; another user still opens."""
    a, b = people.a, people.b
    opened = [_open(people, a) for _ in range(LIMIT)]
    try:
        refused = people.hub.call("/api/terminals", people.tokens[a], "POST", {})
        assert refused.status_code == 429, refused.text
        assert "close one" in _json(refused)["message"]
        theirs = _open(people, b)
        _close(people, b, theirs)
    finally:
        for name in opened:
            _close(people, a, name)
    again = _open(people, a)  # room again once they are closed
    _close(people, a, again)


def test_terminals_refuse_tokens_that_sign_nobody_in(people: Class) -> None:
    """No, forged and other-service tokens list, open and connect to no terminal."""
    hub = people.hub
    name = _open(people, people.a)
    try:
        assert hub.call("/api/terminals", None).status_code == 403
        assert hub.call("/api/terminals", None, "POST", {}).status_code == 403
        assert hub.call("/api/terminals", "f" * 32).status_code == 401
        assert hub.call("/api/terminals", "f" * 32, "POST", {}).status_code == 401
        assert hub.call("/api/terminals", hub.other_token).status_code in (401, 403)
        assert hub.call(f"/api/terminals/{name}", "f" * 32, "DELETE").status_code == 401
        people.tokens["forged"] = "f" * 32
        try:
            assert _connect_status(people, "forged", name) in (401, 403)
        finally:
            del people.tokens["forged"]
        assert _names(people, people.a) == {name}
    finally:
        _close(people, people.a, name)


def test_the_service_stop_removes_terminals_left_open(people: Class) -> None:
    """A terminal nobody closed: the hub's stop of the service removes its container.

    (The module's fixture checks, after the hub stopped, that no container is left.)
    """
    name = _open(people, people.a)
    assert "open42" in _shell(people, people.a, name, "echo open$((6*7))", "open42")
    assert len(_containers(people, people.a, name)) == 1
