"""Issue #19 item 1 as users hit it: `jupyter ide` started the README's way (tests/launch.py:
default data dir, no config, so the workspace folder is scanned every 2 s), as root and as a
normal user. Rounds of "save 20 files into a folder, rename the folder" run back to back for
longer than many scans; before the fix about one round in six lost a file or the folder."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .launch import TEST_USER, Launched, launch

ROUNDS = 30
FILES = 20
SCAN_INTERVAL = 2.0  # IDEContentsManager.sync_interval's default


def _ok(reply: Any, what: str) -> Any:
    assert reply.status in (200, 201, 204), f"{what}: {reply.status} {reply.text}"
    return reply.body


def _names(server: Launched, folder: str) -> set[str]:
    body = _ok(server.fetch("GET", f"api/contents/{folder}"), f"list {folder}")
    return {item["name"] for item in body["content"]}


@pytest.mark.parametrize("user", [None, TEST_USER], ids=["root", "user"])
def test_saves_and_folder_renames_under_running_scans_lose_nothing(user: str | None) -> None:
    """Every acknowledged save is in its renamed folder after each round and after the scans
    that follow; no folder comes back under its old name."""
    with launch(user=user) as server:
        started = time.monotonic()
        for r in range(ROUNDS):
            folder = f"round{r}"
            _ok(server.fetch("PUT", f"api/contents/{folder}", {"type": "directory"}), folder)
            for i in range(FILES):
                model = {"type": "file", "format": "text", "content": f"round {r} file {i}"}
                _ok(server.fetch("PUT", f"api/contents/{folder}/f{i}.txt", model), "save")
            _ok(server.fetch("PATCH", f"api/contents/{folder}", {"path": f"done{r}"}), "rename")
            assert len(_names(server, f"done{r}")) == FILES, f"round {r} lost files"
        elapsed = time.monotonic() - started
        assert elapsed > 3 * SCAN_INTERVAL, "too quick to overlap the server's scans"
        time.sleep(2.5 * SCAN_INTERVAL)  # the scans that ran during the last rounds finish
        top = _names(server, "")
        assert top == {f"done{r}" for r in range(ROUNDS)}, sorted(top)
        for r in range(ROUNDS):
            assert _names(server, f"done{r}") == {f"f{i}.txt" for i in range(FILES)}
            got = _ok(server.fetch("GET", f"api/contents/done{r}/f{FILES - 1}.txt"), "read")
            assert got["content"] == f"round {r} file {FILES - 1}"
