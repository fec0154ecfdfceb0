"""The IDE's loose ends in a real browser: kernels of closed tabs, renames with unsaved edits,
upload progress and cancel, and the kernel recorded in saved notebooks."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .conftest import IDEServer, get_file, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e

CHUNK = 1024 * 1024


def _api(server: IDEServer, path: str, method: str = "GET") -> Any:
    """Call the server's REST API with the token; return the JSON answer (None when empty)."""
    request = urllib.request.Request(
        f"{server.url}/{path}",
        method=method,
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _exists(server: IDEServer, path: str) -> bool:
    """Whether the contents API has a file at ``path``."""
    try:
        _api(server, f"api/contents/{urllib.parse.quote(path)}?content=0")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return False
        raise
    return True


def _kernel_of(server: IDEServer, path: str) -> str:
    """The id of the kernel of the notebook session at ``path``."""
    sessions = _api(server, "api/sessions")
    found = [s["kernel"]["id"] for s in sessions if s["path"] == path]
    assert found, f"no session for {path}: {sessions}"
    return str(found[0])


def _kernel_ids(server: IDEServer) -> set[str]:
    """The ids of the server's running kernels."""
    return {k["id"] for k in _api(server, "api/kernels")}


def _new_notebook(page: Page, name: str) -> None:
    """Create a notebook through the explorer and wait for its kernel."""
    page.get_by_test_id("explorer-new-notebook").click()
    field = page.get_by_test_id("explorer-name-input")
    field.fill(name)
    field.press("Enter")
    status = page.get_by_test_id(f"notebook-{name}").get_by_test_id("kernel-status")
    expect(status).to_contain_text("idle", timeout=60_000)


def _close_tab(page: Page, name: str) -> None:
    """Close a tab with its close button."""
    page.get_by_test_id(f"tab-{name}").get_by_role("button", name=f"Close {name}").click()
    expect(page.get_by_test_id(f"tab-{name}")).to_have_count(0)


def _wait_until_gone(server: IDEServer, kernel_id: str, timeout: float = 30) -> None:
    """Poll until the kernel is no longer running."""
    deadline = time.monotonic() + timeout
    while kernel_id in _kernel_ids(server):
        assert time.monotonic() < deadline, f"kernel {kernel_id} still running"
        time.sleep(0.3)


def test_closing_a_notebook_tab_shuts_its_kernel_down(page: Page, ide_server: IDEServer) -> None:
    """The last view of a notebook closes: its session and kernel stop with it."""
    _new_notebook(page, "closing.ipynb")
    kernel_id = _kernel_of(ide_server, "closing.ipynb")
    _close_tab(page, "closing.ipynb")
    _wait_until_gone(ide_server, kernel_id)
    assert not [s for s in _api(ide_server, "api/sessions") if s["path"] == "closing.ipynb"]


def test_a_kernel_another_view_uses_keeps_running(
    page: Page, browser: Browser, ide_server: IDEServer
) -> None:
    """Closed in one browser tab while another tab shows it: the kernel stays for that one."""
    _new_notebook(page, "shared.ipynb")
    kernel_id = _kernel_of(ide_server, "shared.ipynb")
    other = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        other.goto(ide_server.ide_url())
        other.get_by_test_id("explorer-item-shared.ipynb").click()
        expect(
            other.get_by_test_id("notebook-shared.ipynb").get_by_test_id("kernel-status")
        ).to_contain_text("idle", timeout=60_000)
        assert _kernel_of(ide_server, "shared.ipynb") == kernel_id
        _close_tab(page, "shared.ipynb")
        expect(page.get_by_test_id("toast").filter(has_text="keeps running")).to_be_visible()
        time.sleep(2)
        assert kernel_id in _kernel_ids(ide_server)
        _close_tab(other, "shared.ipynb")
        _wait_until_gone(ide_server, kernel_id)
    finally:
        other.context.close()


def _block_saves(page: Page, name: str) -> None:
    """Make every save of ``name`` fail, so its edits stay unsaved however long the test takes."""

    def refuse(route: Route) -> None:
        if route.request.method == "PUT":
            route.abort()
        else:
            route.continue_()

    page.route(re.compile(rf"/api/contents/{re.escape(name)}(\?|$)"), refuse)


def _rename(page: Page, old: str, new: str) -> None:
    """Rename an explorer entry with its ✎ button."""
    page.get_by_test_id(f"explorer-item-{old}").hover()
    page.get_by_test_id(f"explorer-rename-{old}").click()
    field = page.get_by_test_id("explorer-rename-input")
    field.fill(new)
    field.press("Enter")
    expect(page.get_by_test_id(f"explorer-item-{new}")).to_be_visible()


def test_renaming_a_file_keeps_its_unsaved_edits(page: Page, ide_server: IDEServer) -> None:
    """A file renamed while it has unsaved edits keeps them: same tab, new path, still dirty."""
    put_file(ide_server, "draft notes.txt", "first line\n")
    refresh_until_listed(page, "draft notes.txt")
    page.get_by_test_id("explorer-item-draft notes.txt").click()
    editor = page.get_by_test_id("editor-draft notes.txt")
    expect(editor.locator(".view-lines")).to_contain_text("first line")
    _block_saves(page, "draft%20notes.txt")
    editor.locator(".view-lines").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("unsaved words")
    expect(page.get_by_test_id("tab-draft notes.txt").get_by_test_id("tab-dirty")).to_be_visible()
    _rename(page, "draft notes.txt", "final.py")
    page.unroute_all()

    tab = page.get_by_test_id("tab-final.py")
    expect(tab).to_be_visible()
    expect(tab.get_by_test_id("tab-dirty")).to_be_visible()
    expect(page.get_by_test_id("tab-draft notes.txt")).to_have_count(0)
    renamed = page.get_by_test_id("editor-final.py")
    expect(renamed.locator(".view-lines")).to_contain_text("unsaved words")
    shot(page, "loose-01-renamed-dirty")
    renamed.locator(".view-lines").click()
    page.keyboard.press("Control+s")
    expect(tab.get_by_test_id("tab-dirty")).to_have_count(0)
    assert get_file(ide_server, "final.py") == "first line\nunsaved words"
    assert not _exists(ide_server, "draft notes.txt")


def test_renaming_a_notebook_keeps_its_edits_and_its_kernel(
    page: Page, ide_server: IDEServer
) -> None:
    """A notebook renamed with unsaved cells keeps them, and its session follows the new path."""
    _new_notebook(page, "before.ipynb")
    kernel_id = _kernel_of(ide_server, "before.ipynb")
    _block_saves(page, "before.ipynb")
    notebook = page.get_by_test_id("notebook-before.ipynb")
    notebook.locator('[data-testid="cell"] .view-lines').first.click()
    page.keyboard.type("kept = 6 * 7")
    expect(page.get_by_test_id("tab-before.ipynb").get_by_test_id("tab-dirty")).to_be_visible()
    _rename(page, "before.ipynb", "after.ipynb")
    page.unroute_all()

    after = page.get_by_test_id("notebook-after.ipynb")
    expect(after.locator('[data-testid="cell"] .view-lines').first).to_contain_text("kept = 6 * 7")
    expect(page.get_by_test_id("tab-after.ipynb").get_by_test_id("tab-dirty")).to_be_visible()
    deadline = time.monotonic() + 10
    while _kernel_of_or_none(ide_server, "after.ipynb") != kernel_id:
        assert time.monotonic() < deadline, _api(ide_server, "api/sessions")
        time.sleep(0.3)
    after.get_by_test_id("nb-save").click()
    expect(page.get_by_test_id("tab-after.ipynb").get_by_test_id("tab-dirty")).to_have_count(0)
    saved = json.loads(get_file(ide_server, "after.ipynb"))
    assert "".join(saved["cells"][0]["source"]) == "kept = 6 * 7"


def _kernel_of_or_none(server: IDEServer, path: str) -> str | None:
    """The kernel id of the session at ``path``, or None."""
    found = [s["kernel"]["id"] for s in _api(server, "api/sessions") if s["path"] == path]
    return str(found[0]) if found else None


class _Held:
    """Upload chunk requests held back by the router until the test lets them go."""

    def __init__(self, page: Page, name: str, hold: set[int]) -> None:
        self.routes: list[Route] = []
        self.chunks: list[int | None] = []
        self.hold = hold
        page.route(re.compile(rf"/api/contents/{re.escape(name)}(\?|$)"), self._handle)

    def _handle(self, route: Route) -> None:
        if route.request.method != "PUT":
            route.continue_()
            return
        chunk = json.loads(route.request.post_data or "{}").get("chunk")
        self.chunks.append(chunk)
        if chunk in self.hold:
            self.routes.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        """Let every held request go on to the server."""
        routes, self.routes = self.routes, []
        for route in routes:
            route.continue_()


def _wait_held(page: Page, held: _Held, count: int = 1) -> None:
    """Let the page run until ``count`` requests are held."""
    deadline = time.monotonic() + 30
    while len(held.routes) < count:
        assert time.monotonic() < deadline, f"requests seen: {held.chunks}"
        page.wait_for_timeout(100)


def test_uploads_show_progress_per_file(page: Page, ide_server: IDEServer, tmp_path: Path) -> None:
    """A chunked upload shows how far it got; the next file waits its turn; both arrive."""
    big = tmp_path / "big.bin"
    payload = bytes(range(256)) * (10 * 1024 + 100)  # 2.5 MB: chunks 1, 2 and -1
    big.write_bytes(payload)
    small = tmp_path / "after.txt"
    small.write_text("next")
    held = _Held(page, "big.bin", hold={-1})
    page.get_by_test_id("explorer-upload-input").set_input_files([str(big), str(small)])
    _wait_held(page, held)
    row = page.get_by_test_id("upload-big.bin")
    expected = f"{(2 * CHUNK * 100) // len(payload)}%"
    expect(row.get_by_test_id("upload-status")).to_have_text(expected)
    expect(row.locator("progress")).to_have_attribute("value", expected.rstrip("%"))
    expect(page.get_by_test_id("upload-after.txt").get_by_test_id("upload-status")).to_have_text(
        "waiting"
    )
    shot(page, "loose-02-upload-progress")
    held.release()
    expect(row.get_by_test_id("upload-status")).to_have_text("done")
    expect(page.get_by_test_id("explorer-item-big.bin")).to_be_visible()
    expect(page.get_by_test_id("explorer-item-after.txt")).to_be_visible()
    assert held.chunks == [1, 2, -1]
    assert get_file(ide_server, "after.txt") == "next"


def test_an_upload_can_be_cancelled(page: Page, ide_server: IDEServer, tmp_path: Path) -> None:
    """Cancel stops before the next chunk: the last is never sent and no file appears."""
    put_file(ide_server, "keep.bin", "old content")
    big = tmp_path / "keep.bin"
    big.write_bytes(bytes(range(256)) * (10 * 1024 + 100))
    held = _Held(page, "keep.bin", hold={2})
    page.get_by_test_id("explorer-upload-input").set_input_files([str(big)])
    _wait_held(page, held)
    row = page.get_by_test_id("upload-keep.bin")
    expect(row.get_by_test_id("upload-status")).to_have_text(re.compile(r"^\d+%$"))
    page.get_by_test_id("upload-cancel-keep.bin").click()
    held.release()
    expect(row.get_by_test_id("upload-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("toast").filter(has_text="cancelled")).to_be_visible()
    page.wait_for_timeout(500)
    assert held.chunks == [1, 2]
    # The file that was there before the cancelled upload is untouched.
    assert get_file(ide_server, "keep.bin") == "old content"


async def _kernel_info(server: IDEServer, kernel_id: str) -> dict[str, Any]:
    """Ask the kernel for its kernel_info_reply through Jupyter's websocket API."""
    url = server.url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
    request = HTTPRequest(url, headers={"Authorization": f"token {server.token}"})
    ws = await websocket_connect(request)
    msg_id = uuid.uuid4().hex
    await ws.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "kernel_info_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "content": {},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    try:
        async with asyncio.timeout(30):
            while True:
                raw = await ws.read_message()
                assert raw is not None, "the kernel socket closed"
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") == msg_id and (
                    message["header"]["msg_type"] == "kernel_info_reply"
                ):
                    return dict(message["content"])
    finally:
        ws.close()


def test_saving_a_notebook_records_its_kernel(page: Page, ide_server: IDEServer) -> None:
    """metadata.language_info is the kernel's kernel_info_reply; kernelspec names the kernel."""
    _new_notebook(page, "recorded.ipynb")
    notebook = page.get_by_test_id("notebook-recorded.ipynb")
    notebook.locator('[data-testid="cell"] .view-lines').first.click()
    page.keyboard.type("6 * 7")
    page.keyboard.press("Shift+Enter")
    expect(notebook.get_by_test_id("cell-output").first).to_contain_text("42", timeout=60_000)
    notebook.get_by_test_id("nb-save").click()
    expect(page.get_by_test_id("tab-recorded.ipynb").get_by_test_id("tab-dirty")).to_have_count(0)
    saved = json.loads(get_file(ide_server, "recorded.ipynb"))["metadata"]
    kernel_id = _kernel_of(ide_server, "recorded.ipynb")
    # Playwright's sync API holds this thread's loop: ask from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(asyncio.run, _kernel_info(ide_server, kernel_id)).result(60)
    assert saved["language_info"] == reply["language_info"]
    kernel_name = next(k["name"] for k in _api(ide_server, "api/kernels") if k["id"] == kernel_id)
    spec = _api(ide_server, "api/kernelspecs")["kernelspecs"][kernel_name]["spec"]
    assert saved["kernelspec"] == {
        "name": kernel_name,
        "display_name": spec["display_name"],
        "language": spec["language"],
    }
