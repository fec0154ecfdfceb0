"""Assignments served by the jupyter-ide service under a real JupyterHub, per caller.

The instructor makes an assignment from a folder saved through the service's contents API,
releases it into each student's own workspace (no shared folder), a student reads her copy,
edits and submits it, the service grades it in its sandboxes; another student reaches none
of it, and nobody reaches another's workspace through the classroom.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from .hubfixture import ACCESS, ServiceHub, service_hub
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

INSTRUCTOR = "custom:ide:instructor"
SOURCE = "n = int(input())\n# BEGIN SOLUTION\nprint(n * 2)\n# END SOLUTION\n"
TESTS = [
    {
        "kind": "stdin",
        "name": "double",
        "program": "main.py",
        "stdin": "21\n",
        "expected_output": "42\n",
    },
    {
        "kind": "stdin",
        "name": "hidden_triple_secret",
        "program": "main.py",
        "stdin": "7\n",
        "expected_output": "14\n",
        "visibility": "hidden",
    },
]


@dataclass
class Class:
    """The hub, two students and their instructor, each with a token for the service."""

    hub: ServiceHub
    ada: str
    bob: str
    tess: str
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, body: Any = None) -> requests.Response:
        """Call the service as ``who``."""
        return self.hub.call(path, self.tokens[who], method, body)


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the service runs under the hub."""


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Class]:
    """A hub running the service; ada and bob study cs101, tess teaches it."""
    tag = uuid.uuid4().hex[:6]
    ada, bob, tess = (f"{who}-{tag}" for who in ("ada", "bob", "tess"))
    base = tmp_path_factory.mktemp("classroom-hub")
    with service_hub(base, moto_server, "managed", {"JUPYTER_IDE_INSTRUCTORS": tess}) as (hub, _):
        hub.add_user(ada, ("course-cs101",))
        hub.add_user(bob, ("course-cs101",))
        hub.add_user(tess, ("course-cs101-instructors",))
        tokens = {
            ada: hub.token(ada, [ACCESS]),
            bob: hub.token(bob, [ACCESS]),
            tess: hub.token(tess, [ACCESS, INSTRUCTOR]),
        }
        yield Class(hub, ada, bob, tess, tokens)


def _ok(reply: requests.Response) -> Any:
    assert 200 <= reply.status_code < 300, (reply.status_code, reply.text[:1000])
    return reply.json()


def test_release_submit_and_grade_through_the_service(klass: Class) -> None:
    """The whole cycle through the service, each person seeing only their own."""
    ada, bob, tess = klass.ada, klass.bob, klass.tess
    for who in (ada, bob, tess):  # signing in syncs their hub groups into course members
        _ok(klass.call(who, "GET", "/ide/api/courses"))
    folder = klass.call(tess, "PUT", "/api/contents/hw", {"type": "directory"})
    assert folder.status_code in (200, 201), folder.text
    saved = klass.call(
        tess,
        "PUT",
        "/api/contents/hw/main.py",
        {"type": "file", "format": "text", "content": SOURCE},
    )
    assert saved.status_code in (200, 201), saved.text
    base = "/ide/api/courses/cs101/assignments"
    body = {"name": "hw", "folder": "hw", "language": "python", "tests": TESTS}
    _ok(klass.call(tess, "POST", base, body))
    assert klass.call(ada, "POST", base, {**body, "name": "mine"}).status_code == 403
    _ok(klass.call(ada, "GET", "/api/contents"))  # ada's workspace is open at the service
    released = _ok(klass.call(tess, "POST", f"{base}/hw/release"))
    assert set(released["students"]) == {ada, bob}, released

    copy = _ok(klass.call(ada, "GET", "/api/contents/assignments/cs101/hw/main.py"))
    assert "YOUR CODE HERE" in copy["content"] and "n * 2" not in copy["content"]
    # The instructor's own folder is not in any student's workspace.
    assert klass.call(ada, "GET", "/api/contents/hw/main.py").status_code == 404
    solved = copy["content"].replace("raise NotImplementedError()", "print(n * 2)")
    klass.call(
        ada,
        "PUT",
        "/api/contents/assignments/cs101/hw/main.py",
        {"type": "file", "format": "text", "content": solved},
    )
    submitted = _ok(klass.call(ada, "POST", f"{base}/hw/submissions"))
    sid = submitted["id"]
    deadline = time.monotonic() + 300
    while True:
        seen = _ok(klass.call(tess, "GET", f"{base}/hw/submissions/{sid}"))
        if seen["status"] in ("graded", "error"):
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)
    assert seen["status"] == "graded", seen
    assert [r["status"] for r in seen["results"]] == ["passed", "passed"], seen
    mine = klass.call(ada, "GET", f"{base}/hw/submissions/{sid}")
    assert [r["name"] for r in _ok(mine)["results"]] == ["double"]
    assert "hidden_triple_secret" not in mine.text
    # bob: not ada's submission, not its files, not the instructor's views.
    assert klass.call(bob, "GET", f"{base}/hw/submissions/{sid}").status_code == 404
    assert (
        klass.call(bob, "GET", f"{base}/hw/submissions/{sid}/file?path=main.py").status_code == 404
    )
    assert klass.call(bob, "GET", f"{base}/gradebook").status_code == 403
    assert _ok(klass.call(bob, "GET", f"{base}/hw/submissions"))["submissions"] == []
    bobs = _ok(klass.call(bob, "GET", "/api/contents/assignments/cs101/hw/main.py"))
    assert "YOUR CODE HERE" in bobs["content"]
    book = _ok(klass.call(tess, "GET", f"{base}/gradebook"))
    assert {r["student"]: r["scores"]["hw"] for r in book["students"]} == {ada: 2.0, bob: None}
