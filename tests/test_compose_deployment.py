"""The whole stack from deploy/docker-compose.yml, built offline and started by the suite.

The suite builds jupyter-ide/stack (and the user image under it; both reused while what they
were built from is unchanged) and runs `docker-compose up -d` under a project of its own: the
hub (DockerSpawner), the jupyter-ide service, two judge workers, PostgreSQL, Redis and moto's
S3 server, each started once what it needs is healthy. A test-only override adds the local
OIDC provider (in a container, on the host's own Node.js) and a test-admin token. Chromium
signs in through the provider, opens the service's /ide, saves a file and runs a cell;
`docker-compose restart service` then leaves the kernel reported dead until it is restarted,
and no saved file is lost. From inside a user's server container (spawned by the hub on the
`users` network) PostgreSQL, Redis and S3 cannot be reached, while the hub and the service
can. Submissions to the service's judge API get their verdicts from the judge workers (the
service runs none), also after one worker is killed. Everything is removed at the end, on
failure too.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright
from tornado.httpclient import HTTPRequest

from jupyter_ide.kernels.images.stackimage import ensure_stack_image
from jupyter_ide.kernels.images.userimage import user_image_tag

from .e2e.conftest import CHROMIUM_ARGS
from .hubfixture import PEERS, free_port
from .kernel_host import require_images
from .kernel_ws import run_cell

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "deploy" / "docker-compose.yml"
ACCESS = "access:services!service=ide"
UP_TIMEOUT = 240
# What a user's container tries to reach (by name on the `data` network, then by address).
REACH = r"""
import json, socket, sys
shown = {}
for host, port in json.loads(sys.argv[1]):
    try:
        socket.create_connection((host, port), timeout=3).close()
        shown[f"{host}:{port}"] = "open"
    except OSError as e:
        shown[f"{host}:{port}"] = type(e).__name__
print(json.dumps(shown))
"""


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to containers over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up."""


@dataclass
class Stack:
    """A running compose project: how to drive it and reach its hub."""

    project: str
    files: list[Path]
    env: dict[str, str]
    hub_url: str
    admin_token: str
    state: Path
    logs: Path

    @property
    def service_url(self) -> str:
        """The service's public URL, through the hub's proxy."""
        return f"{self.hub_url}/services/ide"

    def compose(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run docker-compose on this project; fail with its output on an error."""
        argv = ["docker-compose", "-p", self.project]
        for file in self.files:
            argv += ["-f", str(file)]
        done = subprocess.run(
            [*argv, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)}:\n{done.stdout}{done.stderr}")
        return done

    def service_log(self) -> str:
        """The end of the hub's and the service's logs."""
        try:
            shown = self.compose("logs", "--no-color", "--tail", "60", "hub", "service").stdout
        except (AssertionError, subprocess.TimeoutExpired) as e:
            shown = str(e)
        return shown[-8000:]

    def hub_api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the hub's REST API as the test admin; fail on an error status."""
        reply = requests.request(
            method,
            f"{self.hub_url}/hub/api{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            json=body,
            timeout=60,
        )
        assert reply.status_code < 400, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None

    def token(self, user: str, scopes: list[str]) -> str:
        """A hub API token of ``user``'s with ``scopes``."""
        body = {"scopes": scopes, "note": "compose test"}
        return str(self.hub_api("POST", f"/users/{user}/tokens", body)["token"])

    def call(self, path: str, token: str, method: str = "GET", body: Any = None) -> Any:
        """Call the service at ``path`` with ``token``; return the response."""
        return requests.request(
            method,
            f"{self.service_url}{path}",
            headers={"Authorization": f"token {token}"},
            data=None if body is None else json.dumps(body),
            timeout=120,
        )


def _hub_test_config(admin_token: str) -> str:
    """Hub config: the deployment's own, then a test-admin service and patient spawns."""
    return textwrap.dedent(
        f"""
        c = get_config()  # noqa
        load_subconfig("/srv/deploy/jupyterhub_config.py")  # noqa
        c.JupyterHub.services.append({{"name": "test-admin", "api_token": {admin_token!r}}})
        c.JupyterHub.load_roles.append(
            {{"name": "test-admin", "services": ["test-admin"],
              "scopes": ["admin:users", "admin:servers", "tokens", "read:services"]}}
        )
        c.Authenticator.auto_login = True
        c.Spawner.http_timeout = 120
        c.Spawner.start_timeout = 180
        """
    )


def _override(base: Path, oidc_port: int, callback: str, client_secret: str) -> str:
    """The test-only compose override: the OIDC provider, the test config, no warm pools."""
    node = shutil.which("node")
    assert node, "node is missing: the hub test peers need it (`make test` installs them)"
    issuer = f"http://127.0.0.1:{oidc_port}"
    quiet = ["--SandboxManager.pool_size=0", "--JudgeSettings.pool_size=0"]
    override = {
        "version": "3.8",
        "services": {
            "hub": {
                "command": ["jupyterhub", "-f", "/srv/test/hub_test_config.py"],
                "volumes": [f"{base / 'hub_test_config.py'}:/srv/test/hub_test_config.py:ro"],
                "networks": ["oidc"],
            },
            "service": {
                "command": [
                    "jupyter",
                    "ide",
                    "service",
                    "--JudgeSettings.run_workers=False",
                    *quiet,
                ]
            },
            "judge-1": {"command": ["jupyter", "ide", "judge-worker", *quiet]},
            "judge-2": {"command": ["jupyter", "ide", "judge-worker", *quiet]},
            "oidc": {
                "image": "${IDE_STACK_IMAGE}",
                "command": [
                    "/srv/node",
                    "/srv/peers/oidc_provider.mjs",
                    str(oidc_port),
                    callback,
                    client_secret,
                    "0.0.0.0",  # inside its container; published on loopback only
                    issuer,
                ],
                "volumes": [
                    f"{Path(node).resolve()}:/srv/node:ro",
                    f"{PEERS}:/srv/peers:ro",
                ],
                "ports": [f"127.0.0.1:{oidc_port}:{oidc_port}"],
                "networks": ["oidc"],
            },
        },
        "networks": {"oidc": {}},
    }
    return json.dumps(override, indent=2)  # JSON is YAML


def _wait(check: Any, what: str, stack: Stack, timeout: float = UP_TIMEOUT) -> None:
    """Poll ``check()`` until true, or fail showing the hub's and service's logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(1)
    raise AssertionError(f"{what} did not happen in {timeout:.0f} s:\n{stack.service_log()}")


def _remove_leftovers(engine: Any, stack: Stack) -> None:
    """Remove the user servers the hub spawned and the sandboxes the service started."""
    for container in engine.containers.list(all=True):
        mounts = [str(m.get("Source", "")) for m in container.attrs.get("Mounts", [])]
        spawned = container.name.startswith(f"{stack.project}-user")
        sandbox = any(m.startswith(str(stack.state)) for m in mounts)
        if (spawned or sandbox) and not container.name.startswith(f"{stack.project}_"):
            container.remove(force=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Build the images (or reuse them), start the compose project; remove it all afterwards."""
    require_images("python")
    built = ensure_stack_image()
    base = tmp_path_factory.mktemp("compose")
    hub_port, oidc_port = free_port(), free_port()
    hub_url = f"http://127.0.0.1:{hub_port}"
    callback = f"{hub_url}/hub/oauth_callback"
    client_secret = secrets.token_hex(16)
    admin_token = secrets.token_hex(32)
    project = f"jide-compose-{uuid.uuid4().hex[:8]}"
    # Short: kernel socket paths under it must fit a unix socket's 107 bytes.
    state = Path(tempfile.mkdtemp(prefix="jide-"))
    (base / "hub_test_config.py").write_text(_hub_test_config(admin_token))
    override = base / "docker-compose.test.yml"
    override.write_text(_override(base, oidc_port, callback, client_secret))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "AWS_"))}
    env.update(
        {
            "COMPOSE_PROJECT_NAME": project,
            "IDE_STACK_IMAGE": built.tag,
            "IDE_SINGLEUSER_IMAGE": user_image_tag(),
            "IDE_STATE_DIR": str(state),
            "HUB_PORT": str(hub_port),
            "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
            "JUPYTER_IDE_CRYPT_KEY": secrets.token_hex(32),
            "JUPYTER_IDE_SERVICE_TOKEN": secrets.token_hex(32),
            "DB_PASSWORD": secrets.token_hex(16),
            "REDIS_PASSWORD": secrets.token_hex(16),
            "S3_SECRET_KEY": secrets.token_hex(16),
            "JUPYTER_IDE_OAUTH_PROVIDER": "generic",
            "OAUTH_CLIENT_ID": "jupyterhub",
            "OAUTH_CLIENT_SECRET": client_secret,
            "OAUTH_CALLBACK_URL": callback,
            "OIDC_ISSUER": f"http://127.0.0.1:{oidc_port}",
            "OIDC_INTERNAL_URL": f"http://oidc:{oidc_port}",
            "JUPYTER_IDE_ALLOW_ALL": "1",
        }
    )
    running = Stack(
        project, [COMPOSE_FILE, override], env, hub_url, admin_token, state, base / "compose.log"
    )
    engine = docker.from_env(timeout=60)
    try:
        running.compose("up", "-d")
        _wait(lambda: requests.get(f"{hub_url}/hub/api", timeout=3).ok, "the hub", running)
        _wait(
            lambda: (
                requests.get(f"{running.service_url}/api/contents", timeout=5).status_code == 403
            ),
            "the service behind the hub's proxy",
            running,
        )
        yield running
    finally:
        try:
            running.logs.write_text(running.compose("logs", "--no-color", timeout=120).stdout)
        except (AssertionError, subprocess.TimeoutExpired):
            pass
        _remove_leftovers(engine, running)
        running.compose("down", "--volumes", "--remove-orphans", "--timeout", "20")
        leftover = engine.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={project}"}
        )
        shutil.rmtree(state, ignore_errors=True)
        assert leftover == [], leftover


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert executable, "Chromium is missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _sign_in(page: Page, stack: Stack, name: str) -> None:
    """Open the service's /ide: the hub's OAuth, the provider's login and consent pages."""
    page.goto(f"{stack.service_url}/ide")
    page.locator('input[name="login"]').fill(name)
    page.locator('input[name="password"]').fill("any")
    page.locator('button[type="submit"]').click()
    consent = page.locator('button[type="submit"]')
    consent.wait_for()
    consent.click()
    page.wait_for_url(f"{stack.service_url}/ide**", timeout=90_000)
    page.get_by_test_id("explorer").wait_for(timeout=90_000)


def _type_in(page: Page, scope: str, text: str) -> None:
    """Click into a Monaco editor and type like a person."""
    page.locator(f"{scope} .monaco-editor .view-lines").first.click()
    # Keys sent before the editor holds the focus are lost (seen once: the file began " co…").
    page.locator(f"{scope} .monaco-editor.focused").first.wait_for()
    page.keyboard.type(text)


def _new(page: Page, button: str, name: str) -> None:
    """Create an entry through the explorer's toolbar and its name field."""
    page.get_by_test_id(button).click()
    field = page.get_by_test_id("explorer-name-input")
    field.fill(name)
    field.press("Enter")


def _cell(stack: Stack, token: str, kernel_id: str, code: str) -> str:
    """Run ``code`` on a kernel through the service's channels websocket; return its output."""
    url = "ws" + stack.service_url.removeprefix("http") + f"/api/kernels/{kernel_id}/channels"
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"}, request_timeout=120)
    # Playwright's sync API keeps an event loop running in this thread: run it in another.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_cell(request, code)).result()


def test_a_student_works_through_the_compose_stack_and_a_service_restart_loses_nothing(
    stack: Stack, browser: Browser
) -> None:
    """Sign in, save a file and run a cell in the browser; restart the service: dead, restarted."""
    name = f"ada-{uuid.uuid4().hex[:6]}"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _sign_in(page, stack, name)
        _new(page, "explorer-new-file", "hello.py")
        editor = '[data-testid="editor-hello.py"]'
        page.locator(f"{editor} .monaco-editor").wait_for()
        _type_in(page, editor, "GREETING = 'from compose'")
        expect(page.get_by_test_id("tab-dirty")).to_be_visible()
        page.keyboard.press("Control+s")
        expect(page.get_by_test_id("tab-dirty")).to_have_count(0)

        _new(page, "explorer-new-notebook", "first.ipynb")
        notebook = page.get_by_test_id("notebook-first.ipynb")
        expect(notebook.get_by_test_id("kernel-status")).to_contain_text("idle", timeout=180_000)
        _type_in(
            page,
            '[data-testid="notebook-first.ipynb"] [data-testid="cell"]',
            "from hello import GREETING; print(GREETING, 6 * 7)",
        )
        page.keyboard.press("Shift+Enter")
        output = notebook.get_by_test_id("cell").nth(0).get_by_test_id("cell-output")
        expect(output).to_contain_text("from compose 42", timeout=180_000)
        page.screenshot(path=str(stack.logs.parent / "compose-ide.png"))
    finally:
        context.close()

    token = stack.token(name, [ACCESS])
    saved = stack.call("/api/contents/hello.py", token)
    assert saved.status_code == 200 and saved.json()["content"] == "GREETING = 'from compose'"
    kernels = stack.call("/api/kernels", token).json()
    assert [k["name"] for k in kernels] == ["ide-python"], kernels
    kernel_id = kernels[0]["id"]

    stack.compose("restart", "service")
    _wait(
        lambda: stack.call("/api/kernels", token).status_code == 200,
        "the service's return after its restart",
        stack,
    )
    model = stack.call(f"/api/kernels/{kernel_id}", token).json()
    assert model["execution_state"] == "dead", model
    restarted = stack.call(f"/api/kernels/{kernel_id}/restart", token, "POST", {})
    assert restarted.status_code == 200, (restarted.text, stack.service_log())
    out = _cell(stack, token, kernel_id, "print(open('/workspace/hello.py').read())")
    assert out.strip() == "GREETING = 'from compose'", out
    for path in ("hello.py", "first.ipynb"):
        assert stack.call(f"/api/contents/{path}", token).status_code == 200, path


def test_a_user_container_cannot_reach_the_data_stores(stack: Stack) -> None:
    """A user's server container reaches the hub and the service, never PostgreSQL/Redis/S3."""
    name = f"bob{uuid.uuid4().hex[:6]}"  # no character DockerSpawner escapes in names
    stack.hub_api("POST", f"/users/{name}")
    stack.hub_api("POST", f"/users/{name}/server")
    _wait(
        lambda: (stack.hub_api("GET", f"/users/{name}")["servers"].get("") or {}).get("ready"),
        f"{name}'s server",
        stack,
    )
    engine = docker.from_env(timeout=60)
    mine = [
        c for c in engine.containers.list() if c.name.startswith(f"{stack.project}-user-{name}")
    ]
    assert len(mine) == 1, [c.name for c in engine.containers.list()]
    user = mine[0]
    data_network = f"{stack.project}_data"
    stores = {"postgres": 5432, "redis": 6379, "s3": 5000}
    targets: list[tuple[str, int]] = list(stores.items())
    for service, port in stores.items():
        (store,) = engine.containers.list(
            filters={
                "label": [
                    f"com.docker.compose.project={stack.project}",
                    f"com.docker.compose.service={service}",
                ]
            }
        )
        address = store.attrs["NetworkSettings"]["Networks"][data_network]["IPAddress"]
        targets.append((address, port))
    controls = [("hub", 8081), ("service", 10101)]
    code, output = user.exec_run(["python3", "-c", REACH, json.dumps(targets + controls)])
    assert code == 0, output
    shown = json.loads(output.decode().strip().splitlines()[-1])
    assert shown["hub:8081"] == "open" and shown["service:10101"] == "open", shown
    opened = {where for where, what in shown.items() if what == "open"} - {
        "hub:8081",
        "service:10101",
    }
    assert opened == set(), shown
    assert set(user.attrs["NetworkSettings"]["Networks"]) == {f"{stack.project}-users"}
    stack.hub_api("DELETE", f"/users/{name}/server")


def _judged(stack: Stack, token: str, language_id: int, n: int) -> str:
    """Submit a program that prints ``n`` squared, wait for it; return its stdout."""
    source = f"print({n} * {n})"
    answer = stack.call(
        "/ide/api/judge/submissions?wait=true",
        token,
        "POST",
        {"source_code": source, "language_id": language_id},
    )
    assert answer.status_code in (200, 201), (answer.status_code, answer.text)
    result = answer.json()
    assert result["status"]["description"] == "Accepted", (result, stack.service_log())
    return str(result["stdout"])


def test_the_judge_workers_run_the_submissions(stack: Stack) -> None:
    """The service queues, the two workers judge; with one killed, the other still does."""
    name = f"cyd-{uuid.uuid4().hex[:6]}"
    stack.hub_api("POST", f"/users/{name}")
    token = stack.token(name, [ACCESS])
    languages = stack.call("/ide/api/judge/languages", token).json()
    python = next(lang["id"] for lang in languages if lang["name"].startswith("Python"))
    for n in range(3):
        assert _judged(stack, token, python, n + 2).strip() == str((n + 2) ** 2)
    stack.compose("kill", "judge-1")
    for n in range(2):
        assert _judged(stack, token, python, n + 7).strip() == str((n + 7) ** 2)
    stack.compose("start", "judge-1")
