"""Which kernel a notebook gets in a real browser (issue #13 item 1): one that names python3
runs in the sandboxed Python; one whose kernel has no sandboxed equivalent says so plainly, and
the picker starts another."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from .conftest import IDEServer, refresh_until_listed, shot

pytestmark = pytest.mark.e2e

START_TIMEOUT = 90_000


def _notebook(server: IDEServer, name: str, kernel: str, language: str) -> None:
    """Save a one-cell notebook written for ``kernel``, as another Jupyter would save it."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": kernel, "display_name": kernel, "language": language},
            "language_info": {"name": language},
        },
        "cells": [
            {
                "id": "c1",
                "cell_type": "code",
                "source": "",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/contents/{urllib.parse.quote(name)}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _kernels(server: IDEServer) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"{server.url}/api/kernels", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.load(response))


def _run_first_cell(page: Page, code: str) -> None:
    page.locator('[data-testid="cell-editor"] .view-lines').first.click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")


def test_a_python3_notebook_runs_in_the_sandboxed_python(page: Page, ide_server: IDEServer) -> None:
    _notebook(ide_server, "from-jupyterlab.ipynb", "python3", "python")
    refresh_until_listed(page, "from-jupyterlab.ipynb")
    page.get_by_test_id("explorer-item-from-jupyterlab.ipynb").click()
    expect(page.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=START_TIMEOUT)
    picker = page.get_by_test_id("kernel-picker")
    expect(picker.locator("option:checked")).to_contain_text("Python 3 (sandbox)")
    expect(page.get_by_test_id("kernel-refused")).to_have_count(0)
    _run_first_cell(page, "import os; print(os.getcwd())")
    output = page.get_by_test_id("cell-output").first
    expect(output).to_contain_text("/workspace", timeout=START_TIMEOUT)
    assert {k["name"] for k in _kernels(ide_server)} == {"ide-python"}
    shot(page, "kernel-01-python3-sandboxed")


def test_a_kernel_with_no_sandboxed_equivalent_is_named_and_another_can_be_picked(
    page: Page, ide_server: IDEServer
) -> None:
    _notebook(ide_server, "analysis.ipynb", "ir", "R")
    refresh_until_listed(page, "analysis.ipynb")
    page.get_by_test_id("explorer-item-analysis.ipynb").click()
    refused = page.get_by_test_id("kernel-refused")
    expect(refused).to_contain_text("'ir'", timeout=START_TIMEOUT)
    expect(refused).to_contain_text("Python 3 (sandbox) (ide-python)")
    picker = page.get_by_test_id("kernel-picker")
    expect(picker.locator("option:checked")).to_contain_text("ir — not available here")
    shot(page, "kernel-02-ir-refused")
    picker.select_option("ide-python")
    expect(page.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=START_TIMEOUT)
    expect(refused).to_have_count(0)
    _run_first_cell(page, "print(6 * 7)")
    expect(page.get_by_test_id("cell-output").first).to_contain_text("42", timeout=START_TIMEOUT)
