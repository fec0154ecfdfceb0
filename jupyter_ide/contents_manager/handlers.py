"""HTTP for the /ide history panel: list a file's versions, read, restore or delete one."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..auth import requires
from .index import Version
from .manager import IDEContentsManager

AUTH_RESOURCE = "contents"


def _version_id(text: str) -> int:
    """Return a version id from the URL, or refuse it clearly."""
    if not text.isdigit() or len(text) > 18:
        raise web.HTTPError(400, f"Not a version id: {text!r} (a whole number is expected)")
    return int(text)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_json(version: Version) -> dict[str, Any]:
    """Return a version as the history API shows it."""
    return {
        "id": version.id,
        "path": version.path,
        "hash": version.content_hash,
        "size": version.size,
        "modified_at": _iso(version.modified_at),
        "created_at": _iso(version.created_at),
        "reason": version.reason,
    }


class _HistoryHandler(APIHandler):
    """Shared: the caller's own contents manager, and only for its owner."""

    auth_resource = AUTH_RESOURCE

    def manager(self) -> IDEContentsManager:
        """Return the server's contents manager when it is ours and the caller owns it."""
        cm = self.contents_manager
        if not isinstance(cm, IDEContentsManager):
            raise web.HTTPError(404, "History needs jupyter-ide's contents manager")
        caller = self.settings["jupyter_ide_roles"].name_of(self.current_user)
        if caller != cm.owner:
            raise web.HTTPError(404, "No such workspace")
        return cm


class HistoryListHandler(_HistoryHandler):
    """GET /ide/api/history?path=…: a file's kept versions, newest first."""

    @web.authenticated
    @requires("files:history")
    async def get(self) -> None:
        """List the versions of one file, with its current state."""
        path = self.get_query_argument("path", "")
        if not path.strip("/"):
            raise web.HTTPError(400, "Missing query argument: path")
        current, versions = await self.manager().versions(path)
        self.finish(
            json.dumps(
                {
                    "path": path.strip("/"),
                    "current": None
                    if current is None
                    else {
                        "hash": current.content_hash,
                        "size": current.size,
                        "last_modified": _iso(current.last_modified),
                    },
                    "versions": [version_json(v) for v in versions],
                }
            )
        )


class HistoryVersionHandler(_HistoryHandler):
    """GET /ide/api/history/<id>: one version with its content; DELETE forgets it."""

    @web.authenticated
    @requires("files:history")
    async def get(self, version_id: str) -> None:
        """Return one version's metadata and content (text, or base64 for binary)."""
        version, data = await self.manager().version(_version_id(version_id))
        reply = version_json(version)
        try:
            reply.update(format="text", content=data.decode("utf-8"))
        except UnicodeDecodeError:
            reply.update(format="base64", content=base64.b64encode(data).decode("ascii"))
        self.finish(json.dumps(reply))

    @web.authenticated
    @requires("files:history")
    async def delete(self, version_id: str) -> None:
        """Forget one kept version (say, one holding a secret pasted by mistake)."""
        await self.manager().drop_version(_version_id(version_id))
        self.set_status(204)
        self.finish()


class HistoryRestoreHandler(_HistoryHandler):
    """POST /ide/api/history/<id>/restore: make a version current again."""

    @web.authenticated
    @requires("files:history")
    async def post(self, version_id: str) -> None:
        """Restore the version; what it replaces is kept as a version."""
        model = await self.manager().restore_version(_version_id(version_id))
        self.finish(
            json.dumps(model, default=lambda d: _iso(d) if isinstance(d, datetime) else str(d))
        )


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/history", HistoryListHandler, {}),
    (r"/ide/api/history/([^/]+)", HistoryVersionHandler, {}),
    (r"/ide/api/history/([^/]+)/restore", HistoryRestoreHandler, {}),
]
