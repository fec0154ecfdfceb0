"""The live view in /ide (issue #16): an instructor watches a student type, in two browsers.

One server (as the jupyter-ide service is for a hub's users), two browser contexts: sam (a
student of the course) edits loop.py; alan (its instructor) opens the Live panel, picks sam,
opens loop.py and sees each of sam's keystrokes within 2 seconds, before any save; sam reads
"your instructor alan is viewing". sam raises a hand at line 2; one click in alan's help queue
opens sam's live view at that line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import IDEServer, shot
from .test_course_choice_ui import _call, _hub_like_server, _sign_in

pytestmark = pytest.mark.e2e

USERS = {"sam": "student", "alan": "instructor", "root": "admin"}
COURSE = "cs-live"
LOOP = "def count(n):\n    while n > 0:\n        print(n)\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IDEServer]:
    """sam's server, which alan's browser signs in to as well."""
    base = tmp_path_factory.mktemp("e2e-live")
    config: dict[str, Any] = {
        "ServerApp": {"identity_provider_class": "tests.e2e.course_users.CourseUsersIdentity"},
        "CourseUsersIdentity": {"users": USERS},
        "IDESettings": {"storage_url": (base / "blobs").as_uri()},
        "IDEContentsManager": {"owner": "sam"},
    }
    with _hub_like_server(Path(base), config) as running:
        yield running


def _editor_text(page: Page, selector: str) -> str:
    """The text Monaco shows (its rendered lines)."""
    return page.locator(f"{selector} .view-lines").first.inner_text().replace("\u00a0", " ")


def test_an_instructor_watches_a_student_type_and_opens_a_raised_hand_live(
    browse: Callable[[IDEServer, str], Page], server: IDEServer
) -> None:
    """Keystrokes reach the instructor within 2 s; the student is told; the help queue's click
    opens the live view at the request's line."""
    for who in ("root", "alan", "sam"):
        _sign_in(server, who)
    _call(server, "root", "POST", "/ide/api/courses", {"name": COURSE, "title": "Live"})
    for who, role in (("alan", "instructor"), ("sam", "student")):
        _call(server, "root", "PUT", f"/ide/api/courses/{COURSE}/members/{who}", {"role": role})
    _call(
        server,
        "sam",
        "PUT",
        "/api/contents/loop.py",
        {"type": "file", "format": "text", "content": LOOP},
    )

    student = browse(server, "sam")
    student.get_by_test_id("explorer-item-loop.py").click()
    editor = '[data-testid="editor-loop.py"]'
    expect(student.locator(f"{editor} .view-lines")).to_contain_text("while n > 0")

    teacher = browse(server, "alan")
    teacher.get_by_test_id("open-live").click()
    live = teacher.get_by_test_id("live-view")
    live.get_by_test_id("live-member-sam").click()
    expect(live.get_by_test_id("live-files")).to_contain_text("loop.py")
    live.get_by_test_id("live-open-loop.py").click()
    frame = '[data-testid="live-file"]'
    expect(teacher.get_by_test_id("live-file-state")).to_have_attribute("data-state", "synced")
    expect(teacher.locator(f"{frame} .view-lines")).to_contain_text("while n > 0")

    # sam is told who is watching.
    expect(student.get_by_test_id("live-notice")).to_contain_text("alan", timeout=10_000)

    # Each keystroke: on alan's screen within 2 s, saved or not.
    student.locator(f"{editor} .monaco-editor .view-lines").first.click()
    student.keyboard.press("Control+End")
    for word in ("# one", " two", " three"):
        started = time.monotonic()
        student.keyboard.type(word)
        expect(teacher.locator(f"{frame} .view-lines")).to_contain_text(word.strip(), timeout=2000)
        assert time.monotonic() - started < 2.0 + 0.1 * len(word)  # typing itself takes time
    assert "# one two three" in _editor_text(teacher, frame)
    shot(teacher, "live-00-watching")
    shot(student, "live-01-notice")

    # The viewer cannot type into sam's file.
    teacher.locator(f"{frame} .monaco-editor .view-lines").first.click()
    teacher.keyboard.type("HACK")
    student.keyboard.type("!")
    expect(teacher.locator(f"{frame} .view-lines")).to_contain_text("three!", timeout=2000)
    assert "HACK" not in _editor_text(student, editor)
    assert "HACK" not in _editor_text(teacher, frame)

    # A raised hand at line 2: alan's click opens sam's live view there.
    _call(
        server,
        "sam",
        "POST",
        f"/ide/api/courses/{COURSE}/help",
        {"message": "Why does it never stop?", "path": "loop.py", "line": 2},
    )
    teacher.get_by_test_id("open-help").click()
    request = teacher.get_by_test_id("help-queue").get_by_test_id("help-request")
    expect(request).to_have_count(1)
    request.get_by_test_id("help-open-file").click()
    line = teacher.get_by_test_id("help-file-line")
    expect(line).to_have_attribute("data-line", "2")
    expect(line).to_contain_text("while n > 0:")
    helped = '[data-testid="help-file"]'
    expect(teacher.locator(f"{helped} .view-lines")).to_contain_text("three!")
    student.keyboard.type(" four")
    expect(teacher.locator(f"{helped} .view-lines")).to_contain_text("four", timeout=2000)
    shot(teacher, "live-02-help-queue-line")
