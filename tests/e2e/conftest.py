"""A real jupyter-ide server in its own process, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .course_users import signed_in_as

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_TIMEOUT = 60
# Small enough that the upload test can hit the limit, large enough for a chunked upload.
MAX_FILE_SIZE = 4 * 1024 * 1024


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Browser tests drive Playwright's own loop: no pytest-jupyter loop here."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up: the server runs in its own process."""


@dataclass
class IDEServer:
    """A running server: where it is, how to sign in, and its workspace folder."""

    url: str
    token: str
    root: Path

    def ide_url(self) -> str:
        """The /ide page, signed in with the token."""
        return f"{self.url}/ide?token={self.token}"


def _free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log: Path) -> str:
    """The end of the server's log, to say why it did not come up."""
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return ""


def _wait_until_up(
    url: str, token: str, process: subprocess.Popen[bytes], log: Path | None = None
) -> None:
    """Poll /api/status until the server answers, or fail with its output."""
    deadline = time.monotonic() + START_TIMEOUT
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = _log_tail(log) if log else ""
            pytest.fail(f"the server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    tail = _log_tail(log) if log else ""
    pytest.fail(f"the server did not answer within a minute:\n{tail}")


@contextmanager
def _serve(
    base: Path, base_url: str = "/", config: dict[str, object] | None = None
) -> Iterator[IDEServer]:
    """Run `jupyter ide` on a free loopback port with its own dirs and database under base.

    ``config`` is written as the server's jupyter_server_config.json (e.g. AI settings).
    """
    root = base / "root"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    for name in ("config", "data", "runtime"):
        (base / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(base / name)
    if config:
        (base / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{base / 'ide.db'}"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["SHELL"] = "/bin/bash"
    port, token = _free_port(), secrets.token_hex(16)
    log = (base / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter-ide"),
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--ServerApp.base_url={base_url}",
            f"--IDEContentsManager.max_file_size={MAX_FILE_SIZE}",
            f"--IDEContentsManager.workspaces_root={base / 'workspaces'}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}{base_url.rstrip('/')}"
    try:
        _wait_until_up(url, token, process, base / "server.log")
        # The folder files live in: the workspace our contents manager materialises (and
        # mounts into sandboxes) for the server's user; tests may write there as a kernel does.
        # (<workspaces>/<storage key>/<user>/<workspace>, earlier <key>/<workspace>).
        roots = base / "workspaces"
        workspace = next(iter([*roots.glob("*/*/default"), *roots.glob("*/default")]))
        yield IDEServer(url, token, workspace)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
            log.close()
            tail = _log_tail(base / "server.log")
            pytest.fail(f"the server did not stop within 20 s of SIGTERM:\n{tail}")
        log.close()


@pytest.fixture(scope="module")
def ide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IDEServer]:
    """A server at the root URL, shared by a module's tests."""
    with _serve(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IDEServer]:
    """A server under a JupyterHub-style base URL, as each user's server runs there."""
    with _serve(tmp_path_factory.mktemp("e2e-hub"), base_url="/user/student/") as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def fresh_screenshots() -> None:
    """Start each run with an empty screenshot folder, so stale pictures never mislead."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; never a downloaded browser."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable or not Path(executable).is_file():
        pytest.fail(
            f"Chromium is missing ({executable or 'not on PATH'}): "
            "`make test` installs Debian's chromium package"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, ide_server: IDEServer) -> Iterator[Page]:
    """A fresh browser context signed in to the IDE."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(ide_server.ide_url())
    page.get_by_test_id("explorer").wait_for()
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def browse(browser: Browser) -> Iterator[Callable[[IDEServer, str], Page]]:
    """Open /ide on a server in a browser signed in as someone (every request carries it)."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_as(server: IDEServer, who: str) -> Page:
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, extra_http_headers=signed_in_as(who)
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(f"{who}: {error}"))
        page.goto(f"{server.url}/ide")
        page.get_by_test_id("explorer").wait_for()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def shot(page: Page, name: str) -> None:
    """Save a screenshot under test-output/e2e/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def put_file(server: IDEServer, path: str, text: str) -> None:
    """Save a text file through the contents API, as any client would."""
    body = json.dumps({"type": "file", "format": "text", "content": text}).encode()
    request = urllib.request.Request(
        f"{server.url}/api/contents/{urllib.parse.quote(path)}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def get_file(server: IDEServer, path: str) -> str:
    """Read a text file through the contents API."""
    request = urllib.request.Request(
        f"{server.url}/api/contents/{urllib.parse.quote(path)}?type=file&format=text",
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["content"])


def refresh_until_listed(page: Page, path: str, tries: int = 10) -> None:
    """Refresh the explorer until ``path`` is listed (a listing started before a write is stale)."""
    item = page.get_by_test_id(f"explorer-item-{path}")
    for _ in range(tries):
        page.get_by_test_id("explorer-refresh").click()
        try:
            item.wait_for(timeout=1000)
            return
        except PlaywrightTimeoutError:
            continue
    item.wait_for(timeout=5000)
