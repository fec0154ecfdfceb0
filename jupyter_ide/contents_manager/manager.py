"""IDEContentsManager: files as content-addressed blobs, a SQL index, history, a workspace dir."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import mimetypes
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import nbformat
from jupyter_server.services.contents.manager import AsyncContentsManager, copy_pat
from tornado import web
from traitlets import Float, Instance, Int, Unicode, default

from ..auth.roles import RoleResolver
from ..db import Database
from ..db.models import utcnow
from ..server_extension.settings import IDESettings, data_dir
from .blobstore import BlobStore, make_blob_store
from .checkpoints import IDECheckpoints
from .errors import backend_errors
from .folders import claim, marker_for, safe_name, storage_key
from .gc import collect_garbage
from .index import (
    DIRECTORY,
    FILE,
    Checkpoint,
    Entry,
    FileIndex,
    Limits,
    Version,
    open_workspace,
)
from .paths import is_hidden_path, is_within, join, name_of, parent_of
from .retention import RetentionPolicy, apply_retention, versions_to_drop
from .uploads import Upload, UploadTable
from .validation import (
    check_api_path,
    check_notebook,
    check_notebook_text,
    content_size,
    decode_base64,
)
from .volume import WorkspaceVolume
from .workspace import UnsafePathError, WorkspaceMirror

IN_MEMORY = 8 * 1024 * 1024


def _env_int(name: str, fallback: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else fallback


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class IDEContentsManager(AsyncContentsManager):
    """Jupyter contents on blobs named by sha256 (S3 or a folder) and a SQL index."""

    max_file_size = Int(
        100 * 1024 * 1024,
        help="Largest file, in bytes, that may be saved or uploaded; larger ones get 413.",
    ).tag(config=True)

    quota_bytes = Int(
        help="Bytes one user's files may use in all (0: no limit). Env: JUPYTER_IDE_QUOTA_BYTES.",
    ).tag(config=True)

    quota_files = Int(
        help="Number of files one user may keep (0: no limit). Env: JUPYTER_IDE_QUOTA_FILES.",
    ).tag(config=True)

    owner = Unicode(
        help="User whose files this server serves: JupyterHub's user, or the standalone one.",
    ).tag(config=True)

    workspace = Unicode(
        "default", help="Name of the workspace this server opens (each user has one or more)."
    ).tag(config=True)

    workspaces_root = Unicode(
        help="Folder where open workspaces are materialised for kernels (default: data dir).",
    ).tag(config=True)

    sync_interval = Float(
        2.0, help="Seconds between scans of the workspace folder for files written by code."
    ).tag(config=True)

    keep_last = Int(20, help="Versions of each file always kept.").tag(config=True)
    keep_hourly = Int(48, help="Hours in which one version per hour is kept.").tag(config=True)
    keep_daily = Int(30, help="Days in which one version per day is kept.").tag(config=True)

    gc_grace = Float(3600.0, help="Seconds an unreferenced blob is kept before GC deletes it.").tag(
        config=True
    )
    gc_interval = Float(3600.0, help="Seconds between garbage collections (0: never).").tag(
        config=True
    )

    db = Instance(Database, allow_none=True, help="The database (set by the extension).")
    store = Instance(
        "jupyter_ide.contents_manager.blobstore.BlobStore",
        allow_none=True,
        help="The blob store (made from the settings).",
    )

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type[IDECheckpoints]:
        return IDECheckpoints

    @default("quota_bytes")
    def _default_quota_bytes(self) -> int:
        return _env_int("JUPYTER_IDE_QUOTA_BYTES", 1024**3)

    @default("quota_files")
    def _default_quota_files(self) -> int:
        return _env_int("JUPYTER_IDE_QUOTA_FILES", 10_000)

    @default("owner")
    def _default_owner(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or RoleResolver(parent=self).standalone_user

    @default("files_handler_params")
    def _default_files_handler_params(self) -> dict[str, Any]:
        # Jupyter's FilesHandler is a StaticFileHandler: it needs a path, though it reads
        # every /files/ request through this manager's get().
        return {"path": str(self.workspace_dir)}

    @default("workspaces_root")
    def _default_workspaces_root(self) -> str:
        return str(data_dir() / "workspaces")

    def __init__(self, **kwargs: Any) -> None:
        """Set up state; nothing connects until the first request."""
        super().__init__(**kwargs)
        self._ready_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._index: FileIndex | None = None
        self._uploads = UploadTable(data_dir() / "uploads")
        self._tasks: list[asyncio.Task[None]] = []
        self._folder: Path | None = None
        self._storage: tuple[str, str] | None = None
        # Files code wrote that the quota refused: (mtime_ns, size, bytes held, files held)
        # when refused; tried again once they change or the user holds less.
        self._refused: dict[str, tuple[int, int, int, int]] = {}
        self._held: tuple[int, int] | None = None
        self.mirror = WorkspaceMirror(self.workspace_dir)
        self.volume = WorkspaceVolume(parent=self)  # the size cap of the user's folder

    # -- set-up -----------------------------------------------------------------------------

    @property
    def workspace_dir(self) -> Path:
        """The folder the open workspace is materialised in (mounted into sandboxes).

        ``<workspaces_root>/<storage key>/<user>/<workspace>``: the key names the database and
        blob store, so servers on other storage never share a folder; fixed once ready.
        """
        if self._folder is not None:
            return self._folder
        key = storage_key(self._database_url(), *self._storage_identity())
        return Path(self.workspaces_root) / key / safe_name(self.owner) / safe_name(self.workspace)

    def _database_url(self) -> str:
        return self.db.url if self.db is not None else self.settings_().db_url

    def _storage_identity(self) -> tuple[str, str]:
        """Return the blob store's URL and S3 endpoint (read once)."""
        if self._storage is None:
            s = self.settings_()
            self._storage = (s.storage_url, s.s3_endpoint_url)
        return self._storage

    def settings_(self) -> IDESettings:
        """Return the deployment settings (storage URL, S3 options)."""
        return IDESettings(parent=self)

    def make_store(self) -> BlobStore:
        """Return the blob store the settings name."""
        s = self.settings_()
        return make_blob_store(
            s.storage_url,
            endpoint_url=s.s3_endpoint_url,
            region=s.s3_region,
            sse=s.s3_sse,
            kms_key_id=s.s3_kms_key_id,
        )

    @property
    def blobs(self) -> BlobStore:
        """The blob store (after ready())."""
        store: BlobStore | None = self.store
        if store is None:
            raise RuntimeError("the contents manager is not ready")
        return store

    @property
    def policy(self) -> RetentionPolicy:
        """The retention policy from config."""
        return RetentionPolicy(self.keep_last, self.keep_hourly, self.keep_daily)

    async def ready(self) -> FileIndex:
        """Open the workspace (and materialise it) on first use."""
        if self._index is not None:
            return self._index
        async with self._ready_lock:
            if self._index is not None:
                return self._index
            with backend_errors("open your workspace"):
                if self.db is None:
                    self.db = Database(self.settings_().db_url)
                if self.store is None:
                    self.store = self.make_store()
                user_id, workspace_id = await open_workspace(self.db, self.owner, self.workspace)
                index = FileIndex(
                    self.db, user_id, workspace_id, Limits(self.quota_bytes, self.quota_files)
                )
                self._folder = folder = self.workspace_dir
                self.mirror.root = folder
                await self.volume.open(folder, self.quota_bytes)
                await self._claim_folder(folder, workspace_id)
                # The folder is this index's from here on: fill it.
                await self._materialise(index)
            self._index = index
            self._start_timers()
            return index

    async def _claim_folder(self, folder: Path, workspace_id: int) -> None:
        """Make the workspace folder this index's; another index's folder is moved aside."""
        assert self.db is not None
        marker = await marker_for(self.db, self._storage_identity()[0], workspace_id)
        try:
            await asyncio.to_thread(claim, folder, marker)
        except OSError as e:
            raise web.HTTPError(
                500,
                f"Cannot open your workspace: its folder {folder} holds files of another "
                f"server's storage and could not be moved aside ({e.strerror or e}).",
            ) from e

    async def _disk(self, action: str, job: Callable[..., Any], *args: Any) -> Any:
        """Run a workspace-folder operation in a thread; log (never raise) when it fails."""
        try:
            return await asyncio.to_thread(job, *args)
        except (OSError, UnsafePathError) as e:
            self.log.warning("Could not %s in the workspace folder: %s", action, e)
            return None

    async def refresh_folder(self) -> None:
        """Open the workspace; if it was open, write in what the index gained since.

        Files saved through another server or service replica reach the shared index, not this
        folder: a kernel about to start here must see them.
        """
        opened = self._index is not None
        index = await self.ready()
        if opened:
            await self._materialise(index)

    async def _materialise(self, index: FileIndex) -> None:
        """Write every indexed file into the workspace folder (reusing what is there)."""
        assert self.store is not None
        await asyncio.to_thread(self.mirror.prepare_root)
        for entry in await index.everything():
            if entry.kind == DIRECTORY:
                await self._disk(f"create {entry.path}", self.mirror.mkdir, entry.path)
                continue
            written_ns = int(entry.last_modified.timestamp() * 1e9)
            found = await self._disk(
                f"look at {entry.path}",
                self.mirror.adopt,
                entry.path,
                entry.content_hash,
                entry.size,
                written_ns,
            )
            if found in ("same", "newer"):
                continue  # "newer": written by code after our last sync; the next sync keeps it
            data = await self.blobs.get(entry.content_hash)
            await self._disk(
                f"write {entry.path}", self.mirror.write, entry.path, entry.content_hash, data, None
            )

    def _start_timers(self) -> None:
        loop = asyncio.get_running_loop()
        if self.sync_interval > 0:
            self._tasks.append(
                loop.create_task(self._every(self.sync_interval, self.sync_from_disk))
            )
        if self.gc_interval > 0:
            self._tasks.append(
                loop.create_task(self._every(self.gc_interval, self.collect_garbage))
            )

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as e:  # a timer must survive an outage
                self.log.warning("Background %s failed: %s", job.__name__, e)

    async def stop_timers(self) -> None:
        """Stop the background scans and clean-ups (a scan must not run once the volume goes)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def close(self) -> None:
        """Stop the timers and close the store's connections."""
        await self.stop_timers()
        await self.volume.close()
        if self.store is not None:
            await self.blobs.close()

    # -- checks -----------------------------------------------------------------------------

    def _path(self, path: str) -> str:
        path = check_api_path(path)
        return path

    def _check_visible(self, path: str, action: str) -> None:
        if not self.allow_hidden and is_hidden_path(path):
            code = 404 if action == "read" else 400
            raise web.HTTPError(code, f"Hidden files are not allowed here: {path!r}")

    def _check_size(self, size: int, path: str) -> None:
        if size > self.max_file_size:
            raise web.HTTPError(
                413,
                f"{path} would be {size} bytes; the largest file allowed is "
                f"{self.max_file_size} bytes",
            )

    # -- reading ----------------------------------------------------------------------------

    async def _entry(self, path: str) -> Entry:
        index = await self.ready()
        with backend_errors(f"read {path or 'the workspace'}"):
            entry = await index.get(path)
        if entry is None:
            raise web.HTTPError(404, f"No such file or directory: {path}")
        return entry

    def _kind(self, entry: Entry, type: str | None) -> str:
        if entry.kind == DIRECTORY:
            if type not in (None, "directory"):
                raise web.HTTPError(
                    400, f"{entry.path} is a directory, not a {type}", reason="bad type"
                )
            return "directory"
        if type == "directory":
            raise web.HTTPError(400, f"{entry.path} is not a directory", reason="bad type")
        if type == "notebook" or (type is None and entry.path.endswith(".ipynb")):
            return "notebook"
        return "file"

    def _model(self, entry: Entry, kind: str, require_hash: bool) -> dict[str, Any]:
        model: dict[str, Any] = {
            "name": name_of(entry.path),
            "path": entry.path,
            "type": kind,
            "writable": True,
            "created": entry.created,
            "last_modified": entry.last_modified,
            "content": None,
            "format": None,
            # As Jupyter's models without content: a file's type guessed from its name.
            "mimetype": mimetypes.guess_type(entry.path)[0] if kind == "file" else None,
            "size": entry.size if entry.kind == FILE else None,
            "hash": None,
            "hash_algorithm": None,
        }
        if require_hash and entry.kind == FILE:
            model["hash"], model["hash_algorithm"] = entry.content_hash, "sha256"
        return model

    async def _bytes(self, entry: Entry) -> bytes:
        """Return a file's bytes: the workspace copy when it is still ours, else the blob."""
        fresh = self.mirror.fresh_bytes  # read by descriptor: never through a planted link
        try:
            data = (
                fresh(entry.path, entry.content_hash, entry.size)
                if entry.size <= IN_MEMORY
                else await asyncio.to_thread(fresh, entry.path, entry.content_hash, entry.size)
            )
        except (OSError, UnsafePathError):
            data = None
        if data is not None:
            return data
        assert self.store is not None
        with backend_errors(f"read {entry.path}"):
            return await self.blobs.get(entry.content_hash)

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        """Return a file, notebook or folder model; hash and times come from the index."""
        path = self._path(path)
        self._check_visible(path, "read")
        if path and content:
            await self._absorb(path)
        entry = await self._entry(path)
        kind = self._kind(entry, type)
        model = self._model(entry, kind, require_hash)
        if kind == "directory":
            if content:
                index = await self.ready()
                with backend_errors(f"list {path or 'the workspace'}"):
                    children = await index.children(path)
                model["content"] = [
                    self._model(child, self._kind(child, None), require_hash)
                    for child in children
                    if self.should_list(name_of(child.path))
                    and (self.allow_hidden or not name_of(child.path).startswith("."))
                ]
                model["format"] = "json"
            return model
        if not content:
            if kind == "file":
                model["mimetype"] = mimetypes.guess_type(path)[0]
            return model
        data = await self._bytes(entry)
        if kind == "notebook":
            try:
                nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            except Exception as e:
                raise web.HTTPError(400, f"Unreadable Notebook: {path} {e!r}") from e
            self.mark_trusted_cells(nb, path)
            model.update(content=nb, format="json")
            self.validate_notebook_model(model)
            return model
        if format != "base64":
            try:
                model.update(content=data.decode("utf-8"), format="text")
                model["mimetype"] = mimetypes.guess_type(path)[0] or "text/plain"
                return model
            except UnicodeDecodeError as e:
                if format == "text":
                    raise web.HTTPError(
                        400, f"{path} is not UTF-8 encoded", reason="bad format"
                    ) from e
        model.update(content=base64.b64encode(data).decode("ascii"), format="base64")
        model["mimetype"] = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return model

    async def dir_exists(self, path: str) -> bool:
        """Return True when ``path`` is a folder."""
        path = self._path(path)
        if not path:
            return True
        index = await self.ready()
        with backend_errors(f"look up {path}"):
            entry = await index.get(path)
        return entry is not None and entry.kind == DIRECTORY

    async def file_exists(self, path: str = "") -> bool:
        """Return True when ``path`` is a file."""
        path = self._path(path)
        if not path:
            return False
        index = await self.ready()
        with backend_errors(f"look up {path}"):
            entry = await index.get(path)
        return entry is not None and entry.kind == FILE

    async def exists(self, path: str) -> bool:
        """Return True when ``path`` is a file or folder."""
        path = self._path(path)
        if not path:
            return True
        index = await self.ready()
        with backend_errors(f"look up {path}"):
            return await index.get(path) is not None

    async def is_hidden(self, path: str) -> bool:
        """Return True when a part of ``path`` starts with a dot."""
        return is_hidden_path(self._path(path))

    # -- writing ----------------------------------------------------------------------------

    def _file_bytes(self, model: dict[str, Any], path: str) -> bytes:
        """Check a save's model and return the bytes it will store."""
        kind = model.get("type")
        if kind == "notebook":
            check_notebook(model.get("content"))
            nb = nbformat.from_dict(model["content"])
            self.check_and_sign(nb, path)
            text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
            # nbformat.write, which Jupyter saves with, ends the file with a newline.
            data: bytes = (text if text.endswith("\n") else text + "\n").encode("utf-8")
            self._check_size(len(data), path)
            return data
        content, fmt = model.get("content"), model.get("format")
        if fmt not in ("text", "base64"):
            raise web.HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
        self._check_size(content_size(content, fmt), path)
        if fmt == "base64":
            data = decode_base64(str(content), f"The content of {path}")
        else:
            data = str(content).encode("utf-8", errors="surrogatepass")
        if path.endswith(".ipynb"):
            try:
                check_notebook_text(data.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise web.HTTPError(400, "Malformed notebook: not UTF-8 text") from e
        return data

    async def _store(
        self,
        index: FileIndex,
        data: bytes | None,
        source: Path | None,
        content_hash: str,
        size: int,
        path: str | None = None,
    ) -> None:
        """Put a blob in the store (once) after claiming it against GC.

        With ``path``, the quota check of a write there is in the same transaction as the
        claim, and both come before anything is stored.
        """
        assert self.store is not None
        if path is not None:
            new = await index.prepare_write(path, content_hash, size)
        else:
            new = await index.touch_blob(content_hash, size)
        if not new and await self.blobs.exists(content_hash):
            return
        if source is not None:
            await self.blobs.put_file(content_hash, source, size)
        else:
            await self.blobs.put(content_hash, data or b"")

    def _pruner(self, versions: list[Version]) -> list[int]:
        """Return the ids of ``versions`` (one path's) the retention policy drops now."""
        return versions_to_drop(versions, utcnow(), self.policy)

    async def _write(
        self,
        path: str,
        data: bytes | None,
        reason: str,
        *,
        source: Path | None = None,
        content_hash: str = "",
        size: int = 0,
        create_parents: bool = False,
    ) -> Entry:
        """Store the blob, then point the index at it; a failure leaves the old file intact.

        Two transactions: the quota check with the blob's claim (before the blob is put), then
        the index row, the version it keeps and their retention. Then the workspace copy.
        """
        index = await self.ready()
        if data is not None:
            content_hash, size = _sha256(data), len(data)
        with backend_errors(f"save {path}"):
            await self.volume.check_room(path, size, index)
            await self._store(index, data, source, content_hash, size, path=path)
            async with self._write_lock:
                if reason == "save":
                    await self._absorb_locked(index, path)
                entry, _ = await index.write_file(
                    path,
                    content_hash,
                    size,
                    reason,
                    create_parents=create_parents,
                    prune=self._pruner,
                )
                await self._disk(
                    f"write {path}", self.mirror.write, path, content_hash, data, source
                )
        return entry

    async def _prune(self, index: FileIndex, path: str) -> None:
        """Apply the retention policy to the versions of ``path`` and everything below it."""
        try:
            await apply_retention(index, path, self.policy)
        except Exception as e:  # retention is housekeeping: the write itself succeeded
            self.log.warning("Could not apply retention to %s: %s", path, e)

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        """Save a file, notebook or folder; a rejected save writes nothing."""
        path = self._path(path)
        if not isinstance(model, dict):
            raise web.HTTPError(400, "The request body must be a JSON object")
        if not path:
            raise web.HTTPError(400, "Cannot save over the workspace root")
        self._check_visible(path, "write")
        if "type" not in model or not model["type"]:
            raise web.HTTPError(400, "No file type provided")
        chunk = model.get("chunk")
        if chunk is not None:
            return await self._save_chunk(model, path, chunk)
        if model["type"] not in ("file", "notebook", "directory"):
            raise web.HTTPError(400, f"Unhandled contents type: {model['type']}")
        if "content" not in model and model["type"] != "directory":
            raise web.HTTPError(400, "No file content provided")
        if model["type"] == "directory":
            index = await self.ready()
            with backend_errors(f"create folder {path}"):
                async with self._write_lock:
                    made = await index.mkdir(path)
                    self.mirror.mkdir(path)
            # The row just written is the model: no second read of the index.
            saved = self._model(made, "directory", require_hash=True)
        else:
            data = self._file_bytes(model, path)
            self.run_pre_save_hooks(model=model, path=path)
            entry = await self._write(path, data, "save")
            # The index row just written is the model: no second read of the index.
            saved = self._model(entry, self._kind(entry, model["type"]), require_hash=True)
        self.run_post_save_hooks(model=saved, os_path=str(self.workspace_dir / path))
        self.emit(data={"action": "save", "path": path})
        return saved

    async def _save_chunk(self, model: dict[str, Any], path: str, chunk: Any) -> dict[str, Any]:
        """Add one chunk to a staged upload; the last one stores it (streamed) and indexes it."""
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk == 0 or chunk < -1:
            raise web.HTTPError(400, "chunk must be 1, 2, 3, … or -1 for the last chunk")
        if model.get("type") != "file":
            raise web.HTTPError(400, "Only files can be uploaded in chunks")
        if "content" not in model:
            raise web.HTTPError(400, "No file content provided")
        fmt = model.get("format")
        if fmt not in ("text", "base64"):
            raise web.HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
        upload = self._uploads.start(path) if chunk == 1 else self._uploads.find(path)
        if upload is None:
            raise web.HTTPError(400, f"Upload of {path} must start with chunk 1")
        try:
            self._check_size(upload.size + content_size(model["content"], fmt), path)
            content = str(model["content"])
            if fmt == "base64":
                data = decode_base64(content, f"Chunk {chunk} of {path}")
            else:
                data = content.encode("utf-8", errors="surrogatepass")
            upload.append(data)
            if chunk != -1:
                return self._upload_model(path, upload)
            if path.endswith(".ipynb"):
                try:
                    check_notebook_text(upload.spool.read_text(encoding="utf-8"))
                except UnicodeDecodeError as e:
                    raise web.HTTPError(400, "Malformed notebook: not UTF-8 text") from e
            if chunk == -1 and upload.parts == 1:
                self.run_pre_save_hooks(model=model, path=path)
            await self._finish_upload(path, upload)
        except BaseException:
            self._uploads.discard(path)
            raise
        saved = await self.get(path, content=False, require_hash=True)
        self.run_post_save_hooks(model=saved, os_path=str(self.workspace_dir / path))
        self.emit(data={"action": "save", "path": path})
        return saved

    async def _finish_upload(self, path: str, upload: Upload) -> None:
        content_hash, size = upload.finish()
        if await self.dir_exists(parent_of(path)) is False:
            raise web.HTTPError(404, f"No such folder: {parent_of(path)}")
        await self._write(
            path, None, "save", source=upload.spool, content_hash=content_hash, size=size
        )
        self._uploads.discard(path)

    def _upload_model(self, path: str, upload: Upload) -> dict[str, Any]:
        now = utcnow()
        return {
            "name": name_of(path),
            "path": path,
            "type": "file",
            "writable": True,
            "created": upload.started,
            "last_modified": now,
            "mimetype": mimetypes.guess_type(path)[0],
            "content": None,
            "format": None,
            "size": upload.size,
            "hash": None,
            "hash_algorithm": None,
        }

    async def delete_file(self, path: str) -> None:
        """Delete a file or a whole folder (its files are kept as versions)."""
        path = self._path(path)
        if not path:
            raise web.HTTPError(400, "Can't delete root")
        self._check_visible(path, "write")
        index = await self.ready()
        with backend_errors(f"delete {path}"):
            async with self._write_lock:
                await index.delete(path)
                await self._disk(f"delete {path}", self.mirror.remove, path)
        await self._prune(index, path)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        """Rename or move a file or folder: one index transaction, however many files."""
        old_path, new_path = self._path(old_path), self._path(new_path)
        if not old_path or not new_path:
            raise web.HTTPError(400, "Cannot rename the workspace root")
        self._check_visible(old_path, "write")
        self._check_visible(new_path, "write")
        if old_path == new_path:
            return
        index = await self.ready()
        with backend_errors(f"rename {old_path}"):
            async with self._write_lock:
                await index.rename(old_path, new_path)
                await self._disk(f"move {old_path}", self.mirror.rename, old_path, new_path)
        await self._prune(index, new_path)  # versions a deleted file left at the new path join

    async def update(self, model: dict[str, Any], path: str) -> dict[str, Any]:
        """Rename or move, checking the target before Jupyter normalises it."""
        if isinstance(model, dict) and "path" in model:
            self._path(model["path"])
        return dict(await super().update(model, self._path(path)))

    async def new_untitled(self, path: str = "", type: str = "", ext: str = "") -> dict[str, Any]:
        """Create an untitled file, notebook or folder."""
        return dict(await super().new_untitled(self._path(path), type=type, ext=ext))

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        """Copy a file or a whole folder: new index rows naming the same blobs.

        As Jupyter's FileContentsManager: into an existing folder (the source's own when
        ``to_path`` is None) the copy gets the source's name, or ``name-CopyN`` when that is
        taken; a file copied to a path that does not exist gets that path (its folder must
        exist); a folder copied to a path that does not exist goes inside it, as
        ``to_path/name``, the missing folders being created.
        """
        src = self._path(from_path)
        if not src:
            raise web.HTTPError(400, "Cannot copy the workspace root")
        self._check_visible(src, "read")
        entry = await self._entry(src)
        name = copy_pat.sub(".", name_of(src))
        folder = self._path(to_path) if to_path is not None else parent_of(src)
        create_parents = False
        if await self.dir_exists(folder):
            target = join(folder, await self.increment_filename(name, folder, insert="-Copy"))
        elif to_path is None:
            raise web.HTTPError(404, f"No such directory: {folder}")
        elif entry.kind == DIRECTORY:
            target, create_parents = join(folder, name), True
        else:
            target = folder
        self._check_visible(target, "write")
        index = await self.ready()
        with backend_errors(f"copy {src}"):
            async with self._write_lock:
                await index.copy(src, target, create_parents=create_parents)
                await self._mirror_copy(index, src, target)
        self.emit(data={"action": "copy", "path": target, "source_path": src})
        return await self.get(target, content=False, require_hash=True)

    async def _mirror_copy(self, index: FileIndex, src: str, dst: str) -> None:
        """Put a copy on disk: from the source's disk file when still ours, else its blob."""
        copied = [e for e in await index.everything() if is_within(e.path, dst)]
        for item in copied:
            if item.kind == DIRECTORY:
                await self._disk(f"create {item.path}", self.mirror.mkdir, item.path)
                continue
            origin = src + item.path[len(dst) :]
            done = await self._disk(
                f"copy {origin}", self.mirror.copy_fresh, origin, item.path, item.content_hash
            )
            if not done:
                data = await self.blobs.get(item.content_hash)
                await self._disk(
                    f"write {item.path}",
                    self.mirror.write,
                    item.path,
                    item.content_hash,
                    data,
                    None,
                )

    # -- history ----------------------------------------------------------------------------

    async def versions(self, path: str) -> tuple[Entry | None, list[Version]]:
        """Return the current entry (None when deleted) and the kept versions, newest first."""
        path = self._path(path)
        if not path:
            raise web.HTTPError(400, "Name a file: ?path=…")
        index = await self.ready()
        with backend_errors(f"read the history of {path}"):
            entry = await index.get(path)
            return (entry if entry and entry.kind == FILE else None), await index.versions(path)

    async def version(self, version_id: int) -> tuple[Version, bytes]:
        """Return one version of this workspace and its bytes; 404 when it is not ours."""
        index = await self.ready()
        with backend_errors("read a version"):
            found = await index.version(version_id)
            if found is None:
                raise web.HTTPError(404, f"No such version: {version_id}")
            assert self.store is not None
            return found, await self.blobs.get(found.content_hash)

    async def restore_version(self, version_id: int, path: str | None = None) -> dict[str, Any]:
        """Make a version current again; what it replaces is kept as a version."""
        index = await self.ready()
        with backend_errors("restore a version"):
            found = await index.version(version_id)
            if found is None or (path is not None and found.path != self._path(path)):
                raise web.HTTPError(404, f"No such version: {version_id}")
        await self._restore(index, found.path, found.content_hash, found.size)
        return await self.get(found.path, content=False, require_hash=True)

    async def _restore(self, index: FileIndex, path: str, content_hash: str, size: int) -> None:
        """Make the stored blob ``content_hash`` the content of ``path`` (reason "restore")."""
        with backend_errors(f"restore {path}"):
            await index.prepare_write(path, content_hash, size)  # quota, then claim the blob
            data = await self.blobs.get(content_hash)  # read first: a missing blob changes nothing
            async with self._write_lock:
                await self._absorb_locked(index, path)  # what code wrote is kept as a version
                await index.write_file(
                    path, content_hash, size, "restore", create_parents=True, prune=self._pruner
                )
                await self._disk(f"write {path}", self.mirror.write, path, content_hash, data, None)

    async def drop_version(self, version_id: int) -> None:
        """Delete one kept version of this workspace; 404 when it is not ours."""
        index = await self.ready()
        with backend_errors("delete a version"):
            if not await index.drop_version(version_id):
                raise web.HTTPError(404, f"No such version: {version_id}")

    # -- Jupyter checkpoints: one per file, made on request, apart from the history ----------

    async def checkpoint(self, path: str) -> Checkpoint:
        """Make the current content of ``path`` its checkpoint (Jupyter's create_checkpoint)."""
        path = self._path(path)
        if not path:
            raise web.HTTPError(400, "The workspace root has no checkpoints")
        await self._absorb(path)  # what code wrote there is the current content
        index = await self.ready()
        with backend_errors(f"checkpoint {path}"):
            return await index.checkpoint(path)

    async def checkpoint_of(self, path: str) -> Checkpoint | None:
        """Return the checkpoint of ``path``, if it has one."""
        path = self._path(path)
        index = await self.ready()
        with backend_errors(f"read the checkpoint of {path}"):
            return await index.checkpoint_of(path) if path else None

    async def revert_to_checkpoint(self, path: str) -> None:
        """Make the checkpoint of ``path`` its content again; the checkpoint stays as it is."""
        path = self._path(path)
        index = await self.ready()
        with backend_errors(f"read the checkpoint of {path}"):
            kept = await index.checkpoint_of(path) if path else None
        if kept is None:
            raise web.HTTPError(404, f"Checkpoint does not exist: {path}@checkpoint")
        await self._restore(index, path, kept.content_hash, kept.size)

    async def drop_checkpoint(self, path: str) -> None:
        """Delete the checkpoint of ``path``; 404 when it has none."""
        path = self._path(path)
        index = await self.ready()
        with backend_errors(f"delete the checkpoint of {path}"):
            if not path or not await index.drop_checkpoint(path):
                raise web.HTTPError(404, f"Checkpoint does not exist: {path}@checkpoint")

    async def drop_checkpoints(self, path: str) -> None:
        """Forget the checkpoints of a deleted file or folder (the history keeps its content)."""
        path = self._path(path)
        index = await self.ready()
        with backend_errors(f"delete the checkpoints of {path}"):
            await index.drop_checkpoints(path)

    async def move_checkpoints(self, old_path: str, new_path: str) -> None:
        """Move the checkpoints of a renamed file or folder along with it."""
        old_path, new_path = self._path(old_path), self._path(new_path)
        index = await self.ready()
        with backend_errors(f"move the checkpoints of {old_path}"):
            await index.move_checkpoints(old_path, new_path)

    async def collect_garbage(self, grace: float | None = None) -> list[str]:
        """Delete blobs nothing references, untouched for the grace period; drop stale uploads."""
        await self.ready()
        assert self.db is not None and self.store is not None
        self._uploads.expire(timedelta(hours=1))
        seconds = self.gc_grace if grace is None else grace
        return await collect_garbage(self.db, self.store, timedelta(seconds=seconds))

    # -- the workspace folder -----------------------------------------------------------------

    def _wants(self, path: str, info: os.stat_result) -> bool:
        """Return True when the file code left at ``path`` (stat ``info``) should be read."""
        known = self.mirror.known(path)
        if known is not None and known.same_as(info):
            return False
        refused = self._refused.get(path)
        if refused is None:
            return True
        mtime_ns, size, held_bytes, held_files = refused
        return (mtime_ns, size) != (info.st_mtime_ns, info.st_size) or (
            self._held is not None and self._held < (held_bytes, held_files)
        )

    async def _absorb(self, path: str) -> None:
        """Pull in a file code changed on disk before it is read or overwritten."""
        if self.mirror.changed(path) is None:
            return
        index = await self.ready()
        async with self._write_lock:
            await self._absorb_locked(index, path)

    async def _absorb_locked(self, index: FileIndex, path: str) -> None:
        info = self.mirror.changed(path)
        if info is None:
            return
        await self._import_disk_file(index, path)

    async def _import_disk_file(self, index: FileIndex, path: str) -> None:
        """Index a file code wrote in the workspace folder (the old content becomes a version).

        Called under the write lock. The file is opened again here, by descriptor and only if
        it is a regular file inside the workspace, and at most max_file_size bytes are read:
        what is imported is what is there now. The quota is checked before its blob is stored.
        """
        try:
            check_api_path(path)
        except web.HTTPError:
            self.log.warning("Not keeping %r from the workspace folder: unusable name", path)
            return
        snap = await self._disk(
            f"read {path}",
            self.mirror.snapshot,
            path,
            self.max_file_size,
            data_dir() / "spool",
            IN_MEMORY,
        )
        if snap is None:
            return
        try:
            known = self.mirror.known(path)
            if known is not None and (known.mtime_ns, known.size) == (
                snap.state.mtime_ns,
                snap.state.size,
            ):
                return
            if snap.too_big:
                self.log.warning(
                    "Not keeping %s from the workspace folder: it is over the limit of %d bytes",
                    path,
                    self.max_file_size,
                )
                self.mirror.record(path, snap.state)
                return
            content_hash = snap.state.content_hash
            entry = await index.get(path)
            if entry is None or entry.kind != FILE or entry.content_hash != content_hash:
                try:
                    await self._store(
                        index, snap.data, snap.spool, content_hash, snap.size, path=path
                    )
                    await index.write_file(
                        path,
                        content_hash,
                        snap.size,
                        "kernel",
                        create_parents=True,
                        prune=self._pruner,
                    )
                except web.HTTPError as e:
                    self.log.warning(
                        "Not keeping %s from the workspace folder: %s", path, e.log_message
                    )
                    usage = await index.usage()
                    self._refused[path] = (
                        snap.state.mtime_ns,
                        snap.state.size,
                        usage.total,
                        usage.files,
                    )
                    return
            self._refused.pop(path, None)
            self.mirror.add_dir_parents(path)
            self.mirror.record(path, snap.state)
        finally:
            snap.discard()

    async def sync_from_disk(self) -> None:
        """Pull what code changed in the workspace folder into the index.

        The scan runs in a thread without the write lock, so by the time its result is used
        the API may have saved, renamed or deleted things. Under the lock: every import opens
        the file again; a new folder is added only when it is still there; a path leaves the
        index only when we knew it before the scan started, changed nothing there since, and
        it is still absent now (its content is kept as a version). A folder is never removed
        with what it holds: only once nothing is left in it in the index.
        """
        index = await self.ready()
        start = self.mirror.generation
        files, dirs = await asyncio.to_thread(self.mirror.scan, self.allow_hidden)
        async with self._write_lock:
            self._held = None
            if self._refused:
                usage = await index.usage()
                self._held = (usage.total, usage.files)
            await self._sync_new_folders(index, dirs)
            for path, info in files.items():
                if self._wants(path, info):
                    await self._import_disk_file(index, path)
            await self._sync_removals(index, start, files, dirs)

    async def _sync_new_folders(self, index: FileIndex, dirs: set[str]) -> None:
        for folder in sorted(dirs - self.mirror.known_dirs()):
            if not await self._disk(f"look at {folder}", self.mirror.is_dir, folder):
                continue  # gone (deleted or renamed) since the scan saw it
            try:
                check_api_path(folder)
                await index.mkdir(folder, create_parents=True)
            except web.HTTPError as e:
                self.log.warning("Not keeping folder %r: %s", folder, e.log_message)
            self.mirror.add_dir(folder)

    async def _sync_removals(
        self, index: FileIndex, start: int, files: dict[str, os.stat_result], dirs: set[str]
    ) -> None:
        known_files, known_dirs = self.mirror.known_before(start)
        for path, known in known_files.items():
            if path in files or not await self._disk(f"look at {path}", self.mirror.absent, path):
                continue
            self.mirror.forget_file(path)
            entry = await index.get(path)
            if entry and entry.kind == FILE and entry.content_hash == known.content_hash:
                await index.delete(path)  # keeps its content as a version
                await self._prune(index, path)
        for folder in sorted(known_dirs - dirs, reverse=True):
            if not await self._disk(f"look at {folder}", self.mirror.absent, folder):
                continue
            self.mirror.forget_dir(folder)
            entry = await index.get(folder)
            if entry and entry.kind == DIRECTORY and not await index.children(folder):
                await index.delete(folder)
