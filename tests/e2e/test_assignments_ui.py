"""The Assignments panel in /ide: an instructor releases, a student gets, submits, sees results.

Two real server processes on one database and one blob store, as a hub's user servers are:
alan's (the instructor's workspace) and sam's (the student's); the judge grades in Docker.
alan saves a Python assignment in his workspace (a starter file with a solution, a visible
and a hidden pytest file), makes it in his panel's form (title, due date, late penalty, two
test files, one hidden, a rubric item) and releases it there.
sam joins the course afterwards, so his copy comes from his panel's "Get copy"; he submits
the stub (the visible test fails), writes the solution in the editor, saves, submits again
(it passes) and sees the visible test only: the hidden test's name and code never reach his
page, though the instructor's view shows it was graded. alan grades the submission in his
panel (rubric points, a line comment), sees the gradebook, releases the feedback, and sam
sees his grade and the comment. Last, alan fixes the starter file and releases it again;
he gives sam an extension. sam's edited copy is kept, he is told, and merges the two in the
diff editor; his due date says it is his own.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import IDEServer, shot
from .test_course_choice_ui import _call, _hub_like_server, _sign_in

pytestmark = pytest.mark.e2e

USERS = {"sam": "student", "alan": "instructor", "root": "admin"}
COURSE, NAME = "cs-py", "geo"
FOLDER = f"assignments/{COURSE}/{NAME}"
GRADE_TIMEOUT = 180_000  # the judge's first box may wait for its image to start
HIDDEN_MARKS = ("SECRET_area_hidden", "HIDDENCODE")
STARTER = "def area(w, h):\n    # BEGIN SOLUTION\n    return w * h\n    # END SOLUTION\n"
VISIBLE_TEST = "from shapes import area\n\n\ndef test_area():\n    assert area(2, 3) == 6\n"
FIXED = '"""Areas of shapes."""\n\n\n' + STARTER
HIDDEN_TEST = (
    "from shapes import area\n\n\ndef test_area_big():\n"
    "    assert area(100, 7) == 700  # HIDDENCODE\n"
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, IDEServer]]:
    """alan's server and sam's, sharing the database and the blob store."""
    shared = tmp_path_factory.mktemp("e2e-assignments")
    storage = (shared / "blobs").as_uri()
    db = f"sqlite:///{shared / 'ide.db'}"

    def config(owner: str) -> dict[str, Any]:
        return {
            "ServerApp": {"identity_provider_class": "tests.e2e.course_users.CourseUsersIdentity"},
            "CourseUsersIdentity": {"users": USERS},
            "IDESettings": {"db_url": db, "storage_url": storage},
            "IDEContentsManager": {"owner": owner},
            "ClassroomSettings": {"grading_workers": 1},
        }

    with _hub_like_server(_fresh(shared / "alan"), config("alan")) as alan:
        with _hub_like_server(_fresh(shared / "sam"), config("sam")) as sam:
            yield {"alan": alan, "sam": sam}


def _fresh(path: Path) -> Path:
    """An empty folder for one server's own dirs."""
    path.mkdir()
    return path


def _put(server: IDEServer, who: str, path: str, model: dict[str, Any]) -> None:
    """Save through the contents API of ``who``'s own server."""
    _call(server, who, "PUT", f"/api/contents/{urllib.parse.quote(path)}", model)


def _api(server: IDEServer, who: str, method: str, rest: str = "", body: Any = None) -> Any:
    """Call the course's assignments API as ``who``."""
    return _call(server, who, method, f"/ide/api/courses/{COURSE}/assignments{rest}", body)


def _graded(server: IDEServer, sid: int) -> Any:
    """Wait until the instructor sees submission ``sid`` graded."""
    deadline = time.monotonic() + GRADE_TIMEOUT / 1000
    while True:
        sub = _api(server, "alan", "GET", f"/{NAME}/submissions/{sid}")
        if sub["status"] in ("graded", "error"):
            assert sub["status"] == "graded", sub
            return sub
        assert time.monotonic() < deadline, sub
        time.sleep(0.5)


def _assert_no_hidden(page: Page) -> None:
    """The hidden test's name and code are nowhere in the page."""
    html = page.content()
    for mark in HIDDEN_MARKS:
        assert mark not in html, mark


def test_release_get_submit_results_gradebook_feedback(
    browse: Callable[[IDEServer, str], Page], servers: dict[str, IDEServer]
) -> None:
    """Release in the instructor's panel; the student's Get copy, a failing then a passing
    submission with visible results only; the gradebook; feedback released to the student."""
    alan, sam = servers["alan"], servers["sam"]
    for who in ("alan", "sam"):
        _sign_in(sam, who)
    _sign_in(alan, "alan")
    _call(sam, "root", "POST", "/ide/api/courses", {"name": COURSE, "title": "Python"})
    _call(sam, "root", "PUT", f"/ide/api/courses/{COURSE}/members/alan", {"role": "instructor"})

    # alan's folder, saved in his own workspace; created and released on the shared database.
    _put(alan, "alan", NAME, {"type": "directory"})
    for path, text in (
        ("shapes.py", STARTER),
        ("test_area_visible.py", VISIBLE_TEST),
        ("test_area_secret.py", HIDDEN_TEST),
    ):
        _put(alan, "alan", f"{NAME}/{path}", {"type": "file", "format": "text", "content": text})
    # alan makes the assignment in his own /ide: the form's fields, two test files (one
    # hidden), a rubric item; then releases it.
    teacher = browse(alan, "alan")
    teacher.get_by_test_id("open-assignments").click()
    form = teacher.get_by_test_id("new-assignment")
    teacher.get_by_test_id("new-assignment-open").click()
    teacher.get_by_test_id("new-assignment-name").fill(NAME)
    teacher.get_by_test_id("new-assignment-title").fill("Areas")
    teacher.get_by_test_id("new-assignment-folder").fill(NAME)
    teacher.get_by_test_id("new-assignment-due").fill(
        time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 86_400))
    )
    teacher.get_by_test_id("new-assignment-latePenaltyPercent").fill("10")
    for index, (name, points, path) in enumerate(
        (
            ("area works", "2", "test_area_visible.py"),
            ("SECRET_area_hidden", "3", "test_area_secret.py"),
        )
    ):
        form.get_by_test_id("test-add-file").click()
        row = form.get_by_test_id(f"test-draft-{index}")
        row.get_by_test_id("test-name").fill(name)
        row.get_by_test_id("test-points").fill(points)
        row.get_by_test_id("test-path").fill(path)
    form.get_by_test_id("test-draft-1").get_by_test_id("test-visibility").select_option("hidden")
    form.get_by_test_id("rubric-add").click()
    form.get_by_test_id("rubric-name").fill("style")
    form.get_by_test_id("rubric-points").fill("1")
    teacher.get_by_test_id("new-assignment-submit").click()
    mine_to_give = teacher.get_by_test_id(f"assignment-{NAME}")
    expect(mine_to_give.get_by_test_id("assignment-released")).to_have_text("Not released")
    created = _api(sam, "alan", "GET", f"/{NAME}")
    assert created["files"] == ["shapes.py"], created
    assert created["title"] == "Areas" and created["late_penalty_percent"] == 10, created
    assert created["rubric"] == [{"name": "style", "points": 1.0}], created
    assert created["due_at"], created
    assert [
        (t["name"], t["kind"], t["points"], t["visibility"], t["path"])
        for t in created["spec"]["tests"]
    ] == [
        ("area works", "file", 2.0, "visible", "test_area_visible.py"),
        ("SECRET_area_hidden", "file", 3.0, "hidden", "test_area_secret.py"),
    ], created["spec"]
    shot(teacher, "assignments-00-created")

    mine_to_give.get_by_test_id("assignment-release").click()
    expect(mine_to_give.get_by_test_id("assignment-released")).to_contain_text("Released ")
    assert _api(sam, "alan", "GET", f"/{NAME}")["released_at"]
    # sam joins after the release: his copy comes from the panel.
    _call(sam, "root", "PUT", f"/ide/api/courses/{COURSE}/members/sam", {"role": "student"})

    page = browse(sam, "sam")
    page.get_by_test_id("open-assignments").click()
    card = page.get_by_test_id(f"assignment-{NAME}")
    expect(card.get_by_test_id("assignment-state")).to_have_text("Not fetched yet")
    expect(card.get_by_test_id("assignment-due")).to_contain_text("Due ")
    # Submitting before getting a copy: the API's 409, said plainly.
    card.get_by_test_id("assignment-submit").click()
    expect(card.get_by_test_id("assignment-error")).to_contain_text("Fetch geo first")
    card.get_by_test_id("assignment-get").click()
    expect(card.get_by_test_id("assignment-state")).to_have_text("Open")
    expect(card.get_by_test_id("assignment-error")).to_have_count(0)
    shot(page, "assignments-01-fetched")

    # The copy is in the explorer.
    for part in ("assignments", f"assignments/{COURSE}", FOLDER):
        page.get_by_test_id(f"explorer-item-{part}").click()
    page.get_by_test_id(f"explorer-item-{FOLDER}/shapes.py").click()
    editor = f'[data-testid="editor-{FOLDER}/shapes.py"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("YOUR CODE HERE")

    # The stub fails the visible test.
    card.get_by_test_id("assignment-submit").click()
    first = card.locator("details.assignment-submission").first
    expect(first.get_by_test_id("submission-score")).to_have_text(
        "Visible tests: 0 / 2", timeout=GRADE_TIMEOUT
    )
    expect(first.get_by_test_id("submission-test")).to_have_count(1)
    expect(first.get_by_test_id("submission-test")).to_contain_text("area works")
    expect(first.get_by_test_id("submission-test")).to_contain_text("failed")
    _assert_no_hidden(page)
    shot(page, "assignments-02-failing")

    # The solution, written in the editor and saved.
    page.locator(f"{editor} .monaco-editor .view-lines").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("def area(w, h): return w * h")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0)
    saved = _call(sam, "sam", "GET", f"/api/contents/{FOLDER}/shapes.py?type=file&format=text")
    assert "return w * h" in saved["content"], saved["content"]

    card.get_by_test_id("assignment-submit").click()
    submissions = card.locator("details.assignment-submission")
    expect(submissions).to_have_count(2)
    newest = submissions.first
    expect(newest.get_by_test_id("submission-score")).to_have_text(
        "Visible tests: 2 / 2", timeout=GRADE_TIMEOUT
    )
    expect(newest.get_by_test_id("submission-test")).to_have_count(1)
    expect(newest.get_by_test_id("submission-test")).to_contain_text("passed")
    _assert_no_hidden(page)
    shot(page, "assignments-03-passing")

    # The hidden test was graded all the same: the instructor sees it passed.
    mine = _api(sam, "sam", "GET", f"/{NAME}/submissions")["submissions"]
    assert len(mine) == 2
    passing = _graded(sam, mine[0]["id"])
    by_name = {r["name"]: r["status"] for r in passing["results"]}
    assert by_name == {"area works": "passed", "SECRET_area_hidden": "passed"}, passing
    assert passing["score"] == 5 and passing["max_score"] == 6  # style not given yet
    failing = _graded(sam, mine[1]["id"])
    assert {r["name"]: r["status"] for r in failing["results"]} == {
        "area works": "failed",
        "SECRET_area_hidden": "failed",
    }
    assert not any(mark in json.dumps(mine) for mark in HIDDEN_MARKS)

    # alan grades sam's newest submission in his panel: style points and a line comment.
    teacher.get_by_test_id("assignments-reload").click()
    mine_to_give.get_by_test_id("assignment-grade").click()
    teacher.get_by_test_id(f"grading-{passing['id']}").get_by_role("button").click()
    detail = teacher.get_by_test_id("grading-detail")
    expect(detail).to_contain_text("SECRET_area_hidden")  # the instructor sees every test
    teacher.get_by_test_id("grading-points-style").fill("1")
    teacher.get_by_test_id("grading-comment").fill("Clear and short.")
    detail.get_by_role("button", name="Add", exact=True).click()
    teacher.get_by_test_id("grading-save").click()
    expect(teacher.get_by_test_id(f"grading-{passing['id']}")).to_contain_text("6 / 6")
    graded = _api(sam, "alan", "GET", f"/{NAME}/submissions/{passing['id']}")
    assert graded["manual"] == {
        "points": {"style": 1},
        "comments": [{"path": "shapes.py", "line": 1, "text": "Clear and short.", "by": "alan"}],
    }, graded["manual"]

    # The gradebook has sam's best score; alan releases the feedback.
    expect(teacher.get_by_test_id("gradebook-sam")).to_have_text("sam6")
    expect(teacher.get_by_test_id("gradebook")).to_contain_text(f"{NAME} / 6")
    shot(teacher, "assignments-04-grading")
    mine_to_give.get_by_test_id("assignment-feedback").click()
    expect(mine_to_give.get_by_test_id("assignment-feedback")).to_have_text("Withdraw feedback")

    # sam sees the released grade and comment, still without the hidden test.
    card.get_by_test_id("assignment-toggle").click()  # closed: reopening reloads the list
    card.get_by_test_id("assignment-toggle").click()
    feedback = submissions.first.get_by_test_id("submission-feedback")
    expect(feedback).to_contain_text("Grade: 6 / 6")
    expect(feedback).to_contain_text("style: 1")
    expect(feedback).to_contain_text("shapes.py:1 Clear and short.")
    _assert_no_hidden(page)
    shot(page, "assignments-05-feedback")

    # alan fixes the starter file and re-releases it from his panel (Edit, read the folder
    # again, Save, Release again). sam had changed his copy: it is kept, he is told, and he
    # merges in the diff editor; his code stays, with his merge on top.
    _put(alan, "alan", f"{NAME}/shapes.py", {"type": "file", "format": "text", "content": FIXED})
    mine_to_give.get_by_test_id("assignment-edit").click()
    edit = teacher.get_by_test_id("edit-assignment")
    edit.get_by_test_id("edit-assignment-refresh").check()
    edit.get_by_test_id("edit-assignment-submit").click()
    expect(mine_to_give).to_contain_text("version 2")
    # He also gives sam two more days; sam's panel says the deadline is his own.
    edit.get_by_test_id("extension-student").fill("sam")
    edit.get_by_test_id("extension-due").fill(
        time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 3 * 86_400))
    )
    edit.get_by_test_id("extension-grant").click()
    expect(edit.get_by_test_id("extension-sam")).to_contain_text("sam: due")
    assert list(_api(sam, "alan", "GET", f"/{NAME}")["extensions"]) == ["sam"]
    mine_to_give.get_by_test_id("assignment-release").click()
    expect(teacher.get_by_test_id("assignments-error")).to_have_count(0)
    given = _api(sam, "alan", "GET", f"/{NAME}")
    assert given["version"] == 2, given

    page.get_by_test_id("assignments-reload").click()
    notice = card.get_by_test_id("assignment-notice")
    expect(notice).to_be_visible()
    expect(card.get_by_test_id("assignment-due")).to_contain_text("(your extension)")
    notice.get_by_test_id("assignment-merge-shapes.py").click()
    merge = page.get_by_test_id("merge-view")
    expect(merge.locator(".editor.original .view-lines")).to_contain_text("Areas of shapes")
    expect(merge.locator(".editor.modified .view-lines")).to_contain_text("return w * h")
    shot(page, "assignments-06-merge")
    merge.locator(".editor.modified .view-lines").click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("# merged with version 2")
    page.keyboard.press("Enter")
    merge.get_by_test_id("merge-save").click()
    expect(merge).to_have_count(0)
    expect(card.get_by_test_id("assignment-notice")).to_have_count(0)
    merged = _call(sam, "sam", "GET", f"/api/contents/{FOLDER}/shapes.py?type=file&format=text")
    assert merged["content"].startswith("# merged with version 2\n"), merged["content"]
    assert "def area(w, h): return w * h" in merged["content"], merged["content"]
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("merged with version 2")
    assert _api(sam, "sam", "GET", f"/{NAME}")["notice"] is None
    _assert_no_hidden(page)
