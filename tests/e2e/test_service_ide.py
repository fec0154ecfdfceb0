"""/ide served by the jupyter-ide service itself, in a real browser: no user server (issue #14).

A real hub (deploy config, managed service with one warm ide-python kernel, local OIDC
provider) and nothing spawned: a student opens <hub>/services/ide/ide, signs in through the
hub's OAuth at the provider's own pages, writes a file in the editor, runs a notebook cell in
a warm kernel handed over by the service, and sees its output. A second student signs in at
the hub's own login page and lands on the same /ide (the hub's default_url, as the README
sets a classroom up); in another browser context, he sees none of the first one's files,
sessions or kernels.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from jupyter_ide.kernels.profile import LABEL_KERNEL_ID

from ..hubfixture import ACCESS, ServiceHub, service_hub, tail
from ..kernel_host import require_images
from ..s3_server import MotoServer
from .conftest import shot

pytestmark = pytest.mark.e2e

START_TIMEOUT = 90_000
# The service keeps one warm ide-python kernel (hubfixture's command keeps none by default);
# one kernel per student, so that a second one is refused. The classroom set-up the README
# gives: the hub sends whoever signs in to the service's /ide, not to a server of their own.
CLASSROOM = """
    ide["command"] = [*ide["command"], "--SandboxManager.pool_specs=ide-python=1",
                      "--ServiceKernelManager.max_kernels_per_user=1"]
    c.JupyterHub.default_url = "/services/ide/ide"
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[ServiceHub]:
    """A hub with the service and a warm ide-python pool; no user servers are ever spawned."""
    require_images("python")
    base = tmp_path_factory.mktemp("service-ide")
    with service_hub(base, moto_server, "managed", extra_config=CLASSROOM) as (hub, _env):
        yield hub


class Student:
    """A browser context signed in at the service's /ide, with what went wrong in it."""

    def __init__(self, browser: Browser, hub: ServiceHub, name: str) -> None:
        """Open a fresh context (its own cookies) and collect page errors and failed calls."""
        self.name = name
        self.hub = hub
        self.context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on("response", self._check)
        self.page.on("websocket", self._socket)

    def _check(self, response: Response) -> None:
        """Record a failed call (a 404 from contents is the explorer asking if a name is free)."""
        if response.status >= 400 and not (
            response.status == 404 and "/api/contents/" in response.url
        ):
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def _socket(self, socket: object) -> None:
        """Record a websocket that fails to open."""
        socket.on("socketerror", lambda error: self.problems.append(f"websocket: {error}"))  # type: ignore[attr-defined]

    def sign_in(self, start: str) -> None:
        """Open ``start``: the hub's OAuth sends the browser to the provider's pages, then /ide."""
        page = self.page
        page.goto(start)
        page.locator('input[name="login"]').fill(self.name)
        page.locator('input[name="password"]').fill("any")
        page.locator('button[type="submit"]').click()
        consent = page.locator('button[type="submit"]')
        consent.wait_for()
        consent.click()
        page.wait_for_url(f"{self.hub.service_url}/ide**", timeout=60_000)
        page.get_by_test_id("explorer").wait_for(timeout=60_000)

    def new(self, button: str, name: str) -> None:
        """Create an entry through the explorer's toolbar and its name field."""
        self.page.get_by_test_id(button).click()
        field = self.page.get_by_test_id("explorer-name-input")
        field.fill(name)
        field.press("Enter")

    def type_in(self, scope: str, text: str) -> None:
        """Click into a Monaco editor and type like a person."""
        self.page.locator(f"{scope} .monaco-editor .view-lines").first.click()
        self.page.keyboard.type(text)

    def api(self, path: str, method: str = "GET", body: Any = None) -> requests.Response:
        """Call the service as this student with a token of theirs (not the browser)."""
        return self.hub.call(path, self.hub.token(self.name, [ACCESS]), method, body)


def _wait_for_a_warm_kernel(hub: ServiceHub, student: Student) -> None:
    """Wait until the service's warm pool has an ide-python kernel ready."""
    deadline = time.monotonic() + 180
    while True:
        reply = student.api("/ide/api/sandbox")
        assert reply.status_code == 200, reply.text
        if reply.json()["pool"].get("ide-python", {}).get("ready", 0) >= 1:
            return
        assert time.monotonic() < deadline, (reply.text, tail(hub.log))
        time.sleep(0.5)


def _saved(student: Student, path: str, expected: str) -> None:
    """Wait until the service serves ``path`` to ``student`` with ``expected``."""
    deadline = time.monotonic() + 30
    while True:
        reply = student.api(f"/api/contents/{path}")
        if reply.status_code == 200 and reply.json().get("content") == expected:
            return
        assert time.monotonic() < deadline, (reply.status_code, reply.text[:500])
        time.sleep(0.5)


def test_a_student_works_in_the_services_own_ide_and_another_sees_none_of_it(
    browser: Browser, hub: ServiceHub
) -> None:
    """Sign in, edit a file, run a cell in a warm kernel, see it; a second student sees none."""
    tag = uuid.uuid4().hex[:6]
    ada = Student(browser, hub, f"ada-{tag}")
    bob = Student(browser, hub, f"bob-{tag}")
    try:
        ada.sign_in(f"{hub.service_url}/ide")  # a link to the service's /ide
        assert ada.page.url.startswith(f"{hub.service_url}/ide"), ada.page.url
        # Nothing was spawned: the hub knows no server of hers.
        user = hub.hub_api("GET", f"/users/{ada.name}")
        assert user["server"] is None and user["pending"] is None, user

        # A file made and typed in the editor, saved with Ctrl+S, is the service's.
        ada.new("explorer-new-file", "hello.py")
        editor = '[data-testid="editor-hello.py"]'
        ada.page.locator(f"{editor} .monaco-editor").wait_for()
        ada.type_in(editor, "GREETING = 'hi from the service'")
        expect(ada.page.get_by_test_id("tab-dirty")).to_be_visible()
        ada.page.keyboard.press("Control+s")
        expect(ada.page.get_by_test_id("tab-dirty")).to_have_count(0)
        _saved(ada, "hello.py", "GREETING = 'hi from the service'")

        # A notebook's kernel is a warm ide-python one the service hands over, on her files.
        _wait_for_a_warm_kernel(hub, ada)
        ada.new("explorer-new-notebook", "first.ipynb")
        notebook = ada.page.get_by_test_id("notebook-first.ipynb")
        expect(notebook.get_by_test_id("kernel-status")).to_contain_text(
            "idle", timeout=START_TIMEOUT
        )
        cell = '[data-testid="notebook-first.ipynb"] [data-testid="cell"]'
        ada.type_in(cell, "from hello import GREETING; print(GREETING, 6 * 7)")
        ada.page.keyboard.press("Shift+Enter")
        output = notebook.get_by_test_id("cell").nth(0).get_by_test_id("cell-output")
        expect(output).to_contain_text("hi from the service 42", timeout=START_TIMEOUT)
        shot(ada.page, "service-ide-01-notebook")

        kernels = ada.api("/api/kernels").json()
        assert [k["name"] for k in kernels] == ["ide-python"], kernels
        # Handed over from the warm pool: no container was started under this kernel's id.
        engine = docker.from_env(timeout=30)
        cold = engine.containers.list(
            all=True, filters={"label": f"{LABEL_KERNEL_ID}={kernels[0]['id']}"}
        )
        assert cold == [], cold
        sessions = ada.api("/api/sessions").json()
        assert [(s["path"], s["kernel"]["id"]) for s in sessions] == [
            ("first.ipynb", kernels[0]["id"])
        ], sessions

        # The second student signs in at the hub itself, which sends him to the service's /ide
        # (c.JupyterHub.default_url); in a browser of his own, his workspace is empty.
        bob.sign_in(f"{hub.url}/hub/login")
        assert bob.page.url.startswith(f"{hub.service_url}/ide"), bob.page.url
        assert hub.hub_api("GET", f"/users/{bob.name}")["server"] is None
        expect(bob.page.get_by_test_id("explorer-item-hello.py")).to_have_count(0)
        expect(bob.page.get_by_test_id("explorer-item-first.ipynb")).to_have_count(0)
        shot(bob.page, "service-ide-02-second-student")
        assert bob.api("/api/contents/hello.py").status_code == 404
        assert bob.api("/api/sessions").json() == []
        assert bob.api("/api/kernels").json() == []
        assert bob.api(f"/api/kernels/{kernels[0]['id']}").status_code == 404
        ada_session = sessions[0]["id"]
        assert bob.api(f"/api/sessions/{ada_session}").status_code == 404
        assert bob.api(f"/api/sessions/{ada_session}", "DELETE").status_code == 404
        # Naming her kernel in a session of his own starts a kernel of his, not hers.
        body = {"path": "first.ipynb", "type": "notebook", "kernel": {"id": kernels[0]["id"]}}
        his = bob.api("/api/sessions", "POST", body)
        assert his.status_code == 201, his.text
        assert his.json()["kernel"]["id"] != kernels[0]["id"], his.text
        moved = bob.api(
            f"/api/sessions/{his.json()['id']}", "PATCH", {"kernel": {"id": kernels[0]["id"]}}
        )
        assert moved.status_code == 400, moved.text
        assert [s["id"] for s in ada.api("/api/sessions").json()] == [ada_session]
        assert ada.api(f"/api/kernels/{kernels[0]['id']}").status_code == 200
        # A start past the per-user limit says why (429), as a kernel start does.
        body = {"path": "second.ipynb", "type": "notebook", "kernel": {"name": "ide-python"}}
        refused = ada.api("/api/sessions", "POST", body)
        assert refused.status_code == 429, refused.text
        assert "You already run 1 kernels" in refused.json()["message"], refused.text
    finally:
        ada.context.close()
        bob.context.close()
    assert not ada.problems, ada.problems
    assert not bob.problems, bob.problems
