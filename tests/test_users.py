"""Each identity gets a users row; sign-ins and role changes reach the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jupyter_ide.auth import Role
from jupyter_ide.auth.users import IdentityRecorder
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
