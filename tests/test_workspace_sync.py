"""The workspace folder sync never loses what the API wrote while a scan was running.

Each test holds a scan right after it has walked the folder (the scan runs in a thread,
without the write lock), does API work meanwhile, then lets the sync finish.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_ide.contents_manager import IDEContentsManager

from .test_contents_api import call, manager, refused


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """No timer scans: the tests run each scan themselves."""
    config = {**jp_server_config}
    config["IDEContentsManager"] = {**config["IDEContentsManager"], "sync_interval": 0.0}
    return config


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


class HeldScan:
    """Makes the next scans of a manager wait, once they have walked the folder, for release()."""

    def __init__(self, cm: IDEContentsManager, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the mirror's scan."""
        self.walked = threading.Event()
        self.go_on = threading.Event()
        real = cm.mirror.scan

        def scan(include_hidden: bool) -> Any:
            found = real(include_hidden)
            self.walked.set()
            self.go_on.wait(60)
            return found

        monkeypatch.setattr(cm.mirror, "scan", scan)

    async def wait_walked(self) -> None:
        """Wait until the scan has walked the folder (its result is now out of date)."""
        assert await asyncio.to_thread(self.walked.wait, 30), "the scan never ran"

    def release(self) -> None:
        """Let the held scan go on."""
        self.go_on.set()


@pytest.fixture
def held(jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldScan]:
    """A held scan of the server's manager, released at the end whatever happens."""
    scan = HeldScan(manager(jp_serverapp), monkeypatch)
    try:
        yield scan
    finally:
        scan.release()


async def names(jp_fetch: Any, folder: str = "") -> set[str]:
    """The names listed in ``folder``."""
    return {c["name"] for c in (await call(jp_fetch, folder))["content"]}


async def test_a_file_saved_during_a_scan_is_kept(
    jp_fetch: Any, jp_serverapp: Any, held: HeldScan
) -> None:
    """A file saved after the scan walked the folder survives the scan's clean-up."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "before.txt", "PUT", text("here before"))
    sync = asyncio.ensure_future(cm.sync_from_disk())
    await held.wait_walked()
    await call(jp_fetch, "during.txt", "PUT", text("saved while the scan ran"))
    held.release()
    await sync
    assert await names(jp_fetch) == {"before.txt", "during.txt"}
    assert (await call(jp_fetch, "during.txt"))["content"] == "saved while the scan ran"
    await cm.sync_from_disk()  # and the next scan, which sees it, keeps it too
    assert await names(jp_fetch) == {"before.txt", "during.txt"}


async def test_a_folder_made_or_renamed_during_a_scan_is_kept_whole(
    jp_fetch: Any, jp_serverapp: Any, held: HeldScan
) -> None:
    """A folder created, filled or renamed during a scan keeps every file; the old name of a
    renamed folder does not come back."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "d", "PUT", {"type": "directory"})
    for i in range(5):
        await call(jp_fetch, f"d/f{i}.txt", "PUT", text(f"file {i}"))
    sync = asyncio.ensure_future(cm.sync_from_disk())
    await held.wait_walked()
    await call(jp_fetch, "d", "PATCH", {"path": "e"})
    await call(jp_fetch, "new", "PUT", {"type": "directory"})
    await call(jp_fetch, "new/inner.txt", "PUT", text("inside a new folder"))
    held.release()
    await sync
    assert await names(jp_fetch) == {"e", "new"}
    assert await names(jp_fetch, "e") == {f"f{i}.txt" for i in range(5)}
    assert await names(jp_fetch, "new") == {"inner.txt"}
    await refused(404, call(jp_fetch, "d"))
    assert not (cm.workspace_dir / "d").exists()
    await cm.sync_from_disk()
    assert await names(jp_fetch) == {"e", "new"}


async def test_a_file_saved_into_a_folder_code_deleted_during_a_scan_is_kept(
    jp_fetch: Any, jp_serverapp: Any, held: HeldScan
) -> None:
    """Code removes a folder; a file saved into it before the scan ends keeps the folder."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "d", "PUT", {"type": "directory"})
    await call(jp_fetch, "d/old.txt", "PUT", text("old"))
    shutil.rmtree(cm.workspace_dir / "d")
    sync = asyncio.ensure_future(cm.sync_from_disk())
    await held.wait_walked()
    await call(jp_fetch, "d/saved.txt", "PUT", text("saved after code removed d"))
    held.release()
    await sync
    assert await names(jp_fetch, "d") == {"saved.txt"}  # old.txt went with code's rm -r
    history = await jp_fetch("ide", "api", "history", params={"path": "d/old.txt"})
    assert b'"reason": "delete"' in history.body


async def test_a_scan_removal_keeps_a_version_that_restores(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A file code deleted leaves the index as a version, which restores the content."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "notes.md", "PUT", text("my notes"))
    (cm.workspace_dir / "notes.md").unlink()
    await cm.sync_from_disk()
    await refused(404, call(jp_fetch, "notes.md"))
    listed = await jp_fetch("ide", "api", "history", params={"path": "notes.md"})
    versions = json.loads(listed.body)["versions"]
    assert versions[0]["reason"] == "delete"
    await jp_fetch(
        "ide", "api", "history", str(versions[0]["id"]), "restore", method="POST", body="{}"
    )
    assert (await call(jp_fetch, "notes.md"))["content"] == "my notes"
    assert (cm.workspace_dir / "notes.md").read_text() == "my notes"


async def test_a_scan_never_removes_a_folder_with_files_it_cannot_vouch_for(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A folder gone from disk leaves the index only once nothing is left in it: a file the
    mirror never saw on disk (its write failed) stays, and so does its folder."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "d", "PUT", {"type": "directory"})
    await call(jp_fetch, "d/seen.txt", "PUT", text("on disk"))
    await call(jp_fetch, "d/unseen.txt", "PUT", text("disk write failed"))
    cm.mirror.files.pop("d/unseen.txt")  # as if writing it into the folder had failed
    shutil.rmtree(cm.workspace_dir / "d")
    await cm.sync_from_disk()
    assert await names(jp_fetch, "d") == {"unseen.txt"}
    await refused(404, call(jp_fetch, "d/seen.txt"))
