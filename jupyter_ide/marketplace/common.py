"""What the store's parts share: the caller, look-ups, what is served, audit events."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.audit import record
from ..auth.permissions import Role
from ..db.models import (
    Extension,
    MarketplaceKey,
    MarketplaceListEntry,
    MarketplacePackage,
    MarketplacePublisher,
    User,
)
from ..db.queries import get_or_create_user
from . import versions
from .errors import MarketplaceError


@dataclass(frozen=True)
class Caller:
    """Who calls: their name and role."""

    name: str
    role: Role

    @property
    def admin(self) -> bool:
        """True for admins."""
        return self.role is Role.ADMIN


async def user_of(session: AsyncSession, caller: Caller) -> User:
    """Return the caller's users row (created on first sight, as sign-in would)."""
    user, _ = await get_or_create_user(session, caller.name, caller.role.value)
    return user


def audit(session: AsyncSession, event: str, caller: Caller, **detail: Any) -> None:
    """Write a marketplace event to the audit log, in the change's own transaction."""
    record(session, f"marketplace_{event}", caller.name, **detail)


async def revoked_key_ids(session: AsyncSession) -> set[str]:
    """Return the ids of every revoked key."""
    query = select(MarketplaceKey.key_id).where(MarketplaceKey.revoked_at.is_not(None))
    return set((await session.execute(query)).scalars())


def is_served(version: Extension, revoked: set[str]) -> bool:
    """Return True while one of the version's signatures is by a key not revoked."""
    return any(sig.get("key_id") not in revoked for sig in version.signatures or [])


def integrity(content_hash: str) -> str:
    """Return the Subresource Integrity string of a sha256 hex digest."""
    return "sha256-" + base64.b64encode(bytes.fromhex(content_hash)).decode("ascii")


async def package_named(session: AsyncSession, name: str) -> MarketplacePackage:
    """Return the package, or 404."""
    query = select(MarketplacePackage).where(MarketplacePackage.name == name)
    package = (await session.execute(query)).scalar_one_or_none()
    if package is None:
        raise MarketplaceError(404, f"No extension named {name!r}")
    return package


async def publisher_named(session: AsyncSession, namespace: str) -> MarketplacePublisher:
    """Return the publisher, or 404."""
    query = select(MarketplacePublisher).where(MarketplacePublisher.namespace == namespace)
    publisher = (await session.execute(query)).scalar_one_or_none()
    if publisher is None:
        raise MarketplaceError(404, f"No publisher namespace {namespace!r}")
    return publisher


async def check_owner(
    session: AsyncSession, publisher: MarketplacePublisher, caller: Caller
) -> None:
    """Let the namespace's owner and admins through; 403 for anyone else."""
    if caller.admin:
        return
    user = await user_of(session, caller)
    if publisher.owner_id != user.id:
        raise MarketplaceError(403, f"The namespace {publisher.namespace!r} is not yours")


async def versions_of(session: AsyncSession, package: MarketplacePackage) -> list[Extension]:
    """Return every version of a package, newest first by semver precedence."""
    query = select(Extension).where(Extension.package_id == package.id)
    found = list((await session.execute(query)).scalars())
    return sorted(found, key=lambda v: versions.parse(v.version), reverse=True)


async def refresh_package(session: AsyncSession, package: MarketplacePackage) -> None:
    """Recompute the newest served, unyanked version and whether the store lists the package."""
    revoked = await revoked_key_ids(session)
    candidates = [
        v.version
        for v in await versions_of(session, package)
        if v.yanked_at is None and is_served(v, revoked)
    ]
    package.latest_version = versions.newest(candidates)
    package.listed = package.latest_version is not None


async def list_entries(session: AsyncSession) -> dict[str, set[str]]:
    """Return the admin's allow and block lists (namespaces and package names)."""
    rows = (await session.execute(select(MarketplaceListEntry))).scalars()
    lists: dict[str, set[str]] = {"allow": set(), "block": set()}
    for row in rows:
        lists.setdefault(row.list, set()).add(row.subject)
    return lists


def blocked_reason(name: str, lists: dict[str, set[str]]) -> str | None:
    """Return why the admin lists keep ``name`` out, or None when it may be used."""
    namespace = name.split(".", 1)[0]
    if name in lists["block"] or namespace in lists["block"]:
        return "blocked by an administrator"
    if lists["allow"] and name not in lists["allow"] and namespace not in lists["allow"]:
        return "not on the administrator's allow list"
    return None
