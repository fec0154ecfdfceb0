"""A student's own server under the service, in a real browser: the IDE and JupyterLab.

A real hub (deploy config, managed service, local OIDC provider) spawns the student's server
as its spawner does. The student signs in at the provider's own pages, lands on
/user/<name>/ide, and uses the IDE there, whose files, judge runs and kernels are all the
service's (jupyter_ide/hubclient).
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from ..hubfixture import ACCESS, ServiceHub, service_hub, user_server_request, user_servers_config
from ..kernel_host import require_images
from ..s3_server import MotoServer
from .conftest import IDEServer, get_file, put_file, refresh_until_listed, shot
from .test_hub import _sign_in
from .test_kernel_choice import _notebook, _run_first_cell

pytestmark = pytest.mark.e2e

START_TIMEOUT = 90_000


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[ServiceHub]:
    """A hub with the service, its users' servers spawned as local processes."""
    require_images("python", "c")
    base = tmp_path_factory.mktemp("hub-ui")
    with service_hub(base, moto_server, "managed", extra_config=user_servers_config(base)) as (
        hub,
        _env,
    ):
        yield hub


C_PROGRAM = r"""#include <stdio.h>
int main(void) {
    char line[64] = "";
    FILE *f = fopen("note.txt", "r");
    if (!f || !fgets(line, sizeof line, f)) { perror("note.txt"); return 1; }
    printf("c read: %s", line);
    return 0;
}
"""


def _c_notebook(server: IDEServer, name: str) -> None:
    """Save a notebook for ide-c whose one cell reads note.txt."""
    _lab_notebook(server, name, "ide-c", "c", C_PROGRAM)


def test_a_student_works_in_their_own_server_on_the_services_files(
    browser: Browser, hub: ServiceHub, tmp_path: Path
) -> None:
    """The service's files in the editor; Run, a notebook and a terminal in its sandboxes."""
    name = f"stu-{uuid.uuid4().hex[:6]}"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _sign_in(page, hub.url, name)
        service = IDEServer(hub.service_url, hub.token(name, [ACCESS]), tmp_path)
        # A file the service holds (saved through its own API) is what the editor opens.
        put_file(service, "sum.py", "a, b = 2, 3\nprint(a + b)\n")
        refresh_until_listed(page, "sum.py")
        page.get_by_test_id("explorer-item-sum.py").click()
        editor = '[data-testid="editor-sum.py"]'
        expect(page.locator(f"{editor} .view-lines")).to_contain_text("a, b = 2, 3")
        # Run goes to the judge, which runs it in the service's sandbox.
        page.get_by_test_id("run-file").click()
        expect(page.get_by_test_id("run-verdict")).to_have_text("Accepted", timeout=START_TIMEOUT)
        expect(page.get_by_test_id("run-stdout")).to_contain_text("5")
        # A notebook's kernel is the service's, over the user's files.
        put_file(service, "note.txt", "kept by the service\n")
        _notebook(service, "lab.ipynb", "python3", "python")
        refresh_until_listed(page, "lab.ipynb")
        page.get_by_test_id("explorer-item-lab.ipynb").click()
        expect(page.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=START_TIMEOUT)
        _run_first_cell(
            page,
            "print(open('note.txt').read().strip()); open('from-ui.txt', 'w').write('ui\\n')",
        )
        output = page.get_by_test_id("cell-output").first
        expect(output).to_contain_text("kept by the service", timeout=START_TIMEOUT)
        for _ in range(60):  # the kernel's folder syncs into the index after the run
            try:
                if get_file(service, "from-ui.txt") == "ui\n":
                    break
            except OSError:
                pass
            page.wait_for_timeout(500)
        assert get_file(service, "from-ui.txt") == "ui\n"
        # A C notebook too: its ide-c kernel is the service's, on the same files.
        _c_notebook(service, "prog.ipynb")
        refresh_until_listed(page, "prog.ipynb")
        page.get_by_test_id("explorer-item-prog.ipynb").click()
        notebook = page.get_by_test_id("notebook-prog.ipynb")
        expect(notebook.get_by_test_id("kernel-status")).to_contain_text(
            "idle", timeout=START_TIMEOUT
        )
        # The cell's program is in the notebook already.
        notebook.locator('[data-testid="cell-editor"] .view-lines').first.click()
        page.keyboard.press("Shift+Enter")
        output = notebook.get_by_test_id("cell-output").first
        expect(output).to_contain_text("c read: kept by the service", timeout=START_TIMEOUT)
        # The terminal is a sandbox of the service's, over the same files.
        page.get_by_test_id("toggle-terminal").click()
        rows = page.locator('[data-testid="terminal"] .xterm-rows')
        expect(rows).to_contain_text(re.compile(r"[$#]"), timeout=60_000)
        page.locator('[data-testid="terminal"] .xterm').click()
        page.keyboard.type("cat from-ui.txt; echo shell-$((40+2))")
        page.keyboard.press("Enter")
        expect(rows).to_contain_text("shell-42", timeout=30_000)
        expect(rows).to_contain_text("ui")
        shot(page, "hub-user-server-ide")
    finally:
        context.close()
        user_server_request(hub, name, "DELETE")
    assert not errors, f"uncaught errors in the page: {errors}"


def _lab_notebook(server: IDEServer, name: str, kernel: str, language: str, source: str) -> None:
    """Save a one-cell notebook for ``kernel`` whose cell holds ``source``."""
    cell: dict[str, Any] = {
        "id": "c1",
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": language}},
        "cells": [cell],
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


def _run_lab_cell(page: Page, lab: str, notebook: str) -> Locator:
    """Open a notebook alone in JupyterLab, run its first cell; return the cell's output area."""
    page.goto(f"{lab}/tree/{notebook}?reset")  # a fresh layout: only this notebook is open
    status = page.get_by_role("contentinfo")
    expect(status).to_contain_text(notebook, timeout=START_TIMEOUT)
    expect(status.get_by_role("button", name=re.compile(r"\| Idle"))).to_be_visible(
        timeout=START_TIMEOUT
    )
    panel = page.locator(".jp-NotebookPanel >> visible=true").first
    panel.locator(".jp-Cell .cm-content").first.click()
    expect(status).to_contain_text("Mode: Edit")
    page.keyboard.press("Shift+Enter")
    return panel.locator(".jp-OutputArea-output").first


def _service_kernels(service: IDEServer) -> list[dict[str, Any]]:
    """Return the caller's kernels as the service lists them."""
    request = urllib.request.Request(
        f"{service.url}/api/kernels", headers={"Authorization": f"token {service.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        kernels: list[dict[str, Any]] = json.load(response)
    return kernels


def test_jupyterlab_in_a_students_server_runs_python_and_c_in_the_services_sandboxes(
    browser: Browser, hub: ServiceHub, tmp_path: Path
) -> None:
    """JupyterLab's own editor, notebooks (ide-python, ide-c) and terminal: the service's."""
    name = f"lab-{uuid.uuid4().hex[:6]}"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    lab = f"{hub.url}/user/{name}/lab"
    try:
        _sign_in(page, hub.url, name)
        service = IDEServer(hub.service_url, hub.token(name, [ACCESS]), tmp_path)
        put_file(service, "note.txt", "kept by the service\n")
        _lab_notebook(
            service,
            "lab-py.ipynb",
            "ide-python",
            "python",
            "print(open('note.txt').read().strip()); open('from-lab.txt', 'w').write('lab\\n')",
        )
        _c_notebook(service, "lab-c.ipynb")
        # A Python notebook in JupyterLab reads the service's file; what it writes is kept there.
        output = _run_lab_cell(page, lab, "lab-py.ipynb")
        expect(output).to_contain_text("kept by the service", timeout=START_TIMEOUT)
        for _ in range(60):  # the kernel's folder syncs into the index after the run
            try:
                if get_file(service, "from-lab.txt") == "lab\n":
                    break
            except OSError:
                pass
            page.wait_for_timeout(500)
        assert get_file(service, "from-lab.txt") == "lab\n"
        # A file saved in JupyterLab's editor is the service's, and a C cell reads it.
        page.goto(f"{lab}/tree/note.txt?reset")
        editor = page.locator(".jp-FileEditor .cm-content >> visible=true").first
        editor.click()
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("edited in lab\n")
        page.keyboard.press("ControlOrMeta+s")
        for _ in range(60):
            if get_file(service, "note.txt") == "edited in lab\n":
                break
            page.wait_for_timeout(500)
        assert get_file(service, "note.txt") == "edited in lab\n"
        output = _run_lab_cell(page, lab, "lab-c.ipynb")
        expect(output).to_contain_text("c read: edited in lab", timeout=START_TIMEOUT)
        # Both kernels are the service's: it lists them as this student's.
        names = sorted(kernel["name"] for kernel in _service_kernels(service))
        assert names == ["ide-c", "ide-python"], names
        # JupyterLab's terminal (its launcher offers one) is a sandbox of the service's.
        page.goto(f"{lab}?reset")
        page.locator('.jp-LauncherCard:has-text("Terminal") >> visible=true').first.click()
        terminal = page.get_by_role("textbox", name="Terminal input")
        expect(terminal).to_be_visible(timeout=60_000)
        page.wait_for_timeout(2_000)  # the shell's prompt; Lab draws it on a canvas
        terminal.click()
        page.keyboard.type("(cat from-lab.txt; echo $((40+2))) > from-terminal.txt")
        page.keyboard.press("Enter")
        for _ in range(60):  # written in the sandbox's workspace folder, synced into the index
            try:
                if get_file(service, "from-terminal.txt") == "lab\n42\n":
                    break
            except OSError:
                pass
            page.wait_for_timeout(500)
        assert get_file(service, "from-terminal.txt") == "lab\n42\n"
        shot(page, "hub-user-server-jupyterlab")
    finally:
        context.close()
        user_server_request(hub, name, "DELETE")
    assert not errors, f"uncaught errors in the page: {errors}"
