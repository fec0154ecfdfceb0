"""JupyterHub end to end: OIDC sign-in through a local provider, roles from hub groups."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from .conftest import _free_port, shot

pytestmark = pytest.mark.e2e

PEERS = Path(__file__).resolve().parents[1] / "hub"
BIN = Path(sys.executable).parent
START_TIMEOUT = 90


@dataclass
class Hub:
    """A running JupyterHub behind its proxy, its users' servers sharing one database."""

    url: str
    log: Path
    ide_db: Path


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``url`` until it answers, or fail showing the process's log."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:  # not listening yet, or the proxy has no route to it yet
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def _start(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start a peer with its output in ``log``."""
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=cwd)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a peer and wait for it."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A local OIDC provider, and JupyterHub with GenericOAuthenticator signing in through it."""
    if not (PEERS / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("tests/hub peers are not installed: `make test` runs npm ci there")
    base = tmp_path_factory.mktemp("hub")
    oidc_port, hub_port, api_port = _free_port(), _free_port(), _free_port()
    issuer = f"http://127.0.0.1:{oidc_port}"
    hub_url = f"http://127.0.0.1:{hub_port}"
    client_secret = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTERHUB_CRYPT_KEY"] = secrets.token_hex(32)
    oidc_log = base / "oidc.log"
    oidc = _start(
        [
            "node",
            str(PEERS / "oidc_provider.mjs"),
            str(oidc_port),
            f"{hub_url}/hub/oauth_callback",
            client_secret,
        ],
        oidc_log,
        env,
        base,
    )
    proxy = PEERS / "node_modules" / ".bin" / "configurable-http-proxy"
    config = base / "jupyterhub_config.py"
    config.write_text(
        textwrap.dedent(
            f"""
            import json

            c = get_config()  # noqa
            c.JupyterHub.bind_url = "{hub_url}"
            c.JupyterHub.hub_bind_url = "http://127.0.0.1:{api_port}"
            c.JupyterHub.db_url = "sqlite:///{base / "hub.sqlite"}"
            c.JupyterHub.cookie_secret_file = "{base / "cookie_secret"}"
            c.ConfigurableHTTPProxy.command = ["{proxy}"]
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_free_port()}"
            c.JupyterHub.authenticator_class = "generic-oauth"
            c.GenericOAuthenticator.client_id = "jupyterhub"
            c.GenericOAuthenticator.client_secret = "{client_secret}"
            c.GenericOAuthenticator.oauth_callback_url = "{hub_url}/hub/oauth_callback"
            c.GenericOAuthenticator.authorize_url = "{issuer}/auth"
            c.GenericOAuthenticator.token_url = "{issuer}/token"
            c.GenericOAuthenticator.userdata_url = "{issuer}/me"
            c.GenericOAuthenticator.scope = ["openid", "profile", "groups"]
            c.GenericOAuthenticator.username_claim = "preferred_username"
            c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
            c.GenericOAuthenticator.manage_groups = True
            c.GenericOAuthenticator.enable_auth_state = True
            c.GenericOAuthenticator.allow_all = True
            c.GenericOAuthenticator.admin_users = {{"principal"}}
            c.Authenticator.auto_login = True
            c.JupyterHub.custom_scopes = {{
                "custom:ide:instructor": {{"description": "Teach in jupyter-ide"}},
                "custom:ide:admin": {{"description": "Administer jupyter-ide"}},
            }}
            c.JupyterHub.load_roles = [
                {{"name": "ide-instructor", "scopes": ["custom:ide:instructor"],
                  "groups": ["instructors"]}},
            ]
            c.JupyterHub.spawner_class = "simple"
            c.Spawner.default_url = "/ide"
            c.Spawner.args = ["--allow-root"]
            c.Spawner.oauth_client_allowed_scopes = ["custom:ide:instructor", "custom:ide:admin"]
            c.Spawner.environment = {{"JUPYTER_IDE_DB_URL": "sqlite:///{base}/ide.db"}}
            c.Spawner.http_timeout = 60
            c.Spawner.start_timeout = 90
            c.SimpleLocalProcessSpawner.home_dir_template = "{base}/home/{{username}}"

            def pass_oauth_identity(spawner, auth_state):
                user = (auth_state or {{}}).get("oauth_user") or {{}}
                spawner.environment["JUPYTER_IDE_OAUTH_IDENTITY"] = json.dumps(
                    {{"provider": "generic", "id": user.get("sub")}}
                )

            c.Spawner.auth_state_hook = pass_oauth_identity
            """
        )
    )
    hub_log = base / "hub.log"
    hub_process: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", oidc, oidc_log)
        hub_process = _start(
            [str(BIN / "jupyterhub"), "-f", str(config), "--debug"], hub_log, env, base
        )
        _wait_for(f"{hub_url}/hub/api", hub_process, hub_log)
        yield Hub(hub_url, hub_log, base / "ide.db")
    finally:
        if hub_process is not None:
            _stop(hub_process)
        _stop(oidc)


def _sign_in(page: Page, hub_url: str, name: str) -> None:
    """Sign in through the provider's own pages and wait for the IDE of one's server."""
    page.goto(f"{hub_url}/hub/login")
    page.locator('input[name="login"]').fill(name)
    page.locator('input[name="password"]').fill("any")
    page.locator('button[type="submit"]').click()
    consent = page.locator('button[type="submit"]')
    consent.wait_for()
    consent.click()
    page.wait_for_url(f"{hub_url}/user/{name}/ide**", timeout=120_000)
    shot(page, f"hub-{name}-landing")
    page.get_by_test_id("explorer").wait_for(timeout=30_000)


def _api(
    page: Page, path: str, method: str = "GET", body: object = None
) -> tuple[int, dict[str, object]]:
    """Call an IDE API path from the page, as the app does (session cookie + XSRF header)."""
    result = page.evaluate(
        """async ([path, method, body]) => {
            const xsrf = document.cookie.split('; ').find((c) => c.startsWith('_xsrf='));
            const headers = xsrf ? {'X-XSRFToken': decodeURIComponent(xsrf.slice(6))} : {};
            const init = {credentials: 'same-origin', headers, method};
            if (body !== null) init.body = JSON.stringify(body);
            const r = await fetch(path, init);
            return [r.status, await r.text()];
        }""",
        [path, method, body],
    )
    status, body = result
    try:
        return int(status), json.loads(body)
    except ValueError:
        return int(status), {"text": body}


@pytest.mark.parametrize(
    ("name", "role", "admin_checks", "manage_cs101"),
    [
        ("student1", "student", 403, 403),
        ("teacher1", "instructor", 403, 403),
        ("principal", "admin", 200, 404),
    ],
)
def test_sign_in_through_the_hub_gives_the_role(
    browser: Browser, hub: Hub, name: str, role: str, admin_checks: int, manage_cs101: int
) -> None:
    """Each person lands in /user/<name>/ide with the role the hub grants, and no more."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        _sign_in(page, hub.url, name)
        shot(page, f"hub-{name}")
        status, me = _api(page, f"/user/{name}/ide/api/auth/me")
        assert status == 200 and me["name"] == name and me["role"] == role, me
        status, _ = _api(page, f"/user/{name}/ide/api/admin/checks")
        assert status == admin_checks
        with sqlite3.connect(hub.ide_db) as db:
            recorded = db.execute(
                "SELECT role, oauth_provider, oauth_id FROM users WHERE name = ?", (name,)
            ).fetchone()
        assert recorded == (role, "generic", name)
        status, courses = _api(page, f"/user/{name}/ide/api/courses")
        # Courses follow hub groups: course-cs101 (students), course-cs101-instructors.
        expected = [("cs101", "instructor" if role == "instructor" else "student")]
        assert [(c["name"], c["my_role"]) for c in courses["courses"]] == expected
        # Only admins (or the hub's groups) enrol people, and only people who have signed in:
        # "newcomer" never has, so the admin is told so (404); others may not enrol at all.
        # The servers share one database, as a deployment shares PostgreSQL.
        status, _ = _api(
            page, f"/user/{name}/ide/api/courses/cs101/members/newcomer", "PUT", {"role": "student"}
        )
        assert status == manage_cs101
        if role != "admin":  # hub admins may enter every server, by JupyterHub's design
            other = "teacher1" if name != "teacher1" else "student1"
            status, body = _api(page, f"/user/{other}/ide/api/auth/me")
            assert status >= 400 or body.get("name") != other, (status, body)
    finally:
        context.close()


def test_forged_cookies_and_open_redirects_are_refused(browser: Browser, hub: Hub) -> None:
    """A made-up hub cookie signs nobody in; after sign-in, an off-site `next` is not followed."""
    context = browser.new_context()
    try:
        host = hub.url.split("//", 1)[1].split(":")[0]
        context.add_cookies(
            [
                {
                    "name": "jupyterhub-user-student1",
                    "value": "forged",
                    "domain": host,
                    "path": "/",
                },
                {"name": "jupyterhub-session-id", "value": "forged", "domain": host, "path": "/"},
                {"name": "jupyterhub-hub-login", "value": "forged", "domain": host, "path": "/"},
            ]
        )
        api = context.request.get(
            f"{hub.url}/user/student1/ide/api/auth/me", max_redirects=0, fail_on_status_code=False
        )
        assert api.status in (302, 401, 403), api.status
        assert "student1" not in api.text() or api.status != 200
        context.close()
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{hub.url}/hub/login?next=http://evil.example/steal")
        page.locator('input[name="login"]').fill("student2")
        page.locator('input[name="password"]').fill("any")
        page.locator('button[type="submit"]').click()
        page.locator('button[type="submit"]').click()
        page.wait_for_url(f"{hub.url}/**", timeout=90_000)
        page.wait_for_load_state()
        assert page.url.startswith(hub.url), page.url
        assert "evil.example" not in page.url.split("?", 1)[0]
    finally:
        context.close()
