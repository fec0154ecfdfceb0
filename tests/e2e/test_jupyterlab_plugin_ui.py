"""Our JupyterLab 4 plugin in a real JupyterLab (issue #18): `jupyter lab` started as a person
would, with the package installed and default settings, under a hub-style base URL; the AI
proxy's upstream (a local OpenAI-format server) given through the environment as a deployer
does. JupyterLab opens with the plugin and no console error at all; the chat panel answers
through the proxy; "Run in sandbox" shows a program's output from the judge's Docker sandbox;
an inline completion appears as ghost text in JupyterLab's file editor; JupyterLab's own LSP
client reaches our sandboxed pylsp."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, WebSocket, expect

from ..kernel_host import require_images
from .conftest import IDEServer, _free_port, _log_tail, _wait_until_up, put_file, shot
from .test_ai_ui import upstream as upstream  # fixture: the fake OpenAI server

pytestmark = pytest.mark.e2e

PLUGIN = "@jupyter-ide/jupyterlab"
# Served under a base URL as a JupyterHub user's server is: every call the plugin makes must
# go under it (/user/<name>/ide/api/..., which a hub user server forwards to the service).
BASE_URL = "/user/student/"
RUN_TIMEOUT = 120_000  # the judge's first run may wait for its sandbox to start
HELLO = (
    "import sys\nprint('hello from the lab sandbox', 6 * 7)\nprint('to stderr', file=sys.stderr)\n"
)


@contextmanager
def _jupyter_lab(base: Path, env_extra: dict[str, str]) -> Iterator[IDEServer]:
    """Run `jupyter lab` on a free loopback port, with its own Jupyter dirs and database."""
    root = base / "root"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "OPENAI"))}
    for name in ("config", "data", "runtime"):
        (base / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(base / name)
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{base / 'ide.db'}"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["SHELL"] = "/bin/bash"
    env.update(env_extra)
    port, token = _free_port(), secrets.token_hex(16)
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jupyter-lab"),
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                f"--ServerApp.base_url={BASE_URL}",
                f"--IDEContentsManager.workspaces_root={base / 'workspaces'}",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}{BASE_URL.rstrip('/')}"
        try:
            _wait_until_up(url, token, process, log_path)
            yield IDEServer(url, token, root)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
                pytest.fail(f"jupyter lab did not stop within 20 s:\n{_log_tail(log_path)}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, upstream: dict[str, Any]) -> Iterator[IDEServer]:
    """JupyterLab with jupyter-ide; the AI pool is the fake OpenAI server (env, as deployed)."""
    require_images("python")
    with _jupyter_lab(
        tmp_path_factory.mktemp("e2e-lab"),
        {"JUPYTER_IDE_AI_POOL_URL": f"{upstream['url']}/v1"},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def session(browser: Browser, lab: IDEServer) -> Iterator[dict[str, Any]]:
    """One JupyterLab page for the module, and the errors it reports."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.append(message.text)

    page.on("console", on_console)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if "/ide/api/" in r.url and BASE_URL not in r.url else None,
    )
    put_file(lab, "hello.py", HELLO)
    page.goto(f"{lab.url}/lab/tree/hello.py?reset&token={lab.token}")
    page.locator(".jp-FileEditor .cm-content").first.wait_for()
    yield {"page": page, "errors": errors, "console": console}
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not outside, f"/ide/api calls outside the server's base URL: {outside}"


def test_jupyterlab_opens_with_the_plugin(session: dict[str, Any], lab: IDEServer) -> None:
    """The plugin is among JupyterLab's extensions; its status bar item reads our server."""
    page: Page = session["page"]
    config = json.loads(page.locator("#jupyter-config-data").text_content() or "{}")
    assert PLUGIN in [e["name"] for e in config["federated_extensions"]]
    status = page.get_by_test_id("ide-status")
    expect(status.get_by_test_id("ide-status-sandbox")).to_have_text("Sandbox: ok")
    # Default quotas: the fullest one, e.g. "AI: 0/30 requests per minute".
    expect(status.get_by_test_id("ide-status-ai")).to_have_text(re.compile(r"^AI: \d+/\S+ .+"))
    chat_tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jupyter-ide-chat"]')
    expect(chat_tab).to_be_visible()
    page.get_by_text("Run in sandbox").first.wait_for()
    shot(page, "jupyterlab-01-plugin")
    assert not session["console"], session["console"]


def test_chat_panel_answers_through_the_proxy(
    session: dict[str, Any], upstream: dict[str, Any]
) -> None:
    """A question streams back from the upstream through /ide/api/ai, with the open file."""
    page: Page = session["page"]
    page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jupyter-ide-chat"]').click()
    # The pool lists every model it has; "echo" is the fake's model that answers.
    page.get_by_test_id("ide-chat-model").select_option("echo")
    field = page.get_by_test_id("ide-chat-input")
    expect(field).to_be_enabled()
    field.fill("What does my program print?")
    field.press("Enter")
    answer = page.get_by_test_id("ide-chat-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false")
    expect(answer).to_have_text("echo: What does my program print?")
    request = upstream["seen"][-1]["body"]
    assert request["stream"] is True
    assert request["model"] == "echo"
    assert "hello.py" in request["messages"][0]["content"]
    assert "hello from the lab sandbox" in request["messages"][0]["content"]
    shot(page, "jupyterlab-02-chat")
    assert not session["console"], session["console"]


def test_run_in_sandbox_shows_the_programs_output(session: dict[str, Any]) -> None:
    """The editor's toolbar button sends the file to the judge; stdout and stderr come back."""
    page: Page = session["page"]
    page.locator(".jp-FileEditor .cm-content").first.click()
    page.locator(".jp-IdeRun-button").first.click()
    verdict = page.get_by_test_id("ide-run-verdict")
    expect(verdict).to_have_text(re.compile(r"^Accepted"), timeout=RUN_TIMEOUT)
    expect(page.get_by_test_id("ide-run-stdout")).to_have_text("hello from the lab sandbox 42\n")
    expect(page.get_by_test_id("ide-run-stderr")).to_have_text("to stderr\n")
    shot(page, "jupyterlab-03-run")
    # The same command is in the editor's context menu and in the command palette.
    page.locator(".jp-FileEditor .cm-content").first.click(button="right")
    expect(page.locator(".lm-Menu-item", has_text="Run in Sandbox")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Run in Sandbox")
    expect(page.locator(".lm-CommandPalette-item", has_text="Run in Sandbox")).to_be_visible()
    page.keyboard.press("Escape")
    assert not session["console"], session["console"]


def test_inline_completion_appears_as_ghost_text(
    session: dict[str, Any], upstream: dict[str, Any]
) -> None:
    """Typing in the file editor asks the proxy; the answer shows as JupyterLab's ghost text."""
    page: Page = session["page"]
    editor = page.locator(".jp-FileEditor .cm-content").first
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("total = ")
    ghost = page.locator(".jp-GhostText")
    expect(ghost).to_be_visible()
    # The fake upstream echoes the request: the file up to the cursor, then <CURSOR>.
    expect(ghost).to_contain_text("echo: hello.py:")
    completion = [
        r["body"] for r in upstream["seen"] if "<CURSOR>" in str(r["body"]["messages"][-1])
    ][-1]
    assert completion["max_tokens"] == 128
    assert completion["messages"][-1]["content"].endswith("total = <CURSOR>")
    shot(page, "jupyterlab-04-inline")
    assert not session["console"], session["console"]


def _put_setting(lab: IDEServer, plugin: str, raw: dict[str, Any]) -> None:
    """Save a JupyterLab user setting through its settings API, as the Settings Editor does."""
    request = urllib.request.Request(
        f"{lab.url}/lab/api/settings/{plugin}",
        data=json.dumps({"raw": json.dumps(raw)}).encode(),
        method="PUT",
        headers={"Authorization": f"token {lab.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_jupyterlabs_own_lsp_client_reaches_the_sandboxed_pylsp(
    session: dict[str, Any], lab: IDEServer
) -> None:
    """With LSP turned on, JupyterLab's own client opens /lsp/ws/pylsp (our sandboxed server)
    and pylsp's diagnostics for the open file come back to the page next to our plugin.

    JupyterLab 4's core has no diagnostics view (that is the jupyterlab-lsp extension), so
    the diagnostic is read where it arrives: on the page's LSP websocket.
    """
    page: Page = session["page"]
    _put_setting(lab, "@jupyterlab/lsp-extension:plugin", {"activate": "on"})
    put_file(lab, "lint_me.py", "import os\nprint(undefined_name)\n")
    received: list[str] = []

    def on_websocket(ws: WebSocket) -> None:
        if "/lsp/ws/" in ws.url:
            received.append(f"open {ws.url}")
            ws.on("framereceived", lambda frame: received.append(str(frame)))

    page.on("websocket", on_websocket)
    page.goto(f"{lab.url}/lab/tree/lint_me.py?reset&token={lab.token}")
    page.locator(".jp-FileEditor .cm-content").first.wait_for()
    for _ in range(120):  # the language server's sandbox starts on first use
        if any("undefined name" in r for r in received):
            break
        page.wait_for_timeout(500)
    assert any(r.startswith("open ") and r.endswith("/lsp/ws/pylsp") for r in received), received
    # pylsp writes JSON with escaped slashes ("textDocument\\/publishDiagnostics"): parse it.
    messages = [json.loads(r) for r in received if not r.startswith("open ")]
    diagnostics = [
        d
        for m in messages
        if m.get("method") == "textDocument/publishDiagnostics"
        and m["params"]["uri"].endswith("/lint_me.py")
        for d in m["params"]["diagnostics"]
    ]
    assert "undefined name 'undefined_name'" in [d["message"] for d in diagnostics], received[-3:]
    # Our plugin is still there and well after the reload.
    expect(page.get_by_test_id("ide-status-sandbox")).to_have_text("Sandbox: ok")
    assert not session["console"], session["console"]
