"""The quarantine: uploads that failed the publish scan, held for an admin's review.

An entry keeps the reason, the key and signature of the upload and, when a review may release
it (the scan's judgement failed: a compression ratio, a forbidden permission), its bytes, in a
blob store of its own, apart from the published packages. An admin
lists the entries, then releases one (Publishing.release publishes it) or rejects it: its
bytes are deleted and the entry stays as the record. Every change is audited.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..contents_manager.blobstore import BlobStore, BlobStoreError
from ..db import Database
from ..db.models import MarketplaceQuarantine, utcnow
from .common import Caller, audit
from .errors import MarketplaceError

log = logging.getLogger(__name__)
STATUSES = ("pending", "released", "rejected")


def entry_view(q: MarketplaceQuarantine) -> dict[str, Any]:
    """Return a quarantine entry as the API shows it."""
    return {
        "id": q.id,
        "namespace": q.namespace,
        "name": q.name,
        "version": q.version,
        "sha256": q.content_hash,
        "size": q.size,
        "reason": q.reason,
        "submitted_by": q.submitted_by,
        "created_at": q.created_at.isoformat(),
        "status": q.status,
        "kept": q.kept,
        "key_id": q.key_id,
        "reviewed_by": q.reviewed_by,
        "reviewed_at": q.reviewed_at.isoformat() if q.reviewed_at else None,
    }


def entry_id_of(text: str) -> int:
    """Return the id in a URL, or 404."""
    if not text.isdigit() or len(text) > 18:
        raise MarketplaceError(404, f"No quarantine entry {text!r}")
    return int(text)


class Quarantine:
    """Quarantine entries in the database, their bytes in a blob store of their own."""

    def __init__(self, db: Database, held: BlobStore) -> None:
        """Keep the database and the store for held bytes."""
        self.db = db
        self.held = held

    async def hold(
        self,
        caller: Caller,
        upload: dict[str, Any],
        reason: str,
        manifest: dict[str, Any] | None,
        data: bytes | None,
    ) -> None:
        """Record an upload that failed the scan; keep ``data`` when given (for a release).

        ``upload`` holds the namespace, sha256, size, key_id and signature of the upload.
        """
        kept = False
        if data is not None:
            try:
                await self.held.put(upload["sha256"], data)
                kept = True
            except BlobStoreError as e:
                log.warning("Could not keep quarantined upload %s: %s", upload["sha256"], e)
        name = version = None
        if manifest is not None:
            name = f"{manifest.get('publisher')}.{manifest.get('name')}"[:255]
            version = str(manifest.get("version"))[:64]
        async with self.db.session() as session:
            entry = MarketplaceQuarantine(
                namespace=upload["namespace"],
                name=name,
                version=version,
                content_hash=upload["sha256"],
                size=upload["size"],
                reason=reason,
                submitted_by=caller.name,
                status="pending",
                kept=kept,
                key_id=upload.get("key_id"),
                signature=upload.get("signature"),
            )
            session.add(entry)
            await session.flush()
            audit(
                session,
                "quarantined",
                caller,
                namespace=upload["namespace"],
                sha256=upload["sha256"],
                reason=reason,
                quarantine_id=entry.id,
                kept=kept,
            )

    async def listing(self, status: str = "") -> list[dict[str, Any]]:
        """Return the entries (of one status, when given), newest first."""
        if status and status not in STATUSES:
            raise MarketplaceError(400, f"status is one of: {', '.join(STATUSES)}")
        async with self.db.session() as session:
            query = select(MarketplaceQuarantine).order_by(MarketplaceQuarantine.id.desc())
            if status:
                query = query.where(MarketplaceQuarantine.status == status)
            return [entry_view(q) for q in (await session.execute(query.limit(500))).scalars()]

    async def review(self, caller: Caller, entry_id: str, body: Any) -> dict[str, Any]:
        """Mark an entry reviewed (it stays pending)."""
        if not isinstance(body, dict) or body.get("reviewed") is not True:
            raise MarketplaceError(400, 'Send {"reviewed": true}')
        async with self.db.session() as session:
            entry = await self._entry(session, entry_id)
            entry.reviewed_by = caller.name
            entry.reviewed_at = utcnow()
            audit(session, "quarantine_reviewed", caller, quarantine_id=entry.id)
            return entry_view(entry)

    async def pending(self, entry_id: str) -> tuple[MarketplaceQuarantine, bytes]:
        """Return a pending entry and its held bytes (checked against its sha256), or 4xx."""
        async with self.db.session() as session:
            entry = await self._entry(session, entry_id)
            self._check_pending(entry)
        if not entry.kept:
            raise MarketplaceError(
                409,
                f"Quarantine entry {entry.id} cannot be released: {entry.reason}. Its bytes "
                "were not kept (only uploads held for a judgement a review may overrule are); "
                "reject it, and ask the publisher for a new upload",
            )
        try:
            data = await self.held.get(entry.content_hash)
        except BlobStoreError as e:
            raise MarketplaceError(
                409, f"The bytes of quarantine entry {entry.id} are gone; reject it"
            ) from e
        if hashlib.sha256(data).hexdigest() != entry.content_hash:
            raise MarketplaceError(
                409, f"The held bytes of quarantine entry {entry.id} changed; reject it"
            )
        return entry, data

    async def close_entry(
        self, caller: Caller, entry_id: int, status: str, **detail: Any
    ) -> dict[str, Any]:
        """Mark a pending entry released or rejected, delete its bytes, audit the decision."""
        async with self.db.session() as session:
            entry = await self._entry(session, str(entry_id))
            self._check_pending(entry)
            entry.status = status
            entry.kept = False
            entry.reviewed_by = caller.name
            entry.reviewed_at = utcnow()
            audit(
                session,
                f"quarantine_{status}",
                caller,
                quarantine_id=entry.id,
                sha256=entry.content_hash,
                **detail,
            )
            view = entry_view(entry)
        await self._forget(view["sha256"])
        return view

    async def reject(self, caller: Caller, entry_id: str, body: Any) -> dict[str, Any]:
        """Reject a pending entry: delete its bytes, keep the record with the admin's note."""
        note = body.get("note", "") if isinstance(body, dict) else ""
        if body is not None and not isinstance(body, dict):
            raise MarketplaceError(400, "The body is a JSON object: {note?}")
        if not isinstance(note, str) or len(note) > 1000:
            raise MarketplaceError(400, "note is a string of at most 1000 characters")
        return await self.close_entry(caller, entry_id_of(entry_id), "rejected", note=note)

    async def _forget(self, content_hash: str) -> None:
        """Delete held bytes no pending entry still needs."""
        async with self.db.session() as session:
            query = select(MarketplaceQuarantine.id).where(
                MarketplaceQuarantine.content_hash == content_hash,
                MarketplaceQuarantine.kept.is_(True),
            )
            if (await session.execute(query.limit(1))).first() is not None:
                return
        try:
            await self.held.delete(content_hash)
        except BlobStoreError as e:
            log.warning("Could not delete quarantined bytes %s: %s", content_hash, e)

    @staticmethod
    def _check_pending(entry: MarketplaceQuarantine) -> None:
        if entry.status != "pending":
            raise MarketplaceError(
                409,
                f"Quarantine entry {entry.id} was already {entry.status} by {entry.reviewed_by}",
            )

    @staticmethod
    async def _entry(session: AsyncSession, entry_id: str) -> MarketplaceQuarantine:
        entry = await session.get(MarketplaceQuarantine, entry_id_of(entry_id))
        if entry is None:
            raise MarketplaceError(404, f"No quarantine entry {entry_id!r}")
        return entry
