"""Which kept versions to drop: keep the last N, then one per hour, then one per day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..db.models import utcnow
from .index import FileIndex, Version


@dataclass(frozen=True)
class RetentionPolicy:
    """Keep the last N versions, then one an hour for some hours, then one a day for some days."""

    keep_last: int = 20
    hourly: int = 48
    daily: int = 30


def versions_to_drop(versions: list[Version], now: datetime, policy: RetentionPolicy) -> list[int]:
    """Return the ids to delete from ``versions`` (any order) under ``policy``."""
    newest_first = sorted(versions, key=lambda v: v.created_at, reverse=True)
    drop: list[int] = []
    buckets: set[tuple[str, datetime]] = set()
    for index, version in enumerate(newest_first):
        if index < policy.keep_last:
            continue
        age = now - version.created_at
        if age <= timedelta(hours=policy.hourly):
            bucket = ("h", version.created_at.replace(minute=0, second=0, microsecond=0))
        elif age <= timedelta(days=policy.daily):
            bucket = ("d", version.created_at.replace(hour=0, minute=0, second=0, microsecond=0))
        else:
            drop.append(version.id)
            continue
        if bucket in buckets:
            drop.append(version.id)
        else:
            buckets.add(bucket)
    return drop


async def apply_retention(
    index: FileIndex, path: str, policy: RetentionPolicy, now: datetime | None = None
) -> int:
    """Drop what ``policy`` does not keep of the versions of ``path`` and all below it.

    Every path that keeps a version (editor save, kernel sync, delete, rename, restore) calls
    this, so no file's history outgrows the policy. Returns how many versions were dropped.
    """
    by_path: dict[str, list[Version]] = defaultdict(list)
    for version in await index.versions_within(path):
        by_path[version.path].append(version)
    moment = now or utcnow()
    drop = [
        version_id
        for versions in by_path.values()
        if len(versions) > policy.keep_last
        for version_id in versions_to_drop(versions, moment, policy)
    ]
    await index.drop_versions(drop)
    return len(drop)
