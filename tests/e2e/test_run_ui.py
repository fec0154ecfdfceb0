"""Run and Tests in a real browser: the open file runs in the sandbox through the Judge0 API,
with stdin, verdict, time and memory; test cases are kept beside the file and run as a batch."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from .conftest import IDEServer, get_file, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e

# The judge's first runs may wait for its sandboxes to start.
RUN_TIMEOUT = 90_000

SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def _open(page: Page, server: IDEServer, name: str, text: str) -> str:
    """Save a file, open it in the editor and return the editor's selector."""
    put_file(server, name, text)
    refresh_until_listed(page, name)
    page.get_by_test_id(f"explorer-item-{name}").click()
    editor = f'[data-testid="editor-{name}"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text(text.splitlines()[0][:10])
    return editor


def test_run_python_with_stdin_shows_verdict_time_and_memory(
    page: Page, ide_server: IDEServer
) -> None:
    """▶ Run sends the editor's text and the stdin; the panel shows Accepted and the output."""
    _open(page, ide_server, "sum.py", SUM_PY)
    page.get_by_test_id("run-file").click()
    expect(page.get_by_test_id("run-verdict")).to_be_visible(timeout=RUN_TIMEOUT)
    # Without input, input() fails: a runtime error, with its traceback shown.
    expect(page.get_by_test_id("run-verdict")).to_contain_text("Runtime Error")
    expect(page.get_by_test_id("run-stderr")).to_contain_text("EOFError")
    page.get_by_test_id("run-stdin").fill("2 3\n")
    page.keyboard.press("F5")  # the shortcut, from outside the editor
    expect(page.get_by_test_id("run-verdict")).to_have_text("Accepted", timeout=RUN_TIMEOUT)
    expect(page.get_by_test_id("run-stdout")).to_contain_text("5")
    expect(page.get_by_test_id("run-usage")).to_contain_text(" s")
    expect(page.get_by_test_id("run-usage")).to_contain_text("B")
    shot(page, "run-01-accepted")


def test_run_c_compile_error_is_shown(page: Page, ide_server: IDEServer) -> None:
    """A C file that does not compile shows the compiler's message, not a silent failure."""
    editor = _open(page, ide_server, "broken.c", "int main(void) {\n  return 0\n}\n")
    page.locator(f"{editor} .view-lines").click()
    page.keyboard.press("F5")  # the shortcut, inside the editor
    expect(page.get_by_test_id("run-verdict")).to_have_text(
        "Compilation Error", timeout=RUN_TIMEOUT
    )
    expect(page.get_by_test_id("run-compile")).to_contain_text("error")
    shot(page, "run-02-compile-error")


def test_tests_panel_runs_cases_as_a_batch(page: Page, ide_server: IDEServer) -> None:
    """Cases typed in the panel are saved beside the file; one passes, one fails with a diff."""
    _open(page, ide_server, "add.py", SUM_PY)
    page.get_by_test_id("open-tests").click()
    expect(page.get_by_test_id("tests-empty")).to_be_visible()
    for stdin, expected in (("1 2", "3"), ("2 2", "5")):
        page.get_by_test_id("tests-add").click()
        case = page.get_by_test_id("test-case").last
        case.get_by_test_id("test-stdin").fill(stdin)
        case.get_by_test_id("test-expected").fill(expected)
    page.get_by_test_id("tests-run").click()
    expect(page.get_by_test_id("tests-summary")).to_have_text("1 / 2 passed", timeout=RUN_TIMEOUT)
    cases = page.get_by_test_id("test-case")
    expect(cases.nth(0).get_by_test_id("test-state")).to_have_text("passed")
    expect(cases.nth(1).get_by_test_id("test-state")).to_have_text("failed")
    diff = cases.nth(1).get_by_test_id("test-diff")
    expect(diff.locator(".diff-expected")).to_have_text("- 5")
    expect(diff.locator(".diff-actual")).to_have_text("+ 4")
    shot(page, "run-03-tests")
    saved = json.loads(get_file(ide_server, "add.py.tests.json"))
    assert [(c["stdin"], c["expected_output"]) for c in saved["cases"]] == [
        ("1 2", "3"),
        ("2 2", "5"),
    ]


def _new_notebook(server: IDEServer, name: str, kernel: str) -> None:
    """Save an empty notebook that asks for ``kernel``."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel}},
        "cells": [
            {
                "id": "c1",
                "cell_type": "code",
                "source": "",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            },
        ],
    }
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/contents/{name}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_sandbox_limits_and_a_kernel_death_are_shown(page: Page, ide_server: IDEServer) -> None:
    """The status bar and kernel picker name the limits; an out-of-memory death says so."""
    status = page.get_by_test_id("status-sandbox")
    expect(status).to_contain_text("Sandboxed (Docker): 1 CPU · 512 MB · 30 s per run")
    _new_notebook(ide_server, "bomb.ipynb", "ide-python")
    refresh_until_listed(page, "bomb.ipynb")
    page.get_by_test_id("explorer-item-bomb.ipynb").click()
    expect(page.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=RUN_TIMEOUT)
    picker = page.get_by_test_id("kernel-picker")
    expect(picker.locator("option:checked")).to_contain_text("512 MB")
    page.locator('[data-testid="cell-editor"] .view-lines').first.click()
    page.keyboard.type("hog = b'x' * (2 * 1024 ** 3)")
    page.keyboard.press("Shift+Enter")
    death = page.get_by_test_id("kernel-death")
    expect(death).to_contain_text("Kernel died: out of memory", timeout=RUN_TIMEOUT)
    expect(page.get_by_test_id("output-error").first).to_contain_text("out of memory")
    shot(page, "run-04-kernel-died")
