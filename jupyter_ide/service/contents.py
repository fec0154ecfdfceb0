"""Per-user files in one process: each caller gets an IDEContentsManager of their own.

Handlers reach the contents manager through the web app's settings
(``self.settings["contents_manager"]``, what ``JupyterHandler.contents_manager`` reads). In the
service that lookup answers with the manager of the user who signed the request in
(``CALLER``), so Jupyter's own contents, files and view handlers, and jupyter-ide's history and
workspace handlers, work unchanged and only ever see the caller's workspace. The server's
manager itself (``ServerApp.contents_manager``) is a ``UserContentsManagers``: it holds the
users' managers, one blob store and the garbage collection they share, and serves no files of
its own, so code that bypasses the lookup fails loudly instead of reaching a shared folder.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from tornado import web

from ..contents_manager import IDEContentsManager
from ..contents_manager.blobstore import BlobStore
from ..contents_manager.gc import collect_garbage
from ..contents_manager.index import FileIndex
from ..contents_manager.volume import WorkspaceVolume
from .caller import CALLER

# Settings each request reads as the caller's own (each has a ``for_caller()``).
PER_CALLER = frozenset({"contents_manager", "kernel_manager", "terminal_manager"})


class UserContentsManagers(IDEContentsManager):
    """The service's contents manager: one IDEContentsManager per user, made on first use."""

    def __init__(self, **kwargs: Any) -> None:
        """Start with no user; the users' managers share this one's database and blob store."""
        self._users: dict[str, IDEContentsManager] = {}
        self._own_volume: WorkspaceVolume | None = None
        self._shared_store: BlobStore | None = None
        super().__init__(**kwargs)

    # -- choosing the caller's manager ----------------------------------------------------------

    def for_user(self, name: str) -> IDEContentsManager:
        """Return the contents manager of hub user ``name`` (made, not yet opened, on first use)."""
        if not name:
            raise web.HTTPError(403, "Sign in first")
        manager = self._users.get(name)
        if manager is None:
            if self._shared_store is None:
                self._shared_store = self.make_store()
                self._start_gc()
            manager = IDEContentsManager(
                parent=self,
                log=self.log,
                owner=name,
                db=self.db,
                store=self._shared_store,
                gc_interval=0,  # one collection for everybody: see _start_gc
            )
            for hook in self._post_save_hooks:  # e.g. the activity timeline's save events
                manager.register_post_save_hook(hook)  # type: ignore[no-untyped-call]
            self._users[name] = manager
            self.log.info("Files of %s: workspace folder %s", name, manager.workspace_dir)
        return manager

    def for_caller(self) -> IDEContentsManager:
        """Return the signed-in caller's manager, or this one (which serves no files)."""
        name = CALLER.get()
        return self.for_user(name) if name else self

    @property
    def users(self) -> dict[str, IDEContentsManager]:
        """The managers made so far, by user name."""
        return dict(self._users)

    # -- what the server's own code reads from its contents manager -----------------------------

    @property
    def workspace_dir(self) -> Path:
        """The caller's workspace folder; outside a request, a folder nobody's files go to."""
        caller = self.for_caller()
        if caller is not self:
            return caller.workspace_dir
        return Path(self.workspaces_root) / "service-no-user"

    @property
    def volume(self) -> WorkspaceVolume:
        """The size cap of the caller's folder (health reports it); outside a request, none."""
        caller = self.for_caller()
        if caller is not self:
            return caller.volume
        assert self._own_volume is not None
        return self._own_volume

    @volume.setter
    def volume(self, value: WorkspaceVolume) -> None:
        self._own_volume = value  # the base class's, never opened

    async def ready(self) -> FileIndex:
        """Refuse: every file operation belongs to a user's own manager."""
        raise web.HTTPError(
            500,
            "The jupyter-ide service keeps no files of its own: this call was not made for a "
            "signed-in user (a bug: it should go through the caller's contents manager).",
        )

    # -- shared upkeep --------------------------------------------------------------------------

    def _start_gc(self) -> None:
        """Collect unreferenced blobs of all users every gc_interval (the index is shared)."""
        if self.gc_interval > 0:
            loop = asyncio.get_running_loop()
            self._tasks.append(loop.create_task(self._every(self.gc_interval, self._collect)))

    async def _collect(self) -> None:
        """Delete blobs no file, version or checkpoint of anyone names, after the grace period."""
        assert self.db is not None and self._shared_store is not None
        await collect_garbage(self.db, self._shared_store, timedelta(seconds=self.gc_grace))

    async def close(self) -> None:
        """Close every user's manager (their folders' volumes first), then the shared store."""
        managers = list(self._users.values())
        self._users.clear()
        for manager in managers:
            with contextlib.suppress(Exception):
                await manager.volume.close()
        for manager in managers:
            manager.store = None  # shared: closed once, below
            try:
                await manager.close()
            except Exception as e:  # one user's trouble must not keep the others open
                self.log.warning("Closing the files of %s failed: %s", manager.owner, e)
        await super().close()
        if self._shared_store is not None:
            store, self._shared_store = self._shared_store, None
            await store.close()


class CallerSettings(dict[str, Any]):
    """The web app's settings, where the contents, kernel and terminal managers are the caller's."""

    def __getitem__(self, key: str) -> Any:
        """Return the setting; for the per-caller managers, the caller's view."""
        value = super().__getitem__(key)
        if key in PER_CALLER:
            for_caller = getattr(value, "for_caller", None)
            if for_caller is not None:
                return for_caller()
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """Return the setting or ``default``, as ``[]`` does."""
        return self[key] if key in self else default
