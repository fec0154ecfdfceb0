"""Any user's workspace files by content hash: what release, submit and reopen read and write.

Blobs are shared by hash, never copied. A user whose workspace is open in this process (the
standalone owner, or a hub user the service serves) is written through their contents
manager, so the folder their kernels see follows; anyone else's files are index rows only,
materialised when they next open their workspace.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from ..contents_manager import IDEContentsManager
from ..contents_manager.blobstore import BlobStore
from ..contents_manager.index import FILE, FileIndex, Limits, open_workspace
from ..db import Database
from ..db.models import File

Snapshot = dict[str, tuple[str, int]]  # relative path -> (content hash, size)


class WorkspaceFiles:
    """Read a folder of a user's workspace and write files into it, by content hash."""

    def __init__(self, db: Database, contents: IDEContentsManager) -> None:
        """Use ``db`` and the server's contents manager (its store settings, open managers)."""
        self.db = db
        self.contents = contents
        self._store: BlobStore | None = None

    @property
    def store(self) -> BlobStore:
        """The blob store (the deployment's, opened on first use)."""
        if self._store is None:
            self._store = self.contents.make_store()
        return self._store

    async def close(self) -> None:
        """Close the store's connections."""
        if self._store is not None:
            await self._store.close()
            self._store = None

    def _live(self, user: str) -> IDEContentsManager | None:
        """Return the user's contents manager when their workspace is open here."""
        users = getattr(self.contents, "users", None)
        if isinstance(users, dict):
            manager = users.get(user)
        else:
            manager = self.contents if self.contents.owner == user else None
        if not isinstance(manager, IDEContentsManager) or manager._index is None:
            return None
        return manager

    async def _index(self, user: str) -> FileIndex:
        """Return the index of the user's workspace (created when missing)."""
        user_id, workspace_id = await open_workspace(self.db, user, self.contents.workspace)
        limits = Limits(self.contents.quota_bytes, self.contents.quota_files)
        return FileIndex(self.db, user_id, workspace_id, limits)

    async def folder(self, user: str, folder: str) -> Snapshot:
        """Return every file below ``folder`` (relative paths), what code wrote included."""
        live = self._live(user)
        if live is not None:
            await live.sync_from_disk()
        index = await self._index(user)
        prefix = folder.strip("/") + "/"
        query = select(File.path, File.content_hash, File.size).where(
            File.workspace_id == index.workspace_id,
            File.kind == FILE,
            File.path.startswith(prefix, autoescape=True),
        )
        found: Snapshot = {}
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        for path, content_hash, size in rows:
            relative = path[len(prefix) :]
            if any(part.startswith(".") for part in relative.split("/")):
                continue  # hidden files and .ipynb_checkpoints are not part of the work
            found[relative] = (content_hash, int(size))
        return found

    async def current(self, user: str, paths: list[str]) -> dict[str, str]:
        """Return the content hash at each path that holds a file."""
        index = await self._index(user)
        found = {}
        for path in paths:
            entry = await index.get(path)
            if entry is not None and entry.kind == FILE:
                found[path] = entry.content_hash
        return found

    async def read(self, content_hash: str) -> bytes:
        """Return a blob's bytes."""
        return await self.store.get(content_hash)

    async def put(self, data: bytes, any_user: str) -> tuple[str, int]:
        """Store ``data`` (once) and return its hash and size; claimed against GC first."""
        content_hash = hashlib.sha256(data).hexdigest()
        index = await self._index(any_user)
        new = await index.touch_blob(content_hash, len(data))
        if new or not await self.store.exists(content_hash):
            await self.store.put(content_hash, data)
        return content_hash, len(data)

    async def write(self, user: str, path: str, content_hash: str, size: int, reason: str) -> None:
        """Make ``path`` of the user's workspace hold the stored blob (the old one kept)."""
        live = self._live(user)
        if live is not None:
            # Through the open manager: its folder (mounted in kernels) gets the file too.
            await live._restore(await live.ready(), path, content_hash, size)
            return
        index = await self._index(user)
        await index.touch_blob(content_hash, size)
        await index.write_file(path, content_hash, size, reason, create_parents=True)

    def describe(self) -> dict[str, Any]:
        """Return where the blobs are, for logs."""
        return {"store": self.store.describe()}
