"""A student of two courses picks the course /ide works in (issue #13 item 9, the UI half).

A real server (its own process) with hub-like users, the AI proxy wired to the local
OpenAI-format server and the judge in Docker. An admin makes a hint-only course and a full
one and enrols the student in both (after the student signed in); each course has its own
instructor. In the browser, the student first gets the strictest of the two, named in the
banner; picking the full course gives full mode (no hint prompt reaches the model) and a Run
that only that course's instructor sees; picking the hint-only course gives hint-only mode,
with the course's prompt first and last; the choice survives a reload.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from jupyter_ide.ai_handlers.settings import HINT_PROMPT

from .conftest import (
    IDEServer,
    _free_port,
    _wait_until_up,
    put_file,
    refresh_until_listed,
    shot,
)
from .course_users import signed_in_as
from .test_ai_ui import upstream as upstream  # fixture: the fake OpenAI server

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
USERS = {"sam": "student", "alan": "instructor", "bea": "instructor", "root": "admin"}
FULL, HINT = "cs-full", "cs-hint"
TEACHER = {FULL: "alan", HINT: "bea"}
RUN_TIMEOUT = 120_000  # the judge's first run may wait for its sandboxes to start
HELLO_PY = "print('hello from a course')\n"


@contextmanager
def _hub_like_server(base: Path, config: dict[str, Any]) -> Iterator[IDEServer]:
    """Run `jupyter server` with jupyter-ide enabled, as jupyterhub-singleuser runs it, with
    hub-like users (``jupyter ide`` would impose its own sign-in; a hub's server has its own).
    """
    root = base / "root"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    for name in ("config", "data", "runtime"):
        (base / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(base / name)
    (base / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    env["JUPYTER_IDE_DB_URL"] = f"sqlite:///{base / 'ide.db'}"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # The server process imports the test users' sign-in from this repository.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    port, token = _free_port(), secrets.token_hex(16)
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jupyter-server"),
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                f"--IDEContentsManager.workspaces_root={base / 'workspaces'}",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
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


@pytest.fixture(scope="module")
def ide_server(
    tmp_path_factory: pytest.TempPathFactory, upstream: dict[str, Any]
) -> Iterator[IDEServer]:
    """A server with hub-like users whose AI proxy talks to the fake upstream."""
    config = {
        "ServerApp": {"identity_provider_class": "tests.e2e.course_users.CourseUsersIdentity"},
        "CourseUsersIdentity": {"users": USERS},
        "AISettings": {
            "openai_base_url": f"{upstream['url']}/v1",
            "openai_api_key": "sk-e2e",
            "routes": {"echo": ["openai"]},
        },
    }
    with _hub_like_server(tmp_path_factory.mktemp("e2e-courses"), config) as server:
        yield server


def _call(server: IDEServer, who: str, method: str, path: str, body: Any = None) -> Any:
    """Call the server as ``who`` and parse its JSON answer; fail with the server's message."""
    headers = {**signed_in_as(who), "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}{path}", data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as e:
        pytest.fail(f"{method} {path} as {who}: {e.code} {e.read().decode(errors='replace')}")
    return json.loads(text) if text.strip().startswith((b"{", b"[")) else text


def _sign_in(server: IDEServer, who: str) -> None:
    """Open /ide as ``who``: what makes a user known to the server."""
    _call(server, who, "GET", "/ide")


def _two_courses(server: IDEServer) -> None:
    """The admin makes cs-full (full) and cs-hint (hint-only), each with its instructor, and
    enrols sam in both."""
    for name, title, mode in ((FULL, "Full help", "full"), (HINT, "Hints only", "hint")):
        _call(server, "root", "POST", "/ide/api/courses", {"name": name, "title": title})
        _call(server, "root", "PUT", f"/ide/api/ai/policy/{name}", {"mode": mode})
        _call(server, "root", "PUT", f"/ide/api/courses/{name}/members/sam", {"role": "student"})
        teacher = TEACHER[name]
        _call(
            server,
            "root",
            "PUT",
            f"/ide/api/courses/{name}/members/{teacher}",
            {"role": "instructor"},
        )


def _tokens_seen_by(server: IDEServer, who: str) -> set[str]:
    """The tokens of sam's submissions that ``who`` may list."""
    query = "per_page=100" if who == "sam" else "per_page=100&user=sam"
    answer = _call(server, who, "GET", f"/ide/api/judge/submissions?{query}")
    return {s["token"] for s in answer["submissions"]}


def _new_submission(server: IDEServer, known: set[str]) -> str:
    """Wait until sam has one submission more than ``known``; return its token."""
    deadline = time.monotonic() + RUN_TIMEOUT / 1000
    while time.monotonic() < deadline:
        new = _tokens_seen_by(server, "sam") - known
        if new:
            assert len(new) == 1, f"one Run made several submissions: {new}"
            return new.pop()
        time.sleep(0.2)
    pytest.fail("the Run made no submission")


@pytest.fixture
def student(browser: Browser, ide_server: IDEServer) -> Iterator[Page]:
    """The IDE in a browser signed in as sam (every request carries sam's credentials)."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, extra_http_headers=signed_in_as("sam")
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{ide_server.url}/ide")
    page.get_by_test_id("explorer").wait_for()
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _ask(page: Page, question: str) -> None:
    """Ask the assistant and wait for the whole answer."""
    field = page.get_by_test_id("chat-input")
    field.fill(question)
    field.press("Enter")
    answer = page.get_by_test_id("chat-assistant").last
    expect(answer).to_contain_text(f"echo: {question}")
    expect(answer).to_have_attribute("data-streaming", "false")


def _run(page: Page, server: IDEServer) -> str:
    """Run the open file, wait for its verdict; return the token of its submission."""
    known = _tokens_seen_by(server, "sam")
    page.get_by_test_id("run-file").click()
    token = _new_submission(server, known)
    expect(page.get_by_test_id("run-verdict")).to_have_text("Accepted", timeout=RUN_TIMEOUT)
    expect(page.get_by_test_id("run-stdout")).to_contain_text("hello from a course")
    return token


def _ai_requests_in(server: IDEServer, course: str) -> int:
    """How many AI requests the course's instructor sees counted in ``course``."""
    who = TEACHER[course]
    usage = _call(server, who, "GET", f"/ide/api/ai/usage?course={course}&scope=course")
    return int(usage["totals"]["requests"])


def _choose(page: Page, course: str) -> None:
    """Pick ``course`` in the status bar."""
    page.get_by_test_id("course-picker").select_option(course)


def test_a_student_of_two_courses_picks_the_course(
    student: Page, ide_server: IDEServer, upstream: dict[str, Any]
) -> None:
    """Strictest of both until a course is picked; then that course's mode, prompt and runs."""
    page = student
    expect(page.get_by_test_id("course-picker")).to_have_count(0)  # in no course yet
    for teacher in TEACHER.values():
        _sign_in(ide_server, teacher)
    _two_courses(ide_server)
    page.reload()
    page.get_by_test_id("explorer").wait_for()

    picker = page.get_by_test_id("course-picker")
    expect(picker).to_have_value("")
    expect(picker.locator("option")).to_have_text(
        ["None (strictest rules of all)", "cs-full · Full help", "cs-hint · Hints only"]
    )
    page.get_by_test_id("open-ai").click()
    expect(page.get_by_test_id("ai-policy-strictest")).to_contain_text(
        "Strictest of your courses: cs-full, cs-hint"
    )
    expect(page.get_by_test_id("ai-policy-mode")).to_contain_text("hint-only mode")
    shot(page, "course-01-strictest")

    # The full course: full mode, and the model sees no hint prompt.
    _choose(page, FULL)
    expect(page.get_by_test_id("ai-policy-mode")).to_have_text("AI is in full mode for cs-full")
    expect(page.get_by_test_id("ai-policy-strictest")).to_have_count(0)
    expect(page.get_by_test_id("ai-inline")).to_be_enabled()
    before = len(upstream["seen"])
    _ask(page, "how do loops work")
    bodies = [s["body"] for s in upstream["seen"][before:]]
    assert bodies, "the question never reached the model"
    contents = [m["content"] for b in bodies for m in b["messages"]]
    assert HINT_PROMPT not in contents
    assert bodies[-1]["messages"][-1] == {"role": "user", "content": "how do loops work"}
    assert (_ai_requests_in(ide_server, FULL), _ai_requests_in(ide_server, HINT)) == (1, 0)
    shot(page, "course-02-full")

    # A Run in the full course is listed for its instructor, not for the other course's.
    put_file(ide_server, "hello.py", HELLO_PY)
    refresh_until_listed(page, "hello.py")
    page.get_by_test_id("explorer-item-hello.py").click()
    expect(page.locator('[data-testid="editor-hello.py"] .view-lines')).to_contain_text("hello")
    in_full = _run(page, ide_server)
    assert _tokens_seen_by(ide_server, "alan") == {in_full}
    assert _tokens_seen_by(ide_server, "bea") == set()

    # The hint-only course: its mode, and its prompt first and last around the conversation.
    _choose(page, HINT)
    expect(page.get_by_test_id("ai-policy-mode")).to_have_text(
        "AI is in hint-only mode (Course policy of cs-hint)"
    )
    expect(page.get_by_test_id("ai-inline")).to_be_disabled()
    before = len(upstream["seen"])
    _ask(page, "give me the answer")
    sent = upstream["seen"][-1]["body"]["messages"]
    assert len(upstream["seen"]) > before
    assert sent[0] == {"role": "system", "content": HINT_PROMPT}
    assert sent[-1]["content"] == HINT_PROMPT
    assert {"role": "user", "content": "give me the answer"} in sent
    assert (_ai_requests_in(ide_server, FULL), _ai_requests_in(ide_server, HINT)) == (1, 1)
    shot(page, "course-03-hint")

    in_hint = _run(page, ide_server)
    assert _tokens_seen_by(ide_server, "bea") == {in_hint}
    assert _tokens_seen_by(ide_server, "alan") == {in_full}
    assert _tokens_seen_by(ide_server, "sam") == {in_full, in_hint}

    # The choice is kept for this workspace: a reload comes back in the hint-only course.
    page.reload()
    page.get_by_test_id("explorer").wait_for()
    expect(page.get_by_test_id("course-picker")).to_have_value(HINT)
    page.get_by_test_id("open-ai").click()
    expect(page.get_by_test_id("ai-policy-mode")).to_contain_text("hint-only mode")
    expect(page.get_by_test_id("ai-policy-strictest")).to_have_count(0)
