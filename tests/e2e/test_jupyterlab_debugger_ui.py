"""JupyterLab's own debugger on our sandboxed kernel (issue #18): `jupyter lab` started as a
person would, a notebook on the `ide-python` kernelspec. The bug icon in the notebook's
toolbar turns the debugger on, a breakpoint set in the cell's gutter stops the run, the
variable shows in JupyterLab's Variables panel, and Continue runs the cell to its end. The
Docker engine shows the kernel is a sandbox container (its kernel-id label)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from playwright.sync_api import Browser, Locator, expect

from jupyter_ide.kernels.profile import LABEL_KERNEL_ID

from ..kernel_host import require_images
from .conftest import IDEServer, shot
from .test_jupyterlab_plugin_ui import _jupyter_lab

pytestmark = pytest.mark.e2e

START_TIMEOUT = 90_000
CELL = "numbers = [4, 5, 6]\ncount = len(numbers)\ntotal = sum(numbers)\nprint('total is', total)"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IDEServer]:
    """JupyterLab with jupyter-ide; no warm pool, so the kernel's container is its own."""
    require_images("python")
    base = tmp_path_factory.mktemp("lab-debugger")
    extra = base / "extra-config"
    extra.mkdir()
    (extra / "jupyter_server_config.json").write_text(
        json.dumps({"SandboxManager": {"pool_size": 0}})
    )
    (base / "lab").mkdir()
    with _jupyter_lab(base / "lab", {"JUPYTER_CONFIG_PATH": str(extra)}) as server:
        yield server


def _put_notebook(server: IDEServer, name: str, source: str) -> None:
    """Save a one-cell notebook on the ide-python kernelspec."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "ide-python", "display_name": "Python", "language": "python"}
        },
        "cells": [
            {
                "id": "c1",
                "cell_type": "code",
                "source": source,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/contents/{name}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def _kernel_ids(server: IDEServer) -> list[str]:
    """The ids of the server's running kernels."""
    request = urllib.request.Request(
        f"{server.url}/api/kernels", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        kernels: list[dict[str, Any]] = json.load(response)
    return [kernel["id"] for kernel in kernels]


def _kernelspecs(server: IDEServer) -> dict[str, Any]:
    """The server's kernelspecs, as JupyterLab reads them."""
    request = urllib.request.Request(
        f"{server.url}/api/kernelspecs", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        specs: dict[str, Any] = json.load(response)["kernelspecs"]
    return specs


def test_jupyterlabs_debugger_stops_in_a_cell_on_the_sandboxed_kernel(
    browser: Browser, lab: IDEServer, tmp_path: Path
) -> None:
    """Bug icon on, a gutter breakpoint, run: stopped with `numbers` in Variables; continue."""
    # What JupyterLab asks before it offers the bug icon: only ide-python has a debugger.
    with_debugger = {
        n for n, s in _kernelspecs(lab).items() if s["spec"]["metadata"].get("debugger")
    }
    assert with_debugger == {"ide-python"}, with_debugger
    _put_notebook(lab, "debug-me.ipynb", CELL)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{lab.url}/lab/tree/debug-me.ipynb?reset&token={lab.token}")
        status = page.get_by_role("contentinfo")
        expect(status.get_by_role("button", name=re.compile(r"\| Idle"))).to_be_visible(
            timeout=START_TIMEOUT
        )
        panel = page.locator(".jp-NotebookPanel >> visible=true").first
        # The kernel's kernel_info says it has a debugger: the bug icon is enabled.
        # (JupyterLab asks the kernelspec's metadata, "debugger": true, as ipykernel's has.)
        bug = panel.get_by_role("button", name="Enable Debugger")
        expect(bug).to_be_enabled(timeout=START_TIMEOUT)
        bug.click()
        expect(panel.get_by_role("button", name="Disable Debugger")).to_be_visible()
        sidebar = page.locator("#jp-debugger-sidebar")
        expect(sidebar).to_be_visible()

        # A breakpoint on line 3, clicked in the cell's breakpoint gutter.
        cell = panel.locator(".jp-Cell").first
        gutter = cell.locator(".cm-gutter.cm-breakpoint-gutter")
        expect(gutter).to_be_visible()
        line = cell.locator(".cm-line").nth(2)
        gbox, lbox = gutter.bounding_box(), line.bounding_box()
        assert gbox is not None and lbox is not None
        page.mouse.click(gbox["x"] + gbox["width"] / 2, lbox["y"] + lbox["height"] / 2)
        expect(sidebar.locator(".jp-DebuggerBreakpoint")).to_have_count(1)

        cell.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        # Stopped: the call stack's top frame is line 3; Variables shows `count` and `numbers`.
        frame = sidebar.locator(".jp-DebuggerCallstackFrame").first
        expect(frame).to_be_visible(timeout=START_TIMEOUT)
        expect(frame).to_contain_text("3")
        variables = sidebar.locator(".jp-DebuggerVariables-body")

        def row(name: str) -> Locator:
            label = variables.locator(
                ".jp-DebuggerVariables-name", has_text=re.compile(rf"^{name}$")
            )
            return label.first.locator("xpath=..")

        expect(row("count")).to_contain_text("3", timeout=30_000)
        expect(row("numbers")).to_contain_text("list")
        expect(variables.locator(".jp-DebuggerVariables-name", has_text="total")).to_have_count(0)
        shot(page, "jupyterlab-debugger-stopped")

        sidebar.get_by_role("button", name=re.compile(r"^Continue")).first.click()
        output = cell.locator(".jp-OutputArea-output").first
        expect(output).to_contain_text("total is 15", timeout=30_000)
        expect(sidebar.locator(".jp-DebuggerCallstackFrame")).to_have_count(0)

        # The kernel JupyterLab debugged is a container of the sandbox.
        ids = _kernel_ids(lab)
        assert len(ids) == 1, ids
        engine = docker.from_env()
        try:
            found = engine.containers.list(filters={"label": f"{LABEL_KERNEL_ID}={ids[0]}"})
            assert len(found) == 1, found
            assert found[0].image.tags and found[0].image.tags[0].startswith("jupyter-ide/python")
            host = found[0].attrs["HostConfig"]
            assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True, host
        finally:
            engine.close()
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
