"""The IDE in a real browser against a real server: files, notebooks, terminal, status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from .conftest import (
    MAX_FILE_SIZE,
    IDEServer,
    get_file,
    put_file,
    refresh_until_listed,
    shot,
)

pytestmark = pytest.mark.e2e


def _new(page: Page, button: str, name: str) -> None:
    """Create an entry through the explorer's toolbar and its name field."""
    page.get_by_test_id(button).click()
    field = page.get_by_test_id("explorer-name-input")
    field.fill(name)
    field.press("Enter")


def _type_in_editor(page: Page, scope: str, text: str) -> None:
    """Click into a Monaco editor and type like a person."""
    page.locator(f"{scope} .monaco-editor .view-lines").first.click()
    page.keyboard.type(text)


def test_create_type_save_reload(page: Page, ide_server: IDEServer) -> None:
    """A new file, typed into and saved with Ctrl+S, is there after a reload."""
    _new(page, "explorer-new-file", "hello.py")
    editor = '[data-testid="editor-hello.py"]'
    page.locator(f"{editor} .monaco-editor").wait_for()
    _type_in_editor(page, editor, "greeting = 'hello from the IDE'")
    expect(page.get_by_test_id("tab-dirty")).to_be_visible()
    shot(page, "01-file-typed")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0)
    assert (ide_server.root / "hello.py").read_text() == "greeting = 'hello from the IDE'"
    page.reload()
    page.get_by_test_id("explorer-item-hello.py").click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("hello from the IDE")
    shot(page, "02-file-after-reload")


def test_changed_on_disk_is_detected(page: Page, ide_server: IDEServer) -> None:
    """A save over a file that moved on behind the editor asks instead of overwriting."""
    put_file(ide_server, "shared.txt", "first\n")
    refresh_until_listed(page, "shared.txt")
    page.get_by_test_id("explorer-item-shared.txt").click()
    editor = '[data-testid="editor-shared.txt"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("first")
    put_file(ide_server, "shared.txt", "changed elsewhere\n")  # another client saves it
    _type_in_editor(page, editor, "mine ")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("disk-conflict-banner")).to_be_visible()
    shot(page, "03-changed-on-disk")
    assert get_file(ide_server, "shared.txt") == "changed elsewhere\n"
    page.get_by_test_id("conflict-reload").click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("changed elsewhere")


def test_rename_and_move_by_drag_and_drop(page: Page, ide_server: IDEServer) -> None:
    """A folder made in the explorer; a file renamed, then dragged into it, moves on disk."""
    put_file(ide_server, "draft.txt", "text")
    refresh_until_listed(page, "draft.txt")
    _new(page, "explorer-new-folder", "folder")
    expect(page.get_by_test_id("explorer-item-folder")).to_be_visible()
    assert (ide_server.root / "folder").is_dir()
    page.get_by_test_id("explorer-item-draft.txt").hover()
    page.get_by_test_id("explorer-rename-draft.txt").click()
    field = page.get_by_test_id("explorer-rename-input")
    field.fill("final.txt")
    field.press("Enter")
    item = page.get_by_test_id("explorer-item-final.txt")
    expect(item).to_be_visible()
    item.drag_to(page.get_by_test_id("explorer-item-folder"))
    expect(page.get_by_test_id("explorer-item-folder/final.txt")).to_be_visible()
    shot(page, "04-moved")
    assert (ide_server.root / "folder" / "final.txt").read_text() == "text"
    assert not (ide_server.root / "draft.txt").exists()


def test_oversize_upload_shows_the_server_message(page: Page, ide_server: IDEServer) -> None:
    """An upload over the server's limit is refused (413) and the user reads why."""
    page.get_by_test_id("explorer-upload-input").set_input_files(
        [
            {
                "name": "huge.bin",
                "mimeType": "application/octet-stream",
                "buffer": bytes(MAX_FILE_SIZE + 1),
            }
        ]
    )
    toast = page.get_by_test_id("toast").filter(has_text="huge.bin")
    expect(toast).to_contain_text(f"the largest file allowed is {MAX_FILE_SIZE} bytes")
    shot(page, "05-upload-too-large")
    assert not (ide_server.root / "huge.bin").exists()
    assert not list(ide_server.root.glob(".*ide-upload"))


def test_notebook_runs_and_shows_tracebacks(page: Page, ide_server: IDEServer) -> None:
    """A new notebook runs print(6*7) to 42, and a failing cell shows its traceback."""
    _new(page, "explorer-new-notebook", "first.ipynb")
    notebook = page.get_by_test_id("notebook-first.ipynb")
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)
    _type_in_editor(page, '[data-testid="notebook-first.ipynb"] [data-testid="cell"]', "print(6*7)")
    page.keyboard.press("Shift+Enter")
    first = notebook.get_by_test_id("cell").nth(0)
    expect(first.get_by_test_id("cell-output")).to_contain_text("42")
    expect(first.get_by_test_id("cell-prompt")).to_have_text("[1]:")
    page.keyboard.type("1/0")
    page.keyboard.press("Shift+Enter")
    second = notebook.get_by_test_id("cell").nth(1)
    expect(second.get_by_test_id("output-error")).to_contain_text("ZeroDivisionError")
    expect(second.get_by_test_id("output-error")).to_contain_text("Traceback")
    shot(page, "06-notebook")
    notebook.get_by_test_id("nb-save").click()
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0)
    saved = json.loads((ide_server.root / "first.ipynb").read_text())
    assert "".join(saved["cells"][0]["outputs"][0]["text"]) == "42\n"
    assert saved["cells"][1]["outputs"][0]["ename"] == "ZeroDivisionError"


def test_notebook_renders_rich_outputs(page: Page, ide_server: IDEServer) -> None:
    """HTML, markdown, JSON and PNG outputs are rendered, not shown as text."""
    _new(page, "explorer-new-notebook", "rich.ipynb")
    notebook = page.get_by_test_id("notebook-rich.ipynb")
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)
    code = (
        "from IPython.display import HTML, Markdown, JSON, Image, display\n"
        "import base64\n"
        "display(HTML('<b id=\"bold-html\">bold</b>'))\n"
        "display(Markdown('# A heading'))\n"
        "display(JSON({'answer': 42}))\n"
        "display(Image(data=base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
        "AAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==')))"
    )
    page.locator('[data-testid="notebook-rich.ipynb"] .monaco-editor .view-lines').first.click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    output = notebook.get_by_test_id("cell").nth(0).get_by_test_id("cell-output")
    # HTML outputs are shown in a sandboxed frame of their own.
    html = output.frame_locator('[data-testid="output-html-frame"]')
    expect(html.locator("#bold-html")).to_have_text("bold")
    expect(output.locator("h1")).to_have_text("A heading")
    expect(output.locator(".output-json")).to_contain_text('"answer": 42')
    expect(output.locator("img.output-image")).to_be_visible()
    notebook.get_by_test_id("nb-cell-type").select_option("markdown")
    page.locator('[data-testid="notebook-rich.ipynb"] [data-testid="cell"]').nth(1).locator(
        ".view-lines"
    ).click()
    page.keyboard.type("## Notes with *emphasis*")
    page.keyboard.press("Shift+Enter")
    rendered = notebook.get_by_test_id("markdown-rendered")
    expect(rendered.locator("h2")).to_have_text("Notes with emphasis")
    expect(rendered.locator("em")).to_have_text("emphasis")
    shot(page, "07-rich-outputs")


def test_terminal_echo(page: Page) -> None:
    """The terminal panel runs a command and shows its output."""
    page.get_by_test_id("toggle-terminal").click()
    rows = page.locator('[data-testid="terminal"] .xterm-rows')
    rows.wait_for()
    expect(rows).to_contain_text(re.compile(r"[$#]"), timeout=20_000)
    page.locator('[data-testid="terminal"] .xterm').click()
    page.keyboard.type("echo hi-from-$((40+2))")
    page.keyboard.press("Enter")
    expect(rows).to_contain_text("hi-from-42")
    shot(page, "08-terminal")


def test_status_bar_shows_the_sandbox_and_its_limits(page: Page) -> None:
    """With a Docker engine, the status bar names the sandbox and its limits."""
    sandbox = page.get_by_test_id("status-sandbox")
    expect(sandbox).to_contain_text("Sandboxed")
    expect(sandbox).to_contain_text("512 MB")
    expect(page.get_by_test_id("status-database")).to_contain_text("ok")
    shot(page, "09-status-bar")


def test_autosave_after_a_pause(page: Page, ide_server: IDEServer) -> None:
    """Typing without saving is written to disk after a short pause."""
    _new(page, "explorer-new-file", "auto.txt")
    editor = '[data-testid="editor-auto.txt"]'
    page.locator(f"{editor} .monaco-editor").wait_for()
    _type_in_editor(page, editor, "saved by itself")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0, timeout=10_000)
    assert (ide_server.root / "auto.txt").read_text() == "saved by itself"


def test_upload_download_and_delete(page: Page, ide_server: IDEServer, tmp_path: Path) -> None:
    """Files upload (a large one in chunks), download intact, and delete after a confirm."""
    small = tmp_path / "small.txt"
    small.write_text("tiny")
    large = tmp_path / "large.bin"
    payload = bytes(range(256)) * (3 * 4096 + 7)  # about 3 MB: several upload chunks
    large.write_bytes(payload)
    page.get_by_test_id("explorer-upload-input").set_input_files([str(small), str(large)])
    expect(page.get_by_test_id("explorer-item-large.bin")).to_be_visible(timeout=20_000)
    assert (ide_server.root / "large.bin").read_bytes() == payload
    assert (ide_server.root / "small.txt").read_text() == "tiny"
    assert not list(ide_server.root.glob(".*ide-upload"))
    page.get_by_test_id("explorer-item-small.txt").hover()
    with page.expect_download() as download:
        page.get_by_test_id("explorer-download-small.txt").click()
    assert Path(download.value.path()).read_text() == "tiny"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("explorer-delete-small.txt").click()
    expect(page.get_by_test_id("explorer-item-small.txt")).to_have_count(0)
    assert not (ide_server.root / "small.txt").exists()
    shot(page, "10-uploaded")


def test_interrupt_and_restart(page: Page) -> None:
    """A long cell is interrupted; a restart clears the kernel's state."""
    _new(page, "explorer-new-notebook", "long.ipynb")
    notebook = page.get_by_test_id("notebook-long.ipynb")
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)
    _type_in_editor(page, '[data-testid="notebook-long.ipynb"] [data-testid="cell"]', "x = 1")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("import time; time.sleep(60)")
    page.keyboard.press("Shift+Enter")
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("busy")
    notebook.get_by_test_id("nb-interrupt").click()
    second = notebook.get_by_test_id("cell").nth(1)
    expect(second.get_by_test_id("output-error")).to_contain_text("KeyboardInterrupt")
    notebook.get_by_test_id("nb-restart").click()
    expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)
    third = notebook.get_by_test_id("cell").nth(2)
    third.locator(".view-lines").click()
    page.keyboard.type("print('x' in globals())")
    page.keyboard.press("Shift+Enter")
    expect(third.get_by_test_id("cell-output")).to_contain_text("False")
    shot(page, "11-interrupt-restart")


def test_terminal_follows_the_panel_size(page: Page) -> None:
    """Dragging the panel taller gives the shell more rows."""
    page.get_by_test_id("toggle-terminal").click()
    rows = page.locator('[data-testid="terminal"] .xterm-rows')
    expect(rows).to_contain_text(re.compile(r"[$#]"), timeout=20_000)
    page.locator('[data-testid="terminal"] .xterm').click()
    page.keyboard.type("clear; echo size-$(tput lines)")
    page.keyboard.press("Enter")
    expect(rows).to_contain_text(re.compile(r"size-\d+"))
    before = int(re.findall(r"size-(\d+)", rows.inner_text())[-1])
    handle = page.get_by_test_id("terminal-resize-handle").bounding_box()
    assert handle is not None
    page.mouse.move(handle["x"] + 50, handle["y"] + 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + 50, handle["y"] - 200, steps=5)
    page.mouse.up()
    page.locator('[data-testid="terminal"] .xterm').click()
    page.keyboard.type("clear; echo size-$(tput lines)")
    page.keyboard.press("Enter")
    expect(rows).to_contain_text(re.compile(r"size-\d+"))
    page.wait_for_function(
        "before => [...document.querySelectorAll('[data-testid=terminal] .xterm-rows')]"
        ".some(r => (r.innerText.match(/size-(\\d+)/g) || []).some(m => +m.slice(5) > before))",
        arg=before,
    )
    shot(page, "12-terminal-resized")


def test_works_under_a_hub_base_url(browser: Browser, hub_server: IDEServer) -> None:
    """Under /user/<name>/ (JupyterHub), assets, Monaco's workers and kernel sockets all load."""
    put_file(hub_server, "hello.py", "print('hub')\n")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def check(response: Response) -> None:
        # A 404 from the contents API is the explorer asking whether a name is free.
        if response.status >= 400 and not (
            response.status == 404 and "/api/contents/" in response.url
        ):
            problems.append(f"{response.status} {response.url}")

    page.on("response", check)
    try:
        page.goto(hub_server.ide_url())
        assert "/user/student/ide" in page.url
        page.get_by_test_id("explorer-item-hello.py").click()
        expect(page.locator('[data-testid="editor-hello.py"] .view-lines')).to_contain_text("hub")
        _new(page, "explorer-new-notebook", "hub.ipynb")
        notebook = page.get_by_test_id("notebook-hub.ipynb")
        expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)
        _type_in_editor(page, '[data-testid="notebook-hub.ipynb"] [data-testid="cell"]', "6*7")
        page.keyboard.press("Shift+Enter")
        expect(notebook.get_by_test_id("cell-output").first).to_contain_text("42")
        expect(page.get_by_test_id("status-sandbox")).to_contain_text("Sandboxed")
        shot(page, "13-hub-base-url")
        assert not problems, problems
    finally:
        context.close()
