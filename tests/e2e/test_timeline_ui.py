"""The activity timeline and replay in /ide: a paste in the editor shows on the instructor's
timeline, named as a paste from the workspace file it came from; the replay scrubber steps
through the file's saved versions in a read-only editor; a new event appears on the open
timeline without a reload.

Two real server processes on one database and one blob store, as a hub's user servers are:
sam's (the student) and alan's (the instructor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import IDEServer, shot
from .test_course_choice_ui import _call, _hub_like_server, _sign_in

pytestmark = pytest.mark.e2e

USERS = {"sam": "student", "alan": "instructor", "root": "admin"}
COURSE = "cs-activity"
HELPER = "".join(f"def helper_{i}(x):\n    return x * {i} + {i * 7}\n\n" for i in range(30))
PASTED = HELPER[:500]
FIRST = "print('first')\n"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, IDEServer]]:
    """alan's server and sam's, sharing the database and the blob store."""
    shared = tmp_path_factory.mktemp("e2e-activity")
    storage = (shared / "blobs").as_uri()
    db = f"sqlite:///{shared / 'ide.db'}"

    def config(owner: str) -> dict[str, Any]:
        return {
            "ServerApp": {"identity_provider_class": "tests.e2e.course_users.CourseUsersIdentity"},
            "CourseUsersIdentity": {"users": USERS},
            "IDESettings": {"db_url": db, "storage_url": storage},
            "IDEContentsManager": {"owner": owner},
        }

    def fresh(path: Path) -> Path:
        path.mkdir()
        return path

    with _hub_like_server(fresh(shared / "alan"), config("alan")) as alan:
        with _hub_like_server(fresh(shared / "sam"), config("sam")) as sam:
            yield {"alan": alan, "sam": sam}


def paste(page: Page, editor: str, text: str) -> None:
    """Paste ``text`` into the Monaco editor with Ctrl+V, through the system clipboard."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.locator(f"{editor} .monaco-editor .view-lines").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+v")


def test_a_paste_shows_on_the_timeline_and_replay_steps_through_versions(
    browse: Callable[[IDEServer, str], Page], servers: dict[str, IDEServer]
) -> None:
    """sam pastes 500 characters of helper.py into main.py and saves twice; alan's timeline
    shows the paste from helper.py; the scrubber shows each saved version in turn."""
    alan, sam = servers["alan"], servers["sam"]
    for who in ("alan", "sam"):
        _sign_in(sam, who)
    _sign_in(alan, "alan")
    _call(sam, "root", "POST", "/ide/api/courses", {"name": COURSE, "title": "Activity"})
    _call(sam, "root", "PUT", f"/ide/api/courses/{COURSE}/members/alan", {"role": "instructor"})
    _call(sam, "root", "PUT", f"/ide/api/courses/{COURSE}/members/sam", {"role": "student"})
    for path, text in (("helper.py", HELPER), ("main.py", FIRST)):
        body = {"type": "file", "format": "text", "content": text}
        _call(sam, "sam", "PUT", f"/api/contents/{path}", body)

    page = browse(sam, "sam")
    page.get_by_test_id("explorer-item-main.py").click()
    editor = '[data-testid="editor-main.py"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("print('first')")
    paste(page, editor, PASTED)
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("def helper_0(x):")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0, timeout=15_000)
    page.keyboard.press("Control+Home")  # at the top: the replay's editor shows it in view
    page.keyboard.type("print('third')\n")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0, timeout=15_000)

    teacher = browse(alan, "alan")
    teacher.get_by_test_id("open-activity").click()
    board = teacher.get_by_test_id("lab-dashboard")
    row = board.get_by_test_id("lab-row-sam")
    expect(row).to_contain_text("main.py", timeout=30_000)  # sam's presence: the open file
    row.get_by_role("button", name="sam").click()
    timeline = teacher.get_by_test_id("timeline")
    pasted = timeline.get_by_test_id("timeline-paste")
    expect(pasted).to_have_count(1, timeout=15_000)
    expect(pasted).to_contain_text("pasted 500 characters from helper.py")
    # The two saves in /ide (those made before sam opened /ide were in no course yet).
    expect(timeline.get_by_test_id("timeline-save")).to_have_count(2)
    shot(teacher, "timeline-00-paste")

    pasted.get_by_role("button", name="main.py").click()
    replay = teacher.get_by_test_id("replay")
    label = replay.get_by_test_id("replay-label")
    expect(label).to_contain_text("version 3 of 3")
    lines = replay.locator(".view-lines")
    expect(lines).to_contain_text("print('third')")
    scrubber = replay.get_by_test_id("replay-scrubber")
    scrubber.focus()
    teacher.keyboard.press("Home")
    expect(label).to_contain_text("version 1 of 3")
    expect(lines).to_contain_text("print('first')")
    expect(lines).not_to_contain_text("def helper_0")
    teacher.keyboard.press("ArrowRight")
    expect(label).to_contain_text("version 2 of 3")
    expect(lines).to_contain_text("def helper_0(x):")
    expect(lines).not_to_contain_text("print('third')")
    shot(teacher, "timeline-01-replay")
    teacher.keyboard.press("ArrowRight")
    expect(label).to_contain_text("version 3 of 3")
    expect(lines).to_contain_text("print('third')")

    # Live refresh: sam saves again; the save appears on alan's open timeline by itself (it
    # polls with If-None-Match: unchanged answers are 304s), no reload, no Refresh click.
    body = {"type": "file", "format": "text", "content": "print('fourth')\n"}
    _call(sam, "sam", "PUT", "/api/contents/main.py", body)
    expect(timeline.get_by_test_id("timeline-save")).to_have_count(3, timeout=15_000)
