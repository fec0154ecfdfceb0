"""Courses: created by admins, managed by their instructors, followed from hub groups."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.auth import Role
from jupyter_ide.auth.courses import CourseDirectory, CourseError
from jupyter_ide.db import Database, upgrade


@pytest.fixture
def courses(any_db_url: str, jp_asyncio_loop: Any) -> Any:
    """A course directory on a migrated database (SQLite and PostgreSQL)."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    yield CourseDirectory(db)
    jp_asyncio_loop.run_until_complete(db.dispose())


async def test_instructors_manage_only_their_courses(courses: CourseDirectory) -> None:
    """An admin creates; an instructor of the course manages it; others are refused."""
    await courses.create("cs101", "Intro", by="root")
    await courses.create("cs102", "Next", by="root")
    await courses.set_member("cs101", "grace", "instructor", by="root", by_role=Role.ADMIN)
    await courses.set_member("cs101", "ada", "student", by="grace", by_role=Role.INSTRUCTOR)
    with pytest.raises(CourseError) as refused:
        await courses.set_member("cs102", "ada", "student", by="grace", by_role=Role.INSTRUCTOR)
    assert refused.value.status == 403
    with pytest.raises(CourseError) as student:
        await courses.set_member("cs101", "eve", "student", by="ada", by_role=Role.INSTRUCTOR)
    assert student.value.status == 403
    mine = await courses.list_for("ada", Role.STUDENT)
    assert [(c["name"], c["my_role"]) for c in mine] == [("cs101", "student")]
    everything = await courses.list_for("root", Role.ADMIN)
    assert [(c["name"], c["members"]) for c in everything] == [("cs101", 2), ("cs102", 0)]
    await courses.remove_member("cs101", "ada", by="grace", by_role=Role.INSTRUCTOR)
    assert await courses.list_for("ada", Role.STUDENT) == []


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda c: c.create("CS 101!", "", by="root"), 400),
        (lambda c: c.create("../etc", "", by="root"), 400),
        (lambda c: c.create("cs101", 5, by="root"), 400),
        (lambda c: c.set_member("nope", "ada", "student", by="root", by_role=Role.ADMIN), 404),
        (lambda c: c.set_member("cs101", "ada", "owner", by="root", by_role=Role.ADMIN), 400),
        (lambda c: c.set_member("cs101", "a/b", "student", by="root", by_role=Role.ADMIN), 400),
        (lambda c: c.remove_member("cs101", "nobody", by="root", by_role=Role.ADMIN), 404),
        (lambda c: c.create("cs101", "again", by="root"), 409),
    ],
)
async def test_bad_requests_are_clear(courses: CourseDirectory, call: Any, status: int) -> None:
    """Bad names, unknown courses or members, bad roles and duplicates each get their status."""
    await courses.create("cs101", "Intro", by="root")
    with pytest.raises(CourseError) as e:
        await call(courses)
    assert e.value.status == status and str(e.value)


async def test_hub_groups_make_courses_and_members(courses: CourseDirectory) -> None:
    """course-<name> groups make students, course-<name>-instructors make instructors."""
    assert courses.courses_in_groups(
        ["course-cs101", "course-cs101-instructors", "course-art", "staff", "course-Bad Name"]
    ) == {"cs101": "instructor", "art": "student"}
    await courses.sync_groups("grace", ["course-cs101-instructors", "course-art"])
    mine = await courses.list_for("grace", Role.INSTRUCTOR)
    assert [(c["name"], c["my_role"]) for c in mine] == [
        ("art", "student"),
        ("cs101", "instructor"),
    ]
    await courses.sync_groups("grace", ["course-cs101"])
    mine = await courses.list_for("grace", Role.INSTRUCTOR)
    assert [(c["name"], c["my_role"]) for c in mine] == [("cs101", "student")]


async def test_courses_over_http(jp_fetch: Any) -> None:
    """The standalone admin creates a course, adds members and lists them; errors are 4xx."""
    created = await jp_fetch(
        "ide", "api", "courses", method="POST", body=json.dumps({"name": "cs101", "title": "I"})
    )
    assert created.code == 201
    put = await jp_fetch(
        "ide",
        "api",
        "courses",
        "cs101",
        "members",
        "ada",
        method="PUT",
        body=json.dumps({"role": "student"}),
    )
    assert json.loads(put.body) == {"course": "cs101", "user": "ada", "role": "student"}
    listed = json.loads((await jp_fetch("ide", "api", "courses")).body)["courses"]
    assert [(c["name"], c["members"]) for c in listed] == [("cs101", 1)]
    with pytest.raises(HTTPClientError) as bad:
        await jp_fetch("ide", "api", "courses", method="POST", body="[1, 2]")
    assert bad.value.code == 400
    with pytest.raises(HTTPClientError) as dup:
        await jp_fetch("ide", "api", "courses", method="POST", body=json.dumps({"name": "cs101"}))
    assert dup.value.code == 409
    gone = await jp_fetch("ide", "api", "courses", "cs101", "members", "ada", method="DELETE")
    assert gone.code == 204
