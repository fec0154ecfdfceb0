"""Jupyter checkpoints read from the kept versions of each file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado import web

if TYPE_CHECKING:
    from .manager import IDEContentsManager


def _id(checkpoint_id: str) -> int:
    try:
        return int(checkpoint_id)
    except (TypeError, ValueError):
        raise web.HTTPError(404, f"No such checkpoint: {checkpoint_id!r}") from None


class IDECheckpoints(AsyncCheckpoints):
    """Checkpoints are versions: created on request, and by every save that changes a file."""

    @property
    def manager(self) -> IDEContentsManager:
        """The contents manager these checkpoints belong to."""
        parent = self.parent
        assert parent is not None
        return parent  # type: ignore[no-any-return]

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Keep the current content as a version."""
        kept = await self.manager.checkpoint(path)
        return {"id": str(kept.id), "last_modified": kept.modified_at}

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        """Make a version current again."""
        await self.manager.restore_version(_id(checkpoint_id), path)

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        """Nothing to do: a rename moves the versions in the same transaction."""

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        """Nothing to do: a rename moves the versions in the same transaction."""

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Delete one version."""
        await self.manager.drop_version(_id(checkpoint_id))

    async def delete_all_checkpoints(self, path: str) -> None:
        """Keep them: a deleted file stays restorable from its history until retention."""

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """List the versions of ``path``, oldest first (the last is the newest)."""
        _, versions = await self.manager.versions(path)
        return [{"id": str(v.id), "last_modified": v.modified_at} for v in reversed(versions)]
