"""The user server's files, kept by the service: a client of its Jupyter contents API.

Every call goes to ``<service>/api/contents/<path>`` with the user's own hub token, so the
editor, JupyterLab and the service's kernels share one workspace and this server stores
nothing. The service answers as Jupyter's contents API does (it runs Jupyter's own handlers
over the user's IDEContentsManager); its errors reach the caller with their status and message.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from jupyter_server.services.contents.manager import AsyncContentsManager
from jupyter_server.utils import url_escape
from tornado import web
from traitlets import Instance, default

from .client import ServiceClient
from .connection import ServiceConnection, read_connection

TIMESTAMPS = ("created", "last_modified")
NO_LOCAL_FOLDER = "/nonexistent/jupyter-ide/files-are-the-services"


def contents_path(path: str, *rest: str) -> str:
    """Return the service's contents API path of ``path`` (each part URL-escaped)."""
    parts = [url_escape(path.strip("/"))] if path.strip("/") else []
    return "/".join(["/api/contents", *parts, *rest])


def with_datetimes(model: Any) -> Any:
    """Turn a model's ISO timestamps (and its listing's) back into datetimes, as Jupyter's are."""
    if not isinstance(model, dict):
        return model
    for key in TIMESTAMPS:
        value = model.get(key)
        if isinstance(value, str):
            try:
                model[key] = datetime.fromisoformat(value)
            except ValueError:
                pass
    if model.get("type") == "directory" and isinstance(model.get("content"), list):
        for child in model["content"]:
            with_datetimes(child)
    return model


def sendable(model: dict[str, Any]) -> dict[str, Any]:
    """Return a model as JSON can carry it (datetimes as ISO text)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in model.items()}


def _connection() -> ServiceConnection:
    """Return the service connection of this process's environment (checked at start)."""
    connection = read_connection(os.environ)
    if connection is None:
        raise RuntimeError("ServiceContentsManager needs JUPYTER_IDE_SERVICE_URL")
    return connection


class ServiceCheckpoints(AsyncCheckpoints):
    """Checkpoints kept by the service (the IDE keeps every saved version there)."""

    @property
    def client(self) -> ServiceClient:
        """The contents manager's client of the service."""
        parent: Any = self.parent
        client: ServiceClient = parent.client
        return client

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Ask the service to checkpoint ``path``; return the checkpoint's model."""
        model = await self.client.call_json("POST", contents_path(path, "checkpoints"))
        return dict(with_datetimes(model))

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        """Ask the service to put checkpoint ``checkpoint_id`` of ``path`` back."""
        await self.client.call_json(
            "POST", contents_path(path, "checkpoints", url_escape(checkpoint_id))
        )

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Return the checkpoints of ``path`` the service keeps."""
        found = await self.client.call_json("GET", contents_path(path, "checkpoints"))
        return [with_datetimes(item) for item in found or []]

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Ask the service to delete one checkpoint of ``path``."""
        await self.client.call_json(
            "DELETE", contents_path(path, "checkpoints", url_escape(checkpoint_id))
        )


class ServiceContentsManager(AsyncContentsManager):
    """Jupyter's contents API over the service's: the user's files, kept in the service."""

    client = Instance(ServiceClient)

    @default("client")
    def _default_client(self) -> ServiceClient:
        return ServiceClient(_connection())

    @default("files_handler_params")
    def _default_files_handler_params(self) -> dict[str, Any]:
        # Jupyter's FilesHandler is a StaticFileHandler, which needs a folder, though it reads
        # every /files/ request through get(). There is none here: the files are the service's.
        return {"path": NO_LOCAL_FOLDER}

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type[AsyncCheckpoints]:
        return ServiceCheckpoints

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        """Return the model of ``path`` as the service has it."""
        query = {"content": "1" if content else "0"}
        if type:
            query["type"] = type
        if format:
            query["format"] = format
        if require_hash:
            query["hash"] = "1"
        model = await self.client.call_json("GET", contents_path(path), query)
        return dict(with_datetimes(model))

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        """Save ``model`` at ``path`` in the service (which keeps the previous version)."""
        saved = await self.client.call_json("PUT", contents_path(path), model=sendable(model))
        self.emit(data={"action": "save", "path": path.strip("/")})  # type: ignore[no-untyped-call]
        return dict(with_datetimes(saved))

    async def new_untitled(self, path: str = "", type: str = "", ext: str = "") -> dict[str, Any]:
        """Create an untitled file, notebook or folder in ``path``; the service names it."""
        body = {"type": type, "ext": ext}
        made = await self.client.call_json("POST", contents_path(path), model=body)
        return dict(with_datetimes(made))

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        """Copy ``from_path`` into the folder ``to_path`` (the service picks the copy's name)."""
        folder = to_path if to_path is not None else os.path.dirname(from_path.strip("/"))
        if not await self.dir_exists(folder):  # a file's path: copy by reading and saving
            return dict(await super().copy(from_path, to_path))  # type: ignore[no-untyped-call]
        body = {"copy_from": from_path}
        made = await self.client.call_json("POST", contents_path(folder), model=body)
        return dict(with_datetimes(made))

    async def delete(self, path: str) -> None:
        """Delete ``path`` in the service (its versions go with it as the service decides)."""
        if not path.strip("/"):
            raise web.HTTPError(400, "Cannot delete the workspace's root folder")
        await self.client.call_json("DELETE", contents_path(path))
        self.emit(data={"action": "delete", "path": path.strip("/")})  # type: ignore[no-untyped-call]

    async def delete_file(self, path: str) -> None:
        """Delete ``path`` in the service."""
        await self.delete(path)

    async def update(self, model: dict[str, Any], path: str) -> dict[str, Any]:
        """Rename as PATCH asks (one request to the service); return the moved model."""
        moved = await self.client.call_json("PATCH", contents_path(path), model=sendable(model))
        new_path = str(model.get("path", path)).strip("/")
        self.emit(data={"action": "rename", "path": new_path, "source_path": path.strip("/")})  # type: ignore[no-untyped-call]
        return dict(with_datetimes(moved))

    async def rename(self, old_path: str, new_path: str) -> None:
        """Rename ``old_path`` to ``new_path`` in the service (its versions move with it)."""
        await self.update({"path": new_path}, old_path)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        """Rename a file or folder in the service."""
        await self.rename(old_path, new_path)

    async def _kind(self, path: str) -> str | None:
        """Return ``file``, ``notebook`` or ``directory`` for ``path``, None when missing."""
        try:
            model = await self.client.call_json("GET", contents_path(path), {"content": "0"})
        except web.HTTPError as e:
            if e.status_code in (400, 404):
                return None
            raise
        return str(model.get("type")) if isinstance(model, dict) else None

    async def file_exists(self, path: str = "") -> bool:
        """Whether ``path`` is a file or notebook in the service."""
        return (await self._kind(path)) in ("file", "notebook")

    async def dir_exists(self, path: str) -> bool:
        """Whether ``path`` is a folder in the service."""
        return not path.strip("/") or (await self._kind(path)) == "directory"

    async def exists(self, path: str) -> bool:
        """Whether ``path`` is anything in the service (one request)."""
        return not path.strip("/") or (await self._kind(path)) is not None

    async def is_hidden(self, path: str) -> bool:
        """Whether a part of ``path`` starts with a dot (the service refuses those anyway)."""
        return any(part.startswith(".") for part in path.strip("/").split("/") if part)

    def close(self) -> None:
        """Close the connections to the service."""
        self.client.close()
