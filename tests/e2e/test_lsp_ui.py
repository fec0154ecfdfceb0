"""Monaco in /ide as an LSP client of the sandboxed language servers, in a real browser."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import docker
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import IDEServer, get_file, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e

# The first use of a language starts its server's container: allow for that once.
FIRST_START_MS = 60_000
# The limit for a killed server: the editor works again within 5 s.
RECONNECT_S = 5.0


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    """The real Docker engine, to find (and kill) a language server's container."""
    client = docker.from_env()
    yield client
    client.close()


def _open(page: Page, server: IDEServer, path: str, text: str, key: str) -> str:
    """Write a file, open it in the IDE, and wait until its language server is ready."""
    folder = path.rpartition("/")[0]
    if folder:
        _make_folder(server, folder)
    put_file(server, path, text)
    if folder:
        refresh_until_listed(page, folder)
        page.get_by_test_id(f"explorer-item-{folder}").click()
    else:
        refresh_until_listed(page, path)
    page.get_by_test_id(f"explorer-item-{path}").click()
    editor = f'[data-testid="editor-{path}"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text(text.split("\n")[0][:20])
    expect(page.get_by_test_id(f"lsp-status-{key}")).to_have_attribute(
        "data-state", "ready", timeout=FIRST_START_MS
    )
    return editor


def _make_folder(server: IDEServer, path: str) -> None:
    """Make a folder through the contents API (a Go package of its own, say)."""
    request = urllib.request.Request(
        f"{server.url}/api/contents/{urllib.parse.quote(path)}",
        data=json.dumps({"type": "directory"}).encode(),
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _hover_message(page: Page, squiggle: Locator) -> str:
    """Point at a squiggle and read the message Monaco shows for it."""
    box = squiggle.bounding_box()
    assert box, "the squiggle has no box"
    # The text layer lies over the squiggle: move the mouse there as a person would.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2 + 1, box["y"] + box["height"] / 2)
    hover = page.locator(".monaco-hover:visible .hover-contents, .monaco-hover:visible .marker")
    expect(hover.first).to_be_visible()
    return " ".join(hover.all_inner_texts())


def _error_says(page: Page, editor: str, *words: str, timeout: float = FIRST_START_MS) -> None:
    """An error squiggle appears in the editor, and its hover names every word."""
    squiggle = page.locator(f"{editor} .squiggly-error").first
    expect(squiggle).to_be_visible(timeout=timeout)
    message = _hover_message(page, squiggle)
    for word in words:
        assert word in message, f"{word!r} not in the diagnostic {message!r}"
    page.mouse.move(0, 0)


def _cursor_to(page: Page, editor: str | Locator, line: int, column: int) -> None:
    """Put the cursor at a 1-based line and column with the keyboard (Ctrl+Home, arrows)."""
    scope = page.locator(editor) if isinstance(editor, str) else editor
    scope.locator(".view-lines").click()
    page.keyboard.press("Control+Home")
    for _ in range(line - 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Home")
    for _ in range(column - 1):
        page.keyboard.press("ArrowRight")


def test_python_syntax_error_is_underlined(page: Page, ide_server: IDEServer) -> None:
    """pylsp's syntax error shows as a red squiggle whose hover gives the message; Format
    Document formats a Python file (autopep8)."""
    editor = _open(page, ide_server, "broken.py", "def f(:\n    return 1\n", "pylsp")
    _error_says(page, editor, "syntax")
    shot(page, "lsp-01-python-syntax-error")
    # Fixing the text removes the error: the server sees each edit.
    _cursor_to(page, editor, 1, 7)
    page.keyboard.type(")")
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("def f():")
    expect(page.locator(f"{editor} .squiggly-error")).to_have_count(0, timeout=15_000)
    # Format Document (Ctrl+Shift+I) asks pylsp, whose autopep8 plugin spaces the code.
    messy = _open(page, ide_server, "messy.py", "x=1\ny = [1,2]\n", "pylsp")
    page.locator(f"{messy} .view-lines").click()
    page.keyboard.press("Control+Shift+I")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 15
    while get_file(ide_server, "messy.py") != "x = 1\ny = [1, 2]\n" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get_file(ide_server, "messy.py") == "x = 1\ny = [1, 2]\n"


def test_completion_of_os_path(page: Page, ide_server: IDEServer) -> None:
    """`import os; os.pa` offers `path`, and accepting it completes the text."""
    editor = _open(page, ide_server, "complete.py", "# completion\n", "pylsp")
    _cursor_to(page, editor, 2, 1)
    page.keyboard.type("import os; os.pa")
    widget = page.locator(f"{editor} .suggest-widget")
    expect(widget).to_be_visible(timeout=15_000)
    # pylsp's list for "pa" (os.pardir, os.path, os.pathsep...): "path" is among them.
    path = widget.locator('.monaco-list-row[aria-label^="path,"]')
    expect(path).to_have_count(1)
    shot(page, "lsp-02-completion")
    path.click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("import os; os.path")


def test_go_to_definition_across_files(page: Page, ide_server: IDEServer) -> None:
    """F12 on a name imported from another file opens that file at the definition."""
    put_file(ide_server, "geometry.py", "PI = 3.14\n\n\ndef area(r):\n    return PI * r * r\n")
    editor = _open(
        page,
        ide_server,
        "uses_geometry.py",
        "from geometry import area\n\nprint(area(2))\n",
        "pylsp",
    )
    _cursor_to(page, editor, 3, 8)  # on "area" in print(area(2))
    page.keyboard.press("F12")
    target = '[data-testid="editor-geometry.py"]'
    expect(page.locator(f"{target} .view-lines")).to_contain_text("def area(r):")
    expect(page.locator(f"{target} .monaco-editor.focused")).to_have_count(1)
    # The cursor lands at the start of the definition's name (Monaco collapses the range).
    page.keyboard.type("surface_")
    expect(page.locator(f"{target} .view-lines")).to_contain_text("def surface_area(r):")
    shot(page, "lsp-03-definition")


def test_rename_python_function_across_files(page: Page, ide_server: IDEServer) -> None:
    """F2 renames a function in the open file and in the file that imports it, on disk."""
    put_file(ide_server, "shapes.py", "def square(x):\n    return x * x\n")
    put_file(ide_server, "report.py", "from shapes import square\n\nprint(square(3))\n")
    editor = _open(page, ide_server, "shapes.py", "def square(x):\n    return x * x\n", "pylsp")
    _cursor_to(page, editor, 1, 6)
    page.keyboard.press("F2")
    field = page.locator(".rename-box input, .rename-input").first
    expect(field).to_be_visible()
    field.fill("power2")
    field.press("Enter")
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("def power2(x):")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0)
    # The file no editor showed was edited and saved through the contents API.
    deadline = time.monotonic() + 15
    while "power2" not in get_file(ide_server, "report.py") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get_file(ide_server, "report.py") == "from shapes import power2\n\nprint(power2(3))\n"
    assert get_file(ide_server, "shapes.py") == "def power2(x):\n    return x * x\n"
    shot(page, "lsp-04-rename")


def test_c_undeclared_variable_is_underlined(page: Page, ide_server: IDEServer) -> None:
    """clangd reports a variable used without a declaration."""
    source = "int main(void) {\n    return undeclared_count + 1;\n}\n"
    editor = _open(page, ide_server, "prog.c", source, "clangd")
    _error_says(page, editor, "undeclared_count")
    shot(page, "lsp-05-c-undeclared")


def test_javascript_and_go_diagnostics(page: Page, ide_server: IDEServer) -> None:
    """typescript-language-server and gopls each report an error; gopls formats the file."""
    js = _open(
        page,
        ide_server,
        "app.js",
        "const total = ;\nconsole.log(total);\n",
        "typescript-language-server",
    )
    _error_says(page, js, "Expression expected", "typescript")  # the server names itself
    go = _open(
        page,
        ide_server,
        "hello/main.go",  # a folder of its own: Go's package is the folder
        'package main\n\nimport "fmt"\n\nfunc main() {\n    fmt.Println(missingValue)\n}\n',
        "gopls",
    )
    _error_says(page, go, "missingValue")
    shot(page, "lsp-06-go")
    # Format Document (Ctrl+Shift+I on Linux) asks gopls, whose gofmt indents with a tab.
    page.locator(f"{go} .view-lines").click()
    page.keyboard.press("Control+Shift+I")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 15
    while "\tfmt" not in get_file(ide_server, "hello/main.go") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get_file(ide_server, "hello/main.go") == (
        'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(missingValue)\n}\n'
    )


def test_notebook_cells_form_one_document(page: Page, ide_server: IDEServer) -> None:
    """Cells are one document: a name from the cell above is known, an unknown one is
    underlined, completion works in a cell and F12 goes from one cell to another."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": "def helper():\n    return 1",
            },
            {
                "cell_type": "code",
                "id": "c2",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": "helper()\nnot_defined_anywhere + 1",
            },
        ],
        "metadata": {
            "kernelspec": {"name": "ide-python", "display_name": "Python", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (ide_server.root / "cells.ipynb").write_text(json.dumps(notebook))
    refresh_until_listed(page, "cells.ipynb")
    page.get_by_test_id("explorer-item-cells.ipynb").click()
    cells = page.get_by_test_id("notebook-cells.ipynb").get_by_test_id("cell")
    expect(cells).to_have_count(2)
    first, second = cells.nth(0), cells.nth(1)
    squiggle = second.locator(".squiggly-error, .squiggly-warning").first
    expect(squiggle).to_be_visible(timeout=FIRST_START_MS)
    assert "not_defined_anywhere" in _hover_message(page, squiggle)
    # helper() comes from the first cell: the unknown name is the cell's only complaint.
    expect(second.locator(".squiggly-error, .squiggly-warning")).to_have_count(1)
    expect(first.locator(".squiggly-error, .squiggly-warning")).to_have_count(0)
    shot(page, "lsp-07-notebook")
    # Completion in a cell: the server answers at the cell's place in the virtual document.
    _cursor_to(page, second, 2, 1)
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("import os; os.pa")
    # Cells suggest on "." only (no suggestions while typing words): ask with Ctrl+Space.
    page.keyboard.press("Control+Space")
    widget = second.locator(".suggest-widget")
    expect(widget).to_be_visible(timeout=15_000)
    expect(widget.locator('.monaco-list-row[aria-label^="path,"]')).to_have_count(1)
    page.keyboard.press("Escape")
    # Go to definition from the second cell lands in the first, at the function's name.
    _cursor_to(page, second, 1, 2)
    page.keyboard.press("F12")
    expect(first.locator(".monaco-editor.focused")).to_have_count(1)  # the jump is done
    page.keyboard.type("my_")
    expect(first.locator(".view-lines")).to_contain_text("def my_helper():")


def _server_container(engine: docker.DockerClient, server: IDEServer, key: str) -> str:
    """The id of this test server's running container of language server `key`."""
    labels = ["jupyter-ide.kind=lsp", f"jupyter-ide.lsp-server={key}"]
    workspace = str(server.root.resolve())
    for container in engine.containers.list(filters={"label": labels}):
        mounts = container.attrs.get("Mounts", [])
        if any(str(m.get("Source", "")).startswith(workspace) for m in mounts):
            return str(container.id)
    raise AssertionError(f"no running {key} container for {workspace}")


def test_killed_server_is_restarted_and_the_editor_reconnects(
    page: Page, ide_server: IDEServer, engine: docker.DockerClient
) -> None:
    """After the pylsp container is killed, a new error is underlined within 5 s."""
    editor = _open(page, ide_server, "survivor.py", "value = 1\n", "pylsp")
    first = _server_container(engine, ide_server, "pylsp")
    engine.api.kill(first)
    killed_at = time.monotonic()
    _cursor_to(page, editor, 2, 1)
    page.keyboard.type("print(value +)")
    squiggle = page.locator(f"{editor} .squiggly-error").first
    expect(squiggle).to_be_visible(timeout=RECONNECT_S * 1000)
    elapsed = time.monotonic() - killed_at
    assert elapsed < RECONNECT_S, f"diagnostics came back after {elapsed:.1f} s"
    assert _server_container(engine, ide_server, "pylsp") != first
    expect(page.get_by_test_id("lsp-status-pylsp")).to_have_attribute("data-state", "ready")
    shot(page, "lsp-08-reconnected")


def test_references_hover_and_signature_help(page: Page, ide_server: IDEServer) -> None:
    """Shift+F12 lists uses in both files; hover shows the docstring; '(' shows the signature."""
    put_file(ide_server, "volumes.py", 'def cube(side):\n    """The volume of a cube."""\n')
    put_file(ide_server, "boxes.py", "from volumes import cube\n\ncube(2)\n")
    editor = _open(
        page,
        ide_server,
        "volumes.py",
        'def cube(side):\n    """The volume of a cube."""\n',
        "pylsp",
    )
    _cursor_to(page, editor, 1, 6)
    page.keyboard.press("Shift+F12")
    peek = page.locator(f"{editor} .peekview-widget")
    expect(peek).to_be_visible(timeout=15_000)
    # The other file (not open in any tab) is listed with its uses.
    expect(peek.locator(".reference-file")).to_have_count(2)
    expect(peek).to_contain_text("boxes.py")
    shot(page, "lsp-09-references")
    page.keyboard.press("Escape")
    _cursor_to(page, editor, 3, 1)
    page.keyboard.type("cube(")
    hints = page.locator(f"{editor} .parameter-hints-widget")
    expect(hints).to_be_visible(timeout=15_000)
    expect(hints).to_contain_text("side")
    page.keyboard.press("Escape")
    _cursor_to(page, editor, 1, 6)
    page.keyboard.press("Control+k")
    page.keyboard.press("Control+i")  # Monaco's "show hover" chord
    expect(page.locator(".monaco-hover:visible")).to_contain_text("The volume of a cube")


def test_under_a_hub_base_url(browser: Browser, hub_server: IDEServer) -> None:
    """Under /user/<name>/ the client finds /lsp/status and its socket below the base URL."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    try:
        page.goto(hub_server.ide_url())
        page.get_by_test_id("explorer").wait_for()
        editor = _open(page, hub_server, "hub_check.py", "def f(:\n    pass\n", "pylsp")
        _error_says(page, editor, "syntax")
        assert any("/user/student/lsp/ws/pylsp" in url for url in sockets), sockets
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
