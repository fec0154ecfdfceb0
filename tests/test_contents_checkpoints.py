"""Checkpoints beside the history: GC keeps a checkpoint's content, versions can be deleted."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from .test_contents_api import call, manager, refused


@pytest.fixture
def ide_db_url(contents_db_url: str) -> str:
    """The backend's database."""
    return contents_db_url


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], storage_settings: dict[str, str]
) -> dict[str, Any]:
    """The store under test; no background sync or GC."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], **storage_settings}
    config["IDEContentsManager"] = {"sync_interval": 0.0, "gc_interval": 0.0}
    return config


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


async def history(jp_fetch: Any, path: str) -> list[dict[str, Any]]:
    """The versions /ide/api/history lists for ``path``, newest first."""
    reply = await jp_fetch("ide", "api", "history", params={"path": path})
    return list(json.loads(reply.body)["versions"])


async def test_gc_keeps_what_only_a_checkpoint_names(jp_fetch: Any, jp_serverapp: Any) -> None:
    """With the history of a file emptied, its checkpoint still restores: GC left the blob."""
    cm = manager(jp_serverapp)
    await call(jp_fetch, "a.txt", "PUT", text("checkpointed"))
    await jp_fetch("api", "contents", "a.txt", "checkpoints", method="POST", body="")
    await call(jp_fetch, "a.txt", "PUT", text("current"))
    for version in await history(jp_fetch, "a.txt"):
        await jp_fetch("ide", "api", "history", str(version["id"]), method="DELETE")
    assert await history(jp_fetch, "a.txt") == []
    assert await cm.collect_garbage(grace=0) == []
    await jp_fetch("api", "contents", "a.txt", "checkpoints", "checkpoint", method="POST", body="")
    assert (await call(jp_fetch, "a.txt"))["content"] == "checkpointed"

    # Once the checkpoint is gone too, what only it named is collected.
    await jp_fetch("api", "contents", "a.txt", "checkpoints", "checkpoint", method="DELETE")
    await call(jp_fetch, "a.txt", "PUT", text("third"))
    for version in await history(jp_fetch, "a.txt"):
        await jp_fetch("ide", "api", "history", str(version["id"]), method="DELETE")
    removed = set(await cm.collect_garbage(grace=0))
    assert removed == {hashlib.sha256(t.encode()).hexdigest() for t in ("checkpointed", "current")}
    assert (await call(jp_fetch, "a.txt"))["content"] == "third"


async def test_a_version_can_be_deleted_from_the_history(jp_fetch: Any, jp_serverapp: Any) -> None:
    """DELETE /ide/api/history/<id>: 204, gone from the list; unknown 404, not a number 400."""
    await call(jp_fetch, "secret.txt", "PUT", text("password=hunter2"))
    await call(jp_fetch, "secret.txt", "PUT", text("password=<redacted>"))
    [kept] = await history(jp_fetch, "secret.txt")
    reply = await jp_fetch("ide", "api", "history", str(kept["id"]), method="DELETE")
    assert reply.code == 204
    assert await history(jp_fetch, "secret.txt") == []
    assert (await call(jp_fetch, "secret.txt"))["content"] == "password=<redacted>"
    await refused(404, jp_fetch("ide", "api", "history", str(kept["id"]), method="DELETE"))
    message = await refused(400, jp_fetch("ide", "api", "history", "abc", method="DELETE"))
    assert "version id" in message

    # Only the owner of the workspace reaches it.
    await call(jp_fetch, "secret.txt", "PUT", text("again"))
    [other] = await history(jp_fetch, "secret.txt")
    cm = manager(jp_serverapp)
    cm.owner = "someone-else"
    try:
        await refused(404, jp_fetch("ide", "api", "history", str(other["id"]), method="DELETE"))
    finally:
        cm.owner = jp_serverapp.web_app.settings["jupyter_ide_roles"].name_of(None)
    assert [v["id"] for v in await history(jp_fetch, "secret.txt")] == [other["id"]]
