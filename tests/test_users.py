"""Each identity gets a users row; sign-ins and role changes reach the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from jupyter_ide.auth import Role
from jupyter_ide.auth.users import OAUTH_IDENTITY_ENV, IdentityRecorder
from jupyter_ide.db import AuditEvent, Database, User, upgrade


async def test_first_visit_records_the_user(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Opening /ide creates the user's row once, with the role, and audits the sign-in."""
    await jp_fetch("ide")
    await jp_fetch("ide")
    db = jp_serverapp.web_app.settings["jupyter_ide_db"]
    async with db.session() as s:
        users = (await s.execute(select(User))).scalars().all()
        events = (await s.execute(select(AuditEvent.event).order_by(AuditEvent.id))).scalars().all()
    assert [u.role for u in users] == ["admin"]
    assert events == ["user_created", "signed_in"]


async def test_role_changes_are_audited(any_db_url: str) -> None:
    """A user seen again with another role has the row updated and the change logged."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        recorder = IdentityRecorder(db)
        await recorder.saw("grace", Role.STUDENT, "127.0.0.1")
        await recorder.saw("grace", Role.STUDENT, "127.0.0.1")
        await IdentityRecorder(db).saw("grace", Role.INSTRUCTOR, "127.0.0.1")
        async with db.session() as s:
            user = (await s.execute(select(User))).scalar_one()
            events = (await s.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars().all()
        assert user.role == "instructor"
        assert [e.event for e in events] == [
            "user_created",
            "signed_in",
            "role_changed",
            "signed_in",
        ]
        assert events[2].detail == {"previous": "student", "role": "instructor"}
        assert events[0].remote_ip == "127.0.0.1"
    finally:
        await db.dispose()


async def test_a_visitor_never_gets_the_server_owners_oauth_identity(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin visiting a student's hub server stays themselves (no 500, no stolen identity)."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        # The hub hands the principal's own server its owner's identity; they sign in there.
        monkeypatch.setenv("JUPYTERHUB_USER", "principal")
        monkeypatch.setenv(OAUTH_IDENTITY_ENV, json.dumps({"provider": "generic", "id": "p-1"}))
        await IdentityRecorder(db).saw("principal", Role.ADMIN)
        # Then they open student1's server, which holds student1's identity.
        monkeypatch.setenv("JUPYTERHUB_USER", "student1")
        monkeypatch.setenv(OAUTH_IDENTITY_ENV, json.dumps({"provider": "generic", "id": "s-1"}))
        on_student_server = IdentityRecorder(db)
        await on_student_server.saw("student1", Role.STUDENT)
        await on_student_server.saw("principal", Role.ADMIN)
        await on_student_server.saw("principal", Role.ADMIN, groups=["staff"])
        async with db.session() as s:
            rows = (await s.execute(select(User).order_by(User.name))).scalars().all()
        assert [(u.name, u.oauth_provider, u.oauth_id) for u in rows] == [
            ("principal", "generic", "p-1"),
            ("student1", "generic", "s-1"),
        ]
    finally:
        await db.dispose()


async def test_the_owner_takes_back_an_identity_a_visitor_was_given(
    any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row that holds the owner's identity by mistake (earlier versions) gives it up."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        async with db.session() as s:
            s.add(User(name="principal", role="admin", oauth_provider="generic", oauth_id="s-1"))
        monkeypatch.setenv("JUPYTERHUB_USER", "student1")
        monkeypatch.setenv(OAUTH_IDENTITY_ENV, json.dumps({"provider": "generic", "id": "s-1"}))
        await IdentityRecorder(db).saw("student1", Role.STUDENT)
        async with db.session() as s:
            rows = (await s.execute(select(User).order_by(User.name))).scalars().all()
        assert [(u.name, u.oauth_provider, u.oauth_id) for u in rows] == [
            ("principal", None, None),
            ("student1", "generic", "s-1"),
        ]
    finally:
        await db.dispose()
