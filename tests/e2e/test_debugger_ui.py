"""The Debugger panel in a real browser: a breakpoint set in the Monaco gutter stops a Python file
and a notebook cell in the sandboxed kernel; variables show and expand, a watch and the debug
console evaluate, stepping moves to the next line, continue runs to the end."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import IDEServer, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e

# The first debug run starts a sandboxed kernel.
START_TIMEOUT = 90_000

PROGRAM = """\
def total_of(numbers):
    result = 0
    for n in numbers:
        result += n
    return result

info = {"name": "ada", "items": [1, 2, 3]}
total = total_of(info["items"])
print("total is", total)
"""
CELL = "a = 5\nb = a * 2\nprint('b is', b)\n"


def _click_gutter(editor: Locator, line: int) -> None:
    """Click the glyph margin (left of the code) at ``line`` (1-based) of a Monaco editor."""
    row = editor.locator(".margin-view-overlays > div").nth(line - 1)
    box = row.bounding_box()
    assert box is not None
    editor.page.mouse.click(box["x"] + 6, box["y"] + box["height"] / 2)


def _variable(page: Page, name: str) -> Locator:
    """The row of a variable in the Variables tree."""
    return page.locator(f'[data-testid="debug-variable"][data-name="{name}"]').first


def _open_debugger(page: Page) -> None:
    page.get_by_test_id("open-debug").click()
    expect(page.get_by_test_id("debug-panel")).to_be_visible()


def test_a_breakpoint_in_a_python_file(page: Page, ide_server: IDEServer) -> None:
    """Stop at a gutter breakpoint, expand a dict, watch, evaluate, step over, continue."""
    put_file(ide_server, "dbg.py", PROGRAM)
    refresh_until_listed(page, "dbg.py")
    page.get_by_test_id("explorer-item-dbg.py").click()
    editor = page.get_by_test_id("editor-dbg.py")
    expect(editor.locator(".view-lines")).to_contain_text("total_of")
    _click_gutter(editor, 8)
    expect(editor.locator(".debug-breakpoint")).to_have_count(1)

    _open_debugger(page)
    page.get_by_test_id("debug-start").click()
    state = page.get_by_test_id("debug-state")
    expect(state).to_have_attribute("data-state", "stopped", timeout=START_TIMEOUT)
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("line 8")
    expect(editor.locator(".debug-current-line")).to_have_count(1)

    info = _variable(page, "info")
    expect(info).to_contain_text("'ada'")
    info.click()  # expand
    expect(_variable(page, "'items'")).to_contain_text("[1, 2, 3]")
    expect(_variable(page, "'items'")).to_have_attribute("data-depth", "1")

    page.get_by_test_id("debug-watch-input").fill("len(info['items']) * 10")
    page.get_by_test_id("debug-watch-input").press("Enter")
    expect(page.get_by_test_id("debug-watch-value")).to_have_text("30")
    page.get_by_test_id("debug-console-input").fill("info['name'].upper()")
    page.get_by_test_id("debug-console-input").press("Enter")
    expect(page.get_by_test_id("debug-console")).to_contain_text("'ADA'")
    shot(page, "debugger-01-file-stopped")

    page.get_by_test_id("debug-next").click()
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("line 9", timeout=30_000)
    expect(_variable(page, "total")).to_contain_text("6")

    page.get_by_test_id("debug-continue").click()
    expect(state).to_have_attribute("data-state", "idle", timeout=30_000)
    expect(page.get_by_test_id("debug-console")).to_contain_text("total is 6")
    expect(page.get_by_test_id("debug-console")).to_contain_text("The program finished.")
    expect(editor.locator(".debug-current-line")).to_have_count(0)


def _notebook(cells: list[str]) -> dict[str, object]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "ide-python", "display_name": "Python"}},
        "cells": [
            {
                "id": f"cell-{i}",
                "cell_type": "code",
                "source": source,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for i, source in enumerate(cells)
        ],
    }


def test_a_breakpoint_in_a_notebook_cell(page: Page, ide_server: IDEServer) -> None:
    """Debug the notebook's kernel; running the cell stops at its breakpoint; continue ends it."""
    put_file(ide_server, "dbg.ipynb", json.dumps(_notebook([CELL])))
    refresh_until_listed(page, "dbg.ipynb")
    page.get_by_test_id("explorer-item-dbg.ipynb").click()
    notebook = page.get_by_test_id("notebook-dbg.ipynb")
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=START_TIMEOUT)
    cell = notebook.get_by_test_id("cell").first
    cell.locator(".view-lines").click()
    _click_gutter(cell.get_by_test_id("cell-editor"), 2)
    expect(cell.locator(".debug-breakpoint")).to_have_count(1)

    _open_debugger(page)
    page.get_by_test_id("debug-start").click()
    state = page.get_by_test_id("debug-state")
    expect(state).to_have_attribute("data-state", "running", timeout=START_TIMEOUT)

    cell.locator(".view-lines").click()
    page.keyboard.press("Shift+Enter")
    expect(state).to_have_attribute("data-state", "stopped", timeout=30_000)
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("line 2")
    expect(cell.locator(".debug-current-line")).to_have_count(1)
    expect(_variable(page, "a")).to_contain_text("5")
    shot(page, "debugger-02-cell-stopped")

    page.get_by_test_id("debug-continue").click()
    expect(state).to_have_attribute("data-state", "running", timeout=30_000)
    expect(cell).to_contain_text("b is 10", timeout=30_000)
    page.get_by_test_id("debug-stop").click()
    expect(state).to_have_attribute("data-state", "idle")


C_PROGRAM = """\
#include <stdio.h>
struct point { int x; int y; };
int main(void) {
    struct point p = {3, 4};
    int sum = p.x + p.y;
    printf("sum is %d\\n", sum);
    return 0;
}
"""


def test_a_breakpoint_in_a_c_program(page: Page, ide_server: IDEServer) -> None:
    """A C file compiled with -g runs under lldb-vscode: it stops at the gutter breakpoint, a
    struct expands, step over moves a line, continue prints and ends."""
    put_file(ide_server, "point.c", C_PROGRAM)
    refresh_until_listed(page, "point.c")
    page.get_by_test_id("explorer-item-point.c").click()
    editor = page.get_by_test_id("editor-point.c")
    expect(editor.locator(".view-lines")).to_contain_text("struct point")
    _click_gutter(editor, 5)
    expect(editor.locator(".debug-breakpoint")).to_have_count(1)

    _open_debugger(page)
    page.get_by_test_id("debug-start").click()
    state = page.get_by_test_id("debug-state")
    expect(state).to_have_attribute("data-state", "stopped", timeout=START_TIMEOUT)
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("line 5")
    expect(editor.locator(".debug-current-line")).to_have_count(1)
    _variable(page, "p").click()
    expect(_variable(page, "x")).to_contain_text("3")
    expect(_variable(page, "y")).to_contain_text("4")
    shot(page, "debugger-03-c-stopped")

    page.get_by_test_id("debug-next").click()
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("line 6", timeout=30_000)
    page.get_by_test_id("debug-continue").click()
    expect(state).to_have_attribute("data-state", "idle", timeout=30_000)
    expect(page.get_by_test_id("debug-console")).to_contain_text("sum is 7")


FOREVER = """\
import time
ticks = 0
print("looping", flush=True)
while True:
    ticks += 1
    time.sleep(0.05)
"""


def test_pause_a_running_python_file(page: Page, ide_server: IDEServer) -> None:
    """A program without breakpoints that keeps running is paused by ❚❚ Pause, then stopped."""
    put_file(
        ide_server,
        "forever.py",
        FOREVER,
    )
    refresh_until_listed(page, "forever.py")
    page.get_by_test_id("explorer-item-forever.py").click()
    expect(page.get_by_test_id("editor-forever.py").locator(".view-lines")).to_contain_text("ticks")
    _open_debugger(page)
    page.get_by_test_id("debug-start").click()
    state = page.get_by_test_id("debug-state")
    expect(state).to_have_attribute("data-state", "running", timeout=START_TIMEOUT)
    expect(page.get_by_test_id("debug-console")).to_contain_text("looping", timeout=30_000)
    page.get_by_test_id("debug-pause").click()
    expect(state).to_have_attribute("data-state", "stopped", timeout=30_000)
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("<module> line")
    expect(_variable(page, "ticks")).to_be_visible()
    expect(page.get_by_test_id("editor-forever.py").locator(".debug-current-line")).to_have_count(1)
    page.get_by_test_id("debug-stop").click()
    expect(state).to_have_attribute("data-state", "idle", timeout=30_000)
