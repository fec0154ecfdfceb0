"""Hostile input to the contents API: each a clear 4xx, and nothing written."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.contents_manager import IDEContentsManager

from .conftest import SMALL_FILE_LIMIT


@pytest.fixture
def ws(jp_serverapp: Any) -> Path:
    """The materialised workspace folder, where saved files appear on disk."""
    cm = jp_serverapp.contents_manager
    assert isinstance(cm, IDEContentsManager)
    return cm.workspace_dir


async def _write(jp_fetch: Any, path: str, data: bytes) -> None:
    """Save ``data`` at ``path`` through the API."""
    model = {"type": "file", "format": "base64", "content": base64.b64encode(data).decode()}
    await jp_fetch("api", "contents", path, method="PUT", body=json.dumps(model))


async def _put(jp_fetch: Any, path: str, model: dict[str, Any]) -> Any:
    """PUT a model to /api/contents/<path>, given already URL-encoded."""
    return await jp_fetch("api", "contents", path, method="PUT", body=json.dumps(model))


async def _expect(code: int, call: Any) -> str:
    """Await ``call``, expect an HTTP error ``code``, return its message."""
    with pytest.raises(HTTPClientError) as e:
        await call
    assert e.value.code == code, e.value
    assert e.value.response is not None
    message = json.loads(e.value.response.body)["message"]
    assert message
    return str(message)


def _tree(root: Path) -> set[str]:
    """Every path under ``root``, but the server's own state and the judge's work folders.

    The judge prepares its sandboxes in the background when the server starts, so its folder
    may grow while a request is refused; it is not where refused writes could land.
    """
    judge = ("data", "jupyter_ide", "judge")
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.relative_to(root).parts[0] != "state" and p.relative_to(root).parts[:3] != judge
    }


TRAVERSALS = [
    "..%2Fescape.txt",
    "%2e%2e%2Fescape.txt",
    "%252e%252e%252fescape.txt",
    "a%2F..%2F..%2Fescape.txt",
    "..%5Cescape.txt",
    "%2F%2Fetc%2Fpasswd",
    "C%3A%5Cescape.txt",
    "bad%00name.txt",
    "new%0Aline.txt",
]


@pytest.mark.parametrize("encoded", TRAVERSALS)
async def test_path_traversal_is_refused(jp_fetch: Any, jp_root_dir: Path, encoded: str) -> None:
    """Traversal, absolute, encoded and control-character paths get 400 and write nothing."""
    before = _tree(jp_root_dir.parent)
    model = {"type": "file", "format": "text", "content": "pwned"}
    await _expect(400, _put(jp_fetch, encoded, model))
    await _expect(400, jp_fetch("api", "contents", encoded))
    assert _tree(jp_root_dir.parent) == before


async def test_rename_out_of_the_root_is_refused(jp_fetch: Any, ws: Path) -> None:
    """A rename whose target leaves the root is refused and the file stays."""
    await _write(jp_fetch, "keep.txt", b"mine")
    for target in ("../keep.txt", "//tmp/keep.txt", "a/../../keep.txt"):
        message = await _expect(
            400,
            jp_fetch(
                "api", "contents", "keep.txt", method="PATCH", body=json.dumps({"path": target})
            ),
        )
        assert "path" in message.lower()
    assert (ws / "keep.txt").read_text() == "mine"


async def test_oversize_save_is_refused_and_keeps_the_old_file(jp_fetch: Any, ws: Path) -> None:
    """A save beyond the size limit is 413 and the previous content survives."""
    await _write(jp_fetch, "big.txt", b"old")
    model = {"type": "file", "format": "text", "content": "x" * (SMALL_FILE_LIMIT + 1)}
    message = await _expect(413, _put(jp_fetch, "big.txt", model))
    assert str(SMALL_FILE_LIMIT) in message
    assert (ws / "big.txt").read_text() == "old"
    encoded = base64.b64encode(b"y" * (SMALL_FILE_LIMIT + 1)).decode()
    await _expect(
        413, _put(jp_fetch, "new.bin", {"type": "file", "format": "base64", "content": encoded})
    )
    assert not (ws / "new.bin").exists()
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("api", "contents", "new.bin")
    assert missing.value.code == 404


async def test_oversize_chunked_upload_is_refused_and_leaves_nothing(
    jp_fetch: Any, ws: Path, jp_data_dir: Path
) -> None:
    """A chunked upload that grows past the limit stops with 413; nothing is left behind."""
    await _write(jp_fetch, "up.bin", b"previous")
    half = base64.b64encode(b"z" * (SMALL_FILE_LIMIT // 2 + 10)).decode()
    chunk = {"type": "file", "format": "base64", "content": half}
    await _put(jp_fetch, "up.bin", {**chunk, "chunk": 1})
    assert (ws / "up.bin").read_bytes() == b"previous"
    await _expect(413, _put(jp_fetch, "up.bin", {**chunk, "chunk": -1}))
    assert (ws / "up.bin").read_bytes() == b"previous"
    assert _tree(ws) == {"up.bin"}
    assert not list((jp_data_dir / "jupyter_ide" / "uploads").iterdir())


async def test_chunked_upload_replaces_the_file_only_when_complete(jp_fetch: Any, ws: Path) -> None:
    """Chunks build up in a staging file outside the workspace; the last one stores it."""
    await _write(jp_fetch, "data.bin", b"old")
    parts = [b"a" * 1000, b"b" * 1000, b"c" * 500]
    for number, part in zip((1, 2, -1), parts, strict=True):
        if number == -1:
            assert (ws / "data.bin").read_bytes() == b"old"
        model = {"type": "file", "format": "base64", "content": base64.b64encode(part).decode()}
        response = await _put(jp_fetch, "data.bin", {**model, "chunk": number})
        assert response.code in (200, 201)
    assert (ws / "data.bin").read_bytes() == b"".join(parts)
    assert _tree(ws) == {"data.bin"}


async def test_chunk_without_a_start_is_refused(jp_fetch: Any, ws: Path) -> None:
    """A chunk 2 with no chunk 1 before it is a 400."""
    model = {"type": "file", "format": "text", "content": "x", "chunk": 2}
    await _expect(400, _put(jp_fetch, "orphan.txt", model))
    assert not (ws / "orphan.txt").exists()


MALFORMED_NOTEBOOKS: list[dict[str, Any]] = [
    {"type": "notebook", "content": "not a notebook"},
    {"type": "notebook", "content": {"cells": "nope"}},
    {
        "type": "notebook",
        "content": {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [{"cell_type": "code"}],
        },
    },
    {"type": "file", "format": "text", "content": "{ this is not json"},
    {"type": "file", "format": "text", "content": '{"cells": []}'},
]


@pytest.mark.parametrize("model", MALFORMED_NOTEBOOKS)
async def test_malformed_notebook_is_refused_and_keeps_the_old_one(
    jp_fetch: Any, ws: Path, model: dict[str, Any]
) -> None:
    """Malformed notebook JSON is a 400 that names the problem; the saved notebook stays."""
    good = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}
    await _put(jp_fetch, "nb.ipynb", {"type": "notebook", "content": good})
    saved = (ws / "nb.ipynb").read_bytes()
    message = await _expect(400, _put(jp_fetch, "nb.ipynb", model))
    assert "notebook" in message.lower()
    assert (ws / "nb.ipynb").read_bytes() == saved


async def test_a_valid_notebook_round_trips(jp_fetch: Any) -> None:
    """The checks let a normal notebook through."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "source": "print(1)",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    await _put(jp_fetch, "ok.ipynb", {"type": "notebook", "content": notebook})
    response = await jp_fetch("api", "contents", "ok.ipynb")
    assert json.loads(response.body)["content"]["cells"][0]["source"] == "print(1)"
