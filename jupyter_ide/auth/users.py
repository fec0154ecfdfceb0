"""Record who uses this server: a users row each, and audit events for sign-ins and roles."""

from __future__ import annotations

import json
import os

from sqlalchemy import update

from ..db import Database, User
from ..db.queries import get_or_create_user
from .audit import record
from .courses import CourseDirectory
from .permissions import Role

OAUTH_IDENTITY_ENV = "JUPYTER_IDE_OAUTH_IDENTITY"


def oauth_identity() -> tuple[str, str] | None:
    """Return the (provider, id) the hub passed to this single-user server, if any.

    It is the identity of the server's owner (JUPYTERHUB_USER), not of whoever visits.
    """
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

    def __init__(
        self, db: Database, courses: CourseDirectory | None = None, owner: str | None = None
    ) -> None:
        """Remember, per process, what each user was last recorded with.

        ``owner`` is the hub user this server belongs to (default: JUPYTERHUB_USER): only
        their row gets the OAuth identity the hub passed to the server.
        """
        self.db = db
        self.courses = courses
        self.owner = os.environ.get("JUPYTERHUB_USER", "") if owner is None else owner
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
            # An admin visiting a student's server is not the student.
            identity = oauth_identity() if self.owner and name == self.owner else None
            if identity and (user.oauth_provider, user.oauth_id) != identity:
                # The hub's word wins over a row that holds it by mistake (written onto
                # visitors by earlier versions), which would break the unique constraint.
                await session.execute(
                    update(User)
                    .where(
                        User.oauth_provider == identity[0],
                        User.oauth_id == identity[1],
                        User.id != user.id,
                    )
                    .values(oauth_provider=None, oauth_id=None)
                )
                user.oauth_provider, user.oauth_id = identity
            record(
                session, "signed_in", name, user_id=user.id, remote_ip=remote_ip, role=role.value
            )
        if self.courses is not None and groups is not None:
            await self.courses.sync_groups(name, groups)
        self._seen[name] = known
