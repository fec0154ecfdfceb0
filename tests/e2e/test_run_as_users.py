"""▶ Run in a real browser with the server started the README's way (tests/launch.py): as root
with the default data dir (issue #19: every run ended as "Internal Error"), and as a normal user.
A C program with stdin: compiled, cached, run in the judge's sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..launch import launch
from .conftest import IDEServer, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 120_000  # the judge's first run may wait for judge-box and its boxes
GREET_C = (
    "#include <stdio.h>\n"
    "int main(void) {\n"
    '    char name[64];\n    if (scanf("%63s", name) != 1) return 2;\n'
    '    printf("hello, %s\\n", name);\n    return 0;\n}\n'
)


@pytest.fixture(params=["root", "ide-tester"])
def server(request: pytest.FixtureRequest) -> Iterator[IDEServer]:
    """`jupyter ide` as root (default dirs under root's home) or as a normal user."""
    user = None if request.param == "root" else request.param
    with launch(user=user, env={"JUPYTER_IDE_SANDBOX": "docker"}) as launched:
        yield IDEServer(launched.base_url, launched.token, launched.home)


@pytest.fixture
def ide_page(browser: Browser, server: IDEServer) -> Iterator[Page]:
    """The IDE, signed in."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.ide_url())
    page.get_by_test_id("explorer").wait_for()
    yield page
    context.close()


def test_run_button_compiles_and_runs_c_with_stdin(
    ide_page: Page, server: IDEServer, request: pytest.FixtureRequest
) -> None:
    """▶ Run on a C file with stdin shows Accepted and the program's output."""
    put_file(server, "greet.c", GREET_C)
    refresh_until_listed(ide_page, "greet.c")
    ide_page.get_by_test_id("explorer-item-greet.c").click()
    expect(ide_page.locator('[data-testid="editor-greet.c"] .view-lines')).to_contain_text(
        "#include"
    )
    ide_page.get_by_test_id("run-file").click()
    expect(ide_page.get_by_test_id("run-verdict")).to_be_visible(timeout=RUN_TIMEOUT)
    ide_page.get_by_test_id("run-stdin").fill("student\n")
    ide_page.keyboard.press("F5")
    expect(ide_page.get_by_test_id("run-verdict")).to_have_text("Accepted", timeout=RUN_TIMEOUT)
    expect(ide_page.get_by_test_id("run-stdout")).to_contain_text("hello, student")
    shot(ide_page, f"run-as-{request.node.callspec.params['server']}")
