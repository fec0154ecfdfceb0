"""First paint of /ide with 10 extensions installed against none (issue #17).

A real ``jupyter ide`` server (the e2e suite's: SQLite, its own dirs) and Debian's Chromium through
Playwright. Each round opens /ide in a fresh browser context and reads the page's own clock:
first contentful paint, and the moment the file's Monaco editor is on screen. Rounds run in
pairs, each side first in every other pair: no extension installed (the baseline), and ten
signed extensions (word count and nine like it, each with code in its own sandboxed frame)
installed; for those rounds the time until all ten have put their status item up is printed
too. Extensions start only after the editor is interactive, so the first two figures should
not move.

Run alone: ``.venv/bin/python -m bench.marketplace_paint [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jupyter_ide.marketplace.examples import API_JS, HERE, build, pack
from jupyter_ide.marketplace.signing import raw_public_key, sign
from tests.e2e.conftest import CHROMIUM_ARGS, _serve, put_file

from .quick import quick
from .stats import print_table

NONE = "no extensions"
TEN = "10 extensions installed"
EXTENSIONS = 10
NAMESPACE = "bench"
ESSAY = "one two three\n"
MAIN_JS = """
import { ide } from "./api.js";
async function update() {
  const text = (await ide.call("editor.getText")) ?? "";
  const n = text.trim().split(/\\s+/u).filter(Boolean).length;
  await ide.call("statusbar.set", { id: "ITEM", text: `ITEM ${n}` });
}
ide.on("editor.changed", update);
update();
"""


def _call(url: str, token: str, method: str, path: str, body: Any = None, **params: str) -> Any:
    """Call the store's API as the server's user."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/ide/api/marketplace/{path}{query}",
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from e
    return json.loads(raw) if raw else None


def _package(index: int) -> bytes:
    """A small extension with code that counts words into its own status item."""
    name = f"counter-{index}"
    manifest = {
        "name": name,
        "publisher": NAMESPACE,
        "version": "1.0.0",
        "displayName": f"Counter {index}",
        "description": "bench extension",
        "category": "other",
        "main": "main.js",
        "permissions": ["editor.read", "ui.statusbar"],
        "engines": {"jupyter-ide": ">=0.1"},
        "contributes": {"statusBarItems": [{"id": name}]},
    }
    return pack(
        {
            "manifest.json": json.dumps(manifest).encode(),
            "main.js": MAIN_JS.replace("ITEM", name).encode(),
            API_JS: (HERE / API_JS).read_bytes(),
        }
    )


def publish_and_install(url: str, token: str) -> list[str]:
    """Publish word count and nine counters, signed; install them all for the user."""
    key = Ed25519PrivateKey.generate()
    _call(url, token, "POST", "publishers", {"namespace": NAMESPACE})
    _call(url, token, "PATCH", f"publishers/{NAMESPACE}", {"status": "approved"})
    public = base64.b64encode(raw_public_key(key.public_key())).decode()
    key_id = _call(url, token, "POST", f"publishers/{NAMESPACE}/keys", {"public_key": public})[
        "key_id"
    ]
    packages = [build("word-count", key, NAMESPACE).data]
    packages += [_package(i) for i in range(1, EXTENSIONS)]
    names = []
    for data in packages:
        signature = sign(key, hashlib.sha256(data).hexdigest())
        done = _call(url, token, "POST", "packages", data, signature=signature, key=key_id)
        names.append(str(done.get("name") or ""))
    install_all(url, token, names)
    return names


def install_all(url: str, token: str, names: list[str]) -> None:
    """Install the extensions for the server's user, with what they declare granted."""
    for name in names:
        granted = ["editor.read", "ui.statusbar"]
        _call(url, token, "POST", "installs", {"name": name, "granted": granted})


def uninstall_all(url: str, token: str, names: list[str]) -> None:
    """Uninstall them again."""
    for name in names:
        _call(url, token, "DELETE", f"installs/{urllib.parse.quote(name)}")


def measure(browser: Any, page_url: str, rounds: int, items: int) -> dict[str, list[float]]:
    """Open /ide ``rounds`` times; return paint, editor and (with items) extensions times."""
    out: dict[str, list[float]] = {"paint": [], "editor": [], "extensions": []}
    for _ in range(rounds):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(page_url)
        page.get_by_test_id("explorer-item-essay.py").click()
        page.locator(".monaco-editor .view-lines").first.wait_for()
        editor = page.evaluate("performance.now()")
        paint = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0"
        )
        out["paint"].append(float(paint))
        out["editor"].append(float(editor))
        if items:
            page.wait_for_function(
                "n => document.querySelectorAll('.status-extension').length >= n", arg=items
            )
            out["extensions"].append(float(page.evaluate("performance.now()")))
        context.close()
    return out


def run(rounds: int) -> None:
    """Serve, measure without extensions, install ten, measure again, print the table."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        raise RuntimeError("Chromium is missing: install Debian's chromium package")
    with tempfile.TemporaryDirectory() as tmp, _serve(Path(tmp)) as server:
        url, token = server.url, server.token
        put_file(server, "essay.py", ESSAY)
        page_url = server.ide_url()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            measure(browser, page_url, 1, 0)  # warm the server's caches and the disk
            names = publish_and_install(url, token)
            measure(browser, page_url, 1, len(names))
            none: dict[str, list[float]] = {"paint": [], "editor": [], "extensions": []}
            ten: dict[str, list[float]] = {"paint": [], "editor": [], "extensions": []}
            # Interleaved, each side first in every other pair, so that a slow or warming
            # machine and the order within a pair weigh on both sides alike.
            installed = True
            for n in range(rounds):
                for with_ten in (True, False) if n % 2 else (False, True):
                    if with_ten != installed:
                        (install_all if with_ten else uninstall_all)(url, token, names)
                        installed = with_ten
                    items = len(names) if with_ten else 0
                    for kind, value in measure(browser, page_url, 1, items).items():
                        (ten if with_ten else none)[kind] += value
            browser.close()
    print_table(
        f"marketplace paint: /ide with {EXTENSIONS} extensions against none, {rounds} rounds",
        {
            "first contentful paint": {NONE: none["paint"], TEN: ten["paint"]},
            "file's editor on screen": {NONE: none["editor"], TEN: ten["editor"]},
        },
        NONE,
    )
    running = statistics.median(ten["extensions"])
    editor = statistics.median(ten["editor"])
    print(
        f"all {EXTENSIONS} extensions running (status items up): median {running:.0f} ms after "
        f"navigation, {running - editor:.0f} ms after the editor; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


async def main(argv: list[str] | None = None) -> None:
    """Parse the rounds and run (Playwright's sync API, in a thread off the event loop)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3 if quick() else 15)
    args = parser.parse_args(argv if argv is not None else [])
    await asyncio.to_thread(run, args.rounds)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
