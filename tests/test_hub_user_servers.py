"""Hub users' own servers as the service's clients: their files, kernels and APIs are its.

A real hub (deploy/jupyterhub_config.py with the managed service) spawns each student's
``jupyterhub-singleuser`` as a local process, the way its spawner starts it: that server
gets only ``JUPYTER_IDE_SERVICE_URL`` and its own hub token, and must still give the editor,
JupyterLab and the kernels one workspace, sandboxed kernels and the IDE's APIs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .hubfixture import (
    ACCESS,
    SERVICE_SECRETS,
    ServiceHub,
    secret_values,
    service_hub,
    start_user_server,
    tail,
    user_server_call,
    user_server_request,
    user_servers_config,
)
from .kernel_host import require_images
from .kernel_ws import run_cell
from .s3_server import MotoServer
from .test_terminals import _shell_output


@dataclass
class Classroom:
    """The hub, two students with running servers, and a token for each."""

    hub: ServiceHub
    env: dict[str, str]
    a: str
    b: str
    tokens: dict[str, str]

    def server(self, who: str) -> str:
        """The URL of ``who``'s own server, through the hub's proxy."""
        return f"{self.hub.url}/user/{who}"

    def call(
        self, who: str, path: str, method: str = "GET", body: Any = None, token: str = ""
    ) -> requests.Response:
        """Call ``path`` on ``who``'s server with their token (or ``token``)."""
        return user_server_call(self.hub, who, token or self.tokens[who], path, method, body)


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process Jupyter server here."""


@pytest.fixture(scope="module")
def classroom(
    tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer
) -> Iterator[Classroom]:
    """One hub with the service; Ada's and Bob's servers started by its spawner."""
    require_images("python", "c")
    tag = uuid.uuid4().hex[:6]
    a, b = f"ada-{tag}", f"bob-{tag}"
    base = tmp_path_factory.mktemp("hub-users")
    with service_hub(base, moto_server, "managed", extra_config=user_servers_config(base)) as (
        hub,
        env,
    ):
        tokens = {}
        for name in (a, b):
            hub.add_user(name)
            tokens[name] = hub.token(name, [f"access:servers!user={name}", ACCESS])
        for name in (a, b):
            start_user_server(hub, name)
        yield Classroom(hub, env, a, b, tokens)
        for name in (a, b):
            user_server_request(hub, name, "DELETE")


def _json(reply: requests.Response) -> Any:
    """The reply's JSON body, failing with the reply when it is not JSON."""
    try:
        return reply.json()
    except ValueError as e:
        raise AssertionError(f"{reply.status_code}: {reply.text[:500]}") from e


def _text(model: dict[str, Any]) -> str:
    """The text of a file model."""
    assert model["type"] == "file" and model["format"] == "text", model
    return str(model["content"])


def _cell(classroom: Classroom, who: str, kernel_id: str, code: str) -> str:
    """Run ``code`` on a kernel over ``who``'s server's channels websocket; return its output."""
    ws = "ws" + classroom.server(who).removeprefix("http")
    request = HTTPRequest(
        f"{ws}/api/kernels/{kernel_id}/channels",
        headers={"Authorization": f"token {classroom.tokens[who]}"},
        request_timeout=120,
    )
    return asyncio.run(run_cell(request, code))


def _synced(read: Callable[[], requests.Response]) -> requests.Response:
    """Return ``read()`` once it finds the file (a kernel's folder syncs after its run)."""
    deadline = time.monotonic() + 30
    while True:
        shown = read()
        if shown.status_code == 200 or time.monotonic() > deadline:
            return shown
        time.sleep(0.5)


def _server_pid(name: str) -> int:
    """The process id of ``name``'s jupyterhub-singleuser (found by its JUPYTERHUB_USER)."""
    wanted = f"JUPYTERHUB_USER={name}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if wanted in environ and b"jupyterhub-singleuser" in command:
            return int(entry.name)
    raise AssertionError(f"no jupyterhub-singleuser process for {name}")


def test_files_saved_in_a_users_server_are_the_services(classroom: Classroom) -> None:
    """Saved through Ada's server, read through the service, and the reverse; errors kept."""
    hub, a = classroom.hub, classroom.a
    token = classroom.tokens[a]
    model = {"type": "file", "format": "text", "content": "print('from the editor')\n"}
    saved = classroom.call(a, "/api/contents/lab/editor.py", "PUT", model)
    assert saved.status_code == 404, saved.text  # no folder "lab" yet: Jupyter's answer
    made = classroom.call(a, "/api/contents/lab", "PUT", {"type": "directory"})
    assert made.status_code == 201, made.text
    saved = classroom.call(a, "/api/contents/lab/editor.py", "PUT", model)
    assert saved.status_code == 201, saved.text
    assert _json(saved)["path"] == "lab/editor.py"
    direct = _json(hub.call("/api/contents/lab/editor.py", token))
    assert _text(direct) == "print('from the editor')\n"
    # The reverse: the service's copy is what Ada's server shows.
    theirs = {"type": "file", "format": "text", "content": "written at the service\n"}
    assert hub.call("/api/contents/lab/service.txt", token, "PUT", theirs).status_code == 201
    shown = _json(classroom.call(a, "/api/contents/lab/service.txt"))
    assert _text(shown) == "written at the service\n"
    listing = _json(classroom.call(a, "/api/contents/lab"))
    assert {item["name"] for item in listing["content"]} == {"editor.py", "service.txt"}
    # Checkpoints are the service's versions.
    checkpoint = classroom.call(a, "/api/contents/lab/editor.py/checkpoints", "POST")
    assert checkpoint.status_code == 201, checkpoint.text
    edited = {**model, "content": "print('edited')\n"}
    assert classroom.call(a, "/api/contents/lab/editor.py", "PUT", edited).status_code == 200
    cid = _json(checkpoint)["id"]
    restored = classroom.call(a, f"/api/contents/lab/editor.py/checkpoints/{cid}", "POST")
    assert restored.status_code == 204, restored.text
    assert _text(_json(hub.call("/api/contents/lab/editor.py", token))) == model["content"]
    # Rename, copy, untitled and delete go to the service too.
    moved = classroom.call(a, "/api/contents/lab/service.txt", "PATCH", {"path": "lab/moved.txt"})
    assert moved.status_code == 200 and _json(moved)["path"] == "lab/moved.txt", moved.text
    copied = classroom.call(a, "/api/contents/lab", "POST", {"copy_from": "lab/moved.txt"})
    assert copied.status_code == 201, copied.text
    untitled = classroom.call(a, "/api/contents/lab", "POST", {"type": "notebook"})
    assert untitled.status_code == 201 and _json(untitled)["type"] == "notebook", untitled.text
    assert classroom.call(a, "/api/contents/lab/moved.txt", "DELETE").status_code == 204
    assert hub.call("/api/contents/lab/moved.txt", token).status_code == 404
    names = {item["name"] for item in _json(hub.call("/api/contents/lab", token))["content"]}
    assert names == {"editor.py", "moved-Copy1.txt", _json(untitled)["name"]}
    # Jupyter's /files route reads through the same manager.
    raw = classroom.call(a, "/files/lab/editor.py")
    assert raw.status_code == 200 and raw.text == model["content"], raw.text
    # The service's refusals reach the editor with their status and words.
    missing = classroom.call(a, "/api/contents/lab/nope.txt")
    assert missing.status_code == 404 and "nope.txt" in missing.text  # Jupyter's own words
    bad = classroom.call(a, "/api/contents/lab/bad.txt", "PUT", {"type": "file", "content": 3})
    assert 400 <= bad.status_code < 500, bad.text
    assert _json(bad)["message"]


def test_a_users_kernels_run_in_the_services_sandbox_on_their_files(
    classroom: Classroom,
) -> None:
    """A kernel started in Ada's server is hers in the service: a container, her files."""
    hub, a = classroom.hub, classroom.a
    token = classroom.tokens[a]
    note = {"type": "file", "format": "text", "content": "saved in the editor\n"}
    assert classroom.call(a, "/api/contents/note.txt", "PUT", note).status_code in (200, 201)
    specs = _json(classroom.call(a, "/api/kernelspecs"))
    assert "ide-python" in specs["kernelspecs"], specs
    started = classroom.call(a, "/api/kernels", "POST", {"name": "ide-python"})
    assert started.status_code == 201, (started.text, tail(hub.log, 6000))
    kernel_id = _json(started)["id"]
    try:
        assert kernel_id in {k["id"] for k in _json(hub.call("/api/kernels", token))}
        code = (
            "import os, socket\n"
            "print(os.getuid() != 0, open('/workspace/note.txt').read().strip())\n"
            "print(sorted(os.listdir('/sys/class/net')))\n"
            "for port in (5432, 6379):\n"
            "    try:\n"
            "        socket.create_connection(('127.0.0.1', port), timeout=2)\n"
            "        print('reached', port)\n"
            "    except OSError:\n"
            "        print('unreachable', port)\n"
            "open('/workspace/from-kernel.txt', 'w').write('written by a cell\\n')\n"
        )
        out = _cell(classroom, a, kernel_id, code)
        # Sandboxed (--network none: loopback only, the database and Redis out of reach).
        expected = ["True saved in the editor", "['lo']", "unreachable 5432", "unreachable 6379"]
        assert out.split("\n")[:4] == expected, out
        shown = _synced(lambda: classroom.call(a, "/api/contents/from-kernel.txt"))
        assert _text(_json(shown)) == "written by a cell\n", shown.text
    finally:
        gone = classroom.call(a, f"/api/kernels/{kernel_id}", "DELETE")
        assert gone.status_code == 204, gone.text
    assert kernel_id not in {k["id"] for k in _json(hub.call("/api/kernels", token))}


def test_a_browser_reconnecting_with_its_session_gets_answers(classroom: Classroom) -> None:
    """A socket closed as it opens, then the same session again (as browsers do): it answers."""
    a = classroom.a
    started = classroom.call(a, "/api/kernels", "POST", {"name": "ide-python"})
    assert started.status_code == 201, started.text
    kernel_id = _json(started)["id"]
    ws = "ws" + classroom.server(a).removeprefix("http")
    url = f"{ws}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4()}"
    headers = {"Authorization": f"token {classroom.tokens[a]}"}

    async def reconnect() -> str:
        first = await websocket_connect(HTTPRequest(url, headers=headers))
        first.close()  # before the server's own socket to the service is open
        await asyncio.sleep(0.02)
        return await run_cell(
            HTTPRequest(url, headers=headers, request_timeout=60), "print(6*7)", 60
        )

    try:
        assert asyncio.run(reconnect()).strip() == "42"
    finally:
        classroom.call(a, f"/api/kernels/{kernel_id}", "DELETE")


C_CELL = r"""#include <stdio.h>
int main(void) {
    char line[128] = "";
    FILE *in = fopen("/workspace/for-c.txt", "r");
    if (!in || !fgets(line, sizeof line, in)) { perror("read"); return 1; }
    fclose(in);
    FILE *out = fopen("/workspace/from-c.txt", "w");
    if (!out) { perror("write"); return 1; }
    fputs("c wrote this\n", out);
    fclose(out);
    printf("c read: %s", line);
    return 0;
}
"""


def test_a_notebook_session_runs_c_in_the_service_on_the_users_files(
    classroom: Classroom,
) -> None:
    """As JupyterLab opens a notebook (the sessions API): an ide-c kernel in the service."""
    hub, a = classroom.hub, classroom.a
    token = classroom.tokens[a]
    given = {"type": "file", "format": "text", "content": "from the editor\n"}
    assert classroom.call(a, "/api/contents/for-c.txt", "PUT", given).status_code in (200, 201)
    body = {
        "path": "prog.ipynb",
        "name": "prog.ipynb",
        "type": "notebook",
        "kernel": {"name": "ide-c"},
    }
    made = classroom.call(a, "/api/sessions", "POST", body)
    assert made.status_code == 201, (made.text, tail(hub.log, 6000))
    session = _json(made)
    kernel_id = session["kernel"]["id"]
    try:
        assert session["kernel"]["name"] == "ide-c"
        theirs = {k["id"]: k["name"] for k in _json(hub.call("/api/kernels", token))}
        assert theirs.get(kernel_id) == "ide-c", theirs
        out = _cell(classroom, a, kernel_id, C_CELL)
        assert out.strip() == "c read: from the editor", out
        shown = _synced(lambda: hub.call("/api/contents/from-c.txt", token))
        assert _text(_json(shown)) == "c wrote this\n", shown.text
    finally:
        gone = classroom.call(a, f"/api/sessions/{session['id']}", "DELETE")
        assert gone.status_code == 204, gone.text
    assert kernel_id not in {k["id"] for k in _json(hub.call("/api/kernels", token))}


def test_a_users_server_holds_none_of_the_services_secrets(classroom: Classroom) -> None:
    """Its environment names the service and its own token; no database, store or keys."""
    a = classroom.a
    pid = _server_pid(a)
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text(errors="replace").split("\0")
        if "=" in item
    )
    assert environ["JUPYTER_IDE_SERVICE_URL"].endswith("/services/ide/")
    for name in SERVICE_SECRETS:
        assert name not in environ, name
    for name, value in secret_values(classroom.env).items():
        assert value not in "\0".join(environ.values()), name
    home = Path(environ["HOME"])
    assert not list(home.rglob("ide.db")), "the user's server made a database of its own"
    assert not list(home.rglob("blobs")), "the user's server made a file store of its own"
    page = classroom.call(a, "/ide")
    assert page.status_code == 200, page.text[:300]
    assert '"terminalsAvailable": true' in page.text


def _terminal(classroom: Classroom, who: str, name: str, command: str, marker: str) -> str:
    """Run ``command`` in terminal ``name`` through ``who``'s server; return its output."""
    ws = "ws" + classroom.server(who).removeprefix("http") + f"/terminals/websocket/{name}"
    headers = {"Authorization": f"token {classroom.tokens[who]}"}

    async def run() -> str:
        socket = await websocket_connect(HTTPRequest(ws, headers=headers, request_timeout=60))
        try:
            return await _shell_output(socket, command, marker)
        finally:
            socket.close()

    return asyncio.run(run())


def test_a_users_terminal_is_a_sandbox_of_the_service(classroom: Classroom) -> None:
    """The terminal of Ada's server is the service's: her files, no secrets, not Bob's."""
    hub, a, b = classroom.hub, classroom.a, classroom.b
    token = classroom.tokens[a]
    opened = classroom.call(a, "/api/terminals", "POST", {})
    assert opened.status_code == 200, opened.text
    name = _json(opened)["name"]
    try:
        assert name in {t["name"] for t in _json(hub.call("/api/terminals", token))}
        out = _terminal(
            classroom,
            a,
            name,
            "echo made-in-$((6*7)) > from-term.txt; cat from-term.txt; echo uid=$(id -u); env;"
            " echo END-OF-$((1+1))",
            "END-OF-2",  # not in the typed line the terminal echoes first
        )
        assert "made-in-42" in out, out
        assert "uid=0" not in out and "uid=" in out, "the shell runs as root"
        for secret in SERVICE_SECRETS:
            assert secret not in out, secret
        for secret, value in secret_values(classroom.env).items():
            assert value not in out, secret
        assert "JUPYTERHUB_API_TOKEN" not in out
        shown = _synced(lambda: hub.call("/api/contents/from-term.txt", token))
        assert _text(_json(shown)) == "made-in-42\n", shown.text
        # Bob: not on Ada's server, and his own server does not reach her terminal.
        assert classroom.call(
            a, f"/api/terminals/{name}", token=classroom.tokens[b]
        ).status_code in (
            403,
            404,
        )
        assert classroom.call(b, f"/api/terminals/{name}").status_code == 404
        assert name not in {t["name"] for t in _json(classroom.call(b, "/api/terminals"))}
        bad = classroom.call(a, "/api/terminals", "POST", {"cwd": "../.."})
        assert bad.status_code == 400 and _json(bad)["message"], bad.text
    finally:
        closed = classroom.call(a, f"/api/terminals/{name}", "DELETE")
        assert closed.status_code == 204, closed.text
    assert name not in {t["name"] for t in _json(classroom.call(a, "/api/terminals"))}


def test_the_ide_apis_of_a_users_server_are_the_services(classroom: Classroom) -> None:
    """/ide/api/* in Ada's server answers as the service does for Ada; errors pass through."""
    hub, a, b = classroom.hub, classroom.a, classroom.b
    me = _json(classroom.call(a, "/ide/api/auth/me"))
    assert me["name"] == a, me
    assert _json(classroom.call(b, "/ide/api/auth/me"))["name"] == b
    assert classroom.call(a, "/ide/api/health").status_code == 200
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = classroom.call(a, "/ide/api/ai/v1/chat/completions", "POST", chat)
    assert answer.status_code == 200, answer.text
    streamed = classroom.call(
        a, "/ide/api/ai/v1/chat/completions", "POST", {**chat, "stream": True}
    )
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["Content-Type"].startswith("text/event-stream")
    assert "data: [DONE]" in streamed.text
    used_a = _json(classroom.call(a, "/ide/api/ai/usage"))
    used_b = _json(classroom.call(b, "/ide/api/ai/usage"))
    assert used_a == _json(hub.call("/ide/api/ai/usage", classroom.tokens[a]))
    assert used_a != used_b
    bad = classroom.call(a, "/ide/api/ai/v1/chat/completions", "POST", {"messages": 3})
    assert bad.status_code == 400 and _json(bad)["message"], bad.text
    assert classroom.call(a, "/ide/api/no-such-thing").status_code == 404
    # The judge (Run): Ada's submission through her server is hers; Bob's server gets a 404.
    run = {"language_id": 71, "source_code": "print('judged', 6 * 7)"}
    submitted = classroom.call(a, "/ide/api/judge/submissions?wait=true", "POST", run)
    assert submitted.status_code == 201, submitted.text
    result = _json(submitted)
    assert result["stdout"] == "judged 42\n", result
    token = result["token"]
    assert classroom.call(a, f"/ide/api/judge/submissions/{token}").status_code == 200
    assert hub.call(f"/ide/api/judge/submissions/{token}", classroom.tokens[a]).status_code == 200
    assert classroom.call(b, f"/ide/api/judge/submissions/{token}").status_code == 404
    # The course a call is made in (X-IDE-Course) reaches the service: one Ada is not in is
    # refused there (her server used to drop the header, and the run went through).
    elsewhere = requests.post(
        f"{classroom.server(a)}/ide/api/judge/submissions?wait=true",
        data=json.dumps(run),
        headers={"Authorization": f"token {classroom.tokens[a]}", "X-IDE-Course": "not-hers"},
        timeout=180,
    )
    assert elsewhere.status_code == 403 and "not-hers" in _json(elsewhere)["message"], (
        elsewhere.text
    )


def test_one_student_cannot_reach_anothers_server_or_files(classroom: Classroom) -> None:
    """Bob's token opens nothing of Ada's server; Bob's server shows only Bob's files."""
    a, b = classroom.a, classroom.b
    secret = {"type": "file", "format": "text", "content": "ada only\n"}
    assert classroom.call(a, "/api/contents/ada-only.txt", "PUT", secret).status_code in (200, 201)
    for path in ("/api/contents/ada-only.txt", "/api/kernels", "/ide/api/auth/me"):
        reply = classroom.call(a, path, token=classroom.tokens[b])
        assert reply.status_code in (403, 404), (path, reply.status_code)
    assert classroom.call(b, "/api/contents/ada-only.txt").status_code == 404
    names = {item["name"] for item in _json(classroom.call(b, "/api/contents"))["content"]}
    assert "ada-only.txt" not in names
