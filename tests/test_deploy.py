"""deploy/jupyterhub_config.py loads and wires roles the way the hub end-to-end test proves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from traitlets.config.loader import PyFileConfigLoader

from jupyter_ide.server_extension.hubcheck import open_sections

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    """Load the hub config with an environment."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()


@pytest.mark.parametrize(
    ("provider", "authenticator", "section"),
    [
        ("github", "github", "GitHubOAuthenticator"),
        ("google", "google", "GoogleOAuthenticator"),
        ("generic", "generic-oauth", "GenericOAuthenticator"),
    ],
)
def test_hub_config_for_each_provider(
    monkeypatch: pytest.MonkeyPatch, provider: str, authenticator: str, section: str
) -> None:
    """Each provider gets PKCE, auth state, admins, and the jupyter-ide scopes and roles."""
    c: Any = _load(
        monkeypatch,
        JUPYTER_IDE_OAUTH_PROVIDER=provider,
        JUPYTER_IDE_ADMINS="ada",
        JUPYTER_IDE_INSTRUCTORS="grace,alan",
        JUPYTER_IDE_GITHUB_ORGS="my-school",
        JUPYTER_IDE_GOOGLE_DOMAIN="school.example",
        OIDC_ISSUER="https://id.school.example/",
    )
    assert c.JupyterHub.authenticator_class == authenticator
    oauth = getattr(c, section)
    assert oauth.enable_pkce is True and oauth.enable_auth_state is True
    assert oauth.admin_users == {"ada"}
    assert set(c.JupyterHub.custom_scopes) == {"custom:ide:instructor", "custom:ide:admin"}
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["ide-instructor"]["users"] == ["alan", "grace"]
    assert roles["ide-admin"]["scopes"] == ["custom:ide:admin"]
    assert c.Spawner.default_url == "/ide"
    assert "custom:ide:instructor" in c.Spawner.oauth_client_allowed_scopes
    if provider == "github":
        assert oauth.allowed_organizations == {"my-school"}
    if provider == "google":
        assert oauth.hosted_domain == ["school.example"]
    if provider == "generic":
        assert oauth.token_url == "https://id.school.example/token"


def test_auth_state_hook_passes_the_oauth_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook hands the server {"provider", "id"} from GitHub's auth state."""
    c = _load(monkeypatch, JUPYTER_IDE_OAUTH_PROVIDER="github")
    spawner = SimpleNamespace(environment={})
    c.Spawner.auth_state_hook(spawner, {"github_user": {"id": 42, "login": "ada"}})
    assert json.loads(spawner.environment["JUPYTER_IDE_OAUTH_IDENTITY"]) == {
        "provider": "github",
        "id": "42",
    }
    empty = SimpleNamespace(environment={})
    c.Spawner.auth_state_hook(empty, None)
    assert empty.environment == {}


def test_compose_and_helm_files_are_consistent() -> None:
    """The compose file names the seed's services; Helm opens /ide, sets the scopes, no secrets."""
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"hub", "service", "judge-1", "judge-2", "postgres", "redis", "s3"} <= set(services)
    # Only the service and the judge workers hold the data stores' URLs; the hub runs the
    # service as an external one, and user containers join the `users` network alone.
    assert services["service"]["environment"]["JUPYTER_IDE_REDIS_URL"].startswith("redis://")
    assert "JUPYTER_IDE_REDIS_URL" not in services["hub"]["environment"]
    assert services["hub"]["environment"]["JUPYTER_IDE_SERVICE"] == "external"
    for store in ("postgres", "redis", "s3", "judge-1", "judge-2"):
        assert services[store]["networks"] == ["data"], store
    assert compose["networks"]["data"]["internal"] is True
    # Every image is ours, built offline (jupyter_ide/kernels/images/stackimage.py).
    assert all("build" not in s for s in services.values())
    assert {s["image"] for s in services.values()} == {
        "${IDE_STACK_IMAGE:-jupyter-ide/stack:0.1.0}"
    }
    values = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())
    assert values["singleuser"]["defaultUrl"] == "/ide"
    # The service holds the shared state (tests/test_kubernetes_files.py checks the rest).
    assert "custom:ide:instructor" in values["hub"]["config"]["JupyterHub"]["custom_scopes"]
    assert set(values["singleuser"]["extraEnv"]) == {"JUPYTER_IDE_SERVICE_URL"}


@pytest.mark.parametrize(
    ("provider", "extra", "opened"),
    [
        ("generic", {}, False),
        ("google", {}, False),
        ("github", {}, False),
        ("google", {"JUPYTER_IDE_GOOGLE_DOMAIN": "school.example"}, False),
        ("generic", {"JUPYTER_IDE_ALLOW_ALL": "1"}, True),
        ("google", {"JUPYTER_IDE_ALLOW_ALL": "yes"}, True),
    ],
)
def test_sign_in_is_open_to_everyone_only_when_the_operator_says_so(
    monkeypatch: pytest.MonkeyPatch, provider: str, extra: dict[str, str], opened: bool
) -> None:
    """allow_all is off unless JUPYTER_IDE_ALLOW_ALL is set; a Google domain limits sign-in."""
    monkeypatch.delenv("JUPYTER_IDE_ALLOW_ALL", raising=False)
    monkeypatch.delenv("JUPYTER_IDE_GOOGLE_DOMAIN", raising=False)
    c: Any = _load(
        monkeypatch,
        JUPYTER_IDE_OAUTH_PROVIDER=provider,
        JUPYTER_IDE_INSTRUCTORS="grace",
        JUPYTER_IDE_ALLOWED_USERS="ada",
        JUPYTER_IDE_ALLOWED_GROUPS="students",
        **extra,
    )
    section = {"generic": "GenericOAuthenticator", "google": "GoogleOAuthenticator"}.get(
        provider, "GitHubOAuthenticator"
    )
    oauth = getattr(c, section)
    assert oauth.allowed_users == {"ada", "grace"}
    if provider == "generic":
        assert oauth.allowed_groups == {"students"}
    assert open_sections(c) == ([f"{section}.allow_all"] if opened else [])
    if "JUPYTER_IDE_GOOGLE_DOMAIN" in extra:
        assert oauth.allow_all is True  # everyone in the domain, no one outside it


@pytest.mark.parametrize("allow_all", ["", "1"])
def test_doctor_warns_when_the_hubs_sign_in_is_open(tmp_path: Path, allow_all: str) -> None:
    """`jupyter ide doctor --hub-config` reads the hub's config with the hub's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        HOME=str(tmp_path),
        JUPYTER_IDE_DB_URL=f"sqlite:///{tmp_path / 'ide.db'}",
        JUPYTER_IDE_STORAGE_URL=(tmp_path / "blobs").as_uri(),
        JUPYTER_IDE_OAUTH_PROVIDER="generic",
        JUPYTER_IDE_ALLOW_ALL=allow_all,
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-ide"),
            "doctor",
            f"--hub-config={DEPLOY / 'jupyterhub_config.py'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["sign-in"])
    if allow_all:
        assert lines[at].split()[0] == "broken", done.stdout
        assert "GenericOAuthenticator.allow_all" in lines[at]
        assert "fix: unset JUPYTER_IDE_ALLOW_ALL" in lines[at + 1]
    else:
        assert lines[at].split()[0] == "ok", done.stdout
