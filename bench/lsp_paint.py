"""/ide's first paint and editor with the LSP client against without it (issue #18).

A real ``jupyter ide`` server (the e2e suite's) and Debian's Chromium through Playwright. Each
round opens /ide in a fresh browser context, opens a Python file, and reads the page's clock:
first contentful paint and the moment the file's editor is on screen. Two sides, in pairs,
each side first in every other pair: the LSP client as shipped (its chunk loads after the
editor, then it connects to the sandboxed pylsp), and the same page with ``/lsp/`` refused
(the client gives up at once: no language server). The LSP side also gives the time until
the file's first diagnostic is underlined. The editor is created before the client loads, so
the first two figures should not move.

Run alone: ``.venv/bin/python -m bench.lsp_paint [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CHROMIUM_ARGS, _serve, put_file

from .quick import quick
from .stats import print_table

WITH = "with LSP"
WITHOUT = "/lsp/ refused"
# A file with one unused import: pyflakes underlines it, so the first diagnostic is seen.
ESSAY = "import os\n\n\ndef words(text):\n    return len(text.split())\n" * 20


def measure(browser: Any, page_url: str, lsp: bool) -> dict[str, float]:
    """Open /ide once; return paint and editor times (and first diagnostic with the LSP)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    if not lsp:
        page.route("**/lsp/**", lambda route: route.abort())
    page.goto(page_url)
    page.get_by_test_id("explorer-item-essay.py").click()
    page.locator(".monaco-editor .view-lines").first.wait_for()
    out = {"editor": float(page.evaluate("performance.now()"))}
    out["paint"] = float(
        page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0")
    )
    if lsp:
        page.locator(
            ".monaco-editor .squiggly-warning, .monaco-editor .squiggly-error"
        ).first.wait_for()
        out["diagnostic"] = float(page.evaluate("performance.now()"))
    context.close()
    return out


def measure_again(browser: Any, page_url: str, lsp: bool) -> dict[str, float]:
    """Measure once; a round that timed out (the app rebuilt under it, say) runs again once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        return measure(browser, page_url, lsp)
    except PlaywrightTimeoutError:
        print("a round timed out; measuring it again", file=sys.stderr)
        return measure(browser, page_url, lsp)


def run(rounds: int) -> None:
    """Serve, measure both sides in alternating pairs, print the table."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        raise RuntimeError("Chromium is missing: install Debian's chromium package")
    sides: dict[bool, dict[str, list[float]]] = {
        True: {"paint": [], "editor": [], "diagnostic": []},
        False: {"paint": [], "editor": []},
    }
    with tempfile.TemporaryDirectory() as tmp, _serve(Path(tmp)) as server:
        put_file(server, "essay.py", ESSAY)
        page_url = server.ide_url()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            measure(browser, page_url, True)  # the server's container, caches and disk warm
            measure(browser, page_url, False)
            for n in range(rounds):
                for lsp in (True, False) if n % 2 else (False, True):
                    for kind, value in measure_again(browser, page_url, lsp).items():
                        sides[lsp][kind].append(value)
            browser.close()
    print_table(
        f"lsp paint: /ide opening a Python file, LSP client against none, {rounds} rounds",
        {
            "first contentful paint": {WITHOUT: sides[False]["paint"], WITH: sides[True]["paint"]},
            "file's editor on screen": {
                WITHOUT: sides[False]["editor"],
                WITH: sides[True]["editor"],
            },
        },
        WITHOUT,
    )
    diagnostic = statistics.median(sides[True]["diagnostic"])
    editor = statistics.median(sides[True]["editor"])
    print(
        f"first diagnostic underlined: median {diagnostic:.0f} ms after navigation, "
        f"{diagnostic - editor:.0f} ms after the editor; load average {os.getloadavg()[0]:.1f}"
    )


async def main(argv: list[str] | None = None) -> None:
    """Parse the rounds and run (Playwright's sync API, in a thread off the event loop)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3 if quick() else 10)
    args = parser.parse_args(argv if argv is not None else [])
    await asyncio.to_thread(run, args.rounds)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
