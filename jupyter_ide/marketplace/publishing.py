"""Publishing: namespaces, keys, signed packages, the publish scan, quarantine, yank."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import math
import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..auth.permissions import Role
from ..contents_manager.blobstore import BlobStore, BlobStoreError
from ..db import Database
from ..db.models import (
    Extension,
    MarketplaceKey,
    MarketplacePackage,
    MarketplacePublisher,
    UserExtension,
    utcnow,
)
from . import versions, vscode
from .archive import Archive, ScanLimits, scan
from .common import (
    Caller,
    audit,
    check_owner,
    integrity,
    is_served,
    package_named,
    publisher_named,
    refresh_package,
    revoked_key_ids,
    user_of,
    versions_of,
)
from .errors import MarketplaceError, ScanError
from .grants import GrantCache
from .manifest import (
    MANIFEST_NAME,
    PERMISSIONS,
    check_manifest,
    full_name,
    parse_manifest,
    referenced_paths,
)
from .quarantine import Quarantine
from .signing import decode_b64, key_id_of, parse_public_key, verifies

log = logging.getLogger(__name__)
NAMESPACE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")


class _WrongNamespace(MarketplaceError):
    """A package of one namespace signed with another namespace's key."""

    def __init__(self, message: str) -> None:
        """Refuse with 403."""
        super().__init__(403, message)


def _text(body: Any, key: str, limit: int, *, required: bool = True) -> str:
    """Return a string field of a JSON body, or 400."""
    if not isinstance(body, dict):
        raise MarketplaceError(400, "The body must be a JSON object")
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise MarketplaceError(400, f"Missing field: {key} (a string)")
    if len(value) > limit:
        raise MarketplaceError(400, f"{key} is longer than {limit} characters")
    return value.strip()


def package_of(archive: Archive, namespace: str) -> dict[str, Any]:
    """Return the manifest of a scanned archive: ours, or one made from a VS Code package."""
    if MANIFEST_NAME in archive.files:
        manifest = parse_manifest(archive.files[MANIFEST_NAME])
        manifest.setdefault("kind", "ide")
        if manifest["kind"] != "ide":
            raise ScanError("manifest.json: kind is set by the store, leave it out")
    else:
        root = vscode.find_root(archive.files)
        if root is None:
            raise ScanError(
                "the package has no manifest.json at its root (nor a VS Code package.json "
                "under extension/ or package/)"
            )
        manifest = vscode.to_manifest(archive.files, root, namespace)
        check_manifest(manifest)
    missing = [p for p in referenced_paths(manifest) if p not in archive.files]
    if missing:
        raise ScanError(f"manifest.json names files the package does not hold: {missing[:3]}")
    return manifest


class Publishing:
    """Publisher namespaces and keys; publish, yank and quarantine of package versions."""

    def __init__(
        self,
        db: Database,
        store: BlobStore,
        limits: ScanLimits,
        quarantine: Quarantine,
        grants: GrantCache | None = None,
    ) -> None:
        """Keep the database, the packages' store, the scan's limits, the quarantine."""
        self.db = db
        self.store = store
        self.limits = limits
        self.quarantine = quarantine
        self.grants = grants or GrantCache(None)

    # -- namespaces and keys -------------------------------------------------------------

    async def request_namespace(self, caller: Caller, body: Any) -> dict[str, Any]:
        """Ask for a namespace; an admin's own is approved at once, others wait for one."""
        namespace = _text(body, "namespace", 64)
        if not NAMESPACE.fullmatch(namespace):
            raise MarketplaceError(
                400, "A namespace is 2-64 lower-case letters, digits and dashes, like 'cs-dept'"
            )
        display = _text(body, "display_name", 255, required=False) or namespace
        try:
            async with self.db.session() as session:
                owner = await user_of(session, caller)
                publisher = MarketplacePublisher(
                    namespace=namespace,
                    display_name=display,
                    owner_id=owner.id,
                    status="approved" if caller.admin else "pending",
                    decided_by=caller.name if caller.admin else None,
                    forbidden_permissions=[],
                )
                session.add(publisher)
                await session.flush()
                audit(session, "namespace_requested", caller, namespace=namespace)
                return self.publisher_view(publisher, [], owner.name)
        except IntegrityError as e:
            raise MarketplaceError(409, f"The namespace {namespace!r} is taken") from e

    def publisher_view(
        self, publisher: MarketplacePublisher, keys: list[MarketplaceKey], owner: str | None
    ) -> dict[str, Any]:
        """Return a publisher as the API shows it."""
        return {
            "namespace": publisher.namespace,
            "display_name": publisher.display_name,
            "owner": owner,
            "status": publisher.status,
            "forbidden_permissions": list(publisher.forbidden_permissions or []),
            "keys": [
                {
                    "key_id": k.key_id,
                    "public_key": base64.b64encode(k.public_key).decode("ascii"),
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                }
                for k in keys
            ],
        }

    async def publishers(self, caller: Caller) -> list[dict[str, Any]]:
        """Return the caller's namespaces (an admin: every one)."""
        from ..db.models import User

        async with self.db.session() as session:
            query = select(MarketplacePublisher, User.name).outerjoin(
                User, User.id == MarketplacePublisher.owner_id
            )
            if not caller.admin:
                me = await user_of(session, caller)
                query = query.where(MarketplacePublisher.owner_id == me.id)
            rows = (await session.execute(query.order_by(MarketplacePublisher.namespace))).all()
            keys = (await session.execute(select(MarketplaceKey))).scalars().all()
            by_publisher: dict[int, list[MarketplaceKey]] = {}
            for key in keys:
                by_publisher.setdefault(key.publisher_id, []).append(key)
            return [self.publisher_view(p, by_publisher.get(p.id, []), o) for p, o in rows]

    async def decide(self, caller: Caller, namespace: str, body: Any) -> dict[str, Any]:
        """Approve or reject a namespace, or set its forbidden permissions (admins)."""
        if not isinstance(body, dict) or not ({"status", "forbidden_permissions"} & set(body)):
            raise MarketplaceError(400, "Send status (approved, rejected) or forbidden_permissions")
        async with self.db.session() as session:
            publisher = await publisher_named(session, namespace)
            if "status" in body:
                if body["status"] not in ("approved", "rejected"):
                    raise MarketplaceError(400, "status is approved or rejected")
                publisher.status = body["status"]
                publisher.decided_by = caller.name
            if "forbidden_permissions" in body:
                forbidden = body["forbidden_permissions"]
                if not isinstance(forbidden, list) or not all(p in PERMISSIONS for p in forbidden):
                    raise MarketplaceError(
                        400, f"forbidden_permissions is a list of: {', '.join(PERMISSIONS)}"
                    )
                publisher.forbidden_permissions = sorted(set(forbidden))
            audit(
                session,
                "namespace_decided",
                caller,
                namespace=namespace,
                status=publisher.status,
                forbidden_permissions=publisher.forbidden_permissions,
            )
            keys = await self._keys(session, publisher)
            return self.publisher_view(publisher, keys, None)

    async def _keys(self, session: Any, publisher: MarketplacePublisher) -> list[MarketplaceKey]:
        query = select(MarketplaceKey).where(MarketplaceKey.publisher_id == publisher.id)
        return list((await session.execute(query)).scalars())

    async def add_key(self, caller: Caller, namespace: str, body: Any) -> dict[str, Any]:
        """Register an Ed25519 public key (base64 of its 32 raw bytes) for a namespace."""
        key_id = ""
        try:
            async with self.db.session() as session:
                publisher = await publisher_named(session, namespace)
                await check_owner(session, publisher, caller)
                raw = parse_public_key(body.get("public_key") if isinstance(body, dict) else None)
                key_id = key_id_of(raw)
                session.add(
                    MarketplaceKey(publisher_id=publisher.id, key_id=key_id, public_key=raw)
                )
                await session.flush()
                audit(session, "key_added", caller, namespace=namespace, key_id=key_id)
        except IntegrityError as e:
            raise MarketplaceError(409, f"The key {key_id} is already registered") from e
        return {"key_id": key_id, "namespace": namespace}

    async def revoke_key(self, caller: Caller, namespace: str, key_id: str) -> dict[str, Any]:
        """Revoke a key: versions signed only by it stop being served, installs are disabled."""
        async with self.db.session() as session:
            publisher = await publisher_named(session, namespace)
            await check_owner(session, publisher, caller)
            query = select(MarketplaceKey).where(
                MarketplaceKey.key_id == key_id, MarketplaceKey.publisher_id == publisher.id
            )
            key = (await session.execute(query)).scalar_one_or_none()
            if key is None:
                raise MarketplaceError(404, f"No key {key_id!r} in {namespace!r}")
            if key.revoked_at is not None:
                raise MarketplaceError(409, f"The key {key_id} is already revoked")
            key.revoked_at = utcnow()
            await session.flush()
            revoked = await revoked_key_ids(session)
            query_packages = select(MarketplacePackage).where(
                MarketplacePackage.publisher_id == publisher.id
            )
            unserved: list[Extension] = []
            for package in (await session.execute(query_packages)).scalars():
                for version in await versions_of(session, package):
                    if not is_served(version, revoked) and any(
                        s.get("key_id") == key_id for s in version.signatures
                    ):
                        unserved.append(version)
                await refresh_package(session, package)
            notice = (
                f"Disabled: the publisher's key {key_id} that signed this version was revoked "
                f"on {key.revoked_at:%Y-%m-%d}; install a version signed by another key"
            )
            disabled = 0
            if unserved:
                result = await session.execute(
                    update(UserExtension)
                    .where(UserExtension.extension_id.in_([v.id for v in unserved]))
                    .values(enabled=False, notice=notice)
                )
                disabled = int(result.rowcount or 0)  # type: ignore[attr-defined]
            audit(
                session,
                "key_revoked",
                caller,
                namespace=namespace,
                key_id=key_id,
                versions=[f"{v.name}@{v.version}" for v in unserved],
                installs_disabled=disabled,
            )
        await self.grants.changed()  # what only the key signed stops at the next call
        return {
            "key_id": key_id,
            "unserved": [f"{v.name}@{v.version}" for v in unserved],
            "installs_disabled": disabled,
        }

    # -- publish -------------------------------------------------------------------------

    async def publish(
        self, caller: Caller, data: bytes, signature: str | None, key_id: str | None
    ) -> dict[str, Any]:
        """Verify, scan and store a signed package; refusals store nothing in the store."""
        if not signature:
            await self._refused(caller, "unsigned", None)
            raise MarketplaceError(
                400,
                "The package is unsigned: send its Ed25519 signature (signature=, base64) "
                "and the id of the key that made it (key=)",
            )
        if not key_id:
            raise MarketplaceError(400, "Say which key signed the package (key=, its id)")
        raw_signature = decode_b64(signature, "signature", 64)
        async with self.db.session() as session:
            query = select(MarketplaceKey, MarketplacePublisher).join(
                MarketplacePublisher, MarketplacePublisher.id == MarketplaceKey.publisher_id
            )
            row = (await session.execute(query.where(MarketplaceKey.key_id == key_id))).first()
            if row is not None:
                await check_owner(session, row[1], caller)
        if row is None:
            await self._refused(caller, "unknown key", key_id)
            raise MarketplaceError(403, f"Unknown key {key_id!r}: no publisher registered it")
        key, publisher = row
        if key.revoked_at is not None:
            await self._refused(caller, "revoked key", key_id)
            raise MarketplaceError(
                403, f"The key {key_id} was revoked on {key.revoked_at:%Y-%m-%d}"
            )
        if publisher.status != "approved":
            raise MarketplaceError(
                403,
                f"The namespace {publisher.namespace!r} is {publisher.status}; an admin "
                "approves a namespace before it publishes",
            )
        namespace = publisher.namespace
        public_key = key.public_key
        forbidden = set(publisher.forbidden_permissions or [])
        content_hash = hashlib.sha256(data).hexdigest()
        upload = {
            "namespace": namespace,
            "sha256": content_hash,
            "size": len(data),
            "key_id": key_id,
            "signature": signature,
        }
        if not data:
            raise MarketplaceError(400, "The body is empty: send the package's bytes")
        if len(data) > self.limits.max_package_bytes:
            reason = (
                f"the package is {len(data)} bytes, over the limit of "
                f"{self.limits.max_package_bytes}"
            )
            # Its bytes are not kept: the limit is what a store holds.
            await self.quarantine.hold(caller, upload, reason, None, None)
            raise MarketplaceError(413, f"Quarantined: {reason}")
        if not verifies(public_key, content_hash, raw_signature):
            await self._refused(caller, "bad signature", key_id)
            raise MarketplaceError(
                403,
                f"The signature does not verify with key {key_id}: the package was changed "
                "after it was signed, or another key signed it",
            )
        manifest: dict[str, Any] | None = None
        try:
            manifest = self._scanned(data, namespace, key_id)
            bad = sorted(set(manifest.get("permissions", [])) & forbidden)
            if bad:
                raise ScanError(
                    f"the namespace {namespace!r} may not ask for {', '.join(bad)} "
                    "(an administrator's rule)",
                    reviewable=True,
                )
        except _WrongNamespace as e:
            await self._refused(caller, "wrong key", key_id)
            raise MarketplaceError(403, e.message) from e
        except ScanError as e:
            manifest = manifest or e.manifest
            # Only what a review may release keeps its bytes (the rest could never be served).
            kept = data if e.reviewable else None
            await self.quarantine.hold(caller, upload, e.message, manifest, kept)
            later = "; an administrator may release it after review" if e.reviewable else ""
            raise MarketplaceError(e.status, f"Quarantined: {e.message}{later}") from e
        return await self._store(caller, manifest, data, content_hash, key_id, signature)

    def _scanned(
        self, data: bytes, namespace: str, key_id: str, limits: ScanLimits | None = None
    ) -> dict[str, Any]:
        """Scan an upload and return its manifest; ScanError (with what was read) if bad."""
        manifest: dict[str, Any] | None = None
        try:
            archive = scan(data, limits or self.limits)
            manifest = package_of(archive, namespace)
            versions.parse(manifest["version"])
        except ScanError as e:
            e.manifest = manifest
            raise
        if manifest["publisher"] != namespace:
            raise _WrongNamespace(
                f"The package is {full_name(manifest)!r} but key {key_id} is of the "
                f"namespace {namespace!r}: sign it with a key of {manifest['publisher']!r}"
            )
        return manifest

    async def release(self, caller: Caller, entry_id: str) -> dict[str, Any]:
        """Publish a quarantined upload after an admin's review (the signature still counts).

        The review overrules the judgements (a compression ratio, a forbidden permission);
        the hard checks (sizes, paths, links, the manifest) and the signature hold.
        """
        entry, data = await self.quarantine.pending(entry_id)
        key_id, signature = entry.key_id, entry.signature
        if not key_id or not signature:
            raise MarketplaceError(409, f"Quarantine entry {entry.id} has no signature to check")
        async with self.db.session() as session:
            query = select(MarketplaceKey, MarketplacePublisher).join(
                MarketplacePublisher, MarketplacePublisher.id == MarketplaceKey.publisher_id
            )
            row = (await session.execute(query.where(MarketplaceKey.key_id == key_id))).first()
        if row is None:
            raise MarketplaceError(409, f"The key {key_id} that signed the upload is gone")
        key, publisher = row
        if key.revoked_at is not None:
            raise MarketplaceError(
                409,
                f"The key {key_id} that signed the upload was revoked on "
                f"{key.revoked_at:%Y-%m-%d}: it cannot be released; reject it",
            )
        if publisher.status != "approved":
            raise MarketplaceError(409, f"The namespace {publisher.namespace!r} is not approved")
        if not verifies(key.public_key, entry.content_hash, decode_b64(signature, "signature", 64)):
            raise MarketplaceError(409, "The upload's signature does not verify; reject it")
        reviewed = dataclasses.replace(self.limits, max_ratio=math.inf)
        try:
            manifest = self._scanned(data, publisher.namespace, key_id, reviewed)
        except ScanError as e:
            raise MarketplaceError(
                409, f"Quarantine entry {entry.id} cannot be released: {e.message}; reject it"
            ) from e
        author = Caller(entry.submitted_by, Role.INSTRUCTOR)
        result = await self._store(
            author, manifest, data, entry.content_hash, key_id, signature, reviewer=caller
        )
        decision = await self.quarantine.close_entry(
            caller, entry.id, "released", package=result["name"], version=result["version"]
        )
        return {**result, "quarantine": decision}

    async def _store(
        self,
        caller: Caller,
        manifest: dict[str, Any],
        data: bytes,
        content_hash: str,
        key_id: str,
        signature: str,
        *,
        reviewer: Caller | None = None,
    ) -> dict[str, Any]:
        """Put the blob, then the version's rows in one transaction (``caller`` is the author)."""
        name = full_name(manifest)
        version = manifest["version"]
        async with self.db.session() as session:
            await self._check_new_version(session, name, version)
        try:
            await self.store.put(content_hash, data)
        except BlobStoreError as e:
            log.warning("Could not store package %s@%s: %s", name, version, e)
            raise MarketplaceError(503, "The package store is unavailable; try again") from e
        try:
            async with self.db.session() as session:
                await self._check_new_version(session, name, version)
                publisher = await publisher_named(session, manifest["publisher"])
                author = await user_of(session, caller)
                query = select(MarketplacePackage).where(MarketplacePackage.name == name)
                package = (await session.execute(query)).scalar_one_or_none()
                if package is None:
                    package = MarketplacePackage(name=name, publisher_id=publisher.id)
                    session.add(package)
                package.kind = manifest.get("kind", "ide")
                package.display_name = manifest["displayName"]
                package.description = manifest.get("description", "")
                package.category = manifest.get("category", "other")
                package.search_text = " ".join(
                    [
                        name,
                        manifest["displayName"],
                        package.description,
                        *manifest.get("keywords", []),
                    ]
                ).lower()
                package.updated_at = utcnow()
                await session.flush()
                session.add(
                    Extension(
                        name=name,
                        version=version,
                        manifest=manifest,
                        author_id=author.id,
                        package_id=package.id,
                        content_hash=content_hash,
                        size=len(data),
                        signatures=[{"key_id": key_id, "signature": signature}],
                    )
                )
                await session.flush()
                await refresh_package(session, package)
                audit(
                    session,
                    "published",
                    reviewer or caller,
                    package=name,
                    version=version,
                    sha256=content_hash,
                    key_id=key_id,
                    author=caller.name,
                    after_review=reviewer is not None,
                )
        except IntegrityError as e:
            raise MarketplaceError(409, f"{name} {version} is already published") from e
        return {
            "name": name,
            "version": version,
            "sha256": content_hash,
            "integrity": integrity(content_hash),
            "size": len(data),
            "permissions": manifest.get("permissions", []),
        }

    async def _check_new_version(self, session: Any, name: str, version: str) -> None:
        """409 when the version (by semver precedence) is already published."""
        wanted = versions.parse(version)
        query = select(Extension.version).where(Extension.name == name)
        for existing in (await session.execute(query)).scalars():
            if versions.parse(existing) == wanted:
                raise MarketplaceError(
                    409, f"{name} {existing} is already published; a version is never replaced"
                )

    async def _refused(self, caller: Caller, why: str, key_id: str | None) -> None:
        """Note a refused publish in the audit log (nothing else is written)."""
        async with self.db.session() as session:
            audit(session, "publish_refused", caller, why=why, key_id=key_id)

    # -- yank ----------------------------------------------------------------------------

    async def yank(
        self, caller: Caller, name: str, version: str, body: Any, *, undo: bool = False
    ) -> dict[str, Any]:
        """Yank a version (new installs skip it; existing ones keep it), or undo that."""
        reason = "" if undo else _text(body, "reason", 255, required=False)
        async with self.db.session() as session:
            package = await package_named(session, name)
            publisher = await session.get(MarketplacePublisher, package.publisher_id)
            assert publisher is not None
            await check_owner(session, publisher, caller)
            query = select(Extension).where(
                Extension.package_id == package.id, Extension.version == version
            )
            found = (await session.execute(query)).scalar_one_or_none()
            if found is None:
                raise MarketplaceError(404, f"{name} has no version {version!r}")
            if undo:
                found.yanked_at = None
                found.yank_reason = None
            else:
                found.yanked_at = utcnow()
                found.yank_reason = reason or None
            await session.flush()
            await refresh_package(session, package)
            audit(
                session,
                "unyanked" if undo else "yanked",
                caller,
                package=name,
                version=version,
                reason=reason,
            )
            return {
                "name": name,
                "version": version,
                "yanked": not undo,
                "latest_version": package.latest_version,
            }
