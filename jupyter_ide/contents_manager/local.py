"""IDEContentsManager: Jupyter's file contents manager with strict checks on every input."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import Int

from .validation import (
    check_api_path,
    check_notebook,
    check_notebook_text,
    content_size,
    decode_text,
)

UPLOAD_SUFFIX = ".ide-upload"


class IDEContentsManager(AsyncLargeFileManager):
    """Files in the server's root dir; rejects traversal, oversize and malformed notebooks."""

    max_file_size = Int(
        100 * 1024 * 1024,
        help="Largest file, in bytes, that may be saved or uploaded; larger ones get 413.",
    ).tag(config=True)

    def _get_os_path(self, path: str) -> str:
        """Map an API path to the disk, refusing anything that could leave the root."""
        return str(super()._get_os_path(check_api_path(path)))

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        """Return a file, notebook or folder model."""
        model = await super().get(
            check_api_path(path),
            content=content,
            type=type,
            format=format,
            require_hash=require_hash,
        )
        return dict(model)

    async def delete_file(self, path: str) -> None:
        """Delete a file or folder."""
        await super().delete_file(check_api_path(path))

    async def update(self, model: dict[str, Any], path: str) -> dict[str, Any]:
        """Rename or move a file, checking the target before Jupyter normalises it."""
        if isinstance(model, dict) and "path" in model:
            check_api_path(model["path"])
        return dict(await super().update(model, check_api_path(path)))

    async def rename_file(self, old_path: str, new_path: str) -> None:
        """Rename or move a file or folder."""
        await super().rename_file(check_api_path(old_path), check_api_path(new_path))

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        """Copy a file or folder."""
        target = check_api_path(to_path) if to_path is not None else None
        return dict(await super().copy(check_api_path(from_path), target))

    async def new_untitled(self, path: str = "", type: str = "", ext: str = "") -> dict[str, Any]:
        """Create an untitled file, notebook or folder."""
        return dict(await super().new_untitled(check_api_path(path), type=type, ext=ext))

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        """Check the model, then save it; a rejected save writes nothing."""
        path = check_api_path(path)
        if not isinstance(model, dict):
            raise web.HTTPError(400, "The request body must be a JSON object")
        chunk = model.get("chunk")
        if chunk is not None:
            return await self._save_chunk(model, path, chunk)
        self._check_whole_file(model, path)
        return dict(await super().save(model, path))

    def _check_whole_file(self, model: dict[str, Any], path: str) -> None:
        """Reject a file or notebook that is too large or malformed."""
        kind = model.get("type")
        if kind == "notebook":
            check_notebook(model.get("content"))
        elif kind == "file":
            content, fmt = model.get("content"), model.get("format")
            self._check_size(content_size(content, fmt), path)
            if path.endswith(".ipynb") and isinstance(content, str):
                check_notebook_text(decode_text(content, fmt))

    def _check_size(self, size: int, path: str) -> None:
        """Raise 413 when a file would exceed ``max_file_size``."""
        if size > self.max_file_size:
            raise web.HTTPError(
                413,
                f"{path} would be {size} bytes; the largest file allowed is "
                f"{self.max_file_size} bytes",
            )

    def _staging_path(self, os_path: str) -> str:
        """Return the hidden file a chunked upload is assembled in."""
        folder, name = os.path.split(os_path)
        return os.path.join(folder, f".{name}{UPLOAD_SUFFIX}")

    async def _save_chunk(self, model: dict[str, Any], path: str, chunk: Any) -> dict[str, Any]:
        """Append one chunk to a staging file; the last chunk moves it into place."""
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk == 0 or chunk < -1:
            raise web.HTTPError(400, "chunk must be 1, 2, 3, … or -1 for the last chunk")
        if model.get("type") != "file":
            raise web.HTTPError(400, "Only files can be uploaded in chunks")
        if "content" not in model:
            raise web.HTTPError(400, "No file content provided")
        os_path = self._get_os_path(path)
        staging = self._staging_path(os_path)
        already = self._staged_bytes(staging, chunk, path)
        try:
            self._check_size(already + content_size(model["content"], model.get("format")), path)
        except web.HTTPError:
            self._discard(staging)
            raise
        if chunk == 1:
            self.run_pre_save_hooks(model=model, path=path)
            await super()._save_file(staging, model["content"], model.get("format"))
        else:
            await self._save_large_file(staging, model["content"], model.get("format"))
        if chunk != -1:
            return self._staging_model(path, staging)
        if path.endswith(".ipynb"):
            try:
                with open(staging, encoding="utf-8") as f:  # noqa: ASYNC230 - small, local
                    check_notebook_text(f.read())
            except web.HTTPError:
                self._discard(staging)
                raise
            except UnicodeDecodeError as e:
                self._discard(staging)
                raise web.HTTPError(400, "Malformed notebook: not UTF-8 text") from e
        os.replace(staging, os_path)
        saved = dict(await super().get(path, content=False))
        self.run_post_save_hooks(model=saved, os_path=os_path)
        self.emit(data={"action": "save", "path": path})
        return saved

    def _staged_bytes(self, staging: str, chunk: int, path: str) -> int:
        """Return the bytes an upload has staged so far (0 at chunk 1)."""
        if chunk == 1:
            return 0
        try:
            return os.path.getsize(staging)
        except FileNotFoundError:
            raise web.HTTPError(400, f"Upload of {path} must start with chunk 1") from None

    def _discard(self, staging: str) -> None:
        """Remove a staging file left by a rejected upload."""
        try:
            os.remove(staging)
        except FileNotFoundError:
            pass

    def _staging_model(self, path: str, staging: str) -> dict[str, Any]:
        """Return the model of an upload still in progress."""
        stat = os.stat(staging)
        modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
        return {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "type": "file",
            "writable": True,
            "created": modified,
            "last_modified": modified,
            "mimetype": None,
            "content": None,
            "format": None,
            "size": stat.st_size,
            "hash": None,
            "hash_algorithm": None,
        }
