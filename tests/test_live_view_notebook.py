"""Notebooks in the live view (issue #16): a notebook's room holds jupyter_ydoc's YNotebook
layout; a student's cells, their typing, outputs and execution counts reach the instructor;
a viewer's changes are dropped by the server; bad notebooks on disk and a writer breaking the
layout leave a clear state, never a crash. Raw pycrdt clients over the real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from pycrdt import Array, Doc, Map, Text, create_update_message
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_ide.classroom.handlers import CLASSROOM
from jupyter_ide.classroom.live_client import LivePeer, connect
from jupyter_ide.classroom.live_documents import read_notebook
from jupyter_ide.classroom.live_handlers import LIVE

from .test_ai_common import HubLikeIdentity, as_user, make_course

USERS = {"ida": "instructor", "ola": "instructor", "ann": "student", "bob": "student"}
NB = "lab1/nb.ipynb"
OWN = "classroom/live/socket"
VIEW = "classroom/c1/live/ann/socket"
SAVED = {
    "cells": [
        {
            "id": "a",
            "cell_type": "markdown",
            "metadata": {},
            "source": ["# Lab 1\n", "Square numbers."],
        },
        {
            "id": "b",
            "cell_type": "code",
            "metadata": {},
            "execution_count": 3,
            "source": "print(3 * 3)",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["9\n"]}],
        },
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture
def ide_db_url(pg_database_url: str) -> str:
    """The live view's state lives in PostgreSQL, as in a deployment."""
    return pg_database_url


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Hub-like users signed in by their test tokens."""
    HubLikeIdentity.USERS.update(USERS)
    return {
        **jp_server_config,
        "ServerApp": {
            **jp_server_config["ServerApp"],
            "identity_provider_class": HubLikeIdentity,
        },
        "LiveSettings": {"room_idle_seconds": 0.5},
    }


@pytest.fixture
def api(http_server: Any, jp_http_port: int, jp_base_url: str) -> Iterator[Any]:
    """Call /ide/api/... as someone; open live sockets as someone."""
    client = AsyncHTTPClient(force_instance=True)
    base = f"127.0.0.1:{jp_http_port}{jp_base_url}ide/api/"

    async def call(who: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = await client.fetch(
            f"http://{base}{path}",
            method=method,
            body=None if body is None else json.dumps(body),
            headers=as_user(who),
            raise_error=False,
        )
        return response.code, json.loads(response.body or b"null")

    async def live(who: str | None, path: str, file: str = NB) -> LivePeer:
        url = f"ws://{base}{path}?path={quote(file)}&owner=ann"
        return await connect(url, as_user(who) if who else {})

    call.live = live  # type: ignore[attr-defined]
    yield call
    client.close()


async def save(app: Any, data: bytes, path: str = NB) -> None:
    """Save ``data`` as ann's ``path``, as her editor would."""
    files = app.web_app.settings[CLASSROOM].assignments.files
    content_hash, size = await files.put(data, "ann")
    await files.write("ann", path, content_hash, size, "save")


async def setup(app: Any, saved: bytes = json.dumps(SAVED).encode()) -> None:
    """c1: ida teaches ann and bob; c2: ola; ann has a saved notebook."""
    await make_course(app, "c1", ["ann", "bob"], ["ida"])
    await make_course(app, "c2", [], ["ola"])
    await save(app, saved)


def cells(peer: LivePeer) -> Array[Any]:
    """The peer's Y.Array of cells."""
    array: Array[Any] = peer.doc.get("cells", type=Array)
    return array


def ycell(cell_id: str, source: str, cell_type: str = "code") -> Map[Any]:
    """A cell as a notebook editor puts it in the document (YNotebook's layout)."""
    return Map(
        {
            "id": cell_id,
            "cell_type": cell_type,
            "source": Text(source),
            "metadata": Map(),
            "outputs": Array(),
            "execution_count": None,
        }
    )


def sources(peer: LivePeer) -> list[str]:
    """The sources of the notebook the peer's document shows."""
    return [c["source"] for c in peer.notebook()["cells"]]


async def test_a_students_cells_typing_and_outputs_reach_the_instructor(
    jp_serverapp: Any, api: Any
) -> None:
    """Seeded from the saved .ipynb (sources, outputs, counts); the student's editor takes the
    room over; each keystroke in a cell, an insert, a delete, a move, a type change, outputs
    and execution counts reach the viewer within 2 s; the viewer's edits and a forged cell
    insert are dropped; the student's room names the viewer."""
    await setup(jp_serverapp)
    ida = await api.live("ida", VIEW)
    shown = ida.notebook()
    assert shown["error"] is None
    assert [(c["id"], c["cell_type"], c["source"]) for c in shown["cells"]] == [
        ("a", "markdown", "# Lab 1\nSquare numbers."),
        ("b", "code", "print(3 * 3)"),
    ]
    assert shown["cells"][1]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "9\n"}
    ]
    assert shown["cells"][1]["execution_count"] == 3

    ann = await api.live("ann", OWN)
    assert len(cells(ann)) == 0  # a fresh editor, alone: it puts its own cells in
    with ann.doc.transaction():
        cells(ann).extend([ycell("a", "# Lab 1", "markdown"), ycell("b", "x = 2")])
    await ida.wait_for(lambda: sources(ida) == ["# Lab 1", "x = 2"], timeout=2.0)

    loop = asyncio.get_running_loop()
    code = cells(ann)[1]["source"]
    for i in range(5):  # keystrokes in a cell, one by one
        sent = loop.time()
        code.insert(len(str(code)), f"{i}")
        await ida.wait_for(lambda i=i: sources(ida)[1].endswith(f"{i}"), timeout=2.0)
        assert loop.time() - sent < 2.0

    cells(ann).insert(1, ycell("c", "y = 1"))  # insert
    await ida.wait_for(lambda: sources(ida) == ["# Lab 1", "y = 1", "x = 201234"], timeout=2.0)
    cells(ann)[0]["cell_type"] = "raw"  # type change
    await ida.wait_for(lambda: ida.notebook()["cells"][0]["cell_type"] == "raw", timeout=2.0)
    with ann.doc.transaction():  # a move, as editors make it: delete and insert
        del cells(ann)[1]
        cells(ann).append(ycell("c", "y = 1"))
    await ida.wait_for(lambda: sources(ida) == ["# Lab 1", "x = 201234", "y = 1"], timeout=2.0)
    del cells(ann)[0]  # delete
    await ida.wait_for(lambda: sources(ida) == ["x = 201234", "y = 1"], timeout=2.0)

    run = cells(ann)[0]  # a run: outputs and the execution count
    with ann.doc.transaction():
        run["outputs"].append(Map({"output_type": "stream", "name": "stdout", "text": Text("4\n")}))
        run["outputs"].append(
            Map({"output_type": "execute_result", "data": Map({"text/plain": "4"})})
        )
        run["execution_count"] = 7
    await ida.wait_for(lambda: ida.notebook()["cells"][0]["execution_count"] == 7, timeout=2.0)
    assert ida.notebook()["cells"][0]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "4\n"},
        {"output_type": "execute_result", "data": {"text/plain": "4"}},
    ]
    await ann.wait_for(lambda: ann.viewers() == ["ida"])

    # The viewer edits its copy and inserts a cell: the server drops both.
    cells(ida)[0]["source"].insert(0, "HACKED ")
    cells(ida).append(ycell("evil", "import os"))
    forged: Doc[Any] = Doc()
    forged.get("cells", type=Array).append(ycell("forged", "FORGED"))
    ida.connection.write_message(create_update_message(forged.get_update()), binary=True)
    cells(ann)[1]["source"].insert(0, "@")  # a later keystroke still arrives
    await ida.wait_for(lambda: any(s.startswith("@") for s in sources(ida)), timeout=2.0)
    room = jp_serverapp.web_app.settings[LIVE].rooms.rooms[("ann", NB)]
    held = [c["source"] for c in read_notebook(room.yroom.ydoc)["cells"]]
    assert held == sources(ann) == ["x = 201234", "@y = 1"]
    assert sum(p.dropped for p in room.peers if p.name == "ida") >= 2
    ida.close()
    ann.close()


async def test_refusals_still_apply_and_pair_editing_makes_the_viewer_a_writer(
    jp_serverapp: Any, api: Any
) -> None:
    """Another course's instructor, a classmate and anonymous callers are refused a notebook
    room; with pair editing on, the instructor's inserted cell reaches the student."""
    await setup(jp_serverapp)
    for who, path, want in (
        ("ola", "classroom/c1/live/ann/socket", 403),
        ("ola", "classroom/c2/live/ann/socket", 403),
        ("bob", "classroom/c1/live/ann/socket", 403),
        (None, "classroom/c1/live/ann/socket", 401),
    ):
        with pytest.raises(HTTPClientError) as refused:
            peer = await api.live(who, path)
            peer.close()
        assert refused.value.code in (want, 403), (who, path, refused.value.code)

    assert (await api("ida", "PUT", "classroom/c1/live/options", {"pair_editing": True}))[0] == 200
    ann = await api.live("ann", OWN)
    cells(ann).append(ycell("b", "x = 1"))
    ida = await api.live("ida", VIEW)
    await ida.wait_for(lambda: sources(ida) == ["x = 1"])
    cells(ida).append(ycell("t", "# from ida"))
    await ann.wait_for(lambda: sources(ann) == ["x = 1", "# from ida"], timeout=2.0)
    ida.close()
    ann.close()


async def test_bad_notebooks_on_disk_show_why_and_a_fixed_one_shows_again(
    jp_serverapp: Any, api: Any
) -> None:
    """Invalid JSON, nbformat 3, a cell without source and a notebook over the size limit
    each give the viewer an empty notebook and a clear message, on an open socket; once the
    file is fixed, a viewer joining sees its cells."""
    await setup(jp_serverapp, b'{"cells": [')
    cases = [
        (None, "not valid JSON"),
        (json.dumps({"cells": [], "nbformat": 3}).encode(), "nbformat 3"),
        (
            json.dumps(
                {**SAVED, "cells": [{"cell_type": "code", "outputs": [], "source": 3}]}
            ).encode(),
            "cell 1 has no valid source",
        ),
        (json.dumps({**SAVED, "metadata": {"pad": "x" * (4 * 1024 * 1024)}}).encode(), "larger"),
    ]
    for data, reason in cases:
        if data is not None:
            await save(jp_serverapp, data)
        ida = await api.live("ida", VIEW)
        shown = ida.notebook()
        assert shown["cells"] == [] and reason in (shown["error"] or ""), (reason, shown)
        ida.close()
        await asyncio.sleep(0.8)  # the room is freed: the next one is seeded anew
    await save(jp_serverapp, json.dumps(SAVED).encode())
    ida = await api.live("ida", VIEW)
    assert ida.notebook()["error"] is None and len(sources(ida)) == 2
    ida.close()


async def test_a_writer_breaking_the_layout_breaks_neither_the_view_nor_the_saved_file(
    jp_serverapp: Any, api: Any
) -> None:
    """A cell without source, a cell that is a string, a number as source and junk outputs
    show as empty cells to the viewer; later keystrokes still flow; the saved file is as it
    was; once the student leaves, a viewer joining gets the saved notebook again."""
    saved = json.dumps(SAVED).encode()
    await setup(jp_serverapp, saved)
    ann = await api.live("ann", OWN)
    ida = await api.live("ida", VIEW)
    with ann.doc.transaction():
        cells(ann).extend(
            [
                Map({"id": "x", "cell_type": "code"}),
                "not a cell",
                Map({"id": "y", "cell_type": "bogus", "source": 42, "outputs": "junk"}),
                ycell("z", "ok"),
            ]
        )
    await ida.wait_for(lambda: len(ida.notebook()["cells"]) == 3)
    assert [(c["cell_type"], c["source"], c["outputs"]) for c in ida.notebook()["cells"]] == [
        ("code", "", []),
        ("raw", "", []),
        ("code", "ok", []),
    ]
    cells(ann)[3]["source"].insert(2, "!")
    await ida.wait_for(lambda: sources(ida)[-1] == "ok!", timeout=2.0)
    ann.close()
    ida.close()
    room = jp_serverapp.web_app.settings[LIVE].rooms.rooms.get(("ann", NB))
    loop = asyncio.get_running_loop()
    end = loop.time() + 5
    while room and any(p.name == "ann" for p in room.peers) and loop.time() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    files = jp_serverapp.web_app.settings[CLASSROOM].assignments.files
    found = await files.current("ann", [NB])
    assert await files.read(found[NB]) == saved
    again = await api.live("ida", VIEW)
    assert sources(again) == ["# Lab 1\nSquare numbers.", "print(3 * 3)"]
    again.close()
