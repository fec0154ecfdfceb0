"""HTTP for the workspace folder on disk: how full it is, what takes the space, deleting it.

Code can write files the file list never shows (too large to keep, refused by the quota,
hidden); when the workspace is full these are what the user must find and delete.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..auth import requires
from .errors import backend_errors
from .manager import IDEContentsManager
from .validation import check_api_path

AUTH_RESOURCE = "contents"
DEFAULT_LIMIT = 20
MAX_LIMIT = 200


class WorkspaceDiskHandler(APIHandler):
    """GET/DELETE /ide/api/workspace/disk: the workspace folder as it is on disk."""

    auth_resource = AUTH_RESOURCE

    def manager(self) -> IDEContentsManager:
        """Return the server's contents manager when it is ours and the caller owns it."""
        cm = self.contents_manager
        if not isinstance(cm, IDEContentsManager):
            raise web.HTTPError(404, "The workspace folder needs jupyter-ide's contents manager")
        caller = self.settings["jupyter_ide_roles"].name_of(self.current_user)
        if caller != cm.owner:
            raise web.HTTPError(404, "No such workspace")
        return cm

    def _limit(self) -> int:
        text = self.get_query_argument("limit", str(DEFAULT_LIMIT))
        if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise web.HTTPError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
        return int(text)

    @web.authenticated
    @requires("files:disk")
    async def get(self) -> None:
        """Say how full the folder is and list its largest files (``?limit=``, 20)."""
        limit = self._limit()
        cm = self.manager()
        index = await cm.ready()
        volume = cm.volume
        state = volume.state()
        with backend_errors("list the workspace folder"):
            largest = await volume.largest(limit, index)
        aside = await asyncio.to_thread(volume.set_aside)
        self.finish(
            json.dumps(
                {
                    **state.as_json(),
                    "detail": volume.describe_text(state),
                    "largest": [
                        {
                            "path": found.path,
                            "size": found.size,
                            "disk_bytes": found.disk_bytes,
                            "in_index": indexed,
                        }
                        for found, indexed in largest
                    ],
                    "set_aside": [{"name": name, "disk_bytes": size} for name, size in aside],
                }
            )
        )

    @web.authenticated
    @requires("files:disk")
    async def delete(self) -> None:
        """Delete ``?path=`` (through the index when it holds it) or a set-aside ``?aside=``."""
        aside = self.get_query_argument("aside", "")
        path = check_api_path(self.get_query_argument("path", ""))
        if not path and not aside:
            raise web.HTTPError(
                400, "Name what to delete: ?path=… (or ?aside=… for a set-aside folder)"
            )
        cm = self.manager()
        if aside:
            await cm.ready()
            if not await asyncio.to_thread(cm.volume.drop_aside, aside):
                raise web.HTTPError(404, f"No such set-aside folder: {aside}")
            self.set_status(204)
            self.finish()
            return
        index = await cm.ready()
        with backend_errors(f"look up {path}"):
            entry = await index.get(path)
        if entry is not None:
            await cm.delete_file(path)  # the file list and the folder stay in step
        else:
            found: Any = await asyncio.to_thread(cm.mirror.lstat, path)
            if found is None:
                raise web.HTTPError(404, f"No such file or folder in the workspace: {path}")
            try:
                await asyncio.to_thread(cm.mirror.remove, path)
            except OSError as e:
                raise web.HTTPError(500, f"Cannot delete {path}: {e.strerror or e}") from e
        self.set_status(204)
        self.finish()


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/workspace/disk", WorkspaceDiskHandler, {}),
]
