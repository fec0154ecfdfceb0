"""A re-released starter file the student had changed: the three versions, then settled.

Over HTTP, on SQLite and PostgreSQL. sam (the server's own user, so his files go through the
contents API) changes four starter files; alan fixes all four and releases again; sam's
are kept and listed. sam reads each file's base, his version and the new one, then keeps
his, takes the new one and saves a merge. Refusals: other people's files, unknown paths,
bad choices, a merge opened before a later edit; none of them changes a file or the notice.
"""

from __future__ import annotations

import json
from typing import Any

from .test_ai_common import HubLikeIdentity, make_course
from .test_classroom_api import (  # noqa: F401 - fixtures used by name
    USERS,
    Client,
    cell,
    ide_db_url,
    jp_server_config,
    judge_dir,
    notebook,
    read_own,
    write,
)

COURSE, NAME = "cs-merge", "fix"
FOLDER = f"assignments/{COURSE}/{NAME}"
MERGE = (COURSE, "assignments", NAME, "merge")
CODE = "def area(w, h):\n    # BEGIN SOLUTION\n    return w * h\n    # END SOLUTION\n"
CODE_FIXED = '"""Areas."""\n\n\n' + CODE
NOTES, NOTES_FIXED = "Read me.\n", "Read me, fixed.\n"
DATA, DATA_FIXED = "1 2\n", "1 2 3\n"


def _nb(*cells: dict[str, Any]) -> str:
    """A notebook's text, each cell with an id (as nbformat 4.5 wants)."""
    return notebook([{**c, "id": f"c{i}"} for i, c in enumerate(cells)]).decode()


NB = _nb(cell("code", "x = 1\n"))
NB_FIXED = _nb(cell("markdown", "Fixed."), cell("code", "x = 1\n"))
NB_MINE = _nb(cell("code", "x = 2\n"))


async def test_kept_files_are_merged_never_overwritten(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Base, theirs and new are served for kept files only; each choice settles one file."""
    HubLikeIdentity.USERS.update({**USERS, "eve": "student"})
    api = Client(jp_fetch)
    await make_course(jp_serverapp, COURSE, ["sam", "ada"], ["alan"])
    await make_course(jp_serverapp, "other-course", ["eve"])
    starters = (("shapes.py", CODE), ("notes.md", NOTES), ("data.txt", DATA), ("nb.ipynb", NB))
    for path, text in starters:
        await write(jp_serverapp, "alan", f"{NAME}/{path}", text.encode())
    body = {"name": NAME, "folder": NAME, "language": "python"}
    await api.ok("alan", "POST", COURSE, "assignments", body=body)
    first = await api.ok("alan", "POST", COURSE, "assignments", NAME, "release")
    everything = ["data.txt", "nb.ipynb", "notes.md", "shapes.py"]
    assert sorted(first["students"]["sam"]["written"]) == everything
    given = await read_own(jp_fetch, "sam", f"{FOLDER}/shapes.py")
    assert "YOUR CODE HERE" in given and "w * h" not in given

    mine = "def area(w, h):\n    return w * h  # sam\n"
    edits = (("shapes.py", mine), ("notes.md", "My notes.\n"), ("data.txt", "9\n"))
    for path, text in (*edits, ("nb.ipynb", NB_MINE)):
        await write(jp_serverapp, "sam", f"{FOLDER}/{path}", text.encode())
    fixes = (("shapes.py", CODE_FIXED), ("notes.md", NOTES_FIXED), ("data.txt", DATA_FIXED))
    for path, text in (*fixes, ("nb.ipynb", NB_FIXED)):
        await write(jp_serverapp, "alan", f"{NAME}/{path}", text.encode())
    await api.ok("alan", "PATCH", COURSE, "assignments", NAME, body={"refresh": True})
    again = await api.ok("alan", "POST", COURSE, "assignments", NAME, "release")
    assert again["students"]["sam"]["kept"] == dict.fromkeys(everything, 2)
    assert sorted(again["students"]["ada"]["written"]) == everything
    assert await read_own(jp_fetch, "sam", f"{FOLDER}/shapes.py") == mine  # never overwritten

    view = await api.ok("sam", "GET", COURSE, "assignments", NAME, "merge", path="shapes.py")
    assert view["base"] == given and view["theirs"] == mine and view["version"] == 2
    assert view["new"].startswith('"""Areas."""') and "YOUR CODE HERE" in view["new"]
    assert "w * h\n    # END" not in view["new"]  # the solution stays stripped

    # Refused: nothing kept for ada, another course's student, unknown paths, bad bodies.
    for who, path, status in (
        ("ada", "shapes.py", 404),
        ("alan", "shapes.py", 404),
        ("eve", "shapes.py", 403),
        ("sam", "SECRET_not_a_file.py", 404),
        ("sam", "", 400),
    ):
        code, answer, _ = await api.call(
            who, "GET", COURSE, "assignments", NAME, "merge", path=path
        )
        assert code == status, (who, path, code, answer)
        assert "SECRET" not in str(answer)
    bad_bodies: list[tuple[Any, int]] = [
        ([], 400),
        ({"path": "shapes.py", "choice": "mine"}, 400),
        ({"path": "shapes.py", "choice": "merged"}, 400),
        ({"path": "shapes.py", "choice": "merged", "content": 3}, 400),
        ({"path": "shapes.py", "choice": "new", "theirs_hash": 5}, 400),
        ({"path": "nope.py", "choice": "new"}, 404),
        ({"path": "shapes.py", "choice": "new", "theirs_hash": "0" * 64}, 409),
        ({"path": "nb.ipynb", "choice": "merged", "content": '{"cells": ['}, 400),
    ]
    for bad, status in bad_bodies:
        code, answer, _ = await api.call(
            "sam", "POST", COURSE, "assignments", NAME, "merge", body=bad
        )
        assert code == status, (bad, code, answer)
        assert answer["message"], answer
    code, _, _ = await api.call(
        "ada",
        "POST",
        COURSE,
        "assignments",
        NAME,
        "merge",
        body={"path": "shapes.py", "choice": "new"},
    )
    assert code == 404
    assert await read_own(jp_fetch, "sam", f"{FOLDER}/shapes.py") == mine
    notice = (await api.ok("sam", "GET", COURSE, "assignments", NAME))["notice"]
    assert notice["kept"] == everything
    assert "x = 2" in await read_own(jp_fetch, "sam", f"{FOLDER}/nb.ipynb")

    # Settled one by one: a merge (edited text), the new version, and his own kept.
    merged = '"""Areas."""\n\n\n' + mine
    done = await api.ok(
        "sam",
        "POST",
        COURSE,
        "assignments",
        NAME,
        "merge",
        body={
            "path": "shapes.py",
            "choice": "merged",
            "content": merged,
            "theirs_hash": view["theirs_hash"],
        },
    )
    assert done["written"] is True and done["kept"] == ["data.txt", "nb.ipynb", "notes.md"]
    assert await read_own(jp_fetch, "sam", f"{FOLDER}/shapes.py") == merged
    took = await api.ok(
        "sam",
        "POST",
        COURSE,
        "assignments",
        NAME,
        "merge",
        body={"path": "notes.md", "choice": "new"},
    )
    assert took["written"] is True
    assert await read_own(jp_fetch, "sam", f"{FOLDER}/notes.md") == NOTES_FIXED
    nb = await api.ok("sam", "GET", *MERGE, path="nb.ipynb")
    assert "Fixed." in nb["new"] and "x = 2" in nb["theirs"]
    new_cells, my_cells = json.loads(nb["new"])["cells"], json.loads(nb["theirs"])["cells"]
    my_cells = [{**c, "id": f"mine-{i}"} for i, c in enumerate(my_cells)]
    both = json.dumps({**json.loads(nb["new"]), "cells": new_cells[:1] + my_cells})
    settled = await api.ok(
        "sam", "POST", *MERGE, body={"path": "nb.ipynb", "choice": "merged", "content": both}
    )
    assert settled["written"] is True and settled["kept"] == ["data.txt"]
    settled_nb = await read_own(jp_fetch, "sam", f"{FOLDER}/nb.ipynb")
    assert "Fixed." in settled_nb and "x = 2" in settled_nb
    kept = await api.ok(
        "sam",
        "POST",
        COURSE,
        "assignments",
        NAME,
        "merge",
        body={"path": "data.txt", "choice": "theirs"},
    )
    assert kept == {
        "path": "data.txt",
        "folder": FOLDER,
        "choice": "theirs",
        "version": 2,
        "written": False,
        "kept": [],
    }
    assert await read_own(jp_fetch, "sam", f"{FOLDER}/data.txt") == "9\n"
    assert (await api.ok("sam", "GET", COURSE, "assignments", NAME))["notice"] is None
    gone = await api.call("sam", "GET", COURSE, "assignments", NAME, "merge", path="shapes.py")
    assert gone[0] == 404

    # Released again unchanged: what sam settled is not flagged again, nor overwritten.
    third = await api.ok("alan", "POST", COURSE, "assignments", NAME, "release")
    assert third["students"]["sam"]["kept"] == {} and third["students"]["sam"]["written"] == []
    assert (await api.ok("sam", "GET", COURSE, "assignments", NAME))["notice"] is None
    assert await read_own(jp_fetch, "sam", f"{FOLDER}/data.txt") == "9\n"
