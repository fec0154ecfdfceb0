"""Jupyter checkpoints as Jupyter's FileCheckpoints keeps them: one per file, id "checkpoint".

A checkpoint is made only on request (POST .../checkpoints, JupyterLab's "Save and Create
Checkpoint"); plain saves and restores make none, so "Revert to Checkpoint" brings back what
the user checkpointed. It moves with a rename, is copied with a folder, and goes with a delete.
Every earlier content of a file is kept apart from it, in the history (/ide/api/history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado import web

if TYPE_CHECKING:
    from .manager import IDEContentsManager

CHECKPOINT_ID = "checkpoint"


class IDECheckpoints(AsyncCheckpoints):
    """One checkpoint per file, kept in the index apart from the file's history."""

    @property
    def manager(self) -> IDEContentsManager:
        """The contents manager these checkpoints belong to."""
        parent = self.parent
        assert parent is not None
        return parent  # type: ignore[no-any-return]

    @staticmethod
    def _check_id(checkpoint_id: str, path: str) -> None:
        if checkpoint_id != CHECKPOINT_ID:
            raise web.HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}")

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Make the file's current content its checkpoint (replacing the one before)."""
        kept = await self.manager.checkpoint(path)
        return {"id": CHECKPOINT_ID, "last_modified": kept.modified_at}

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        """Make the checkpoint the file's content again; the checkpoint stays."""
        self._check_id(checkpoint_id, path.strip("/"))
        await self.manager.revert_to_checkpoint(path)

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        """Move the checkpoint of ``old_path`` to ``new_path``."""
        self._check_id(checkpoint_id, old_path.strip("/"))
        await self.manager.move_checkpoints(old_path, new_path)

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        """Move the checkpoints of a renamed file, or of the files in a renamed folder."""
        await self.manager.move_checkpoints(old_path, new_path)

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Delete the checkpoint of ``path``; 404 when there is none."""
        self._check_id(checkpoint_id, path.strip("/"))
        await self.manager.drop_checkpoint(path)

    async def delete_all_checkpoints(self, path: str) -> None:
        """Forget the checkpoints of a deleted file or folder; its history keeps the content."""
        await self.manager.drop_checkpoints(path)

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Return ``[]`` or the file's one checkpoint."""
        kept = await self.manager.checkpoint_of(path)
        return [] if kept is None else [{"id": CHECKPOINT_ID, "last_modified": kept.modified_at}]
