"""The assistant in a real browser: chat streaming through our proxy to a local OpenAI-format
server, code inserted or applied as a reviewed diff, ghost-text completions, "Explain this
error", the usage meter, a 429 and the hint-only banner."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from ..fakes.openai_server import make_app
from .conftest import IDEServer, _serve, get_file, put_file, refresh_until_listed, shot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def upstream() -> Iterator[dict[str, Any]]:
    """The fake OpenAI API on loopback, served from its own thread and loop."""
    seen: list[dict[str, Any]] = []
    ready = threading.Event()
    state: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def start() -> HTTPServer:
            sock, port = bind_unused_port()
            server = HTTPServer(make_app(seen))
            server.add_socket(sock)
            state["port"] = port
            return server

        server = loop.run_until_complete(start())
        state["loop"] = loop
        ready.set()
        loop.run_forever()
        server.stop()
        loop.run_until_complete(server.close_all_connections())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the fake OpenAI server did not start"
    yield {"url": f"http://127.0.0.1:{state['port']}", "seen": seen}
    state["loop"].call_soon_threadsafe(state["loop"].stop)
    thread.join(10)


def _ai_config(upstream: dict[str, Any], **limits: Any) -> dict[str, object]:
    """Route the model "echo" to the fake OpenAI server."""
    return {
        "AISettings": {
            "openai_base_url": f"{upstream['url']}/v1",
            "openai_api_key": "sk-e2e",
            "routes": {"echo": ["openai"]},
            **limits,
        }
    }


@pytest.fixture(scope="module")
def ide_server(
    tmp_path_factory: pytest.TempPathFactory, upstream: dict[str, Any]
) -> Iterator[IDEServer]:
    """A server whose AI proxy talks to the fake upstream."""
    with _serve(tmp_path_factory.mktemp("e2e-ai"), config=_ai_config(upstream)) as server:
        yield server


def _open_file(page: Page, server: IDEServer, name: str, text: str) -> str:
    """Save a file, open it in the editor and return the editor's selector."""
    put_file(server, name, text)
    refresh_until_listed(page, name)
    page.get_by_test_id(f"explorer-item-{name}").click()
    editor = f'[data-testid="editor-{name}"]'
    expect(page.locator(f"{editor} .view-lines")).to_contain_text(text.splitlines()[0])
    return editor


def _open_assistant(page: Page) -> None:
    """Open the assistant and wait until it knows its model."""
    page.get_by_test_id("open-ai").click()
    expect(page.get_by_test_id("ai-model")).to_have_value("echo")


def _ask(page: Page, question: str) -> None:
    """Type a question and send it with Enter."""
    field = page.get_by_test_id("chat-input")
    field.fill(question)
    field.press("Enter")


def test_chat_streams_with_context_and_inserts_code(
    page: Page, ide_server: IDEServer, upstream: dict[str, Any]
) -> None:
    """An answer streams in as markdown; its code block goes into the editor at the cursor."""
    editor = _open_file(page, ide_server, "calc.py", "def add(a, b):\n    return a - b\n")
    _open_assistant(page)
    _ask(page, "Try this:\n```python\nprint(add(2, 3))\n```")
    answer = page.get_by_test_id("chat-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false")
    expect(answer).to_contain_text("echo: Try this:")
    code = answer.get_by_test_id("chat-code")
    expect(code).to_contain_text("print(add(2, 3))")
    shot(page, "ai-01-chat-streamed")

    request = upstream["seen"][-1]["body"]
    assert request["stream"] is True
    system = request["messages"][0]["content"]
    assert "calc.py" in system and "return a - b" in system
    assert request["messages"][-1]["content"] == "Try this:\n```python\nprint(add(2, 3))\n```"

    # Put the cursor at the end of the file, then insert.
    page.locator(f"{editor} .view-lines").click()
    page.keyboard.press("Control+End")
    code.get_by_test_id("chat-code-insert").click()
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("print(add(2, 3))")
    expect(page.get_by_test_id("tab-dirty")).to_be_visible()
    shot(page, "ai-02-inserted")


def test_apply_as_diff_is_reviewed_then_accepted(page: Page, ide_server: IDEServer) -> None:
    """A diff from the assistant opens in a diff editor; accepting it changes the file."""
    editor = _open_file(page, ide_server, "fix.py", "def add(a, b):\n    return a - b\n")
    _open_assistant(page)
    _ask(
        page,
        "Fix:\n```diff\n--- a/fix.py\n+++ b/fix.py\n@@ -1,2 +1,2 @@\n"
        " def add(a, b):\n-    return a - b\n+    return a + b\n```",
    )
    answer = page.get_by_test_id("chat-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false")
    answer.get_by_test_id("chat-code-apply").click()
    review = page.get_by_test_id("diff-review")
    expect(review).to_be_visible()
    expect(review.locator(".monaco-diff-editor")).to_be_visible()
    expect(review.locator(".editor.modified .view-lines")).to_contain_text("return a + b")
    shot(page, "ai-03-diff-review")
    page.get_by_test_id("diff-accept").click()
    expect(review).to_have_count(0)
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("return a + b")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("tab-dirty")).to_have_count(0)
    assert get_file(ide_server, "fix.py") == "def add(a, b):\n    return a + b\n"


def test_inline_completion_shows_ghost_text(
    page: Page, ide_server: IDEServer, upstream: dict[str, Any]
) -> None:
    """Typing pauses bring an AI suggestion as ghost text; Tab accepts it."""
    page.get_by_test_id("open-ai").click()  # loads models; completions need a model
    expect(page.get_by_test_id("ai-model")).to_have_value("echo")
    page.get_by_test_id("side-close").click()
    editor = _open_file(page, ide_server, "ghost.py", "# ghost\n")
    before = len(upstream["seen"])
    page.locator(f"{editor} .view-lines").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("total = ", delay=30)
    # The fake model echoes the prompt: the suggestion starts with "echo:" and runs over lines.
    expect(page.locator(f"{editor} .ghost-text-decoration").first).to_contain_text("echo")
    shot(page, "ai-04-ghost-text")
    completions = [s["body"] for s in upstream["seen"][before:]]
    assert completions and all(not b.get("stream") for b in completions)
    # Debounced: a burst of keystrokes does not send one request per key.
    assert len(completions) < len("total = ")
    assert "<CURSOR>" in completions[-1]["messages"][-1]["content"]
    page.keyboard.press("Tab")
    expect(page.locator(f"{editor} .view-lines")).to_contain_text("total = echo")


def test_explain_this_error_from_a_notebook(page: Page, ide_server: IDEServer) -> None:
    """An error output offers "Explain this error", which asks the assistant with the traceback."""
    page.get_by_test_id("explorer-new-notebook").click()
    field = page.get_by_test_id("explorer-name-input")
    field.fill("oops.ipynb")
    field.press("Enter")
    expect(page.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=60_000)
    page.locator('[data-testid="cell-editor"] .view-lines').first.click()
    page.keyboard.type("1 / 0")
    page.keyboard.press("Shift+Enter")
    expect(page.get_by_test_id("output-error")).to_contain_text("ZeroDivisionError")
    page.get_by_test_id("explain-error").click()
    expect(page.get_by_test_id("chat-user").last).to_contain_text("Explain this error")
    answer = page.get_by_test_id("chat-assistant").last
    expect(answer).to_contain_text("ZeroDivisionError")
    expect(answer).to_have_attribute("data-streaming", "false")
    shot(page, "ai-05-explain-error")


def test_insert_into_a_notebook_cell(page: Page) -> None:
    """In a notebook, code from the assistant goes into the cell last edited."""
    page.get_by_test_id("explorer-new-notebook").click()
    field = page.get_by_test_id("explorer-name-input")
    field.fill("cells.ipynb")
    field.press("Enter")
    cell = page.locator('[data-testid="cell-editor"]').first
    cell.locator(".view-lines").click()
    page.keyboard.type("x = 1")
    _open_assistant(page)
    _ask(page, "Then:\n```python\nprint(x)\n```")
    answer = page.get_by_test_id("chat-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false")
    answer.get_by_test_id("chat-code-insert").click()
    expect(cell.locator(".view-lines")).to_contain_text("x = 1print(x)")
    shot(page, "ai-07-notebook-insert")


def test_usage_meter_counts_the_chats(page: Page) -> None:
    """The meter shows the daily token limit with what this user has used."""
    _open_assistant(page)
    meter = page.get_by_test_id("usage-meter")
    expect(meter).to_be_visible()
    expect(meter).to_contain_text("tokens per day")
    assert int(meter.get_by_role("meter").get_attribute("aria-valuenow") or "-1") >= 0


@pytest.fixture
def limited_server(
    tmp_path_factory: pytest.TempPathFactory, upstream: dict[str, Any]
) -> Iterator[IDEServer]:
    """A server that allows one AI request a minute, in hint-only mode."""
    config = _ai_config(upstream, requests_per_minute=1, default_mode="hint")
    with _serve(tmp_path_factory.mktemp("e2e-ai-limited"), config=config) as server:
        yield server


def test_rate_limit_and_hint_mode_are_shown(page: Page, limited_server: IDEServer) -> None:
    """A 429 shows the server's own message; hint-only mode is stated and ghost text is off."""
    page.goto(limited_server.ide_url())
    page.get_by_test_id("explorer").wait_for()
    _open_assistant(page)
    expect(page.get_by_test_id("ai-policy")).to_contain_text("AI is in hint-only mode")
    expect(page.get_by_test_id("ai-inline")).to_be_disabled()
    _ask(page, "first question")
    expect(page.get_by_test_id("chat-assistant").last).to_contain_text("echo: first question")
    expect(page.get_by_test_id("chat-assistant").last).to_have_attribute("data-streaming", "false")
    _ask(page, "second question")
    error = page.get_by_test_id("chat-error").last
    expect(error).to_contain_text("per minute")
    shot(page, "ai-06-rate-limited-hint-mode")
