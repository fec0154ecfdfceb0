"""Workspace folders belong to one storage and index: servers on one data dir never mix files.

Managers here are made as the server makes them (config only), with their own databases and
blob stores but one workspaces root, as `make test` beside `make run`, or two hubs, share one
Jupyter data dir.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.contents_manager.folders import ASIDE_INFIX, marker_path
from jupyter_ide.db import ensure_schema

Maker = Callable[..., Any]


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


@pytest.fixture
def root(tmp_path: Path, jp_environ: None) -> Path:
    """One workspaces root, shared by every manager of a test."""
    return tmp_path / "data" / "workspaces"


@asynccontextmanager
async def opened(
    root: Path, db_url: str, storage: str, owner: str = "ada"
) -> AsyncIterator[IDEContentsManager]:
    """A ready manager on ``db_url`` and ``storage``, closed afterwards."""
    ensure_schema(db_url)
    config = Config({"IDESettings": {"db_url": db_url, "storage_url": storage, "redis_url": ""}})
    cm = IDEContentsManager(
        config=config, sync_interval=0.0, gc_interval=0.0, workspaces_root=str(root), owner=owner
    )
    try:
        await cm.ready()
        yield cm
    finally:
        await cm.close()
        if cm.db is not None:
            await cm.db.dispose()


def moved_aside(root: Path) -> list[Path]:
    """Folders moved aside anywhere under ``root``."""
    return list(root.rglob(f"*{ASIDE_INFIX}*"))


async def listing(cm: IDEContentsManager, folder: str = "") -> set[str]:
    """Names in ``folder``, after a sync of the workspace folder."""
    await cm.sync_from_disk()
    return {c["name"] for c in (await cm.get(folder))["content"]}


@pytest.mark.parametrize("differs", ["database", "both"])
async def test_servers_with_other_storage_never_import_each_others_files(
    root: Path, tmp_path: Path, pg_database_url: str, differs: str
) -> None:
    """A second server on the same data dir with another database (and store) sees none of
    the first one's files, even after syncing its workspace folder."""
    first_db = f"sqlite:///{tmp_path / 'one.db'}"
    first_store = (tmp_path / "blobs-one").as_uri()
    second_db = pg_database_url
    second_store = (tmp_path / "blobs-two").as_uri() if differs == "both" else first_store
    async with opened(root, first_db, first_store) as one:
        await one.save({"type": "directory"}, "lab1")
        await one.save(text("from the first server"), "lab1/a.py")
        await one.save(text("top"), "top.txt")
        async with opened(root, second_db, second_store) as two:
            assert await listing(two) == set()
            assert two.workspace_dir != one.workspace_dir
            await two.save(text("second server's own"), "b.py")
            await two.rename_file("b.py", "c.py")
            assert await listing(two) == {"c.py"}
            assert not (two.workspace_dir / "top.txt").exists()
        assert await listing(one) == {"lab1", "top.txt"}
        assert (one.workspace_dir / "lab1" / "a.py").read_text() == "from the first server"


async def test_a_fresh_database_at_the_same_url_does_not_import_the_old_folder(
    root: Path, tmp_path: Path
) -> None:
    """The database is recreated at the same URL: the old index's files are moved out of the
    folder (kept beside it, not deleted) and never imported; the folder itself stays, so
    kernels that mount it see the new index's files."""
    db_file = tmp_path / "ide.db"
    db_url, store = f"sqlite:///{db_file}", (tmp_path / "blobs").as_uri()
    async with opened(root, db_url, store) as old:
        await old.save(text("old index"), "old.txt")
        folder = old.workspace_dir
        inode = folder.stat().st_ino  # what running kernels (the warm pool) have mounted
    db_file.unlink()
    async with opened(root, db_url, store) as fresh:
        assert await listing(fresh) == set()
        assert fresh.workspace_dir == folder and not (folder / "old.txt").exists()
        assert folder.stat().st_ino == inode
        assert json.loads(marker_path(folder).read_text())["database"] == db_url
        aside = moved_aside(root)
        assert len(aside) == 1 and (aside[0] / "old.txt").read_text() == "old index"
        await fresh.save(text("new index"), "new.txt")
    async with opened(root, db_url, store) as again:  # the same index again: the same folder
        assert await listing(again) == {"new.txt"}
        assert (folder / "new.txt").read_text() == "new index"


async def test_a_folder_with_files_but_no_marker_is_not_imported(
    root: Path, tmp_path: Path
) -> None:
    """Files found in a folder no index claimed (an older layout, a copy) are moved aside."""
    db_url, store = f"sqlite:///{tmp_path / 'ide.db'}", (tmp_path / "blobs").as_uri()
    async with opened(root, db_url, store) as cm:
        folder = cm.workspace_dir
        marker_path(folder).unlink(missing_ok=True)
        (folder / "stray.txt").write_text("nobody's")
    async with opened(root, db_url, store) as cm:
        assert await listing(cm) == set()
        assert any((p / "stray.txt").exists() for p in moved_aside(root))


async def test_servers_of_one_index_share_the_folder(root: Path, tmp_path: Path) -> None:
    """Two servers on the same database and store (replicas) use one folder and see the same
    files; neither moves the other's folder aside."""
    db_url, store = f"sqlite:///{tmp_path / 'ide.db'}", (tmp_path / "blobs").as_uri()
    async with opened(root, db_url, store) as one, opened(root, db_url, store) as two:
        assert one.workspace_dir == two.workspace_dir
        await one.save(text("shared"), "shared.txt")
        assert await listing(two) == {"shared.txt"}
        assert not moved_aside(root)
