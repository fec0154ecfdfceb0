"""Named pair partners in the live view (issue #16) on PostgreSQL, with pycrdt peers: an
instructor pairs two students of a course; each edits the other's files live in the same room;
non-partners, other courses' people and anonymous callers are refused; pairs are listed per
course, ended, and every step is audited."""

from __future__ import annotations

from typing import Any

from . import test_live_view as live_view
from .test_live_view import SAVED, audit, refused, setup_courses

# The live view's fixtures: PostgreSQL, hub-like users, the judge, the API and socket caller.
api = live_view.api
ide_db_url = live_view.ide_db_url
jp_server_config = live_view.jp_server_config
judge_dir = live_view.judge_dir

PAIRS = "classroom/c1/live/pairs"


async def test_pairing_is_checked_listed_audited_and_undone(jp_serverapp: Any, api: Any) -> None:
    """Only c1's instructor pairs, only two different students of c1, each in one pair;
    instructors list every pair, a student their own partner; unpairing ends it."""
    await setup_courses(jp_serverapp)
    for body, status, words in (
        ({"students": ["ann", "ann"]}, 400, "themself"),
        ({"students": ["ann", "sue"]}, 403, "sue is not a member of c1"),
        ({"students": ["ann", "nobody"]}, 403, "nobody is not a member"),
        ({"students": ["ann", "ida"]}, 400, "ida is not a student"),
        ({"students": ["ann"]}, 400, "two user names"),
        ({"students": ["ann", 5]}, 400, "two user names"),
        ({"students": ["ann", "bob"], "x": 1}, 400, "students"),
        ([1], 400, "students"),
    ):
        code, reply = await api("ida", "POST", PAIRS, body)
        assert (code, words in reply["message"]) == (status, True), (body, code, reply)
    for who in ("ola", "bob"):  # another course's instructor; a student
        code, _ = await api(who, "POST", PAIRS, {"students": ["ann", "bob"]})
        assert code == 403, who
    code, _ = await api(None, "POST", PAIRS, {"students": ["ann", "bob"]})
    assert code in (401, 403)

    made = await api("ida", "POST", PAIRS, {"students": ["bob", "ann"]})
    assert made == (201, {"course": "c1", "students": ["ann", "bob"]})
    code, reply = await api("ida", "POST", PAIRS, {"students": ["ann", "bob"]})
    assert code == 409 and "already has a partner" in reply["message"]

    code, listed = await api("ida", "GET", PAIRS)
    assert code == 200 and [p["students"] for p in listed["pairs"]] == [["ann", "bob"]]
    assert listed["pairs"][0]["created_by"] == "ida"
    code, mine = await api("bob", "GET", PAIRS)
    assert code == 200 and mine["partner"] == "ann"
    assert (await api("ola", "GET", PAIRS))[0] == 403  # not a member of c1
    assert (await api("sue", "GET", PAIRS))[0] == 403

    assert (await api("bob", "DELETE", f"{PAIRS}/ann"))[0] == 403
    assert (await api("ola", "DELETE", f"{PAIRS}/ann"))[0] == 403
    assert (await api("ida", "DELETE", f"{PAIRS}/ann"))[0] == 204
    code, reply = await api("ida", "DELETE", f"{PAIRS}/bob")  # both sides went
    assert code == 404 and "no partner" in reply["message"]
    assert (await api("bob", "GET", PAIRS))[1]["partner"] is None
    added = await audit(jp_serverapp, "live_pair_added")
    removed = await audit(jp_serverapp, "live_pair_removed")
    assert [(e.user_name, e.detail["students"]) for e in added] == [("ida", ["ann", "bob"])]
    assert [(e.user_name, e.detail["student"]) for e in removed] == [("ida", "ann")]


async def test_partners_edit_each_others_files_in_the_same_room(
    jp_serverapp: Any, api: Any
) -> None:
    """bob, paired with ann, lists her files and writes in the room her editor is in (each
    sees the other's keystrokes, the room names bob); others stay refused; unpaired, bob is
    refused again."""
    await setup_courses(jp_serverapp)
    socket = "classroom/c1/live/ann/socket"
    assert await refused(api, "bob", socket) == 403  # not paired yet
    assert (await api("bob", "GET", "classroom/c1/live/ann/files"))[0] == 403
    assert (await api("ida", "POST", PAIRS, {"students": ["ann", "bob"]}))[0] == 201

    code, listing = await api("bob", "GET", "classroom/c1/live/ann/files")
    assert code == 200 and "lab1/f.py" in {f["path"] for f in listing["files"]}
    assert (await api("bob", "GET", "classroom/c1/live/ann/runs"))[0] == 403  # instructors'
    ann = await api.live("ann", "classroom/live/socket", "lab1/f.py", owner="ann")
    ann.type(0, SAVED)
    bob = await api.live("bob", socket, "lab1/f.py", owner="ann")
    await bob.wait_for(lambda: str(bob.text) == SAVED)
    bob.type(0, "# bob\n")
    await ann.wait_for(lambda: str(ann.text) == "# bob\n" + SAVED)
    ann.type(len(str(ann.text)), "# ann\n")
    await bob.wait_for(lambda: str(bob.text).endswith("# ann\n"))
    await ann.wait_for(lambda: ann.viewers() == ["bob"])  # who else is in her files
    await bob.wait_for(lambda: bob.viewers() == ["bob"])

    for who, course in (("sue", "c1"), ("sue", "c2"), ("ola", "c1"), ("ola", "c2")):
        assert await refused(api, who, f"classroom/{course}/live/ann/socket") == 403, who
    assert await refused(api, None, socket) in (401, 403)
    assert await refused(api, "ann", "classroom/c1/live/ida/socket") == 403  # no partner
    bob.close()
    ann.close()

    assert (await api("ida", "DELETE", f"{PAIRS}/bob"))[0] == 204
    assert await refused(api, "bob", socket) == 403
    assert (await api("bob", "GET", "classroom/c1/live/ann/files"))[0] == 403
    opened = await audit(jp_serverapp, "live_view_opened")
    assert [(e.user_name, e.detail["writable"], e.detail["partner"]) for e in opened] == [
        ("bob", True, True)
    ]
