"""/ide's language-server client and debugger as a hub student starts them, in a real browser.

A real hub (deploy config, managed jupyter-ide service, local OIDC provider) spawns the
student's own server (jupyterhub-singleuser); she signs in at the provider's pages and lands on
/user/<name>/ide. Her language servers and kernels are the service's sandboxes: a Python syntax
error is underlined, `os.pa` completes to `path`, and a breakpoint in a Python file (made
conditional by right-clicking it) stops with its variables shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..hubfixture import ACCESS, service_hub, user_server_request, user_servers_config
from ..kernel_host import require_images
from ..s3_server import MotoServer
from .conftest import IDEServer, put_file, refresh_until_listed, shot
from .test_debugger_ui import _click_gutter, _open_debugger, _variable
from .test_hub import _sign_in
from .test_lsp_ui import _cursor_to, _error_says

pytestmark = pytest.mark.e2e

START_TIMEOUT = 90_000
LOOP = """\
total = 0
for i in range(6):
    total += i
print("total", total)
"""


@pytest.fixture(scope="module")
def student(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer
) -> Iterator[tuple[Page, IDEServer]]:
    """One hub and one signed-in student: her /ide page and the service's files as hers."""
    require_images("python")
    base = tmp_path_factory.mktemp("lsp-debug-hub")
    name = f"stu-{uuid.uuid4().hex[:6]}"
    config = user_servers_config(base, pool=0)
    with service_hub(base, moto_server, "managed", extra_config=config) as (hub, _env):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            _sign_in(page, hub.url, name)
            yield page, IDEServer(hub.service_url, hub.token(name, [ACCESS]), base)
        finally:
            context.close()
            user_server_request(hub, name, "DELETE")
        assert not errors, f"uncaught errors in the page: {errors}"


def _open(page: Page, service: IDEServer, path: str, text: str) -> str:
    """Save a file at the service, open it in the student's IDE; return its editor's selector."""
    put_file(service, path, text)
    refresh_until_listed(page, path)
    page.get_by_test_id(f"explorer-item-{path}").click()
    editor = f'[data-testid="editor-{path}"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text(text.split("\n")[0][:20])
    return editor


def test_diagnostics_and_completion_from_the_services_pylsp(
    student: tuple[Page, IDEServer],
) -> None:
    """A syntax error is underlined (pyflakes' message in its hover); `os.pa` offers `path`."""
    page, service = student
    editor = _open(page, service, "broken.py", "def f(:\n    return 1\n")
    expect(page.get_by_test_id("lsp-status-pylsp")).to_have_attribute(
        "data-state", "ready", timeout=START_TIMEOUT
    )
    _error_says(page, editor, "syntax")
    shot(page, "hub-lsp-syntax-error")
    editor = _open(page, service, "complete.py", "# completion\n")
    _cursor_to(page, editor, 2, 1)
    page.keyboard.type("import os; os.pa")
    widget = page.locator(f"{editor} .suggest-widget")
    try:
        expect(widget).to_be_visible(timeout=5_000)
    except AssertionError:
        # jedi's first look at `os` in a cold sandbox, through two hops, can outlast the
        # trigger: ask again as a person would.
        page.keyboard.press("Control+Space")
        expect(widget).to_be_visible(timeout=30_000)
    path = widget.locator('.monaco-list-row[aria-label^="path,"]')
    expect(path).to_have_count(1, timeout=30_000)  # pylsp's answer, through two hops
    path.click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("import os; os.path")


def test_a_conditional_breakpoint_in_a_python_file(student: tuple[Page, IDEServer]) -> None:
    """A gutter breakpoint given ``i == 3`` by right-clicking it stops once, at i = 3, in the
    service's kernel; continue runs the loop to its end."""
    page, service = student
    editor_selector = _open(page, service, "loop.py", LOOP)
    editor = page.locator(editor_selector)
    _click_gutter(editor, 3)
    breakpoint_glyph = editor.locator(".debug-breakpoint")
    expect(breakpoint_glyph).to_have_count(1)
    # Right-click the breakpoint: its editor opens under the line.
    box = breakpoint_glyph.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, button="right")
    field = page.get_by_test_id("debug-condition-input")
    expect(field).to_be_focused()
    field.fill("i == 3")
    field.press("Enter")
    expect(page.get_by_test_id("debug-condition")).to_have_count(0)
    expect(editor.locator(".debug-breakpoint-conditional")).to_have_count(1)

    _open_debugger(page)
    page.get_by_test_id("debug-start").click()
    state = page.get_by_test_id("debug-state")
    expect(state).to_have_attribute("data-state", "stopped", timeout=START_TIMEOUT)
    expect(page.get_by_test_id("debug-frame").first).to_contain_text("line 3")
    expect(_variable(page, "i")).to_contain_text("3")
    expect(_variable(page, "total")).to_contain_text("3")  # 0 + 1 + 2
    shot(page, "hub-debugger-conditional-stop")
    page.get_by_test_id("debug-continue").click()
    expect(state).to_have_attribute("data-state", "idle", timeout=30_000)
    expect(page.get_by_test_id("debug-console")).to_contain_text("total 15")
