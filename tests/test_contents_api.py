"""The Jupyter contents REST API on our manager: local store and S3, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.contents_manager import IDEContentsManager

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {
            "cell_type": "code",
            "id": "c1",
            "source": "print('hi')",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    ],
}


@pytest.fixture
def ide_db_url(contents_db_url: str) -> str:
    """The backend's database."""
    return contents_db_url


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], storage_settings: dict[str, str]
) -> dict[str, Any]:
    """The shared config, on the store under test, with room for a few MB."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], **storage_settings}
    config["IDEContentsManager"] = {"max_file_size": 32 * 1024 * 1024, "sync_interval": 0.0}
    return config


async def call(
    jp_fetch: Any, path: str, method: str = "GET", body: Any = None, **params: Any
) -> Any:
    """Call /api/contents/<path> and return the decoded JSON (or None)."""
    kwargs: dict[str, Any] = {"method": method}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = "{}"
    if params:
        kwargs["params"] = params
    parts = ["api", "contents", *[p for p in path.split("/") if p]]
    response = await jp_fetch(*parts, **kwargs)
    return json.loads(response.body) if response.body else None


async def refused(code: int, coro: Any) -> str:
    """Expect an HTTP error ``code``; return its message."""
    with pytest.raises(HTTPClientError) as e:
        await coro
    assert e.value.code == code, (e.value.code, e.value.response and e.value.response.body)
    assert e.value.response is not None
    body = e.value.response.body.decode()
    try:
        return str(json.loads(body)["message"])
    except ValueError:
        return body  # Jupyter answers a GET's 404 in plain text


def manager(jp_serverapp: Any) -> IDEContentsManager:
    """The server's contents manager."""
    cm = jp_serverapp.contents_manager
    assert isinstance(cm, IDEContentsManager)
    return cm


async def test_files_folders_and_notebooks(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Save, get (content on/off, text/base64, hash), list, mkdir, rename, copy, delete."""
    root = await call(jp_fetch, "")
    assert root["type"] == "directory" and root["content"] == []

    saved = await call(
        jp_fetch, "hello.txt", "PUT", {"type": "file", "format": "text", "content": "hi there"}
    )
    assert saved["size"] == 8 and saved["content"] is None
    got = await call(jp_fetch, "hello.txt")
    assert got["content"] == "hi there" and got["format"] == "text"
    assert got["mimetype"] == "text/plain"
    as_b64 = await call(jp_fetch, "hello.txt", format="base64")
    assert base64.b64decode(as_b64["content"]) == b"hi there"
    bare = await call(jp_fetch, "hello.txt", content="0", hash="1")
    assert bare["content"] is None and bare["hash_algorithm"] == "sha256"
    assert len(bare["hash"]) == 64 and bare["last_modified"] == got["last_modified"]

    binary = bytes(range(256)) * 4
    await call(
        jp_fetch,
        "data.bin",
        "PUT",
        {"type": "file", "format": "base64", "content": base64.b64encode(binary).decode()},
    )
    got = await call(jp_fetch, "data.bin")
    assert got["format"] == "base64" and base64.b64decode(got["content"]) == binary
    await refused(400, call(jp_fetch, "data.bin", format="text"))

    await call(jp_fetch, "src", "PUT", {"type": "directory"})
    await call(jp_fetch, "src/nb.ipynb", "PUT", {"type": "notebook", "content": NOTEBOOK})
    nb = await call(jp_fetch, "src/nb.ipynb")
    assert nb["type"] == "notebook" and nb["content"]["cells"][0]["source"] == "print('hi')"
    listing = await call(jp_fetch, "src")
    assert [(c["name"], c["type"]) for c in listing["content"]] == [("nb.ipynb", "notebook")]
    await refused(400, call(jp_fetch, "src", type="file"))
    await refused(400, call(jp_fetch, "hello.txt", type="directory"))
    await refused(404, call(jp_fetch, "nope.txt"))
    await refused(
        404, call(jp_fetch, "nope/x.txt", "PUT", {"type": "file", "format": "text", "content": ""})
    )

    untitled = await call(jp_fetch, "src", "POST", {"type": "file", "ext": ".py"})
    assert untitled["path"] == "src/untitled.py"
    untitled_nb = await call(jp_fetch, "src", "POST", {"type": "notebook"})
    assert untitled_nb["path"] == "src/Untitled.ipynb"
    folder = await call(jp_fetch, "", "POST", {"type": "directory"})
    assert folder["path"] == "Untitled Folder"

    copied = await call(jp_fetch, "", "POST", {"copy_from": "hello.txt"})
    assert copied["path"] == "hello-Copy1.txt"
    assert (await call(jp_fetch, "hello-Copy1.txt"))["content"] == "hi there"
    copied_dir = await call(jp_fetch, "", "POST", {"copy_from": "src"})
    assert copied_dir["path"] == "src-Copy1" and copied_dir["type"] == "directory"
    names = {c["name"] for c in (await call(jp_fetch, "src-Copy1"))["content"]}
    assert names == {"nb.ipynb", "untitled.py", "Untitled.ipynb"}

    renamed = await call(jp_fetch, "src", "PATCH", {"path": "lib"})
    assert renamed["path"] == "lib"
    assert (await call(jp_fetch, "lib/nb.ipynb"))["content"]["cells"]
    await refused(404, call(jp_fetch, "src/nb.ipynb"))
    await refused(409, call(jp_fetch, "hello.txt", "PATCH", {"path": "lib"}))
    await refused(400, call(jp_fetch, "lib", "PATCH", {"path": "lib/inner"}))
    moved = await call(jp_fetch, "hello.txt", "PATCH", {"path": "lib/hello.txt"})
    assert moved["path"] == "lib/hello.txt"

    await jp_fetch("api", "contents", "lib", method="DELETE")
    await refused(404, call(jp_fetch, "lib"))
    await refused(404, call(jp_fetch, "lib/hello.txt"))
    await jp_fetch("api", "contents", "data.bin", method="DELETE")
    top = {c["name"] for c in (await call(jp_fetch, ""))["content"]}
    assert top == {"hello-Copy1.txt", "src-Copy1", "Untitled Folder"}
    await refused(404, jp_fetch("api", "contents", "data.bin", method="DELETE"))

    # The workspace folder holds the same files (kernels run there).
    ws = manager(jp_serverapp).workspace_dir
    assert (ws / "hello-Copy1.txt").read_text() == "hi there"
    assert (ws / "src-Copy1" / "nb.ipynb").is_file()
    assert not (ws / "lib").exists()


async def test_checkpoints(jp_fetch: Any) -> None:
    """Jupyter's checkpoint API: one checkpoint per file, made only on request."""
    await call(jp_fetch, "a.txt", "PUT", {"type": "file", "format": "text", "content": "one"})
    first = json.loads(
        (await jp_fetch("api", "contents", "a.txt", "checkpoints", method="POST", body="")).body
    )
    assert first["id"] == "checkpoint"
    await call(jp_fetch, "a.txt", "PUT", {"type": "file", "format": "text", "content": "two"})
    listed = json.loads((await jp_fetch("api", "contents", "a.txt", "checkpoints")).body)
    assert listed == [first]  # a save makes no checkpoint
    await jp_fetch("api", "contents", "a.txt", "checkpoints", "checkpoint", method="POST", body="")
    assert (await call(jp_fetch, "a.txt"))["content"] == "one"
    listed = json.loads((await jp_fetch("api", "contents", "a.txt", "checkpoints")).body)
    assert listed == [first]  # neither does a restore
    await jp_fetch("api", "contents", "a.txt", "checkpoints", "checkpoint", method="DELETE")
    assert json.loads((await jp_fetch("api", "contents", "a.txt", "checkpoints")).body) == []
    for checkpoint_id in ("checkpoint", "999999"):
        await refused(
            404, jp_fetch("api", "contents", "a.txt", "checkpoints", checkpoint_id, method="DELETE")
        )


async def test_hidden_files_are_refused(jp_fetch: Any, jp_serverapp: Any) -> None:
    """With allow_hidden off, dot-files cannot be created or read and are not listed."""
    await refused(
        400, call(jp_fetch, ".secret", "PUT", {"type": "file", "format": "text", "content": "x"})
    )
    await refused(400, call(jp_fetch, ".hidden", "PUT", {"type": "directory"}))
    ws = manager(jp_serverapp).workspace_dir
    (ws / ".env").write_text("TOKEN=1")
    await manager(jp_serverapp).sync_from_disk()
    await refused(404, call(jp_fetch, ".env"))
    assert (await call(jp_fetch, ""))["content"] == []
