"""Marketplace call check: the cost of one runtime call's permission decision (issue #17).

The IDE asks the server before each call an extension makes (POST installs/<name>/calls), so
the decision must be cheap while still reading the user's current grants. On the search
bench's PostgreSQL store, a student gets 10 installed extensions and one locked in by a
course; each decision is then timed three ways, one at a time: the user's whole install
listing read per call (what the check did before the cache), and ``Installs.for_call`` with
the cache's change counters in this process and in Redis (a deployment's replicas). A course's
locked extension adds one membership look-up per call.

Run with the search bench: ``.venv/bin/python -m bench.marketplace``.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select

from jupyter_ide.auth.permissions import Role
from jupyter_ide.cache import MemoryCache, RedisCache
from jupyter_ide.db import Database
from jupyter_ide.db.models import (
    Course,
    CourseMember,
    Extension,
    MarketplaceCourseLock,
    MarketplacePackage,
    UserExtension,
    utcnow,
)
from jupyter_ide.marketplace.common import Caller, user_of
from jupyter_ide.marketplace.grants import GrantCache
from jupyter_ide.marketplace.installs import Installs
from jupyter_ide.marketplace.runtime_api import decide

from .stats import print_table, time_async

REDIS = os.environ.get("JUPYTER_IDE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
BEFORE = "whole listing per call (before)"
CALL = {"method": "statusbar.set", "params": {"id": "count", "text": "3 words"}}
STUDENT = Caller("bench-student", Role.STUDENT)


async def install_some(db: Database) -> tuple[str, str]:
    """Give the student 10 installs and a course's locked one; return one name of each kind."""
    async with db.session() as session:
        me = await user_of(session, STUDENT)
        rows = (
            await session.execute(
                select(MarketplacePackage, Extension)
                .join(Extension, Extension.package_id == MarketplacePackage.id)
                .order_by(MarketplacePackage.id)
                .limit(11)
            )
        ).all()
        for _, version in rows:
            version.manifest = {**version.manifest, "permissions": ["ui.statusbar"]}
        for package, version in rows[:10]:
            session.add(
                UserExtension(
                    user_id=me.id,
                    package_id=package.id,
                    extension_id=version.id,
                    enabled=True,
                    granted=["ui.statusbar"],
                    settings={},
                    installed_at=utcnow(),
                )
            )
        course = Course(name="bench-course", title="Bench")
        session.add(course)
        await session.flush()
        session.add(CourseMember(course_id=course.id, user_id=me.id, role="student"))
        locked = rows[10][0]
        session.add(
            MarketplaceCourseLock(
                course_id=course.id, package_id=locked.id, granted=["ui.statusbar"], locked_by="b"
            )
        )
        return rows[0][0].name, locked.name


async def run(db: Database, rounds: int) -> None:
    """Time each way of deciding a call; print the table."""
    own, locked = await install_some(db)
    redis = RedisCache(REDIS, prefix="bench-marketplace-calls:")
    peers: dict[str, Installs] = {
        BEFORE: Installs(db),
        "cached, in-process counters": Installs(db, GrantCache(MemoryCache())),
        "cached, Redis counters": Installs(db, GrantCache(redis)),
    }
    rows: dict[str, dict[str, list[float]]] = {}
    try:
        for label, name in (("own install", own), ("course-locked install", locked)):
            rows[label] = {}
            for peer, installs in peers.items():

                async def once(_: int, installs: Installs = installs, name: str = name) -> Any:
                    if installs is peers[BEFORE]:
                        install = await installs.one(STUDENT, name)
                    else:
                        install = await installs.for_call(STUDENT, name)
                    verdict = decide(install, CALL["method"], CALL["params"])
                    assert verdict.decision == "allow", verdict

                await once(0)  # the first call loads the cache
                rows[label][peer] = await time_async(once, rounds)
    finally:
        await redis.close()
    print_table(
        f"marketplace call check: one runtime call's decision, {rounds} rounds each "
        "(10 installs + 1 course lock)",
        rows,
        BEFORE,
    )
    print(f"load average {os.getloadavg()[0]:.1f}")
