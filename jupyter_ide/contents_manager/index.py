"""The SQL file index: which blob each workspace path holds, folders, and kept versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, delete, exists, func, literal, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from tornado import web

from ..db import Database
from ..db.models import Blob, File, FileCheckpoint, FileVersion, Workspace, utcnow
from ..db.queries import get_or_create_user
from ..db.urls import POSTGRESQL
from .paths import ancestors, is_within, parent_of

FILE = "file"
DIRECTORY = "directory"

# Given a path's kept versions, return the ids retention drops (see retention.py).
Pruner = Callable[[list["Version"]], list[int]]


@dataclass(frozen=True)
class Entry:
    """A file or folder as the index knows it."""

    path: str
    kind: str
    content_hash: str
    size: int
    created: datetime
    last_modified: datetime


@dataclass(frozen=True)
class Version:
    """A kept previous content of a path."""

    id: int
    path: str
    content_hash: str
    size: int
    modified_at: datetime
    created_at: datetime
    reason: str


@dataclass(frozen=True)
class Checkpoint:
    """The Jupyter checkpoint of a path: the content "Revert to checkpoint" brings back."""

    path: str
    content_hash: str
    size: int
    modified_at: datetime  # the file's last_modified when the checkpoint was made


@dataclass(frozen=True)
class Limits:
    """A user's quota: total bytes, number of files (0 = no limit)."""

    max_bytes: int = 0
    max_files: int = 0


@dataclass(frozen=True)
class Usage:
    """What a user's files hold, each blob counted once however many paths or versions name it.

    ``file_bytes``: the blobs current files hold; ``version_bytes``: the blobs only kept
    versions (history, deleted files) and Jupyter checkpoints hold; ``files``: the number of
    current files.
    """

    file_bytes: int
    version_bytes: int
    files: int

    @property
    def total(self) -> int:
        """All the bytes the user holds."""
        return self.file_bytes + self.version_bytes


def human_size(size: int) -> str:
    """Return a byte count as people read it ("900 bytes", "1.5 MB")."""
    if size < 10 * 1024:
        return f"{size:,} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            return f"{value:,.1f} {unit}"
    return f"{value / 1024:,.1f} TB"


def quota_refusal(usage: Usage, adds: int, limit: int) -> web.HTTPError:
    """Return the 507 for a write of ``adds`` new bytes that the byte quota ``limit`` refuses."""
    message = (
        f"Your files would use {human_size(usage.total + adds)}, over your quota of "
        f"{human_size(limit)}: current files take {human_size(usage.file_bytes)}"
    )
    if usage.version_bytes:
        message += (
            " and earlier versions kept in their history and checkpoints "
            f"{human_size(usage.version_bytes)}. "
            "To free space, delete old versions from the history of your files (a deleted "
            "file stays in its history, and counts, until its versions are deleted) or "
            "delete files you no longer need."
        )
    else:
        message += ". Delete some files first."
    return web.HTTPError(507, message)


def _entry(row: File) -> Entry:
    return Entry(row.path, row.kind, row.content_hash, row.size, row.created_at, row.updated_at)


def _version(row: FileVersion) -> Version:
    return Version(
        row.id, row.path, row.content_hash, row.size, row.modified_at, row.created_at, row.reason
    )


def _checkpoint(row: FileCheckpoint) -> Checkpoint:
    return Checkpoint(row.path, row.content_hash, row.size, row.modified_at)


def _below(column: InstrumentedAttribute[str], folder: str) -> ColumnElement[bool]:
    """Return the SQL test that ``column`` lies strictly below ``folder``."""
    return column.startswith(folder + "/", autoescape=True)


def _root_entry() -> Entry:
    now = utcnow()
    return Entry("", DIRECTORY, "", 0, now, now)


async def open_workspace(db: Database, user_name: str, workspace: str) -> tuple[int, int]:
    """Return (user id, workspace id), creating either when missing."""
    async with db.session() as session:
        user, _ = await get_or_create_user(session, user_name)
        query = select(Workspace).where(Workspace.user_id == user.id, Workspace.name == workspace)
        found = (await session.execute(query)).scalar_one_or_none()
        if found is not None:
            return user.id, found.id
        try:
            async with session.begin_nested():
                found = Workspace(user_id=user.id, name=workspace, settings={})
                session.add(found)
                await session.flush()
        except IntegrityError:
            found = (await session.execute(query)).scalar_one()
        return user.id, found.id


class FileIndex:
    """Index operations on one workspace; each public method is one transaction."""

    def __init__(self, db: Database, user_id: int, workspace_id: int, limits: Limits) -> None:
        """Work on ``workspace_id`` of ``user_id`` within ``limits``."""
        self.db = db
        self.user_id = user_id
        self.workspace_id = workspace_id
        self.limits = limits

    # -- reading ----------------------------------------------------------------------------

    def _rows(self) -> object:
        return File.workspace_id == self.workspace_id

    async def _row(self, session: AsyncSession, path: str, lock: bool = False) -> File | None:
        query = select(File).where(File.workspace_id == self.workspace_id, File.path == path)
        if lock:
            query = query.with_for_update()
        return (await session.execute(query)).scalar_one_or_none()

    async def get(self, path: str) -> Entry | None:
        """Return the entry at ``path`` (the root is always a folder)."""
        if not path:
            return _root_entry()
        async with self.db.session() as session:
            row = await self._row(session, path)
            return _entry(row) if row is not None else None

    async def children(self, folder: str) -> list[Entry]:
        """Return the entries directly inside ``folder``."""
        async with self.db.session() as session:
            query = select(File).where(
                File.workspace_id == self.workspace_id, File.parent == folder
            )
            return [_entry(r) for r in (await session.execute(query.order_by(File.path))).scalars()]

    async def everything(self) -> list[Entry]:
        """Return every entry of the workspace, folders before what they hold."""
        async with self.db.session() as session:
            query = select(File).where(File.workspace_id == self.workspace_id).order_by(File.path)
            return [_entry(r) for r in (await session.execute(query)).scalars()]

    async def usage(self) -> Usage:
        """Return what the user holds across workspaces (files, versions, checkpoints)."""
        async with self.db.session() as session:
            return await self._usage(session)

    async def holds(self, content_hash: str) -> bool:
        """Return True when a file, version or checkpoint of the user names ``content_hash``."""
        async with self.db.session() as session:
            return await self._holds(session, content_hash)

    def _mine(self) -> ColumnElement[bool]:
        return Workspace.user_id == self.user_id

    async def _usage(self, session: AsyncSession) -> Usage:
        files = (
            select(File.content_hash, File.size)
            .join(Workspace, Workspace.id == File.workspace_id)
            .where(self._mine(), File.kind == FILE)
        )
        versions = (
            select(FileVersion.content_hash, FileVersion.size)
            .join(Workspace, Workspace.id == FileVersion.workspace_id)
            .where(self._mine())
        )
        checkpoints = (
            select(FileCheckpoint.content_hash, FileCheckpoint.size)
            .join(Workspace, Workspace.id == FileCheckpoint.workspace_id)
            .where(self._mine())
        )
        live = files.distinct().subquery()
        held = union(files, versions, checkpoints).subquery()  # UNION: each blob once
        count = (
            select(func.count(File.id))
            .join(Workspace, Workspace.id == File.workspace_id)
            .where(self._mine(), File.kind == FILE)
        )
        query = select(
            select(func.coalesce(func.sum(live.c.size), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(held.c.size), 0)).scalar_subquery(),
            count.scalar_subquery(),
        )
        live_bytes, all_bytes, files_count = (await session.execute(query)).one()
        return Usage(int(live_bytes), int(all_bytes) - int(live_bytes), int(files_count))

    async def check_quota(self, add_files: int, content_hash: str = "", size: int = 0) -> None:
        """Refuse (403/507) a write adding ``add_files`` files and the blob ``content_hash``."""
        async with self.db.session() as session:
            await self._check_quota(session, add_files, content_hash, size)

    async def _holds(self, session: AsyncSession, content_hash: str) -> bool:
        in_files = (
            select(File.id)
            .join(Workspace, Workspace.id == File.workspace_id)
            .where(self._mine(), File.content_hash == content_hash, File.kind == FILE)
        )
        in_versions = (
            select(FileVersion.id)
            .join(Workspace, Workspace.id == FileVersion.workspace_id)
            .where(self._mine(), FileVersion.content_hash == content_hash)
        )
        in_checkpoints = (
            select(FileCheckpoint.id)
            .join(Workspace, Workspace.id == FileCheckpoint.workspace_id)
            .where(self._mine(), FileCheckpoint.content_hash == content_hash)
        )
        query = select(exists(in_files) | exists(in_versions) | exists(in_checkpoints))
        return bool((await session.execute(query)).scalar())

    async def _new_bytes(self, session: AsyncSession, content_hash: str, size: int) -> int:
        if size <= 0 or (content_hash and await self._holds(session, content_hash)):
            return 0
        return size

    async def _check_quota(
        self, session: AsyncSession, add_files: int, content_hash: str = "", size: int = 0
    ) -> None:
        """Refuse a write that adds ``add_files`` files and the blob ``content_hash``.

        Every blob the user holds counts once, current or kept as a version; a blob the
        user already holds adds nothing ("" means a blob not known yet).
        """
        max_bytes, max_files = self.limits.max_bytes, self.limits.max_files
        adds = await self._new_bytes(session, content_hash, size) if max_bytes else 0
        if adds <= 0 and (add_files <= 0 or not max_files):
            return
        usage = await self._usage(session)
        if max_files and add_files > 0 and usage.files + add_files > max_files:
            raise web.HTTPError(
                403,
                f"You have {usage.files} files and the limit is {max_files}: "
                "delete some files first.",
            )
        if max_bytes and adds > 0 and usage.total + adds > max_bytes:
            raise quota_refusal(usage, adds, max_bytes)

    async def _require_folder(
        self, session: AsyncSession, folder: str, create: bool = False
    ) -> None:
        if not folder:
            return
        row = await self._row(session, folder)
        if row is not None and row.kind == DIRECTORY:
            return
        if row is not None:
            raise web.HTTPError(400, f"{folder} is a file, not a folder")
        if not create:
            raise web.HTTPError(404, f"No such folder: {folder}")
        for above in [*ancestors(folder), folder]:
            found = await self._row(session, above)
            if found is None:
                session.add(
                    File(
                        workspace_id=self.workspace_id,
                        path=above,
                        kind=DIRECTORY,
                        parent=parent_of(above),
                        content_hash="",
                        size=0,
                    )
                )
            elif found.kind != DIRECTORY:
                raise web.HTTPError(400, f"{above} is a file, not a folder")
        await session.flush()

    # -- versions ---------------------------------------------------------------------------

    async def _keep(
        self,
        session: AsyncSession,
        path: str,
        content_hash: str,
        size: int,
        modified_at: datetime,
        reason: str,
    ) -> FileVersion:
        latest = (
            await session.execute(
                select(FileVersion)
                .where(FileVersion.workspace_id == self.workspace_id, FileVersion.path == path)
                .order_by(FileVersion.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if latest is not None and latest.content_hash == content_hash:
            return latest
        kept = FileVersion(
            workspace_id=self.workspace_id,
            path=path,
            content_hash=content_hash,
            size=size,
            modified_at=modified_at,
            reason=reason,
            created_at=utcnow(),
        )
        session.add(kept)
        await session.flush()
        return kept

    async def versions(self, path: str) -> list[Version]:
        """Return the kept versions of ``path``, newest first."""
        async with self.db.session() as session:
            query = (
                select(FileVersion)
                .where(FileVersion.workspace_id == self.workspace_id, FileVersion.path == path)
                .order_by(FileVersion.id.desc())
            )
            return [_version(r) for r in (await session.execute(query)).scalars()]

    async def version(self, version_id: int) -> Version | None:
        """Return one version of this workspace, or None."""
        async with self.db.session() as session:
            row = await session.get(FileVersion, version_id)
            if row is None or row.workspace_id != self.workspace_id:
                return None
            return _version(row)

    # -- checkpoints: one per path, as Jupyter keeps them, apart from the versions ----------

    def _checkpoints_within(self, path: str) -> ColumnElement[bool]:
        return (FileCheckpoint.workspace_id == self.workspace_id) & (
            (FileCheckpoint.path == path) | _below(FileCheckpoint.path, path)
        )

    async def checkpoint(self, path: str) -> Checkpoint:
        """Make the current content of ``path`` its checkpoint, replacing the one before."""
        async with self.db.session() as session:
            row = await self._row(session, path)
            if row is None:
                raise web.HTTPError(404, f"No such file: {path}")
            if row.kind != FILE:
                raise web.HTTPError(400, f"{path} is a folder: only files have checkpoints")
            # The history shows where a checkpoint was made (nothing new when already kept).
            await self._keep(
                session, path, row.content_hash, row.size, row.updated_at, "checkpoint"
            )
            query = select(FileCheckpoint).where(
                FileCheckpoint.workspace_id == self.workspace_id, FileCheckpoint.path == path
            )
            kept = (await session.execute(query.with_for_update())).scalar_one_or_none()
            if kept is None:
                kept = FileCheckpoint(workspace_id=self.workspace_id, path=path)
                session.add(kept)
            kept.content_hash, kept.size = row.content_hash, row.size
            kept.modified_at, kept.created_at = row.updated_at, utcnow()
            await session.flush()
            return _checkpoint(kept)

    async def checkpoint_of(self, path: str) -> Checkpoint | None:
        """Return the checkpoint of ``path``, if it has one."""
        async with self.db.session() as session:
            query = select(FileCheckpoint).where(
                FileCheckpoint.workspace_id == self.workspace_id, FileCheckpoint.path == path
            )
            row = (await session.execute(query)).scalar_one_or_none()
            return _checkpoint(row) if row is not None else None

    async def drop_checkpoint(self, path: str) -> bool:
        """Forget the checkpoint of ``path``; return whether it had one."""
        async with self.db.session() as session:
            result = await session.execute(
                delete(FileCheckpoint).where(
                    FileCheckpoint.workspace_id == self.workspace_id, FileCheckpoint.path == path
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def drop_checkpoints(self, path: str) -> None:
        """Forget the checkpoints of ``path`` and of everything below it (it was deleted)."""
        async with self.db.session() as session:
            await session.execute(delete(FileCheckpoint).where(self._checkpoints_within(path)))

    async def move_checkpoints(self, old: str, new: str) -> None:
        """Move the checkpoints of ``old`` and everything below it to ``new`` (it was renamed).

        Checkpoints already at ``new`` (left by files that code deleted) are replaced.
        """
        if old == new:
            return
        async with self.db.session() as session:
            await session.execute(
                delete(FileCheckpoint).where(
                    self._checkpoints_within(new), ~self._checkpoints_within(old)
                )
            )
            await session.execute(
                update(FileCheckpoint)
                .where(
                    FileCheckpoint.workspace_id == self.workspace_id,
                    _below(FileCheckpoint.path, old),
                )
                .values(path=literal(new) + func.substr(FileCheckpoint.path, len(old) + 1))
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(FileCheckpoint)
                .where(FileCheckpoint.workspace_id == self.workspace_id, FileCheckpoint.path == old)
                .values(path=new)
                .execution_options(synchronize_session=False)
            )

    async def _copy_checkpoints(self, session: AsyncSession, src: str, dst: str) -> None:
        """Copy the checkpoints of the files below folder ``src`` to the same paths below ``dst``.

        Jupyter copies a folder with its ``.ipynb_checkpoints``; a copied file gets none.
        """
        await session.execute(
            delete(FileCheckpoint).where(
                FileCheckpoint.workspace_id == self.workspace_id,
                _below(FileCheckpoint.path, dst),
            )
        )
        query = select(FileCheckpoint).where(
            FileCheckpoint.workspace_id == self.workspace_id, _below(FileCheckpoint.path, src)
        )
        for kept in list((await session.execute(query)).scalars()):
            session.add(
                FileCheckpoint(
                    workspace_id=self.workspace_id,
                    path=dst + kept.path[len(src) :],
                    content_hash=kept.content_hash,
                    size=kept.size,
                    modified_at=kept.modified_at,
                    created_at=kept.created_at,
                )
            )

    async def drop_version(self, version_id: int) -> bool:
        """Delete one version row; return whether it existed."""
        async with self.db.session() as session:
            result = await session.execute(
                delete(FileVersion).where(
                    FileVersion.id == version_id, FileVersion.workspace_id == self.workspace_id
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def versions_within(self, path: str) -> list[Version]:
        """Return the kept versions of ``path`` and of everything below it (retention)."""
        async with self.db.session() as session:
            query = select(FileVersion).where(
                FileVersion.workspace_id == self.workspace_id,
                (FileVersion.path == path) | _below(FileVersion.path, path),
            )
            return [_version(r) for r in (await session.execute(query)).scalars()]

    async def drop_versions(self, ids: list[int]) -> None:
        """Delete several version rows (retention)."""
        if not ids:
            return
        async with self.db.session() as session:
            await session.execute(
                delete(FileVersion).where(
                    FileVersion.workspace_id == self.workspace_id, FileVersion.id.in_(ids)
                )
            )

    # -- writing ----------------------------------------------------------------------------

    def _insert_blob(self, content_hash: str, size: int, now: datetime) -> Insert:
        """Return INSERT … ON CONFLICT DO NOTHING of a blob row, in the backend's dialect."""
        values = {"content_hash": content_hash, "size": size, "created_at": now, "touched_at": now}
        if self.db.backend == POSTGRESQL:
            return postgresql.insert(Blob).values(**values).on_conflict_do_nothing()
        return sqlite.insert(Blob).values(**values).on_conflict_do_nothing()

    async def _claim(self, session: AsyncSession, content_hash: str, size: int) -> bool:
        """Create or touch a blob's row (GC spares it); True when the row is new."""
        now = utcnow()
        inserted = await session.execute(self._insert_blob(content_hash, size, now))
        if inserted.rowcount:  # type: ignore[attr-defined]
            return True
        await session.execute(
            update(Blob).where(Blob.content_hash == content_hash).values(touched_at=now)
        )
        return False

    async def touch_blob(self, content_hash: str, size: int) -> bool:
        """Claim a blob before storing it (GC spares it); True when its row is new."""
        async with self.db.session() as session:
            return await self._claim(session, content_hash, size)

    async def prepare_write(self, path: str, content_hash: str, size: int) -> bool:
        """Refuse a write that breaks the quota, then claim its blob: one transaction.

        Runs before the blob is stored; True when the blob's row is new (it must be put).
        Every blob the user holds counts once, whether a current file or a kept version
        names it, so a blob already held adds nothing.
        """
        async with self.db.session() as session:
            if self.limits.max_bytes or self.limits.max_files:
                current = await self._row(session, path)
                adds_file = current is None or current.kind != FILE
                await self._check_quota(session, 1 if adds_file else 0, content_hash, size)
            return await self._claim(session, content_hash, size)

    async def _prune(self, session: AsyncSession, path: str, prune: Pruner) -> None:
        """Drop the versions of ``path`` (and below it) that ``prune`` does not keep."""
        query = select(FileVersion).where(
            FileVersion.workspace_id == self.workspace_id,
            (FileVersion.path == path) | _below(FileVersion.path, path),
        )
        by_path: dict[str, list[Version]] = {}
        for row in (await session.execute(query)).scalars():
            by_path.setdefault(row.path, []).append(_version(row))
        drop = [i for versions in by_path.values() for i in prune(versions)]
        if drop:
            await session.execute(
                delete(FileVersion).where(
                    FileVersion.workspace_id == self.workspace_id, FileVersion.id.in_(drop)
                )
            )

    async def write_file(
        self,
        path: str,
        content_hash: str,
        size: int,
        reason: str = "save",
        create_parents: bool = False,
        prune: Pruner | None = None,
    ) -> tuple[Entry, Version | None]:
        """Point ``path`` at a stored blob; the previous content becomes a version.

        One transaction; with ``prune``, the retention of the path's versions is in it too.
        """
        async with self.db.session() as session:
            await self._require_folder(session, parent_of(path), create=create_parents)
            row = await self._row(session, path, lock=True)
            now = utcnow()
            if row is not None and row.kind == DIRECTORY:
                raise web.HTTPError(400, f"{path} is a folder; it cannot be saved as a file")
            if row is None:
                await self._check_quota(session, 1, content_hash, size)
                row = File(
                    workspace_id=self.workspace_id,
                    path=path,
                    kind=FILE,
                    parent=parent_of(path),
                    content_hash=content_hash,
                    size=size,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                await session.flush()
                return _entry(row), None
            await self._check_quota(session, 0, content_hash, size)
            kept = None
            if row.content_hash != content_hash:
                kept = _version(
                    await self._keep(
                        session, path, row.content_hash, row.size, row.updated_at, reason
                    )
                )
            row.content_hash, row.size, row.updated_at = content_hash, size, now
            await session.flush()
            if kept is not None and prune is not None:
                await self._prune(session, path, prune)
            return _entry(row), kept

    async def mkdir(self, path: str, create_parents: bool = False) -> Entry:
        """Create the folder ``path`` (fine when it exists)."""
        async with self.db.session() as session:
            await self._require_folder(session, parent_of(path), create=create_parents)
            row = await self._row(session, path)
            if row is not None:
                if row.kind != DIRECTORY:
                    raise web.HTTPError(400, f"{path} exists and is a file")
                return _entry(row)
            now = utcnow()
            row = File(
                workspace_id=self.workspace_id,
                path=path,
                kind=DIRECTORY,
                parent=parent_of(path),
                content_hash="",
                size=0,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return _entry(row)

    async def delete(self, path: str, reason: str = "delete") -> list[Entry]:
        """Remove a file or a whole folder, keeping each file's content as a version."""
        async with self.db.session() as session:
            row = await self._row(session, path, lock=True)
            if row is None:
                raise web.HTTPError(404, f"File or folder does not exist: {path}")
            query = select(File).where(
                File.workspace_id == self.workspace_id,
                _below(File.path, path),
            )
            gone = (
                [row, *(await session.execute(query)).scalars()] if row.kind == DIRECTORY else [row]
            )
            for item in gone:
                if item.kind == FILE:
                    await self._keep(
                        session, item.path, item.content_hash, item.size, item.updated_at, reason
                    )
            await session.execute(
                delete(File).where(
                    File.workspace_id == self.workspace_id, File.id.in_([g.id for g in gone])
                )
            )
            return [_entry(g) for g in gone]

    async def rename(self, old: str, new: str) -> Entry:
        """Move a file or folder (with everything below it, and its versions)."""
        if is_within(new, old) and new != old:
            raise web.HTTPError(400, f"Cannot move {old} into itself")
        async with self.db.session() as session:
            row = await self._row(session, old, lock=True)
            if row is None:
                raise web.HTTPError(404, f"File or folder does not exist: {old}")
            if await self._row(session, new) is not None:
                raise web.HTTPError(409, f"File or folder already exists: {new}")
            await self._require_folder(session, parent_of(new))
            now = utcnow()
            if row.kind == DIRECTORY:
                start = len(old) + 1
                await session.execute(
                    update(File)
                    .where(File.workspace_id == self.workspace_id, _below(File.path, old))
                    .values(
                        path=literal(new) + func.substr(File.path, start),
                        parent=literal(new) + func.substr(File.parent, start),
                    )
                    .execution_options(synchronize_session=False)
                )
                await session.execute(
                    update(FileVersion)
                    .where(
                        FileVersion.workspace_id == self.workspace_id,
                        _below(FileVersion.path, old),
                    )
                    .values(path=literal(new) + func.substr(FileVersion.path, start))
                    .execution_options(synchronize_session=False)
                )
            await session.execute(
                update(FileVersion)
                .where(FileVersion.workspace_id == self.workspace_id, FileVersion.path == old)
                .values(path=new)
                .execution_options(synchronize_session=False)
            )
            row.path, row.parent, row.updated_at = new, parent_of(new), now
            await session.flush()
            return _entry(row)

    async def copy(self, src: str, dst: str, create_parents: bool = False) -> Entry:
        """Copy a file or a whole folder: new rows naming the same blobs.

        A folder may be copied into itself: what it held before the copy is copied, as
        Jupyter's ``shutil.copytree`` does. The checkpoints of a folder's files come along.
        """
        async with self.db.session() as session:
            row = await self._row(session, src)
            if row is None:
                raise web.HTTPError(404, f"File or folder does not exist: {src}")
            if await self._row(session, dst) is not None:
                raise web.HTTPError(409, f"File or folder already exists: {dst}")
            await self._require_folder(session, parent_of(dst), create=create_parents)
            items = [row]
            if row.kind == DIRECTORY:
                query = select(File).where(
                    File.workspace_id == self.workspace_id,
                    _below(File.path, src),
                )
                items += list((await session.execute(query)).scalars())
            files = [i for i in items if i.kind == FILE]
            await self._check_quota(session, len(files))  # a copy names the same blobs
            now = utcnow()
            made = []
            for item in items:
                path = dst + item.path[len(src) :]
                made.append(
                    File(
                        workspace_id=self.workspace_id,
                        path=path,
                        kind=item.kind,
                        parent=parent_of(path),
                        content_hash=item.content_hash,
                        size=item.size,
                        created_at=now,
                        updated_at=now,
                    )
                )
            session.add_all(made)
            if row.kind == DIRECTORY:
                await self._copy_checkpoints(session, src, dst)
            await session.flush()
            return _entry(made[0])
