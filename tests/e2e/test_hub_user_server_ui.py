"""A student's own server under the service, in a real browser: sign-in, files, Run, a notebook.

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

import pytest
from playwright.sync_api import Browser, expect

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
    cell = {
        "id": "c1",
        "cell_type": "code",
        "source": C_PROGRAM,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "ide-c", "display_name": "C", "language": "c"}},
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
