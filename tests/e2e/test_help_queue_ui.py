"""The help queue in /ide: a student raises a hand from the editor, the instructor answers.

Two real server processes on one database and one blob store, as a hub's user servers are:
sam's (the student) and alan's (the instructor). sam opens his file, puts the cursor on line
2 and raises his hand from the Help panel, linked to that file and line; he sees that he is
next. alan's Help panel lists the request with its waiting time; one click opens sam's file,
read-only, at that line; alan returns it with a note, which sam then reads, his hand down.
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
COURSE = "cs-help"
LOOP = "def count(n):\n    while n > 0:\n        print(n)\n"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, IDEServer]]:
    """alan's server and sam's, sharing the database and the blob store."""
    shared = tmp_path_factory.mktemp("e2e-help")
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


def test_raise_a_hand_from_the_editor_and_answer_it(
    browse: Callable[[IDEServer, str], Page], servers: dict[str, IDEServer]
) -> None:
    """Raise with the file and line; the instructor sees it waiting, opens the file at the
    line, returns it with a note; the student reads the note."""
    alan, sam = servers["alan"], servers["sam"]
    for who in ("alan", "sam"):
        _sign_in(sam, who)
    _sign_in(alan, "alan")
    _call(sam, "root", "POST", "/ide/api/courses", {"name": COURSE, "title": "Help"})
    _call(sam, "root", "PUT", f"/ide/api/courses/{COURSE}/members/alan", {"role": "instructor"})
    _call(sam, "root", "PUT", f"/ide/api/courses/{COURSE}/members/sam", {"role": "student"})
    _call(
        sam,
        "sam",
        "PUT",
        "/api/contents/loop.py",
        {"type": "file", "format": "text", "content": LOOP},
    )

    page = browse(sam, "sam")
    page.get_by_test_id("explorer-item-loop.py").click()
    editor = '[data-testid="editor-loop.py"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("while n > 0")
    page.locator(f"{editor} .monaco-editor .view-lines").first.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.get_by_test_id("open-help").click()
    help_panel = page.get_by_test_id("help-panel")
    expect(help_panel.get_by_test_id("help-position")).to_have_text("Your hand is not raised.")
    expect(help_panel.get_by_test_id("help-link-file").locator("xpath=..")).to_contain_text(
        "loop.py, line 2"
    )
    help_panel.get_by_test_id("help-message").fill("My loop never ends")
    help_panel.get_by_test_id("help-raise").click()
    expect(help_panel.get_by_test_id("help-position")).to_have_text("You are next in the queue.")
    expect(help_panel.get_by_test_id("help-open")).to_contain_text("loop.py:2")
    shot(page, "help-00-raised")

    teacher = browse(alan, "alan")
    teacher.get_by_test_id("open-help").click()
    queue = teacher.get_by_test_id("help-queue")
    request = queue.get_by_test_id("help-request")
    expect(request).to_have_count(1)
    expect(request.get_by_test_id("help-student")).to_have_text("sam")
    expect(request.get_by_test_id("help-request-message")).to_have_text("My loop never ends")
    expect(request.get_by_test_id("help-waiting")).to_contain_text(" s")
    request.get_by_test_id("help-open-file").click()
    line = teacher.get_by_test_id("help-file-line")
    expect(line).to_have_attribute("data-line", "2")
    expect(line).to_contain_text("while n > 0:")
    expect(teacher.get_by_test_id("help-file")).to_contain_text("sam: loop.py:2 (read-only)")
    shot(teacher, "help-01-queue-and-file")

    request.get_by_test_id("help-return").click()
    request.get_by_test_id("help-note").fill("Where does n get smaller? Look at line 3.")
    request.get_by_test_id("help-return-send").click()
    expect(queue.get_by_test_id("help-queue-empty")).to_be_visible()

    expect(help_panel.get_by_test_id("help-note")).to_have_text(
        "Where does n get smaller? Look at line 3.", timeout=15_000
    )
    expect(help_panel.get_by_test_id("help-position")).to_have_text("Your hand is not raised.")
    shot(page, "help-02-returned")
