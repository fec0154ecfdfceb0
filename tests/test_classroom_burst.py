"""A burst: 200 submissions from 40 students at once, none lost, each graded exactly once;
and a student's concurrent submissions never get past the per-window limit."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .test_ai_common import HubLikeIdentity, make_course
from .test_classroom_api import Client, write
from .test_classroom_api import ide_db_url as ide_db_url  # fixture: SQLite and PostgreSQL
from .test_classroom_api import jp_server_config as jp_server_config  # fixture
from .test_classroom_api import judge_dir as judge_dir  # fixture

STUDENTS = [f"s{n:02d}" for n in range(40)]
PER_STUDENT = 5
PROGRAM = b"print(int(input()) * 2)\n"
TESTS = [
    {
        "kind": "stdin",
        "name": "double",
        "program": "main.py",
        "stdin": "21\n",
        "expected_output": "42\n",
    }
]


async def test_a_burst_of_200_submissions_is_graded_once_each(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """Every submission is stored, graded once (grade_runs 1) and passes."""
    api = Client(jp_fetch)
    HubLikeIdentity.USERS.update(dict.fromkeys(STUDENTS, "student"))
    await make_course(jp_serverapp, "cs200", STUDENTS, ["alan"])
    await write(jp_serverapp, "alan", "echo/main.py", PROGRAM)
    body = {"name": "echo", "folder": "echo", "language": "python", "tests": TESTS}
    await api.ok("alan", "POST", "cs200", "assignments", body=body)
    released = await api.ok("alan", "POST", "cs200", "assignments", "echo", "release")
    assert all(r["written"] == ["main.py"] for r in released["students"].values())

    calls = [
        api.call(student, "POST", "cs200", "assignments", "echo", "submissions")
        for _ in range(PER_STUDENT)
        for student in STUDENTS
    ]
    replies = await asyncio.gather(*calls)
    assert [code for code, _, _ in replies] == [201] * len(calls), [
        (code, body) for code, body, _ in replies if code != 201
    ][:3]
    ids = {body["id"] for _, body, _ in replies}
    assert len(ids) == len(STUDENTS) * PER_STUDENT

    deadline = time.monotonic() + 600
    while True:
        listed = await api.ok("alan", "GET", "cs200", "assignments", "echo", "submissions")
        subs = listed["submissions"]
        if all(s["status"] in ("graded", "error") for s in subs):
            break
        assert time.monotonic() < deadline, sum(s["status"] == "graded" for s in subs)
        await asyncio.sleep(1)
    assert {s["id"] for s in subs} == ids
    assert [s["status"] for s in subs] == ["graded"] * len(ids)
    assert {s["grade_runs"] for s in subs} == {1}
    assert {s["results"][0]["status"] for s in subs} == {"passed"}
    per_student: dict[str, int] = {}
    for s in subs:
        per_student[s["student"]] = per_student.get(s["student"], 0) + 1
    assert per_student == dict.fromkeys(STUDENTS, PER_STUDENT)


async def test_concurrent_submissions_respect_the_limit(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Twelve submissions at once under a limit of 3 per hour: 3 stored, 9 refused (429)."""
    api = Client(jp_fetch)
    await make_course(jp_serverapp, "cs201", ["sam"], ["alan"])
    await write(jp_serverapp, "alan", "lim/main.py", PROGRAM)
    body = {
        "name": "lim",
        "folder": "lim",
        "language": "python",
        "tests": TESTS,
        "max_submissions": 3,
        "window_seconds": 3600,
    }
    await api.ok("alan", "POST", "cs201", "assignments", body=body)
    await api.ok("alan", "POST", "cs201", "assignments", "lim", "release")
    replies = await asyncio.gather(
        *(api.call("sam", "POST", "cs201", "assignments", "lim", "submissions") for _ in range(12))
    )
    codes = sorted(code for code, _, _ in replies)
    assert codes == [201] * 3 + [429] * 9, [b for _, b, _ in replies]
    assert all(int(h["Retry-After"]) > 0 for c, _, h in replies if c == 429)
    listed = await api.ok("alan", "GET", "cs201", "assignments", "lim", "submissions")
    assert len(listed["submissions"]) == 3
