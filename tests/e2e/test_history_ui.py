"""The history panel in a real browser: a file's versions listed, viewed, compared, restored."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import Dialog, Page, expect

from .conftest import IDEServer, get_file, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e


def _versions(server: IDEServer, path: str) -> list[dict[str, object]]:
    """The versions the history API lists for a file."""
    request = urllib.request.Request(
        f"{server.url}/ide/api/history?path={urllib.parse.quote(path)}",
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.load(response)["versions"])


def test_versions_are_listed_compared_and_restored(page: Page, ide_server: IDEServer) -> None:
    """Two saves leave one version; it shows, diffs against now, and comes back on restore."""
    put_file(ide_server, "essay.py", "print('first draft')\n")
    put_file(ide_server, "essay.py", "print('second draft')\n")
    refresh_until_listed(page, "essay.py")
    page.get_by_test_id("explorer-item-essay.py").click()
    editor = '[data-testid="editor-essay.py"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("second draft")

    page.get_by_test_id("open-history").click()
    versions = page.get_by_test_id("history-version")
    expect(versions).to_have_count(1)
    versions.first.click()
    expect(page.get_by_test_id("history-preview")).to_contain_text("first draft")
    shot(page, "history-01-version")

    page.get_by_test_id("history-compare").click()
    review = page.get_by_test_id("diff-review")
    expect(review.locator(".editor.original .view-lines")).to_contain_text("first draft")
    expect(review.locator(".editor.modified .view-lines")).to_contain_text("second draft")
    shot(page, "history-02-compare")
    page.get_by_test_id("diff-cancel").click()
    expect(review).to_have_count(0)

    def accept(dialog: Dialog) -> None:
        assert "Restore the version" in dialog.message
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_test_id("history-restore").click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("first draft")
    assert get_file(ide_server, "essay.py") == "print('first draft')\n"
    # What the restore replaced is a version too, so the restore can be undone.
    expect(versions).to_have_count(2)
    assert _versions(ide_server, "essay.py")[0]["reason"] == "restore"
    shot(page, "history-03-restored")


def test_restore_over_unsaved_edits_asks_first(page: Page, ide_server: IDEServer) -> None:
    """Unsaved edits are not dropped without a question; cancelling keeps them."""
    put_file(ide_server, "draft.txt", "one\n")
    put_file(ide_server, "draft.txt", "two\n")
    refresh_until_listed(page, "draft.txt")
    page.get_by_test_id("explorer-item-draft.txt").click()
    editor = '[data-testid="editor-draft.txt"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("two")
    page.locator(f"{editor} .view-lines").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("unsaved")
    expect(page.get_by_test_id("tab-dirty")).to_be_visible()
    page.get_by_test_id("open-history").click()
    page.get_by_test_id("history-version").first.click()
    messages: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_test_id("history-restore").click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("unsaved")
    assert messages and "unsaved changes" in messages[0]
    assert get_file(ide_server, "draft.txt") == "two\n"
    # Saving keeps what was there as a version, and the open panel lists it.
    page.locator(f"{editor} .view-lines").click()
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0)
    expect(page.get_by_test_id("history-version")).to_have_count(2)


def test_a_file_without_versions_says_so(page: Page, ide_server: IDEServer) -> None:
    """A file saved once has no earlier version, and the panel says how versions come."""
    put_file(ide_server, "fresh.txt", "only\n")
    refresh_until_listed(page, "fresh.txt")
    page.get_by_test_id("explorer-item-fresh.txt").click()
    page.get_by_test_id("open-history").click()
    expect(page.get_by_test_id("history-empty")).to_be_visible()
