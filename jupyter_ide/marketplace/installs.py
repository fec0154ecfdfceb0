"""Per-user installs (enabled, granted permissions, settings) and course-locked extensions.

A course's locked extension is not copied into each student's installs: a student's list is
their own installs plus the locks of the courses they are in now, so leaving a course (or
the lock being lifted) removes it at once, with nothing to clean up. A row for a locked
extension (``course_id`` set) only holds the student's settings and grants for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.permissions import Role
from ..db import Database
from ..db.models import (
    Course,
    CourseMember,
    Extension,
    MarketplaceCourseLock,
    MarketplacePackage,
    User,
    UserExtension,
    utcnow,
)
from .common import (
    Caller,
    audit,
    blocked_reason,
    integrity,
    is_served,
    list_entries,
    package_named,
    revoked_key_ids,
    user_of,
)
from .errors import MarketplaceError
from .grants import GrantCache
from .manifest import SENSITIVE

SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "boolean": bool,
}


def check_granted(manifest: dict[str, Any], granted: Any) -> list[str]:
    """Return the grants when each is a permission the manifest declares; 400 otherwise."""
    if not isinstance(granted, list) or not all(isinstance(p, str) for p in granted):
        raise MarketplaceError(400, "granted is a list of permission names")
    declared = set(manifest.get("permissions", []))
    extra = sorted(set(granted) - declared)
    if extra:
        raise MarketplaceError(
            400,
            f"The extension does not declare {', '.join(extra)}; only declared "
            "permissions can be granted",
        )
    return sorted(set(granted))


def check_settings(manifest: dict[str, Any], settings: Any) -> dict[str, Any]:
    """Return the settings when each is declared by the manifest with the right type."""
    if not isinstance(settings, dict):
        raise MarketplaceError(400, "settings is a JSON object")
    declared = manifest.get("settings", {})
    for key, value in settings.items():
        if key not in declared:
            raise MarketplaceError(400, f"The extension has no setting {key!r}")
        kind = declared[key]["type"]
        if (isinstance(value, bool) and kind != "boolean") or not isinstance(
            value, SETTING_TYPES[kind]
        ):
            raise MarketplaceError(400, f"The setting {key!r} is a {kind}")
        if isinstance(value, str) and len(value) > 10_000:
            raise MarketplaceError(400, f"The setting {key!r} is too long")
    return dict(settings)


class Installs:
    """Each user's extensions, and the ones their courses lock in."""

    def __init__(self, db: Database, grants: GrantCache | None = None) -> None:
        """Keep the database and the call check's cache."""
        self.db = db
        self.grants = grants or GrantCache(None)

    async def _version(
        self, session: AsyncSession, package: MarketplacePackage, version: str | None
    ) -> Extension:
        """Return the version to install: the one asked for (served, not yanked) or the latest."""
        wanted = version or package.latest_version
        if wanted is None:
            raise MarketplaceError(404, f"{package.name} has no version to install")
        query = select(Extension).where(
            Extension.package_id == package.id, Extension.version == wanted
        )
        found = (await session.execute(query)).scalar_one_or_none()
        if found is None:
            raise MarketplaceError(404, f"{package.name} has no version {wanted!r}")
        if not is_served(found, await revoked_key_ids(session)):
            raise MarketplaceError(410, f"{package.name} {wanted} is no longer served")
        if found.yanked_at is not None:
            raise MarketplaceError(
                410, f"{package.name} {wanted} was yanked: {found.yank_reason or 'no reason'}"
            )
        return found

    async def _usable(self, session: Any, name: str) -> MarketplacePackage:
        package = await package_named(session, name)
        reason = blocked_reason(name, await list_entries(session))
        if reason:
            raise MarketplaceError(403, f"{name} cannot be installed: it is {reason}")
        if not package.listed:
            raise MarketplaceError(404, f"No extension named {name!r}")
        return package

    async def install(self, caller: Caller, body: Any) -> dict[str, Any]:
        """Install an extension for the caller; sensitive permissions wait for first use."""
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise MarketplaceError(400, "Missing field: name (the extension's <namespace>.<name>)")
        version = body.get("version")
        if version is not None and not isinstance(version, str):
            raise MarketplaceError(400, "version is a string")
        try:
            async with self.db.session() as session:
                package = await self._usable(session, body["name"])
                found = await self._version(session, package, version)
                declared = found.manifest.get("permissions", [])
                granted = check_granted(
                    found.manifest,
                    body.get("granted", [p for p in declared if p not in SENSITIVE]),
                )
                settings = check_settings(found.manifest, body.get("settings", {}))
                me = await user_of(session, caller)
                if await self._lock_of(session, me.id, package.id) is not None:
                    raise MarketplaceError(409, f"{package.name} is installed by your course")
                await session.execute(  # settings kept for a course the user has left
                    delete(UserExtension).where(
                        UserExtension.user_id == me.id,
                        UserExtension.package_id == package.id,
                        UserExtension.course_id.is_not(None),
                    )
                )
                session.add(
                    UserExtension(
                        user_id=me.id,
                        extension_id=found.id,
                        package_id=package.id,
                        enabled=True,
                        granted=granted,
                        settings=settings,
                        installed_at=utcnow(),
                    )
                )
                await session.flush()
                audit(
                    session,
                    "installed",
                    caller,
                    package=package.name,
                    version=found.version,
                    granted=granted,
                )
        except IntegrityError as e:
            raise MarketplaceError(409, f"{body['name']} is already installed") from e
        await self.grants.changed(caller.name)
        return await self.one(caller, body["name"])

    async def listing(self, caller: Caller) -> list[dict[str, Any]]:
        """Return the caller's extensions: their own and their courses' locked ones."""
        async with self.db.session() as session:
            me = await user_of(session, caller)
            lists = await list_entries(session)
            revoked = await revoked_key_ids(session)
            own = await session.execute(
                select(UserExtension, Extension, MarketplacePackage)
                .join(Extension, Extension.id == UserExtension.extension_id)
                .join(MarketplacePackage, MarketplacePackage.id == UserExtension.package_id)
                .where(UserExtension.user_id == me.id)
            )
            rows: dict[str, dict[str, Any]] = {}
            course_rows: dict[tuple[int, int], UserExtension] = {}
            for row, version, package in own.all():
                if row.course_id is not None:
                    course_rows[(row.course_id, package.id)] = row
                    continue
                rows[package.name] = self._view(row, version, package, None, lists, revoked)
            locks = await session.execute(
                select(MarketplaceCourseLock, Course, MarketplacePackage)
                .join(Course, Course.id == MarketplaceCourseLock.course_id)
                .join(MarketplacePackage, MarketplacePackage.id == MarketplaceCourseLock.package_id)
                .join(
                    CourseMember,
                    (CourseMember.course_id == MarketplaceCourseLock.course_id)
                    & (CourseMember.user_id == me.id),
                )
            )
            for lock, course, package in locks.all():
                if package.latest_version is None:
                    continue
                version = (
                    await session.execute(
                        select(Extension).where(
                            Extension.package_id == package.id,
                            Extension.version == package.latest_version,
                        )
                    )
                ).scalar_one()
                row = course_rows.get((course.id, package.id)) or UserExtension(
                    enabled=True, granted=list(lock.granted), settings={}
                )
                rows[package.name] = self._view(row, version, package, course.name, lists, revoked)
        return sorted(rows.values(), key=lambda r: r["name"])

    def _view(
        self,
        row: UserExtension,
        version: Extension,
        package: MarketplacePackage,
        course: str | None,
        lists: dict[str, set[str]],
        revoked: set[str],
    ) -> dict[str, Any]:
        """Return an install as the IDE loads it; a blocked or revoked one comes disabled."""
        notice = row.notice
        reason = blocked_reason(package.name, lists)
        if reason:
            notice = f"Disabled: {package.name} is {reason}"
        elif not is_served(version, revoked):
            notice = notice or "Disabled: the key that signed this version was revoked"
        enabled = bool(row.enabled) and not reason and is_served(version, revoked)
        return {
            "name": package.name,
            "display_name": package.display_name,
            "version": version.version,
            "latest_version": package.latest_version,
            "enabled": enabled,
            "granted": list(row.granted or []),
            "settings": dict(row.settings or {}),
            "notice": notice,
            "locked_by_course": course,
            "permissions": version.manifest.get("permissions", []),
            "manifest": version.manifest,
            "integrity": integrity(version.content_hash),
        }

    async def one(self, caller: Caller, name: str) -> dict[str, Any]:
        """Return one of the caller's extensions, or 404."""
        for item in await self.listing(caller):
            if item["name"] == name:
                return item
        raise MarketplaceError(404, f"{name!r} is not installed")

    async def for_call(self, caller: Caller, name: str) -> dict[str, Any]:
        """Return one of the caller's extensions as it stands now, cheaply (the call check)."""

        async def load() -> dict[str, dict[str, Any]]:
            return {item["name"]: item for item in await self.listing(caller)}

        found = (await self.grants.installs(caller.name, load)).get(name)
        course = found.get("locked_by_course") if found else None
        if course and not await self._member(caller, course):
            # Membership changes outside the store: one indexed look-up keeps this exact.
            await self.grants.changed(caller.name)
            found = (await self.grants.installs(caller.name, load)).get(name)
        if found is None:
            raise MarketplaceError(404, f"{name!r} is not installed")
        return found

    async def _member(self, caller: Caller, course: str) -> bool:
        """Return True while the caller is a member of the course."""
        async with self.db.session() as session:
            query = (
                select(CourseMember.user_id)
                .join(Course, Course.id == CourseMember.course_id)
                .join(User, User.id == CourseMember.user_id)
                .where(Course.name == course, User.name == caller.name)
            )
            return (await session.execute(query.limit(1))).first() is not None

    async def _lock_of(self, session: AsyncSession, user_id: int, package_id: int) -> Course | None:
        """Return a course of the user's that locks this package in, if any."""
        query = (
            select(Course)
            .join(MarketplaceCourseLock, MarketplaceCourseLock.course_id == Course.id)
            .join(
                CourseMember,
                (CourseMember.course_id == Course.id) & (CourseMember.user_id == user_id),
            )
            .where(MarketplaceCourseLock.package_id == package_id)
        )
        return (await session.execute(query.limit(1))).scalar_one_or_none()

    async def change(self, caller: Caller, name: str, body: Any) -> dict[str, Any]:
        """Change an install: enabled, granted permissions, settings, version (update)."""
        if not isinstance(body, dict) or not body:
            raise MarketplaceError(400, "Send enabled, granted, settings or version")
        unknown = set(body) - {"enabled", "granted", "settings", "version"}
        if unknown:
            raise MarketplaceError(400, f"Unknown fields: {', '.join(sorted(unknown))}")
        if "enabled" in body and not isinstance(body["enabled"], bool):
            raise MarketplaceError(400, "enabled is true or false")
        async with self.db.session() as session:
            me = await user_of(session, caller)
            package = await package_named(session, name)
            course = await self._lock_of(session, me.id, package.id)
            query = select(UserExtension).where(
                UserExtension.user_id == me.id, UserExtension.package_id == package.id
            )
            row = (await session.execute(query)).scalar_one_or_none()
            if course is None and (row is None or row.course_id is not None):
                raise MarketplaceError(404, f"{name!r} is not installed")
            if course is not None:
                if body.get("enabled") is False or "version" in body:
                    raise MarketplaceError(
                        403, f"{name} is locked in by the course {course.name}; it stays on"
                    )
                if row is None or row.course_id != course.id:
                    if row is not None:  # a stale row from a course the user left
                        await session.delete(row)
                        await session.flush()
                    lock = await session.get(MarketplaceCourseLock, (course.id, package.id))
                    assert lock is not None
                    version = await self._version(session, package, None)
                    row = UserExtension(
                        user_id=me.id,
                        extension_id=version.id,
                        package_id=package.id,
                        course_id=course.id,
                        granted=list(lock.granted),
                        settings={},
                        enabled=True,
                        installed_at=utcnow(),
                    )
                    session.add(row)
            assert row is not None
            version_row = await session.get(Extension, row.extension_id)
            assert version_row is not None
            if "version" in body:
                if not isinstance(body["version"], str):
                    raise MarketplaceError(400, "version is a string")
                await self._usable(session, name)
                version_row = await self._version(session, package, body["version"])
                row.extension_id = version_row.id
                row.notice = None
                row.granted = [
                    p for p in row.granted or [] if p in version_row.manifest.get("permissions", [])
                ]
            if "granted" in body:
                row.granted = check_granted(version_row.manifest, body["granted"])
            if "settings" in body:
                row.settings = check_settings(version_row.manifest, body["settings"])
            if "enabled" in body:
                if body["enabled"] and not is_served(version_row, await revoked_key_ids(session)):
                    raise MarketplaceError(
                        409, f"{name} {version_row.version} is no longer served; update it first"
                    )
                row.enabled = body["enabled"]
                if body["enabled"]:
                    row.notice = None
            audit(
                session,
                "install_changed",
                caller,
                package=name,
                changed=sorted(body),
                version=version_row.version,
                granted=list(row.granted or []),
                enabled=row.enabled,
            )
        await self.grants.changed(caller.name)
        return await self.one(caller, name)

    async def uninstall(self, caller: Caller, name: str) -> None:
        """Remove the caller's install; a course's locked extension cannot be removed."""
        async with self.db.session() as session:
            me = await user_of(session, caller)
            package = await package_named(session, name)
            course = await self._lock_of(session, me.id, package.id)
            if course is not None:
                raise MarketplaceError(
                    403,
                    f"{name} is installed by your course {course.name}; students cannot remove "
                    "it (it goes when you leave the course or the instructor lifts the lock)",
                )
            result = await session.execute(
                delete(UserExtension).where(
                    UserExtension.user_id == me.id, UserExtension.package_id == package.id
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise MarketplaceError(404, f"{name!r} is not installed")
            audit(session, "uninstalled", caller, package=name)
        await self.grants.changed(caller.name)

    # -- course locks ----------------------------------------------------------------------

    async def _course(self, session: Any, name: str, caller: Caller, manage: bool) -> Course:
        """Return the course when the caller may see it (manage: teaches it, or is an admin)."""
        course = (
            await session.execute(select(Course).where(Course.name == name))
        ).scalar_one_or_none()
        if course is None:
            raise MarketplaceError(404, f"No course {name!r}")
        if caller.admin:
            return course  # type: ignore[no-any-return]
        me = await user_of(session, caller)
        member = await session.get(CourseMember, (course.id, me.id))
        if member is None:
            raise MarketplaceError(404, f"No course {name!r}")
        if manage and (member.role != Role.INSTRUCTOR.value or caller.role is Role.STUDENT):
            raise MarketplaceError(403, f"Only the instructors of {name} lock its extensions")
        return course  # type: ignore[no-any-return]

    async def course_locks(self, caller: Caller, course_name: str) -> list[dict[str, Any]]:
        """Return the extensions a course locks in (its members)."""
        async with self.db.session() as session:
            course = await self._course(session, course_name, caller, manage=False)
            rows = await session.execute(
                select(MarketplaceCourseLock, MarketplacePackage)
                .join(MarketplacePackage, MarketplacePackage.id == MarketplaceCourseLock.package_id)
                .where(MarketplaceCourseLock.course_id == course.id)
            )
            return [
                {
                    "name": package.name,
                    "version": package.latest_version,
                    "granted": list(lock.granted),
                    "locked_by": lock.locked_by,
                }
                for lock, package in rows.all()
            ]

    async def lock(self, caller: Caller, course_name: str, name: str, body: Any) -> dict[str, Any]:
        """Lock an extension in for every student of a course, with the grants given."""
        body = body if isinstance(body, dict) else {}
        async with self.db.session() as session:
            course = await self._course(session, course_name, caller, manage=True)
            package = await self._usable(session, name)
            version = await self._version(session, package, None)
            declared = version.manifest.get("permissions", [])
            granted = check_granted(
                version.manifest, body.get("granted", [p for p in declared if p not in SENSITIVE])
            )
            lock = await session.get(MarketplaceCourseLock, (course.id, package.id))
            if lock is None:
                session.add(
                    MarketplaceCourseLock(
                        course_id=course.id,
                        package_id=package.id,
                        granted=granted,
                        locked_by=caller.name,
                    )
                )
            else:
                lock.granted = granted
            audit(
                session, "course_locked", caller, course=course.name, package=name, granted=granted
            )
        await self.grants.changed()  # every member's grants
        return {"course": course_name, "name": name, "granted": granted}

    async def unlock(self, caller: Caller, course_name: str, name: str) -> None:
        """Lift a course's lock; its students' copies go (their settings rows too)."""
        async with self.db.session() as session:
            course = await self._course(session, course_name, caller, manage=True)
            package = await package_named(session, name)
            lock = await session.get(MarketplaceCourseLock, (course.id, package.id))
            if lock is None:
                raise MarketplaceError(404, f"{course_name} does not lock {name}")
            await session.delete(lock)
            await session.execute(
                delete(UserExtension).where(
                    UserExtension.course_id == course.id, UserExtension.package_id == package.id
                )
            )
            audit(session, "course_unlocked", caller, course=course.name, package=name)
        await self.grants.changed()
