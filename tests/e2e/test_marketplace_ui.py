"""Extensions in a real browser (issue #17): the marketplace panel and the sandboxed runtime.

The store is the real one on the test server: the example extensions and two hostile ones
(a probe for the page's secrets, an endless loop) are packed, signed with an Ed25519 key
registered for an approved namespace, and published over HTTP like any publisher would.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, Page, expect

from jupyter_ide.marketplace.examples import API_JS, HERE, build, pack
from jupyter_ide.marketplace.signing import raw_public_key, sign

from ..test_marketplace_common import NPM_THEME, npm_pack
from .conftest import IDEServer, get_file, put_file, shot

pytestmark = pytest.mark.e2e

NAMESPACE = "examples"
# What the probe tries from its frame; each line reports what it got.
PROBE_JS = """
import { ide } from "./api.js";
const seen = [];
function attempt(label, read) {
  try {
    const value = read();
    seen.push(`${label}:${value === undefined || value === null || value === "" ? "none" : "GOT"}`);
  } catch (error) {
    seen.push(`${label}:blocked`);
  }
}
attempt("parent.document", () => parent.document);
attempt("parent.document.cookie", () => parent.document.cookie);
attempt("document.cookie", () => document.cookie);
attempt("localStorage", () => localStorage.getItem("x"));
attempt("indexedDB", () => indexedDB.open("x") && null);
try {
  const api = SERVER + "/ide/api/marketplace/installs";
  const response = await fetch(api, { credentials: "include" });
  seen.push(`fetch:${response.ok ? "GOT" : "refused " + response.status}`);
} catch (error) {
  seen.push("fetch:blocked");
}
try {
  await ide.call("workspace.readFile", { path: "secret.txt" });
  seen.push("undeclared:GOT");
} catch (error) {
  seen.push("undeclared:denied");
}
await ide.call("statusbar.set", { id: "probe", text: seen.join(" ") });
"""
WRITER_JS = """
import { ide } from "./api.js";
let text;
try {
  await ide.call("workspace.writeFile", { path: "from-extension.txt", content: "written" });
  text = "wrote";
} catch (error) {
  text = `refused: ${error.message}`;
}
await ide.call("statusbar.set", { id: "writer", text });
"""
SPIN_JS = """
import { ide } from "./api.js";
await ide.call("statusbar.set", { id: "spin", text: "spinning" });
for (;;) {}
"""


def _call(server: IDEServer, method: str, path: str, body: Any = None, **params: str) -> Any:
    """Call the store's API as the server's (admin) user; return the parsed answer."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{server.url}/ide/api/marketplace/{path}{query}",
        data=data,
        method=method,
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
    except urllib.error.HTTPError as e:
        pytest.fail(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")
    return json.loads(raw) if raw else None


def _package(
    name: str, main: str, permissions: list[str], item: str, namespace: str = NAMESPACE
) -> bytes:
    """A small extension with code: a manifest, main.js and the examples' api.js."""
    manifest = {
        "name": name,
        "publisher": namespace,
        "version": "1.0.0",
        "displayName": name.title(),
        "description": f"test extension {name}",
        "category": "other",
        "main": "main.js",
        "permissions": permissions,
        "engines": {"jupyter-ide": ">=0.1"},
        "contributes": {"statusBarItems": [{"id": item}]},
    }
    return pack(
        {
            "manifest.json": json.dumps(manifest).encode(),
            "main.js": main.encode(),
            API_JS: (HERE / API_JS).read_bytes(),
        }
    )


@pytest.fixture(scope="module")
def npm_theme(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real VS Code theme's tarball as the npm registry serves it (fetched once)."""
    return npm_pack(NPM_THEME, tmp_path_factory.mktemp("npm-theme"))


@pytest.fixture(scope="module")
def store(ide_server: IDEServer, npm_theme: bytes) -> Iterator[IDEServer]:
    """The test server's store with the examples and the hostile extensions published."""
    key = Ed25519PrivateKey.generate()
    _call(ide_server, "POST", "publishers", {"namespace": NAMESPACE})
    _call(ide_server, "PATCH", f"publishers/{NAMESPACE}", {"status": "approved"})
    public = base64.b64encode(raw_public_key(key.public_key())).decode()
    added = _call(ide_server, "POST", f"publishers/{NAMESPACE}/keys", {"public_key": public})
    examples = ("word-count", "midnight-theme", "format-python")
    packages = [build(name, key, NAMESPACE).data for name in examples]
    probe = PROBE_JS.replace("SERVER", json.dumps(ide_server.url))
    packages.append(_package("probe", probe, ["ui.statusbar"], "probe"))
    packages.append(_package("spin", SPIN_JS, ["ui.statusbar"], "spin"))
    packages.append(_package("writer", WRITER_JS, ["workspace.write", "ui.statusbar"], "writer"))
    packages.append(npm_theme)
    for data in packages:
        signature = sign(key, hashlib.sha256(data).hexdigest())
        _call(ide_server, "POST", "packages", data, signature=signature, key=added["key_id"])
    yield ide_server


@pytest.fixture
def ide(browser: Browser, store: IDEServer) -> Iterator[Page]:
    """A signed-in page with a Python file open in Monaco."""
    put_file(store, "essay.py", "one two three\n")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Shown when a test fails: what the page and the extension frames logged.
    page.on("console", lambda message: print("console:", message.type, message.text))
    page.goto(store.ide_url())
    page.get_by_test_id("explorer-item-essay.py").click()
    page.locator('[data-testid="editor-essay.py"] .monaco-editor').wait_for()
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _open_panel(page: Page) -> None:
    if not page.get_by_test_id("marketplace-panel").is_visible():
        page.get_by_test_id("open-marketplace").click()
    page.get_by_test_id("marketplace-panel").wait_for()


def _install_from_panel(page: Page, name: str) -> None:
    _open_panel(page)
    page.get_by_test_id("marketplace-search").fill(name.split(".")[-1])
    page.get_by_test_id("marketplace-search").press("Enter")
    page.get_by_test_id(f"marketplace-result-{name}").click()
    page.get_by_test_id("marketplace-install").click()
    page.get_by_test_id(f"installed-{name}").wait_for()


def _type(page: Page, text: str) -> None:
    page.locator('[data-testid="editor-essay.py"] .monaco-editor .view-lines').first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_word_count_installs_updates_and_disables(ide: Page) -> None:
    """Installed from the panel, its item follows the typing; disabled, it is gone."""
    _install_from_panel(ide, "examples.word-count")
    expect(ide.get_by_test_id("marketplace-permissions")).to_contain_text("editor.read")
    expect(ide.get_by_test_id("marketplace-permissions")).to_contain_text("ui.statusbar")
    item = ide.get_by_test_id("ext-status-word-count")
    expect(item).to_have_text("3 words")
    _type(ide, "four five")
    expect(item).to_have_text("5 words")
    frames = ide.locator("iframe.extension-frame")
    expect(frames).to_have_count(1)
    assert frames.first.get_attribute("sandbox") == "allow-scripts"
    shot(ide, "marketplace-01-word-count")
    toggle = ide.get_by_test_id("enable-examples.word-count")
    toggle.click()
    expect(toggle).not_to_be_checked()
    expect(item).to_have_count(0)
    expect(frames).to_have_count(0)
    _call_uninstall(ide)


def _call_uninstall(page: Page) -> None:
    page.get_by_test_id("uninstall-examples.word-count").click()
    expect(page.get_by_test_id("installed-examples.word-count")).to_have_count(0)


def test_theme_applies_in_monaco(ide: Page) -> None:
    """The Midnight theme's editor background is Monaco's once installed, and goes with it."""
    editor = ide.locator('[data-testid="editor-essay.py"] .monaco-editor').first
    before = editor.evaluate("e => getComputedStyle(e).backgroundColor")
    _install_from_panel(ide, "examples.midnight-theme")
    expect(editor).to_have_css("background-color", "rgb(11, 16, 33)")
    assert before != "rgb(11, 16, 33)"
    shot(ide, "marketplace-02-theme")
    ide.get_by_test_id("uninstall-examples.midnight-theme").click()
    expect(editor).to_have_css("background-color", before)


def _rgb(hex_colour: str) -> str:
    """CSS's computed form of #rrggbb."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _scopes(scope: Any) -> list[str]:
    """A TextMate rule's scopes: a list, or one comma-separated string."""
    items = scope if isinstance(scope, list) else str(scope or "").split(",")
    return [str(s).strip() for s in items]


def test_real_npm_theme_colours_monaco(ide: Page, npm_theme: bytes) -> None:
    """The registry's solarflare-theme .tgz, installed from the panel, colours the editor.

    The expected colours are read from the tarball: the first theme's editor background and
    its ``comment`` rule's foreground, which Monaco gives a Python comment.
    """
    with tarfile.open(fileobj=io.BytesIO(npm_theme), mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m) for m in tar.getmembers() if m.isfile()}
        meta = json.load(files["package/package.json"])  # type: ignore[arg-type]
        first = meta["contributes"]["themes"][0]["path"].removeprefix("./")
        theme = json.load(files[f"package/{first}"])  # type: ignore[arg-type]
    background = _rgb(theme["colors"]["editor.background"])
    comment = next(
        _rgb(t["settings"]["foreground"])
        for t in theme["tokenColors"]
        if "comment" in _scopes(t.get("scope"))
    )
    editor = ide.locator('[data-testid="editor-essay.py"] .monaco-editor').first
    before = editor.evaluate("e => getComputedStyle(e).backgroundColor")
    assert before != background
    _type(ide, "\n# a remark")
    remark = ide.locator(
        '[data-testid="editor-essay.py"] .view-lines span span', has_text="# a remark"
    )
    before_comment = remark.first.evaluate("e => getComputedStyle(e).color")
    assert before_comment != comment
    _install_from_panel(ide, f"{NAMESPACE}.solarflare-theme")
    expect(ide.get_by_test_id("marketplace-detail")).to_contain_text("None: it cannot read")
    expect(editor).to_have_css("background-color", background)
    expect(remark.first).to_have_css("color", comment)
    shot(ide, "marketplace-04-npm-theme")
    ide.get_by_test_id(f"uninstall-{NAMESPACE}.solarflare-theme").click()
    expect(editor).to_have_css("background-color", before)
    expect(remark.first).to_have_css("color", before_comment)


def test_hostile_extension_gets_nothing(ide: Page, store: IDEServer) -> None:
    """The probe reaches neither the page, its cookie, storage nor the API; undeclared is denied."""
    put_file(store, "secret.txt", "top secret")
    ide.evaluate("localStorage.setItem('x', 'page-secret')")
    _install_from_panel(ide, "examples.probe")
    item = ide.get_by_test_id("ext-status-probe")
    expect(item).to_contain_text("undeclared:")
    text = item.inner_text()
    assert "GOT" not in text, text
    for part in ("parent.document", "document.cookie", "localStorage", "fetch"):
        assert f"{part}:" in text, text
    assert "undeclared:denied" in text, text
    ide.get_by_test_id("uninstall-examples.probe").click()


def test_endless_loop_does_not_freeze_the_editor(ide: Page) -> None:
    """The spinning extension is stopped by the heartbeat; typing keeps working meanwhile."""
    _install_from_panel(ide, "examples.spin")
    _type(ide, "still typing")
    expect(ide.locator('[data-testid="editor-essay.py"] .view-lines')).to_contain_text(
        "still typing"
    )
    stopped = ide.get_by_test_id("stopped-examples.spin")
    expect(stopped).to_contain_text("stopped responding", timeout=20_000)
    expect(ide.get_by_test_id("ext-status-spin")).to_have_count(0)
    expect(ide.locator("iframe.extension-frame")).to_have_count(0)
    _type(ide, " and more")
    expect(ide.locator('[data-testid="editor-essay.py"] .view-lines')).to_contain_text("and more")
    shot(ide, "marketplace-03-spin-stopped")
    ide.get_by_test_id("uninstall-examples.spin").click()


def test_format_command_changes_the_document(ide: Page, store: IDEServer) -> None:
    """Format Python's keybinding runs its command, which rewrites the open document."""
    put_file(store, "essay.py", "x = 1   \n\tif x:\n\t\tpass\n\n\n")
    ide.reload()
    ide.get_by_test_id("explorer-item-essay.py").click()
    _install_from_panel(ide, "examples.format-python")
    ide.get_by_test_id("command-format-python.format").wait_for()
    lines = ide.locator('[data-testid="editor-essay.py"] .view-lines')
    lines.first.click()
    ide.keyboard.press("Shift+Alt+F")
    expect(ide.get_by_test_id("tab-dirty")).to_be_visible()
    ide.keyboard.press("Control+s")
    expect(ide.get_by_test_id("tab-dirty")).to_have_count(0)
    assert get_file(store, "essay.py") == "x = 1\n    if x:\n        pass\n"
    ide.get_by_test_id("uninstall-examples.format-python").click()


def test_sensitive_permission_is_asked_at_first_use(ide: Page, store: IDEServer) -> None:
    """Refused, the write fails cleanly and nothing is written; allowed, it writes and is kept."""
    _install_from_panel(ide, "examples.writer")
    prompt = ide.get_by_test_id("extension-prompt")
    expect(prompt).to_contain_text("workspace.write")
    ide.get_by_test_id("extension-prompt-deny").click()
    item = ide.get_by_test_id("ext-status-writer")
    expect(item).to_have_text("refused: the user refused workspace.write")
    assert not (store.root / "from-extension.txt").exists()
    ide.get_by_test_id("uninstall-examples.writer").click()
    expect(item).to_have_count(0)
    _install_from_panel(ide, "examples.writer")
    ide.get_by_test_id("extension-prompt-allow").click()
    expect(item).to_have_text("wrote")
    assert get_file(store, "from-extension.txt") == "written"
    expect(ide.get_by_test_id("installed-examples.writer")).to_contain_text(
        "Revoke workspace.write"
    )
    ide.get_by_test_id("uninstall-examples.writer").click()


def test_admin_releases_a_quarantined_upload_from_the_panel(ide: Page, store: IDEServer) -> None:
    """An upload asking for a permission its namespace may not use waits; released, it is listed."""
    key = Ed25519PrivateKey.generate()
    _call(store, "POST", "publishers", {"namespace": "review"})
    _call(store, "PATCH", "publishers/review", {"status": "approved"})
    _call(store, "PATCH", "publishers/review", {"forbidden_permissions": ["ui.statusbar"]})
    public = base64.b64encode(raw_public_key(key.public_key())).decode()
    added = _call(store, "POST", "publishers/review/keys", {"public_key": public})
    data = _package("held", SPIN_JS, ["ui.statusbar"], "held", namespace="review")
    signature = sign(key, hashlib.sha256(data).hexdigest())
    request = urllib.request.Request(
        f"{store.url}/ide/api/marketplace/packages?signature="
        f"{urllib.parse.quote(signature)}&key={added['key_id']}",
        data=data,
        method="POST",
        headers={"Authorization": f"token {store.token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 422
    entry = _call(store, "GET", "quarantine", status="pending")["quarantine"][0]
    assert entry["name"] == "review.held"
    _open_panel(ide)
    row = ide.get_by_test_id(f"quarantine-{entry['id']}")
    expect(row).to_contain_text("may not ask for ui.statusbar")
    shot(ide, "marketplace-05-quarantine")
    ide.get_by_test_id(f"quarantine-release-{entry['id']}").click()
    expect(row).to_have_count(0)
    ide.get_by_test_id("marketplace-search").fill("held")
    ide.get_by_test_id("marketplace-search").press("Enter")
    expect(ide.get_by_test_id("marketplace-result-review.held")).to_be_visible()
    released = _call(store, "GET", "quarantine", status="released")["quarantine"]
    assert [q["id"] for q in released] == [entry["id"]]
