"""Assignments refuse bad and hostile requests with a clear 4xx, and write nothing then.

Also: a notebook whose cells a student duplicated, split or deleted is still graded test by
test; people outside a course, or teaching another one, reach nothing of it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from jupyter_ide.auth import Role
from jupyter_ide.db.models import Assignment, AssignmentSubmission

from .test_ai_common import HubLikeIdentity, make_course
from .test_classroom_api import HW1, Client, classroom, graded_cell, iso, notebook, solved, write
from .test_classroom_api import ide_db_url as ide_db_url  # fixture: SQLite and PostgreSQL
from .test_classroom_api import jp_server_config as jp_server_config  # fixture
from .test_classroom_api import judge_dir as judge_dir  # fixture

OUTSIDERS = {"bea": "instructor", "zoe": "student", "late": "student"}
GOOD = {"name": "hw1", "folder": "hw1", "language": "python"}


async def _rows(app: Any, model: Any) -> int:
    """How many rows a table holds."""
    async with classroom(app).assignments.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _setup(app: Any) -> None:
    HubLikeIdentity.USERS.update(OUTSIDERS)
    await make_course(app, "cs101", ["sam", "ada"], ["alan"])
    await make_course(app, "cs102", ["zoe"], ["bea"])
    await app.web_app.settings["jupyter_ide_users"].saw("late", Role.STUDENT)


BAD_CREATES: list[tuple[Any, str]] = [
    (b"{not json", "not valid JSON"),
    ([1, 2], "JSON object"),
    ({**GOOD, "name": "Bad Name"}, "name is"),
    ({**GOOD, "name": "gradebook"}, "gradebook"),
    ({**GOOD, "folder": "../etc"}, "folder"),
    ({**GOOD, "folder": "nothing-here"}, "holds no files"),
    ({**GOOD, "language": "cobol"}, "language must be"),
    ({**GOOD, "due_at": "tomorrow"}, "ISO 8601"),
    ({**GOOD, "due_at": "2026-12-01T10:00:00"}, "time zone"),
    ({**GOOD, "late_penalty_percent": 150}, "between"),
    ({**GOOD, "max_submissions": 1.5}, "whole number"),
    ({**GOOD, "rubric": [{"name": "style"}]}, "points"),
    ({**GOOD, "tests": [{"kind": "shell", "name": "x"}]}, "stdin or file"),
    ({**GOOD, "tests": [{"kind": "stdin", "name": "x"}]}, "names its program"),
    ({**GOOD, "tests": [{"kind": "file", "name": "x", "path": "nope.py"}]}, "not in the folder"),
    (
        {**GOOD, "tests": [{"kind": "stdin", "name": "x", "program": "a.py", "visibility": "s"}]},
        "visibility",
    ),
    (
        {**GOOD, "tests": [{"kind": "stdin", "name": "add works", "program": "hw1.ipynb"}]},
        "unique",
    ),
    ({**GOOD, "folder": "broken"}, "never closed"),
    ({**GOOD, "folder": "nameless"}, "needs a name"),
    ({**GOOD, "folder": "garbled"}, "not a readable notebook"),
]


async def test_bad_creates_are_clear_and_write_nothing(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Each bad create answers 400 (or 403/404/409) saying why; no assignment row appears."""
    api = Client(jp_fetch)
    await _setup(jp_serverapp)
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    await write(jp_serverapp, "alan", "broken/a.py", b"# BEGIN SOLUTION\nx = 1\n")
    nameless = notebook([graded_cell("", 1, "visible", "assert True\n")])
    await write(jp_serverapp, "alan", "nameless/n.ipynb", nameless)
    await write(jp_serverapp, "alan", "garbled/g.ipynb", b'{"cells": 5}')
    for body, why in BAD_CREATES:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        code, reply, _ = await api.call("alan", "POST", "cs101", "assignments", raw=raw)
        assert code == 400 and why in reply["message"], (body, code, reply)
    assert await _rows(jp_serverapp, Assignment) == 0
    # Who may create: students never, another course's instructor not here, no ghost courses.
    assert (await api.call("sam", "POST", "cs101", "assignments", body=GOOD))[0] == 403
    assert (await api.call("bea", "POST", "cs101", "assignments", body=GOOD))[0] == 403
    assert (await api.call("alan", "POST", "nope", "assignments", body=GOOD))[0] == 404
    assert await _rows(jp_serverapp, Assignment) == 0
    await api.ok("alan", "POST", "cs101", "assignments", body=GOOD)
    code, reply, _ = await api.call("alan", "POST", "cs101", "assignments", body=GOOD)
    assert code == 409 and "already" in reply["message"]
    assert await _rows(jp_serverapp, Assignment) == 1


async def test_changes_and_grades_are_all_or_nothing(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A PATCH with one bad field changes nothing; bad manual grades leave the old ones;
    outsiders and other courses' people reach nothing; submitting needs a copy."""
    api = Client(jp_fetch)
    await _setup(jp_serverapp)
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    due = iso(timedelta(days=3))
    await api.ok("alan", "POST", "cs101", "assignments", body={**GOOD, "due_at": due})
    path = ("cs101", "assignments", "hw1")
    before = await api.ok("alan", "GET", *path)
    for body, why in [
        ({"title": "New", "due_at": "soon"}, "ISO 8601"),
        ({"title": "New", "colour": "red"}, "Unknown fields"),
        ({"title": "New", "cutoff_hours": -1}, "between"),
    ]:
        code, reply, _ = await api.call("alan", "PATCH", *path, body=body)
        assert code == 400 and why in reply["message"], (body, reply)
    assert await api.ok("alan", "GET", *path) == before
    # Outsiders: another course's instructor and student, a stranger course.
    for who in ("bea", "zoe"):
        assert (await api.call(who, "GET", *path))[0] == 403
        assert (await api.call(who, "GET", "cs101", "assignments"))[0] == 403
    assert (await api.call("alan", "GET", "cs102", "assignments", "gradebook"))[0] == 403
    assert (await api.call("sam", "GET", "nope", "assignments"))[0] == 404
    # Extensions: only for the course's students, with a real time.
    code, reply, _ = await api.call("alan", "PUT", *path, "extensions", "zoe", body={"due_at": due})
    assert code == 404 and "not a student" in reply["message"]
    code, reply, _ = await api.call("alan", "PUT", *path, "extensions", "sam", body={})
    assert code == 400 and "due_at" in reply["message"]
    assert (await api.call("alan", "DELETE", *path, "extensions", "sam"))[0] == 404
    assert (await api.ok("alan", "GET", *path))["extensions"] == {}

    await api.ok("alan", "POST", *path, "release")
    # Enrolled after the release: no copy yet, so nothing to submit until they fetch.
    await jp_serverapp.web_app.settings["jupyter_ide_courses"].set_member(
        "cs101", "late", "student", by="root", by_role=Role.ADMIN
    )
    code, reply, _ = await api.call("late", "POST", *path, "submissions")
    assert code == 409 and "Fetch" in reply["message"]
    fetched = await api.ok("late", "POST", *path, "fetch")
    assert fetched["written"] == ["hw1.ipynb"]
    submitted = await api.ok("late", "POST", *path, "submissions")
    sid = str(submitted["id"])
    graded = await api.graded("cs101", "hw1", submitted["id"])
    good = {"points": {"add works": 1}, "comments": []}
    await api.ok("alan", "PUT", *path, "submissions", sid, "grade", body=good)
    for body, why in [
        ({"points": {"add works": 5}}, "0 to 2"),
        ({"points": {"nope": 1}}, "neither"),
        ({"points": {"add works": True}}, "number"),
        (
            {"points": {"add works": 1}, "comments": [{"path": "x.py", "line": 1, "text": "t"}]},
            "no such",
        ),
        (
            {
                "points": {"add works": 1},
                "comments": [{"path": "hw1.ipynb", "line": 0, "text": "t"}],
            },
            "line",
        ),
        ({"grade": 1}, "body is"),
    ]:
        code, reply, _ = await api.call(
            "alan", "PUT", *path, "submissions", sid, "grade", body=body
        )
        assert code == 400 and why in reply["message"], (body, reply)
    now = await api.ok("alan", "GET", *path, "submissions", sid)
    assert now["manual"] == good and now["score"] == graded["score"] + 1
    # Ids and formats.
    assert (await api.call("late", "GET", *path, "submissions", "abc"))[0] == 400
    assert (await api.call("late", "GET", *path, "submissions", "999999"))[0] == 404
    assert (await api.call("alan", "PUT", *path, "feedback", body={}))[0] == 400
    assert (await api.call("alan", "GET", "cs101", "assignments", "gradebook", format="xml"))[
        0
    ] == 400
    assert (await api.call("late", "GET", *path, "starter", path="../../etc/passwd"))[0] == 404
    assert await _rows(jp_serverapp, AssignmentSubmission) == 1


async def test_cutoff_refuses_submissions(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Past the deadline plus the cut-off a submission is refused (403), none is stored;
    an extension opens it again."""
    api = Client(jp_fetch)
    await _setup(jp_serverapp)
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    body = {**GOOD, "due_at": iso(-timedelta(days=2)), "cutoff_hours": 24}
    await api.ok("alan", "POST", "cs101", "assignments", body=body)
    await api.ok("alan", "POST", "cs101", "assignments", "hw1", "release")
    code, reply, _ = await api.call("ada", "POST", "cs101", "assignments", "hw1", "submissions")
    assert code == 403 and "cut-off" in reply["message"]
    assert await _rows(jp_serverapp, AssignmentSubmission) == 0
    extended = {"due_at": iso(timedelta(hours=1))}
    await api.ok("alan", "PUT", "cs101", "assignments", "hw1", "extensions", "ada", body=extended)
    await api.ok("ada", "POST", "cs101", "assignments", "hw1", "submissions")
    assert await _rows(jp_serverapp, AssignmentSubmission) == 1


async def test_mangled_notebook_still_grades_every_test(jp_fetch: Any, jp_serverapp: Any) -> None:
    """sam splits his solution over two cells, duplicates one, deletes the visible test
    cell: the instructor's tests still run, each on its own, and pass."""
    api = Client(jp_fetch)
    await _setup(jp_serverapp)
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    await api.ok("alan", "POST", "cs101", "assignments", body=GOOD)
    await api.ok("alan", "POST", "cs101", "assignments", "hw1", "release")
    response = await jp_fetch("api", "contents", "assignments", "cs101", "hw1", "hw1.ipynb")
    mine = solved(json.loads(response.body)["content"])
    cells = [c for c in mine["cells"] if "assert add(1, 2)" not in "".join(c["source"])]
    code = next(c for c in cells if "def add" in "".join(c["source"]))
    first, second = dict(code), dict(code)
    first["source"], second["source"] = (
        "def add(a, b):\n    return a + b\n",
        "def mul(a, b):\n    return a * b\n",
    )
    first["id"], second["id"] = "split-1", "split-2"
    twice = {**first, "id": "dup-1"}
    mangled = {**mine, "cells": [cells[0], first, twice, second]}
    await write(
        jp_serverapp, "sam", "assignments/cs101/hw1/hw1.ipynb", json.dumps(mangled).encode()
    )
    submitted = await api.ok("sam", "POST", "cs101", "assignments", "hw1", "submissions")
    graded = await api.graded("cs101", "hw1", submitted["id"])
    assert {r["name"]: r["status"] for r in graded["results"]} == {
        "add works": "passed",
        "SECRET_mul_hidden": "passed",
        "after due": "passed",
        "after published": "passed",
    }, graded["results"]


async def test_queued_submissions_are_graded_after_a_restart(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Submitted while grading is stopped: kept queued in the database, graded once when
    grading starts again (what a restarted server does)."""
    api = Client(jp_fetch)
    await _setup(jp_serverapp)
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    await api.ok("alan", "POST", "cs101", "assignments", body=GOOD)
    await api.ok("alan", "POST", "cs101", "assignments", "hw1", "release")
    queue = classroom(jp_serverapp).queue
    grader = queue.grader
    await queue.close()
    queue.grader = None
    submitted = await api.ok("sam", "POST", "cs101", "assignments", "hw1", "submissions")
    waiting = await api.ok("alan", "GET", "cs101", "assignments", "hw1", "submissions")
    assert [s["status"] for s in waiting["submissions"]] == ["queued"]
    queue.grader = grader
    queue.start()
    graded = await api.graded("cs101", "hw1", submitted["id"])
    assert graded["grade_runs"] == 1


async def test_a_grading_left_by_a_dead_server_is_taken_over(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A submission claimed for grading by a server that died (claim older than the stale
    limit) is graded again when a queue resumes; a fresh claim is left alone."""
    api = Client(jp_fetch)
    await _setup(jp_serverapp)
    await write(jp_serverapp, "alan", "hw1/hw1.ipynb", HW1)
    await api.ok("alan", "POST", "cs101", "assignments", body=GOOD)
    await api.ok("alan", "POST", "cs101", "assignments", "hw1", "release")
    queue = classroom(jp_serverapp).queue
    grader = queue.grader
    await queue.close()
    queue.grader = None
    old = await api.ok("sam", "POST", "cs101", "assignments", "hw1", "submissions")
    fresh = await api.ok("ada", "POST", "cs101", "assignments", "hw1", "submissions")
    db = classroom(jp_serverapp).assignments.db
    async with db.session() as session:
        for sid, ago in ((old["id"], timedelta(hours=2)), (fresh["id"], timedelta(seconds=5))):
            row = await session.get(AssignmentSubmission, sid)
            assert row is not None
            row.status, row.grade_runs = "grading", 1
            row.graded_at = datetime.now(timezone.utc) - ago
    queue.grader = grader
    queue.start()
    taken = await api.graded("cs101", "hw1", old["id"])
    assert taken["grade_runs"] == 2
    await queue.idle()
    left = await api.ok(
        "alan", "GET", "cs101", "assignments", "hw1", "submissions", str(fresh["id"])
    )
    assert left["status"] == "grading" and left["grade_runs"] == 1


pytestmark = pytest.mark.usefixtures("judge_dir")
