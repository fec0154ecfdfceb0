"""Courses: created by admins, managed by their instructors, followed from hub groups."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from jupyter_ide.auth import Role
from jupyter_ide.auth.courses import CourseDirectory, CourseError
from jupyter_ide.auth.users import IdentityRecorder
from jupyter_ide.db import Database, User, upgrade

SIGNED_IN = ("root", "grace", "ada", "eve")


@pytest.fixture
def courses(any_db_url: str, jp_asyncio_loop: Any) -> Any:
    """A course directory on a migrated database (SQLite and PostgreSQL), whose users
    root, grace, ada and eve have signed in once."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    recorder = IdentityRecorder(db)
    for name in SIGNED_IN:
        jp_asyncio_loop.run_until_complete(recorder.saw(name, Role.STUDENT))
    yield CourseDirectory(db)
    jp_asyncio_loop.run_until_complete(db.dispose())


async def _user_names(courses: CourseDirectory) -> set[str]:
    """Every users row's name."""
    async with courses.db.session() as session:
        return set((await session.execute(select(User.name))).scalars())


async def test_admins_enrol_and_instructors_only_remove(courses: CourseDirectory) -> None:
    """An admin creates courses and enrols; a course's instructor may remove its members but
    not enrol anyone, in their course or another; students neither."""
    await courses.create("cs101", "Intro", by="root")
    await courses.create("cs102", "Next", by="root")
    await courses.set_member("cs101", "grace", "instructor", by="root", by_role=Role.ADMIN)
    await courses.set_member("cs101", "ada", "student", by="root", by_role=Role.ADMIN)
    for course in ("cs101", "cs102"):
        with pytest.raises(CourseError) as refused:
            await courses.set_member(course, "eve", "student", by="grace", by_role=Role.INSTRUCTOR)
        assert refused.value.status == 403 and "admins" in str(refused.value)
    with pytest.raises(CourseError) as promote:
        await courses.set_member("cs101", "ada", "instructor", by="grace", by_role=Role.INSTRUCTOR)
    assert promote.value.status == 403
    with pytest.raises(CourseError) as student:
        await courses.set_member("cs101", "eve", "student", by="ada", by_role=Role.STUDENT)
    assert student.value.status == 403
    mine = await courses.list_for("ada", Role.STUDENT)
    assert [(c["name"], c["my_role"]) for c in mine] == [("cs101", "student")]
    assert await courses.list_for("eve", Role.STUDENT) == []
    everything = await courses.list_for("root", Role.ADMIN)
    assert [(c["name"], c["members"]) for c in everything] == [("cs101", 2), ("cs102", 0)]
    with pytest.raises(CourseError) as elsewhere:
        await courses.remove_member("cs102", "ada", by="grace", by_role=Role.INSTRUCTOR)
    assert elsewhere.value.status == 403
    await courses.remove_member("cs101", "ada", by="grace", by_role=Role.INSTRUCTOR)
    assert await courses.list_for("ada", Role.STUDENT) == []


async def test_an_instructor_cannot_enrol_a_stranger(courses: CourseDirectory) -> None:
    """The attack: an instructor enrols someone who never signed in (creating their row) to
    reach their records. Refused, and no users row appears."""
    await courses.create("cs101", "Intro", by="root")
    await courses.set_member("cs101", "grace", "instructor", by="root", by_role=Role.ADMIN)
    with pytest.raises(CourseError) as refused:
        await courses.set_member(
            "cs101", "stranger", "student", by="grace", by_role=Role.INSTRUCTOR
        )
    assert refused.value.status == 403
    assert "stranger" not in await _user_names(courses)


async def test_enrolling_an_unknown_user_is_refused(courses: CourseDirectory) -> None:
    """Even an admin cannot enrol a name nobody signed in with (a typo would make a ghost):
    a 404 that says why; no users row appears."""
    await courses.create("cs101", "Intro", by="root")
    with pytest.raises(CourseError) as unknown:
        await courses.set_member("cs101", "adaa", "student", by="root", by_role=Role.ADMIN)
    assert unknown.value.status == 404 and "signed in" in str(unknown.value)
    assert "adaa" not in await _user_names(courses)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda c: c.create("CS 101!", "", by="root"), 400),
        (lambda c: c.create("../etc", "", by="root"), 400),
        (lambda c: c.create("cs101", 5, by="root"), 400),
        (lambda c: c.set_member("nope", "ada", "student", by="root", by_role=Role.ADMIN), 404),
        (lambda c: c.set_member("cs101", "ada", "owner", by="root", by_role=Role.ADMIN), 400),
        (lambda c: c.set_member("cs101", "a/b", "student", by="root", by_role=Role.ADMIN), 400),
        (lambda c: c.set_member("cs101", "nobody", "student", by="root", by_role=Role.ADMIN), 404),
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
    """course-<name> groups make students, course-<name>-instructors make instructors; hub
    group sync still enrols people at their first sign-in."""
    assert courses.courses_in_groups(
        ["course-cs101", "course-cs101-instructors", "course-art", "staff", "course-Bad Name"]
    ) == {"cs101": "instructor", "art": "student"}
    await courses.sync_groups("newbie", ["course-art"])
    assert [(c["name"], c["my_role"]) for c in await courses.list_for("newbie", Role.STUDENT)] == [
        ("art", "student")
    ]
    await courses.sync_groups("grace", ["course-cs101-instructors", "course-art"])
    mine = await courses.list_for("grace", Role.INSTRUCTOR)
    assert [(c["name"], c["my_role"]) for c in mine] == [
        ("art", "student"),
        ("cs101", "instructor"),
    ]
    await courses.sync_groups("grace", ["course-cs101"])
    mine = await courses.list_for("grace", Role.INSTRUCTOR)
    assert [(c["name"], c["my_role"]) for c in mine] == [("cs101", "student")]


async def test_courses_over_http(jp_fetch: Any, jp_serverapp: Any) -> None:
    """The standalone admin creates a course, adds members and lists them; errors are 4xx."""
    await jp_serverapp.web_app.settings["jupyter_ide_users"].saw("ada", Role.STUDENT)
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
    with pytest.raises(HTTPClientError) as unknown:
        await jp_fetch(
            "ide",
            "api",
            "courses",
            "cs101",
            "members",
            "nobody",
            method="PUT",
            body=json.dumps({"role": "student"}),
        )
    assert unknown.value.code == 404
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


async def test_first_sign_ins_at_once_all_join_the_new_course(courses: CourseDirectory) -> None:
    """Ten first sign-ins naming a course nobody has created yet race to create it; every one
    of them ends up a member (the losers join the winner's course instead of failing)."""
    names = [f"racer{i}" for i in range(10)]
    await asyncio.gather(*(courses.sync_groups(name, ["course-lab"]) for name in names))
    for name in names:
        assert [c["name"] for c in await courses.list_for(name, Role.STUDENT)] == ["lab"]
