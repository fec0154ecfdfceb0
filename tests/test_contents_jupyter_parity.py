"""Our contents API against Jupyter's own, side by side: the same requests, the same answers.

Each test sends one sequence of REST calls to our server and to a stock Jupyter Server (its
FileContentsManager and FileCheckpoints, tests/jupyter_peer.py) and compares every answer:
status, Location, and the model minus times and hashes. Where Jupyter answers 500 (an
unhandled error) or silently accepts garbage, we answer a clear 4xx instead; those cases are
spelled out below, with what each server says.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .jupyter_peer import Answer, JupyterPeer, Ours, PeerSide, same

NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}


@pytest.fixture(scope="module")
def jupyter_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterPeer]:
    """One stock Jupyter Server for the module (each test works in a folder of its own)."""
    peer = JupyterPeer(tmp_path_factory.mktemp("jupyter-peer"))
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def ide_db_url(contents_db_url: str) -> str:
    """The backend's database."""
    return contents_db_url


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], storage_settings: dict[str, str]
) -> dict[str, Any]:
    """Our server on the store under test."""
    config = {**jp_server_config}
    config["IDESettings"] = {**config["IDESettings"], **storage_settings}
    config["IDEContentsManager"] = {"max_file_size": 1024 * 1024, "sync_interval": 0.0}
    return config


class Both:
    """Send each request to both servers and check that they agree."""

    def __init__(self, ours: Ours, theirs: PeerSide) -> None:
        """Compare ``ours`` with ``theirs``."""
        self.ours = ours
        self.theirs = theirs

    async def each(
        self, method: str, path: str, body: Any = None, **params: Any
    ) -> tuple[Answer, Answer]:
        """Send one request to both; return both answers, unchecked."""
        ours = await self.ours.call(method, path, body, **params)
        theirs = await self.theirs.call(method, path, body, **params)
        return ours, theirs

    async def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Send one request to both, assert the answers agree, return our body."""
        ours, theirs = await self.each(method, path, body, **params)
        same(ours, theirs, f"{method} {path} {json.dumps(body)[:80]}")
        return ours.body


@pytest.fixture
def both(jp_fetch: Any, jupyter_peer: JupyterPeer) -> Both:
    """Our server and a fresh folder of the stock one."""
    return Both(Ours(jp_fetch), jupyter_peer.side())


def _on_disk(theirs: PeerSide, path: str) -> str:
    """What the stock server holds at ``path`` of the test's folder (its checkpoint files)."""
    return (Path(theirs.peer.root) / theirs.folder / path).read_text()


async def _history(jp_fetch: Any, path: str) -> set[str]:
    """Every content our history keeps for ``path``."""
    reply = await jp_fetch("ide", "api", "history", params={"path": path})
    contents = set()
    for version in json.loads(reply.body)["versions"]:
        one = await jp_fetch("ide", "api", "history", str(version["id"]))
        contents.add(json.loads(one.body)["content"])
    return contents


def text(content: str) -> dict[str, str]:
    """A text file model."""
    return {"type": "file", "format": "text", "content": content}


async def test_checkpoints_behave_as_jupyters(both: Both, jp_fetch: Any) -> None:
    """One checkpoint per file, id "checkpoint"; saves and restores make none; it follows
    renames and folder copies, not file copies, and goes with a delete."""
    await both("PUT", "a.txt", text("one"))
    assert await both("GET", "a.txt/checkpoints") == []
    made = await both("POST", "a.txt/checkpoints")
    assert made["id"] == "checkpoint"
    await both("POST", "a.txt/checkpoints")  # again: still the one checkpoint
    await both("PUT", "a.txt", text("two"))
    assert await both("GET", "a.txt/checkpoints") == [made]  # a save makes none
    await both("POST", "a.txt/checkpoints/checkpoint")  # restore: 204
    assert (await both("GET", "a.txt"))["content"] == "one"
    assert await both("GET", "a.txt/checkpoints") == [made]  # a restore makes none
    await both("PUT", "a.txt", text("three"))
    await both("POST", "a.txt/checkpoints/checkpoint")
    assert (await both("GET", "a.txt"))["content"] == "one"
    await both("DELETE", "a.txt/checkpoints/nope")  # 404
    await both("DELETE", "a.txt/checkpoints/checkpoint")  # 204
    await both("DELETE", "a.txt/checkpoints/checkpoint")  # 404: gone
    assert await both("GET", "a.txt/checkpoints") == []

    # A rename moves it; a copy of a file has none.
    await both("POST", "a.txt/checkpoints")
    await both("PATCH", "a.txt", {"path": "b.txt"})
    assert await both("GET", "a.txt/checkpoints") == []
    assert len(await both("GET", "b.txt/checkpoints")) == 1
    assert _on_disk(both.theirs, ".ipynb_checkpoints/b-checkpoint.txt") == "one"
    await both("POST", "", {"copy_from": "b.txt"})
    assert await both("GET", "b-Copy1.txt/checkpoints") == []

    # The files of a folder keep theirs through a rename and a copy of the folder.
    await both("PUT", "d", {"type": "directory"})
    await both("PUT", "d/f.txt", text("f1"))
    await both("POST", "d/f.txt/checkpoints")
    await both("PUT", "d/f.txt", text("f2"))
    await both("PATCH", "d", {"path": "e"})
    assert len(await both("GET", "e/f.txt/checkpoints")) == 1
    await both("POST", "", {"copy_from": "e"})
    assert len(await both("GET", "e-Copy1/f.txt/checkpoints")) == 1
    await both("POST", "e-Copy1/f.txt/checkpoints/checkpoint")
    assert (await both("GET", "e-Copy1/f.txt"))["content"] == "f1"

    # A delete takes them: the same path made again starts without one.
    await both("DELETE", "b.txt")
    await both("PUT", "b.txt", text("new"))
    assert await both("GET", "b.txt/checkpoints") == []
    await both("DELETE", "e")
    await both("PUT", "e", {"type": "directory"})
    await both("PUT", "e/f.txt", text("again"))
    assert await both("GET", "e/f.txt/checkpoints") == []
    assert await both("GET", "missing.txt/checkpoints") == []

    # Jupyter fails with 500 here (its copy raises); we say what is wrong.
    for path, code, says in [
        ("missing.txt/checkpoints", 404, "No such file: missing.txt"),
        ("e/checkpoints", 400, "e is a folder: only files have checkpoints"),
        ("b.txt/checkpoints/checkpoint", 404, "Checkpoint does not exist: b.txt@checkpoint"),
        ("b.txt/checkpoints/other", 404, "Checkpoint does not exist: b.txt@other"),
    ]:
        ours, theirs = await both.each("POST", path)
        assert (ours.status, theirs.status) == (code, 500), (path, ours, theirs)
        assert ours.message == says

    # The history keeps every content the file had, checkpoint or not.
    assert await _history(jp_fetch, "e-Copy1/f.txt") == {"f2"}  # replaced by the revert
    assert await _history(jp_fetch, "b.txt") >= {"one", "two", "three"}  # a.txt's, renamed


async def test_base64_with_line_breaks_is_accepted_as_jupyter_does(both: Both) -> None:
    """MIME-wrapped base64 (base64.encodebytes) saves, whole or in chunks; garbage is a 400."""
    data = bytes(range(256)) * 5
    wrapped = base64.encodebytes(data).decode()
    assert "\n" in wrapped.rstrip("\n")
    await both("PUT", "w.bin", {"type": "file", "format": "base64", "content": wrapped})
    got = await both("GET", "w.bin")
    assert base64.b64decode(got["content"]) == data
    for name, content in [
        ("hello.txt", base64.encodebytes(b"hello\n").decode()),
        ("crlf.txt", "aGVs\r\nbG8=\r\n"),
        ("spaced.txt", " aGVs bG8= \n"),
    ]:
        await both("PUT", name, {"type": "file", "format": "base64", "content": content})
        got = await both("GET", name)
        assert got["content"] == base64.b64decode("".join(content.split())).decode()

    # Chunked: each chunk wrapped. Jupyter writes chunk 1 to the file at once (so the last
    # chunk answers 200); we stage chunks until the last (201 for a new file): same file.
    half = len(data) // 2 - 1
    chunks = [base64.encodebytes(data[:half]).decode(), base64.encodebytes(data[half:]).decode()]
    for number, chunk in zip((1, -1), chunks, strict=True):
        model = {"type": "file", "format": "base64", "content": chunk, "chunk": number}
        ours, theirs = await both.each("PUT", "chunked.bin", model)
        assert ours.status in (200, 201) and theirs.status in (200, 201), (ours, theirs)
    got = await both("GET", "chunked.bin")
    assert base64.b64decode(got["content"]) == data

    # Garbage: both refuse what cannot be base64 at all…
    for content in ("not base64 at all!", "a"):
        await both("PUT", "bad.bin", {"type": "file", "format": "base64", "content": content})
    # …but Jupyter drops characters outside the alphabet and saves what is left (here an empty
    # or a truncated file); we refuse, saying why.
    for content in ("%%%%", "aGk=aGk=", "aGVsbG8_-w=="):
        ours, theirs = await both.each(
            "PUT", "bad.bin", {"type": "file", "format": "base64", "content": content}
        )
        assert (ours.status, theirs.status) == (400, 201), (content, ours, theirs)
        assert "not valid base64" in ours.message
        await both.theirs.call("DELETE", "bad.bin")
    for number, content in ((1, "aGk=\n"), (-1, "%%%%")):
        model = {"type": "file", "format": "base64", "content": content, "chunk": number}
        ours = await both.ours.call("PUT", "bad-chunks.bin", model)
        assert ours.status == (201 if number == 1 else 400), ours
    assert (await both.ours.call("GET", "bad-chunks.bin")).status == 404  # nothing written


async def test_copies_land_where_jupyters_do(both: Both) -> None:
    """Files and folders, into existing, missing and own folders, and the second copy's name."""
    await both("PUT", "foo", {"type": "directory"})
    await both("PUT", "foo/x.txt", text("x"))
    await both("PUT", "a.txt", text("a"))
    steps: list[tuple[str, str, str]] = [
        # (target folder or path, copy_from, what Jupyter makes)
        ("parent", "foo", "parent/foo"),  # a missing folder: the copy goes inside it
        ("parent", "foo", "parent/foo-Copy1"),
        ("parent", "foo", "parent/foo-Copy2"),
        ("p2/deeper", "foo", "p2/deeper/foo"),  # missing folders are made
        ("", "foo", "foo-Copy1"),
        ("foo", "foo", "foo/foo"),  # into itself: what it held before the copy
        ("parent", "a.txt", "parent/a.txt"),
        ("parent", "a.txt", "parent/a-Copy1.txt"),
        ("parent", "parent/a-Copy1.txt", "parent/a-Copy2.txt"),  # "-Copy1" is not repeated
        ("", "a.txt", "a-Copy1.txt"),
        ("new.txt", "a.txt", "new.txt"),  # a file to a new path: that path
    ]
    for target, source, made in steps:
        copied = await both("POST", target, {"copy_from": source})
        assert copied["path"] == made, (target, source, copied)

    await both("PUT", "nb.ipynb", {"type": "notebook", "content": NOTEBOOK})
    await both("PUT", "t.tar.gz", text("t"))
    await both("PUT", "lib-Copy1.d", {"type": "directory"})
    for source, made in [
        ("nb.ipynb", "nb-Copy1.ipynb"),
        ("nb-Copy1.ipynb", "nb-Copy2.ipynb"),
        ("t.tar.gz", "t-Copy1.tar.gz"),
        ("lib-Copy1.d", "lib.d"),
    ]:
        assert (await both("POST", "", {"copy_from": source}))["path"] == made

    await both("POST", "nodir/new.txt", {"copy_from": "a.txt"})  # 404: no such folder
    await both("POST", "parent", {"copy_from": "missing.txt"})  # 404
    await both("POST", "a.txt", {"copy_from": "foo"})  # 400: a file is no folder

    # The two trees are the same, folder by folder, file by file.
    folders = [""]
    while folders:
        listing = await both("GET", folders.pop())
        for item in listing["content"]:
            if item["type"] == "directory":
                folders.append(item["path"])
            else:
                await both("GET", item["path"])
