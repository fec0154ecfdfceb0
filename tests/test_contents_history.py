"""History API, workspace folder sync, quotas and GC, on every backend."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.contents_manager import IDEContentsManager
from jupyter_ide.contents_manager.index import Version
from jupyter_ide.contents_manager.retention import RetentionPolicy, versions_to_drop
from jupyter_ide.db.models import utcnow

from .test_contents_api import call, manager, refused


@pytest.fixture
def ide_db_url(contents_db_url: str) -> str:
    """The backend's database."""
    return contents_db_url


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], storage_settings: dict[str, str]
) -> dict[str, Any]:
    """Small quotas so the tests can reach them."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], **storage_settings}
    config["IDEContentsManager"] = {
        "max_file_size": 1000,
        "quota_bytes": 3000,
        "quota_files": 5,
        "sync_interval": 0.0,
    }
    return config


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


async def history(jp_fetch: Any, *parts: str, method: str = "GET", **params: Any) -> Any:
    """Call /ide/api/history/… and decode the JSON."""
    kwargs: dict[str, Any] = {"method": method}
    if method == "POST":
        kwargs["body"] = "{}"
    if params:
        kwargs["params"] = params
    response = await jp_fetch("ide", "api", "history", *parts, **kwargs)
    return json.loads(response.body)


async def test_history_lists_views_and_restores(jp_fetch: Any) -> None:
    """Each save keeps the previous content; a version can be viewed and restored."""
    for content in ("v1", "v2", "v3"):
        await call(jp_fetch, "f.py", "PUT", text(content))
    listed = await history(jp_fetch, path="f.py")
    assert listed["current"]["size"] == 2
    assert [v["reason"] for v in listed["versions"]] == ["save", "save"]
    oldest = listed["versions"][-1]
    one = await history(jp_fetch, str(oldest["id"]))
    assert one["content"] == "v1" and one["format"] == "text"
    restored = await history(jp_fetch, str(oldest["id"]), "restore", method="POST")
    assert restored["path"] == "f.py"
    assert (await call(jp_fetch, "f.py"))["content"] == "v1"
    listed = await history(jp_fetch, path="f.py")
    assert listed["versions"][0]["reason"] == "restore"
    newest = await history(jp_fetch, str(listed["versions"][0]["id"]))
    assert newest["content"] == "v3"  # what the restore replaced is kept

    await jp_fetch("api", "contents", "f.py", method="DELETE")
    gone = await history(jp_fetch, path="f.py")
    assert gone["current"] is None and gone["versions"][0]["reason"] == "delete"
    await history(jp_fetch, str(gone["versions"][0]["id"]), "restore", method="POST")
    assert (await call(jp_fetch, "f.py"))["content"] == "v1"

    await refused(404, history(jp_fetch, "987654"))
    await refused(404, history(jp_fetch, "987654", "restore", method="POST"))
    await refused(400, history(jp_fetch))
    await refused(400, history(jp_fetch, path="../etc/passwd"))


async def test_versions_follow_a_folder_rename(jp_fetch: Any) -> None:
    """Renaming a folder moves its files' history along."""
    await call(jp_fetch, "d", "PUT", {"type": "directory"})
    await call(jp_fetch, "d/a.txt", "PUT", text("1"))
    await call(jp_fetch, "d/a.txt", "PUT", text("2"))
    await call(jp_fetch, "d", "PATCH", {"path": "e"})
    assert len((await history(jp_fetch, path="e/a.txt"))["versions"]) == 1
    assert (await history(jp_fetch, path="d/a.txt"))["versions"] == []


async def test_workspace_folder_and_index_stay_in_step(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Code's writes appear through the API after a sync; saves appear on disk."""
    cm = manager(jp_serverapp)
    ws = cm.workspace_dir
    await call(jp_fetch, "from_editor.txt", "PUT", text("typed"))
    assert (ws / "from_editor.txt").read_text() == "typed"

    (ws / "out").mkdir()
    (ws / "out" / "result.csv").write_text("a,b\n1,2\n")
    await cm.sync_from_disk()
    got = await call(jp_fetch, "out/result.csv")
    assert got["content"] == "a,b\n1,2\n"

    # Editor saved, then code rewrote the file: the later (code) wins, the editor's is kept.
    (ws / "from_editor.txt").write_text("from code")
    await cm.sync_from_disk()
    assert (await call(jp_fetch, "from_editor.txt"))["content"] == "from code"
    versions = (await history(jp_fetch, path="from_editor.txt"))["versions"]
    assert versions[0]["reason"] == "kernel"
    assert (await history(jp_fetch, str(versions[0]["id"])))["content"] == "typed"

    # Code wrote, then the editor saved before any sync: the editor wins, code's is kept.
    before = await call(jp_fetch, "from_editor.txt", content="0", hash="1")
    (ws / "from_editor.txt").write_text("code again")
    await call(jp_fetch, "from_editor.txt", "PUT", text("editor again"))
    assert (ws / "from_editor.txt").read_text() == "editor again"
    kept = (await history(jp_fetch, path="from_editor.txt"))["versions"][0]
    assert (await history(jp_fetch, str(kept["id"])))["content"] == "code again"
    after = await call(jp_fetch, "from_editor.txt", content="0", hash="1")
    assert after["hash"] != before["hash"] and after["last_modified"] != before["last_modified"]

    # Code deleted a file: it leaves the index, restorable from history.
    (ws / "out" / "result.csv").unlink()
    await cm.sync_from_disk()
    await refused(404, call(jp_fetch, "out/result.csv"))
    assert (await history(jp_fetch, path="out/result.csv"))["versions"][0]["reason"] == "delete"

    # A symlink planted by code is never followed into the index.
    (ws / "link").symlink_to("/etc")
    await cm.sync_from_disk()
    await refused(404, call(jp_fetch, "link"))


async def test_quotas_and_size_limit(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Too big: 413; over the byte quota: 507; too many files: 403; nothing written."""
    message = await refused(413, call(jp_fetch, "big.txt", "PUT", text("x" * 1001)))
    assert "1000" in message
    for i in range(3):  # distinct contents: one blob held by two files counts once
        await call(jp_fetch, f"f{i}.txt", "PUT", text("y" * 899 + str(i)))
    message = await refused(507, call(jp_fetch, "f3.txt", "PUT", text("z" * 900)))
    assert "quota" in message
    await call(jp_fetch, "f3.txt", "PUT", text("small"))
    await call(jp_fetch, "f4.txt", "PUT", text("small"))
    message = await refused(403, call(jp_fetch, "f5.txt", "PUT", text("one too many")))
    assert "limit is 5" in message
    await refused(403, call(jp_fetch, "", "POST", {"copy_from": "f3.txt"}))
    names = {c["name"] for c in (await call(jp_fetch, ""))["content"]}
    assert names == {f"f{i}.txt" for i in range(5)}
    assert not (manager(jp_serverapp).workspace_dir / "f5.txt").exists()
    chunk = base64.b64encode(b"q" * 600).decode()
    await call(
        jp_fetch,
        "f0.txt",
        "PUT",
        {"type": "file", "format": "base64", "content": chunk, "chunk": 1},
    )
    await refused(
        413,
        call(
            jp_fetch,
            "f0.txt",
            "PUT",
            {"type": "file", "format": "base64", "content": chunk, "chunk": -1},
        ),
    )
    assert (await call(jp_fetch, "f0.txt"))["content"] == "y" * 899 + "0"


async def test_gc_removes_only_unreferenced_blobs(jp_fetch: Any, jp_serverapp: Any) -> None:
    """GC keeps blobs that files or versions name and deletes the others after the grace."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "a.txt", "PUT", text("kept"))
    await call(jp_fetch, "a.txt", "PUT", text("current"))
    orphan = await cm.ready()
    await orphan.touch_blob("0" * 64, 1)
    await cm.blobs.put("0" * 64, b"x")
    assert await cm.collect_garbage(grace=3600) == []
    assert await cm.collect_garbage(grace=0) == ["0" * 64]
    assert not await cm.blobs.exists("0" * 64)
    listed = await history(jp_fetch, path="a.txt")
    assert (await history(jp_fetch, str(listed["versions"][0]["id"])))["content"] == "kept"
    for version in listed["versions"]:
        await jp_fetch("ide", "api", "history", str(version["id"]), method="DELETE")
    removed = await cm.collect_garbage(grace=0)
    assert len(removed) == 1
    assert (await call(jp_fetch, "a.txt"))["content"] == "current"


def test_retention_keeps_last_then_hourly_then_daily() -> None:
    """The last N stay; older ones thin to one per hour, then one per day, then none."""
    now = utcnow().replace(minute=30)
    made = [
        Version(i, "p", str(i), 1, now, now - timedelta(minutes=10 * i), "save") for i in range(400)
    ]
    dropped = set(versions_to_drop(made, now, RetentionPolicy(keep_last=5, hourly=2, daily=1)))
    kept = [v for v in made if v.id not in dropped]
    assert [v.id for v in kept[:5]] == [0, 1, 2, 3, 4]
    assert all(now - v.created_at <= timedelta(days=1) for v in kept)
    recent = [v for v in kept[5:] if now - v.created_at <= timedelta(hours=2)]
    hours = [v.created_at.replace(minute=0, second=0, microsecond=0) for v in recent]
    assert len(hours) == len(set(hours)) and len(kept) < 40


async def test_history_is_only_for_the_owner(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Another user's name never reaches this workspace's history."""
    cm = manager(jp_serverapp)
    assert isinstance(cm, IDEContentsManager)
    await call(jp_fetch, "mine.txt", "PUT", text("secret"))
    cm.owner = "someone-else"
    try:
        await refused(404, history(jp_fetch, path="mine.txt"))
    finally:
        cm.owner = jp_serverapp.web_app.settings["jupyter_ide_roles"].name_of(None)


async def test_a_version_id_that_is_not_a_number_is_400(jp_fetch: Any) -> None:
    for request in (
        jp_fetch("ide", "api", "history", "abc"),
        jp_fetch("ide", "api", "history", "abc", "restore", method="POST", body=""),
    ):
        with pytest.raises(HTTPClientError) as e:
            await request
        assert e.value.code == 400
        assert "version id" in json.loads(e.value.response.body)["message"]
