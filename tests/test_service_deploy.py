"""deploy/jupyterhub_config.py's service block: only the service's environment holds secrets."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from traitlets.config.loader import PyFileConfigLoader

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ACCESS = "access:services!service=ide"


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Config loading only: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server here."""


def _secrets() -> dict[str, str]:
    """A deployment's shared secrets, each a value found nowhere else."""
    return {
        "JUPYTER_IDE_DB_URL": f"postgresql+psycopg://ide:{secrets.token_hex(8)}@db/ide",
        "JUPYTER_IDE_REDIS_URL": f"redis://:{secrets.token_hex(8)}@redis:6379/0",
        "JUPYTER_IDE_STORAGE_URL": f"s3://bucket-{secrets.token_hex(4)}/ide",
        "AWS_ACCESS_KEY_ID": f"AKIA{secrets.token_hex(8)}",
        "AWS_SECRET_ACCESS_KEY": secrets.token_hex(20),
        "JUPYTER_IDE_CRYPT_KEY": secrets.token_hex(32),
        "OPENAI_API_KEY": f"sk-{secrets.token_hex(16)}",
        "GEMINI_API_KEY": secrets.token_hex(16),
        "JUPYTER_IDE_AI_POOL_KEY": secrets.token_hex(16),
    }


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    """Load the hub config with only ``env`` (and the provider's id and secret) set."""
    for name in list(os.environ):
        if name.startswith(("JUPYTER_IDE_", "AWS_", "DOCKER_", "OPENAI_", "GEMINI_")):
            monkeypatch.delenv(name)
    for name, value in {"OAUTH_CLIENT_ID": "hub", "OAUTH_CLIENT_SECRET": "s", **env}.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()


def _places(config: Any, value: str, where: str = "c") -> list[str]:
    """Every place in the loaded config that holds ``value``."""
    found = []
    if isinstance(config, dict):
        for key, item in config.items():
            found += _places(item, value, f"{where}.{key}")
    elif isinstance(config, list | tuple | set):
        for i, item in enumerate(config):
            found += _places(item, value, f"{where}[{i}]")
    elif value in json.dumps(config, default=str):
        found.append(where)
    return found


def test_only_the_services_environment_holds_the_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Managed: the hub passes each secret to the service alone, none to user servers."""
    given = _secrets()
    c = _load(monkeypatch, JUPYTER_IDE_SERVICE="managed", **given)
    (service,) = c.JupyterHub.services
    assert service["name"] == "ide" and service["command"] == ["jupyter", "ide", "service"]
    assert service["url"] == "http://127.0.0.1:10101"
    assert service["oauth_client_allowed_scopes"] == ["custom:ide:instructor", "custom:ide:admin"]
    assert service["environment"] == given
    for name, value in given.items():
        assert _places(c, value) == [f"c.JupyterHub.services[0].environment.{name}"], name
    # User servers learn where the service is, and nothing else of it.
    assert c.Spawner.environment == {
        "JUPYTER_IDE_SANDBOX": "auto",
        "JUPYTER_IDE_SERVICE_URL": "http://127.0.0.1:10101/services/ide/",
    }
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["user"]["scopes"] == ["self", ACCESS]
    assert ACCESS in c.Spawner.server_token_scopes
    assert "access:servers!server" in c.Spawner.server_token_scopes


def test_an_external_service_gets_a_token_and_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """External: the hub knows the service's token and URL; its secrets live with it."""
    given = _secrets()
    token = secrets.token_hex(32)
    c = _load(
        monkeypatch,
        JUPYTER_IDE_SERVICE="external",
        JUPYTER_IDE_SERVICE_TOKEN=token,
        JUPYTER_IDE_SERVICE_URL="http://ide-service:10101",
        **given,
    )
    (service,) = c.JupyterHub.services
    assert service["api_token"] == token and service["url"] == "http://ide-service:10101"
    assert "command" not in service and "environment" not in service
    for value in given.values():
        assert _places(c, value) == []
    assert set(c.Spawner.environment) == {"JUPYTER_IDE_SANDBOX", "JUPYTER_IDE_SERVICE_URL"}
    assert c.Spawner.environment["JUPYTER_IDE_SERVICE_URL"] == (
        "http://ide-service:10101/services/ide/"
    )


def test_user_servers_may_reach_the_service_by_another_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """User containers on another network: the operator names the service's URL for them."""
    c = _load(
        monkeypatch,
        JUPYTER_IDE_SERVICE="managed",
        JUPYTER_IDE_USER_SERVICE_URL="http://hub-proxy:8000/services/ide/",
    )
    assert c.Spawner.environment["JUPYTER_IDE_SERVICE_URL"] == (
        "http://hub-proxy:8000/services/ide/"
    )


def test_an_external_service_without_a_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub's config stops with the variable to set."""
    with pytest.raises(ValueError, match="JUPYTER_IDE_SERVICE_TOKEN"):
        _load(monkeypatch, JUPYTER_IDE_SERVICE="external")


def test_without_the_service_user_servers_keep_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unset, nothing changes for deployments without the service (yet)."""
    c = _load(monkeypatch, JUPYTER_IDE_DB_URL="postgresql+psycopg://db/ide")
    assert "services" not in c.JupyterHub
    assert c.Spawner.environment["JUPYTER_IDE_DB_URL"] == "postgresql+psycopg://db/ide"
