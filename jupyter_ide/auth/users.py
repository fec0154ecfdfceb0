"""Record who uses this server: a users row each, and audit events for sign-ins and roles."""

from __future__ import annotations

import json
import os

from ..db import Database
from ..db.queries import get_or_create_user
from .audit import record
from .courses import CourseDirectory
from .permissions import Role

OAUTH_IDENTITY_ENV = "JUPYTER_IDE_OAUTH_IDENTITY"


def oauth_identity() -> tuple[str, str] | None:
    """Return the (provider, id) the hub passed to this single-user server, if any."""
    raw = os.environ.get(OAUTH_IDENTITY_ENV, "")
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("provider") and data.get("id"):
        return str(data["provider"]), str(data["id"])
    return None


class IdentityRecorder:
    """Keep the users table in step with who signs in, writing only when something changed."""

    def __init__(self, db: Database, courses: CourseDirectory | None = None) -> None:
        """Remember, per process, what each user was last recorded with."""
        self.db = db
        self.courses = courses
        self._seen: dict[str, tuple[Role, tuple[str, ...]]] = {}

    async def saw(
        self,
        name: str,
        role: Role,
        remote_ip: str | None = None,
        groups: list[str] | None = None,
    ) -> None:
        """Record a visit: a new user, a role or group change, or nothing when all is known."""
        known = (role, tuple(sorted(groups or [])))
        if self._seen.get(name) == known:
            return
        async with self.db.session() as session:
            user, created = await get_or_create_user(session, name, role.value)
            if created:
                record(
                    session,
                    "user_created",
                    name,
                    user_id=user.id,
                    remote_ip=remote_ip,
                    role=role.value,
                )
            elif user.role != role.value:
                record(
                    session,
                    "role_changed",
                    name,
                    user_id=user.id,
                    remote_ip=remote_ip,
                    previous=user.role,
                    role=role.value,
                )
                user.role = role.value
            identity = oauth_identity()
            if identity and (user.oauth_provider, user.oauth_id) != identity:
                user.oauth_provider, user.oauth_id = identity
            record(
                session, "signed_in", name, user_id=user.id, remote_ip=remote_ip, role=role.value
            )
        if self.courses is not None and groups is not None:
            await self.courses.sync_groups(name, groups)
        self._seen[name] = known
