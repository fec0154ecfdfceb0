"""Notebooks in the live view (issue #16), in two browsers.

sam (a student of the course) works in squares.ipynb; alan (its instructor) opens the Live
panel, picks sam, opens the notebook and sees sam's typing in a cell and, after sam runs it,
the cell's output and execution count, each within 2 seconds; a cell sam adds appears; alan
cannot type into it until the course turns pair editing on; sam reads "your instructor alan
is viewing" while in the notebook.
"""

from __future__ import annotations

import json
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
COURSE = "cs-live-nb"
NOTEBOOK = {
    "cells": [
        {"id": "md", "cell_type": "markdown", "metadata": {}, "source": "# Squares"},
        {
            "id": "sq",
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": "n = 6",
        },
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IDEServer]:
    """sam's server, which alan's browser signs in to as well."""
    base = tmp_path_factory.mktemp("e2e-live-nb")
    config: dict[str, Any] = {
        "ServerApp": {"identity_provider_class": "tests.e2e.course_users.CourseUsersIdentity"},
        "CourseUsersIdentity": {"users": USERS},
        "IDESettings": {"storage_url": (base / "blobs").as_uri()},
        "IDEContentsManager": {"owner": "sam"},
    }
    with _hub_like_server(Path(base), config) as running:
        yield running


def test_an_instructor_watches_a_student_type_and_run_a_notebook_cell(
    browse: Callable[[IDEServer, str], Page], server: IDEServer
) -> None:
    """Typing in a cell, the cell's output after a run, and a new cell reach the instructor
    within 2 s; the instructor's notebook is read-only (writable with pair editing); the student
    is told."""
    for who in ("root", "alan", "sam"):
        _sign_in(server, who)
    _call(server, "root", "POST", "/ide/api/courses", {"name": COURSE, "title": "Live"})
    for who, role in (("alan", "instructor"), ("sam", "student")):
        _call(server, "root", "PUT", f"/ide/api/courses/{COURSE}/members/{who}", {"role": role})
    _call(
        server,
        "sam",
        "PUT",
        "/api/contents/squares.ipynb",
        {"type": "notebook", "format": "json", "content": NOTEBOOK},
    )

    student = browse(server, "sam")
    student.get_by_test_id("explorer-item-squares.ipynb").click()
    notebook = student.get_by_test_id("notebook-squares.ipynb")
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)

    teacher = browse(server, "alan")
    teacher.get_by_test_id("open-live").click()
    live = teacher.get_by_test_id("live-view")
    live.get_by_test_id("live-member-sam").click()
    expect(live.get_by_test_id("live-files")).to_contain_text("squares.ipynb")
    live.get_by_test_id("live-open-squares.ipynb").click()
    watched = teacher.get_by_test_id("live-notebook")
    expect(watched.get_by_test_id("live-file-state")).to_have_attribute("data-state", "synced")
    cells = watched.get_by_test_id("live-cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(1)).to_contain_text("n = 6")
    expect(student.get_by_test_id("live-notice")).to_contain_text("alan", timeout=10_000)

    # Typing in sam's code cell: on alan's screen within 2 s, unsaved.
    code = notebook.get_by_test_id("cell").nth(1)
    code.locator(".monaco-editor .view-lines").first.click()
    student.keyboard.press("Control+End")
    for word in ("\nprint(n", " * n)"):
        started = time.monotonic()
        student.keyboard.type(word)
        expect(cells.nth(1)).to_contain_text(word.strip(), timeout=2000)
        assert time.monotonic() - started < 2.0 + 0.1 * len(word)

    # sam runs it: the output and the execution count reach alan within 2 s of sam's own.
    student.keyboard.press("Shift+Enter")
    expect(code.get_by_test_id("cell-output")).to_contain_text("36", timeout=30_000)
    seen = time.monotonic()
    expect(cells.nth(1).get_by_test_id("cell-output")).to_contain_text("36", timeout=2000)
    assert time.monotonic() - seen < 2.0
    expect(cells.nth(1)).to_contain_text("[1]:", timeout=2000)
    # Shift+Enter on the last cell added one: it appears at alan's too.
    expect(cells).to_have_count(3, timeout=2000)
    shot(teacher, "live-nb-00-watching")
    shot(student, "live-nb-01-notice")

    # alan cannot type into sam's notebook.
    cells.nth(1).locator(".monaco-editor .view-lines").first.click()
    teacher.keyboard.type("HACK")
    student.keyboard.type("# more")
    expect(cells.nth(2)).to_contain_text("# more", timeout=2000)
    assert "HACK" not in cells.nth(1).inner_text()
    assert "HACK" not in notebook.inner_text()

    # What sam saves is sam's notebook, untouched by the room.
    notebook.get_by_test_id("nb-save").click()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        saved = _call(server, "sam", "GET", "/api/contents/squares.ipynb")["content"]
        if len(saved["cells"]) == 3:
            break
        time.sleep(0.2)
    assert [c["source"] for c in saved["cells"]] == ["# Squares", "n = 6\nprint(n * n)", "# more"]
    assert "36" in json.dumps(saved["cells"][1]["outputs"])

    # Pair editing on: alan's notebook is writable, his typing reaches sam's cell.
    live.get_by_test_id("live-pairing").click()
    expect(live.get_by_test_id("live-pairing")).to_be_checked()
    expect(watched.get_by_test_id("live-file-state")).to_contain_text("pair editing")
    cells.nth(1).locator(".monaco-editor .view-lines").first.click()
    teacher.keyboard.press("Control+End")
    teacher.keyboard.type(" # from alan")
    expect(code).to_contain_text("# from alan", timeout=2000)
