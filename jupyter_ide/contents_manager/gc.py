"""Garbage collection: delete blobs no file, version or checkpoint names, after a grace period."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, exists, select

from ..db import Database
from ..db.models import Blob, File, FileCheckpoint, FileVersion, utcnow
from .blobstore import BlobStore, BlobStoreError

log = logging.getLogger(__name__)


def _unreferenced() -> list[ColumnElement[bool]]:
    return [
        ~exists().where(File.content_hash == Blob.content_hash),
        ~exists().where(FileVersion.content_hash == Blob.content_hash),
        ~exists().where(FileCheckpoint.content_hash == Blob.content_hash),
    ]


async def collect_garbage(db: Database, store: BlobStore, grace: timedelta) -> list[str]:
    """Delete unreferenced blobs untouched for ``grace``; return their hashes.

    Each blob goes in its own transaction that first deletes its row (locking it against a
    writer that would touch it), then the object, and commits only when the object is gone:
    a save that claims the blob meanwhile waits, then finds no row and stores it again.
    """
    cutoff = utcnow() - grace
    async with db.session() as session:
        query = select(Blob.content_hash).where(Blob.touched_at < cutoff, *_unreferenced())
        candidates = list((await session.execute(query)).scalars())
    removed = []
    for content_hash in candidates:
        try:
            async with db.session() as session:
                result = await session.execute(
                    delete(Blob).where(
                        Blob.content_hash == content_hash,
                        Blob.touched_at < cutoff,
                        *_unreferenced(),
                    )
                )
                if not result.rowcount:  # type: ignore[attr-defined]
                    continue
                await store.delete(content_hash)
        except BlobStoreError as e:
            log.warning("GC could not delete blob %s: %s", content_hash, e)
            continue
        removed.append(content_hash)
    if removed:
        log.info("GC removed %d unreferenced blobs", len(removed))
    return removed
