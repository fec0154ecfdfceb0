"""Assignments over HTTP (issue #15), on SQLite and PostgreSQL, graded in real sandboxes.

The server's own user (its contents manager's owner, whose workspace is materialised for
kernels) is the student sam, so his copy, edits and reopened submissions go through the
contents API as in the browser. The other people's workspaces are index rows only: the
instructor's folder and ada's edits are written through the classroom's own workspace door
(WorkspaceFiles), as an open workspace of theirs would save them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_ide.classroom.export import RESULTS_FIELDS, TEST_FIELDS
from jupyter_ide.classroom.handlers import CLASSROOM

from .test_ai_common import HubLikeIdentity, as_user, call_as, make_course
from .test_judge_common import docker_or_fail, judge_config

USERS = {"alan": "instructor", "sam": "student", "ada": "student", "root": "admin"}
HIDDEN_MARKS = ("SECRET_mul_hidden", "HIDDENCODE", "secret_sum", "4242")
SOLUTION_MARKS = ("return a + b", "return a * b", "SOLUTIONCODE")


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One judge folder for the module; the engine and images must be there."""
    docker_or_fail()
    return tmp_path_factory.mktemp("judge-classroom")


@pytest.fixture
def ide_db_url(any_db_url: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], judge_dir: Path) -> dict[str, Any]:
    """The judge, hub-like users, and sam's workspace served (and materialised) here."""
    config = judge_config(jp_server_config, judge_dir, pool_size=0)
    HubLikeIdentity.USERS.update(USERS)
    config["IDEContentsManager"] = {**config["IDEContentsManager"], "owner": "sam"}
    config["ClassroomSettings"] = {"grading_workers": 2}
    return config


class Client:
    """Calls the classroom API as someone; keeps every response students got."""

    def __init__(self, jp_fetch: Any) -> None:
        """Use pytest-jupyter's fetch."""
        self.fetch = jp_fetch
        self.student_payloads: list[str] = []

    async def call(
        self,
        who: str,
        method: str,
        *path: str,
        body: Any = None,
        raw: bytes | None = None,
        **params: str,
    ) -> tuple[int, Any, Any]:
        """Return (status, parsed JSON or text, headers) of an /ide/api/courses call."""
        code, text, headers = await call_as(
            self.fetch,
            who,
            method,
            "ide",
            "api",
            "courses",
            *path,
            body=body,
            raw=raw,
            params=params,
        )
        decoded = text.decode("utf-8", "replace")
        if USERS.get(who) == "student":
            self.student_payloads.append(decoded)
        try:
            return code, json.loads(decoded), headers
        except ValueError:
            return code, decoded, headers

    async def ok(self, who: str, method: str, *path: str, **kwargs: Any) -> Any:
        """Call and insist on a 2xx; return the body."""
        code, body, _ = await self.call(who, method, *path, **kwargs)
        assert 200 <= code < 300, (method, path, code, body)
        return body

    async def graded(self, course: str, name: str, sid: int, timeout: float = 300) -> Any:
        """Wait until the submission is graded (as its instructor sees it)."""
        deadline = time.monotonic() + timeout
        while True:
            sub = await self.ok("alan", "GET", course, "assignments", name, "submissions", str(sid))
            if sub["status"] in ("graded", "error"):
                assert sub["status"] == "graded", sub
                return sub
            assert time.monotonic() < deadline, sub
            await asyncio.sleep(0.3)


def classroom(app: Any) -> Any:
    """The server's classroom."""
    return app.web_app.settings[CLASSROOM]


async def write(app: Any, user: str, path: str, data: bytes) -> None:
    """Save a file in ``user``'s workspace through the classroom's workspace door."""
    files = classroom(app).assignments.files
    content_hash, size = await files.put(data, user)
    await files.write(user, path, content_hash, size, "save")


async def read_own(jp_fetch: Any, who: str, path: str) -> str:
    """Read a file of the server's own user through the contents API."""
    response = await jp_fetch("api", "contents", *path.split("/"), headers=as_user(who))
    model = json.loads(response.body)
    content = model["content"]
    return json.dumps(content) if model["type"] == "notebook" else str(content)


def cell(kind: str, source: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """One notebook cell."""
    data: dict[str, Any] = {"cell_type": kind, "metadata": meta or {}, "source": source}
    if kind == "code":
        data.update(outputs=[], execution_count=None)
    return data


def graded_cell(name: str, points: int, visibility: str, source: str) -> dict[str, Any]:
    """A test cell."""
    meta = {"jupyter_ide": {"test": {"name": name, "points": points, "visibility": visibility}}}
    return cell("code", source, meta)


def notebook(cells: list[dict[str, Any]]) -> bytes:
    """A notebook's bytes."""
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "ide-python", "display_name": "Python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb).encode()


HW1 = notebook(
    [
        cell("markdown", "Write add and mul."),
        cell("code", "def add(a, b):\n    return a + b\n", {"jupyter_ide": {"solution": True}}),
        cell(
            "code",
            "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION\n",
        ),
        graded_cell("add works", 2, "visible", "assert add(1, 2) == 3\n"),
        graded_cell("SECRET_mul_hidden", 3, "hidden", "assert mul(2, 3) == 6  # HIDDENCODE\n"),
        graded_cell("after due", 1, "after_due_date", "assert add(0, 0) == 0\n"),
        graded_cell("after published", 1, "after_published", "assert mul(1, 1) == 1\n"),
    ]
)


def solved(student_copy: dict[str, Any]) -> dict[str, Any]:
    """The student's copy with the two functions written."""
    cells = []
    for c in student_copy["cells"]:
        c = dict(c)
        if "YOUR CODE HERE" in "".join(c["source"]):
            c["source"] = "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b\n"
        cells.append(c)
    return {**student_copy, "cells": cells}


def iso(delta: timedelta) -> str:
    """Now plus ``delta``, as ISO 8601."""
    return (datetime.now(timezone.utc) + delta).isoformat()


async def test_notebook_assignment_whole_cycle(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Create, release, submit failing then passing, rate limit, visibility, manual points
    that survive a regrade, feedback, gradebook, results.json, reopen and a re-release."""
    api = Client(jp_fetch)
    await make_course(jp_serverapp, "cs101", ["sam", "ada"], ["alan"])
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    await write(jp_serverapp, "alan", "hw1/README.md", b"Read me.\n")
    created = await api.ok(
        "alan",
        "POST",
        "cs101",
        "assignments",
        body={
            "name": "hw1",
            "folder": "hw1",
            "language": "python",
            "due_at": iso(timedelta(days=1)),
            "late_penalty_percent": 10,
            "max_submissions": 2,
            "window_seconds": 3600,
            "rubric": [{"name": "style", "points": 2}],
        },
    )
    assert [t["name"] for t in created["spec"]["tests"]] == [
        "add works",
        "SECRET_mul_hidden",
        "after due",
        "after published",
    ]
    assert created["instructor_files"] == ["hw1.ipynb"]
    # Not released yet: students do not see it.
    code, _, _ = await api.call("sam", "GET", "cs101", "assignments", "hw1")
    assert code == 404
    assert (await api.ok("sam", "GET", "cs101", "assignments"))["assignments"] == []
    released = await api.ok("alan", "POST", "cs101", "assignments", "hw1", "release")
    assert sorted(released["students"]) == ["ada", "sam"]
    assert sorted(released["students"]["sam"]["written"]) == ["README.md", "hw1.ipynb"]

    # sam's copy: solutions stripped, only the visible test cell, no outputs.
    copy_text = await read_own(jp_fetch, "sam", "assignments/cs101/hw1/hw1.ipynb")
    api.student_payloads.append(copy_text)
    for mark in SOLUTION_MARKS + HIDDEN_MARKS:
        assert mark not in copy_text, mark
    assert "YOUR CODE HERE" in copy_text and "assert add(1, 2) == 3" in copy_text
    assert "after due" not in copy_text and "assert mul(1, 1)" not in copy_text
    # ...and in the folder his kernels see.
    folder = jp_serverapp.contents_manager.workspace_dir / "assignments/cs101/hw1"
    assert "YOUR CODE HERE" in (folder / "hw1.ipynb").read_text()

    view = await api.ok("sam", "GET", "cs101", "assignments", "hw1")
    assert [t["name"] for t in view["tests"]] == ["add works"]
    assert "spec" not in view and "instructor_files" not in view

    # Submit the stub (fails), then a solution (passes), then one too many (429).
    first = await api.ok("sam", "POST", "cs101", "assignments", "hw1", "submissions")
    response = await jp_fetch("api", "contents", "assignments", "cs101", "hw1", "hw1.ipynb")
    mine = json.loads(response.body)["content"]
    await jp_fetch(
        "api",
        "contents",
        "assignments",
        "cs101",
        "hw1",
        "hw1.ipynb",
        method="PUT",
        body=json.dumps({"type": "notebook", "format": "json", "content": solved(mine)}),
        headers=as_user("sam"),
    )
    second = await api.ok("sam", "POST", "cs101", "assignments", "hw1", "submissions")
    code, refused, headers = await api.call(
        "sam", "POST", "cs101", "assignments", "hw1", "submissions"
    )
    assert code == 429 and int(headers["Retry-After"]) > 3000, (code, refused)
    assert "2 times per 3600 s" in refused["message"]

    failing = await api.graded("cs101", "hw1", first["id"])
    passing = await api.graded("cs101", "hw1", second["id"])
    by_name = {r["name"]: r for r in failing["results"]}
    assert by_name["add works"]["status"] == "failed" and by_name["add works"]["score"] == 0
    by_name = {r["name"]: r for r in passing["results"]}
    assert all(r["status"] == "passed" for r in by_name.values()), passing["results"]
    assert passing["score"] == 7 and passing["max_score"] == 9  # style not yet given
    assert passing["grade_runs"] == 1 and passing["late_days"] == 0

    # The student sees the visible test only (the deadline has not passed, nothing published).
    mine_now = await api.ok(
        "sam", "GET", "cs101", "assignments", "hw1", "submissions", str(second["id"])
    )
    assert [r["name"] for r in mine_now["results"]] == ["add works"]
    assert mine_now["visible_score"] == 2 and mine_now["feedback"] is None
    listed = await api.ok("sam", "GET", "cs101", "assignments", "hw1", "submissions")
    assert [s["id"] for s in listed["submissions"]] == [second["id"], first["id"]]

    # Manual points: style given, the hidden test's points overridden; a regrade keeps both.
    manual = {
        "points": {"style": 2, "SECRET_mul_hidden": 1},
        "comments": [{"path": "hw1.ipynb", "line": 3, "text": "Nice add."}],
    }
    sid = str(second["id"])
    graded = await api.ok(
        "alan", "PUT", "cs101", "assignments", "hw1", "submissions", sid, "grade", body=manual
    )
    assert graded["score"] == 7 and graded["max_score"] == 9
    assert await api.ok(
        "alan", "POST", "cs101", "assignments", "hw1", "submissions", sid, "regrade"
    ) == {"queued": [second["id"]]}
    again = await api.graded("cs101", "hw1", second["id"])
    assert again["grade_runs"] == 2 and again["manual"]["points"] == manual["points"]
    assert again["score"] == 7 and again["manual"]["comments"][0]["text"] == "Nice add."

    # results.json, checked against Gradescope's field list.
    results = await api.ok(
        "alan", "GET", "cs101", "assignments", "hw1", "submissions", sid, "results.json"
    )
    assert set(results) == set(RESULTS_FIELDS)
    assert results["score"] == 7 and results["max_score"] == 9
    for test in results["tests"]:
        assert set(test) == set(TEST_FIELDS)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["status"] in ("passed", "failed") and isinstance(test["output"], str)
    hidden = next(t for t in results["tests"] if t["name"] == "SECRET_mul_hidden")
    assert hidden["score"] == 1 and hidden["visibility"] == "hidden"
    assert (
        await api.call(
            "sam", "GET", "cs101", "assignments", "hw1", "submissions", sid, "results.json"
        )
    )[0] == 403

    # Feedback released: after_published results and the manual grade show; hidden never.
    await api.ok("alan", "PUT", "cs101", "assignments", "hw1", "feedback", body={"published": True})
    mine_now = await api.ok("sam", "GET", "cs101", "assignments", "hw1", "submissions", sid)
    assert [r["name"] for r in mine_now["results"]] == ["add works", "after published"]
    assert mine_now["feedback"]["score"] == 7 and mine_now["feedback"]["comments"]

    # Gradebook: sam's newest graded submission; ada has none.
    book = await api.ok("alan", "GET", "cs101", "assignments", "gradebook")
    assert book["assignments"] == ["hw1"] and book["max_scores"] == {"hw1": 9}
    assert {r["student"]: r["scores"]["hw1"] for r in book["students"]} == {"ada": None, "sam": 7}
    _, text, headers = await api.call(
        "alan", "GET", "cs101", "assignments", "gradebook", format="csv"
    )
    assert headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(text))) == [
        ["student", "hw1", "total"],
        ["ada", "", "0"],
        ["sam", "7", "7"],
    ]
    assert (await api.call("sam", "GET", "cs101", "assignments", "gradebook"))[0] == 403

    # Reopen the failing submission: the stub is back in sam's copy.
    reopened = await api.ok(
        "sam", "POST", "cs101", "assignments", "hw1", "submissions", str(first["id"]), "reopen"
    )
    assert reopened["restored"] == ["README.md", "hw1.ipynb"]
    assert "YOUR CODE HERE" in await read_own(jp_fetch, "sam", "assignments/cs101/hw1/hw1.ipynb")

    # ada cannot reach sam's submissions, nor the instructor's parts.
    for path in (("submissions", sid), ("submissions", sid, "file")):
        code, _, _ = await api.call(
            "ada", "GET", "cs101", "assignments", "hw1", *path, path="hw1.ipynb"
        )
        assert code == 404
    assert (
        await api.call("ada", "POST", "cs101", "assignments", "hw1", "submissions", sid, "reopen")
    )[0] == 404
    for student, count in (("sam", 2), ("ada", 0), ("", 2)):
        listed = await api.call(
            "alan", "GET", "cs101", "assignments", "hw1", "submissions", student=student
        )
        assert len(listed[1]["submissions"]) == count, (student, listed)
    ada_list = await api.ok("ada", "GET", "cs101", "assignments", "hw1", "submissions")
    assert ada_list["submissions"] == []
    manage: list[tuple[str, list[str]]] = [
        ("PATCH", []),
        ("POST", ["release"]),
        ("PUT", ["feedback"]),
        ("PUT", ["extensions", "ada"]),
        ("PUT", ["submissions", sid, "grade"]),
        ("POST", ["submissions", sid, "regrade"]),
    ]
    for verb, rest in manage:
        refused = await api.call("ada", verb, "cs101", "assignments", "hw1", *rest, body={})
        assert refused[0] == 403, (verb, rest, refused)
    starter = await api.call(
        "ada", "GET", "cs101", "assignments", "hw1", "starter", path="hw1.ipynb"
    )
    assert starter[0] == 200 and "YOUR CODE HERE" in json.dumps(starter[1])

    # A fix to the starter files: sam changed hw1.ipynb (kept, listed); ada did not (updated).
    await write(
        jp_serverapp, "sam", "assignments/cs101/hw1/hw1.ipynb", json.dumps(solved(mine)).encode()
    )
    fixed = HW1.replace(b"Write add and mul.", b"Write add and mul (fixed).")
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", fixed)
    changed = await api.ok("alan", "PATCH", "cs101", "assignments", "hw1", body={"refresh": True})
    assert changed["version"] == 2
    again_released = await api.ok("alan", "POST", "cs101", "assignments", "hw1", "release")
    assert again_released["students"]["sam"]["kept"] == {"hw1.ipynb": 2}
    assert again_released["students"]["ada"]["written"] == ["hw1.ipynb"]
    assert "return a + b" in await read_own(jp_fetch, "sam", "assignments/cs101/hw1/hw1.ipynb")
    notice = (await api.ok("sam", "GET", "cs101", "assignments", "hw1"))["notice"]
    assert notice["kept"] == ["hw1.ipynb"]
    newest = await api.call(
        "sam", "GET", "cs101", "assignments", "hw1", "starter", path="hw1.ipynb"
    )
    assert "(fixed)" in json.dumps(newest[1])

    for payload in api.student_payloads:
        for mark in HIDDEN_MARKS:
            assert mark not in payload, (mark, payload[:500])


C_SOURCE = b"""#include <stdio.h>
int main(void) {
    long a, b;
    if (scanf("%ld %ld", &a, &b) != 2) return 1;
    // BEGIN SOLUTION
    printf("%ld\\n", a + b); /* SOLUTIONCODE */
    // END SOLUTION
    return 0;
}
"""
C_TESTS = [
    {
        "kind": "stdin",
        "name": "small",
        "program": "main.c",
        "stdin": "1 2\n",
        "expected_output": "3\n",
        "points": 1,
    },
    {
        "kind": "stdin",
        "name": "secret_sum",
        "program": "main.c",
        "stdin": "4000 242\n",
        "expected_output": "4242\n",
        "points": 2,
        "visibility": "hidden",
        "limits": {"cpu_seconds": 2, "memory_kb": 65536},
    },
]


async def test_c_assignment_late_penalties_extension_and_moved_deadline(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """stdin cases graded in a sandbox; 10%/day late, an extension for sam, then the deadline
    moves and the extension goes: every score follows the deadline in force."""
    api = Client(jp_fetch)
    await make_course(jp_serverapp, "cs102", ["sam", "ada"], ["alan"])
    await write(jp_serverapp, "alan", "c1/main.c", C_SOURCE)
    body = {
        "name": "c1",
        "folder": "c1",
        "language": "c",
        "tests": C_TESTS,
        "due_at": iso(-timedelta(days=2, hours=12)),
        "late_penalty_percent": 10,
    }
    await api.ok("alan", "POST", "cs102", "assignments", body=body)
    await api.ok("alan", "POST", "cs102", "assignments", "c1", "release")
    given = await read_own(jp_fetch, "sam", "assignments/cs102/c1/main.c")
    assert "SOLUTIONCODE" not in given and "// YOUR CODE HERE" in given
    await api.ok(
        "alan",
        "PUT",
        "cs102",
        "assignments",
        "c1",
        "extensions",
        "sam",
        body={"due_at": iso(timedelta(days=1))},
    )
    await write(jp_serverapp, "sam", "assignments/cs102/c1/main.c", C_SOURCE)
    await write(jp_serverapp, "ada", "assignments/cs102/c1/main.c", C_SOURCE)
    sam = await api.ok("sam", "POST", "cs102", "assignments", "c1", "submissions")
    ada = await api.ok("ada", "POST", "cs102", "assignments", "c1", "submissions")
    sam_graded = await api.graded("cs102", "c1", sam["id"])
    ada_graded = await api.graded("cs102", "c1", ada["id"])
    assert [r["status"] for r in ada_graded["results"]] == ["passed", "passed"], ada_graded
    assert (sam_graded["late_days"], sam_graded["score"]) == (0, 3)
    assert (ada_graded["late_days"], ada_graded["penalty_percent"]) == (3, 30)
    assert ada_graded["score"] == pytest.approx(2.1)
    # ada sees her lateness, her visible case, never the hidden one (past due: still hidden).
    seen = await api.ok("ada", "GET", "cs102", "assignments", "c1", "submissions", str(ada["id"]))
    assert [r["name"] for r in seen["results"]] == ["small"] and seen["late_days"] == 3

    # The deadline moves to half a day ago: ada is 1 day late; sam's extension still holds.
    moved = await api.ok(
        "alan", "PATCH", "cs102", "assignments", "c1", body={"due_at": iso(-timedelta(hours=12))}
    )
    assert moved["rescored"] == 2
    ada_now = await api.ok(
        "alan", "GET", "cs102", "assignments", "c1", "submissions", str(ada["id"])
    )
    assert (ada_now["late_days"], ada_now["score"]) == (1, pytest.approx(2.7))
    # The extension goes: sam is late by the course's deadline now.
    await api.ok("alan", "DELETE", "cs102", "assignments", "c1", "extensions", "sam")
    sam_now = await api.ok(
        "alan", "GET", "cs102", "assignments", "c1", "submissions", str(sam["id"])
    )
    assert (sam_now["late_days"], sam_now["score"]) == (1, pytest.approx(2.7))
    assert sam_now["grade_runs"] == 1  # rescored, not regraded

    # Refreshing the files from the folder keeps the stdin cases given at creation.
    refreshed = await api.ok("alan", "PATCH", "cs102", "assignments", "c1", body={"refresh": True})
    assert [t["name"] for t in refreshed["spec"]["tests"]] == ["small", "secret_sum"]
    assert refreshed["spec"]["tests"][1]["limits"] == {"cpu_seconds": 2.0, "memory_kb": 65536}
    assert refreshed["version"] == 1  # the same files: no new version
    student_view = await api.ok("ada", "GET", "cs102", "assignments", "c1")
    assert [t["name"] for t in student_view["tests"]] == ["small"]
    for payload in api.student_payloads:
        for mark in (*HIDDEN_MARKS, "SOLUTIONCODE"):
            assert mark not in payload, (mark, payload[:500])


async def test_python_file_tests_stay_with_the_instructor(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A pytest file named by a `file` test is graded beside the submission but never
    released: not in the copy, not a starter file, not named in a student's payload."""
    api = Client(jp_fetch)
    await make_course(jp_serverapp, "cs103", ["sam"], ["alan"])
    code = b"def area(w, h):\n    # BEGIN SOLUTION\n    return w * h\n    # END SOLUTION\n"
    tests = (
        b"from shapes import area\n\ndef test_area():\n    assert area(2, 3) == 6  # HIDDENCODE\n"
    )
    await write(jp_serverapp, "alan", "geo/shapes.py", code)
    await write(jp_serverapp, "alan", "geo/test_shapes_secret_sum.py", tests)
    file_test = {
        "kind": "file",
        "name": "secret_sum",
        "path": "test_shapes_secret_sum.py",
        "points": 4,
        "visibility": "hidden",
    }
    body = {"name": "geo", "folder": "geo", "language": "python", "tests": [file_test]}
    created = await api.ok("alan", "POST", "cs103", "assignments", body=body)
    assert created["files"] == ["shapes.py"]
    assert created["instructor_files"] == ["test_shapes_secret_sum.py"]
    released = await api.ok("alan", "POST", "cs103", "assignments", "geo", "release")
    assert released["students"]["sam"]["written"] == ["shapes.py"]
    starter = await api.call(
        "sam", "GET", "cs103", "assignments", "geo", "starter", path="test_shapes_secret_sum.py"
    )
    assert starter[0] == 404
    first = await api.ok("sam", "POST", "cs103", "assignments", "geo", "submissions")
    await write(jp_serverapp, "sam", "assignments/cs103/geo/shapes.py", code)
    second = await api.ok("sam", "POST", "cs103", "assignments", "geo", "submissions")
    failing = await api.graded("cs103", "geo", first["id"])
    passing = await api.graded("cs103", "geo", second["id"])
    assert [r["status"] for r in failing["results"]] == ["failed"], failing["results"]
    assert [r["status"] for r in passing["results"]] == ["passed"], passing["results"]
    mine = await api.ok(
        "sam", "GET", "cs103", "assignments", "geo", "submissions", str(second["id"])
    )
    assert mine["results"] == [] and mine["visible_max_score"] == 0
    for payload in api.student_payloads:
        for mark in HIDDEN_MARKS:
            assert mark not in payload, (mark, payload[:500])
