"""`jupyter ide service` reads the environment a hub gives its services, and refuses without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ide.service.hubenv import HubEnvironmentError, read_hub_environment

BIN = Path(sys.executable).parent
START = "jupyter ide service cannot start:"
EXTERNAL = {
    "JUPYTERHUB_API_TOKEN": "secret-token",
    "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
    "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:10101",
}


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """Plain functions and subprocesses: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server here."""


def _run_service(tmp_path: Path, hub_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `jupyter ide service` with only ``hub_env`` from the hub; it must exit by itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "AWS_"))}
    env.update(
        {
            "JUPYTER_DATA_DIR": str(tmp_path / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            **hub_env,
        }
    )
    return subprocess.run(
        [str(BIN / "jupyter"), "ide", "service"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_service_refuses_to_start_without_the_hubs_environment(tmp_path: Path) -> None:
    """Started by hand, outside any hub: one line per missing variable, saying what it is."""
    done = _run_service(tmp_path, {})
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith(START)]
    assert len(lines) == 3, done.stderr
    for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_URL"):
        assert any(f"{name} is not set" in line for line in lines), (name, done.stderr)
    assert "is running at" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_the_service_names_only_what_is_wrong(tmp_path: Path) -> None:
    """A half-configured external service is told exactly what is left."""
    env = {**EXTERNAL, "JUPYTERHUB_SERVICE_URL": "", "JUPYTERHUB_OAUTH_ACCESS_SCOPES": "ide"}
    done = _run_service(tmp_path, env)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith(START)]
    assert len(lines) == 2, done.stderr
    assert "JUPYTERHUB_SERVICE_URL is not set" in lines[0]
    assert "JUPYTERHUB_OAUTH_ACCESS_SCOPES must be a JSON list" in lines[1]


def test_an_external_service_needs_three_variables() -> None:
    """The rest follows from the service's name, as the hub derives it for its services."""
    hub = read_hub_environment(EXTERNAL)
    assert (hub.ip, hub.port, hub.base_url) == ("0.0.0.0", 10101, "/services/ide/")
    assert hub.client_id == "service-ide"
    assert hub.oauth_callback_url == "/services/ide/oauth_callback"
    assert hub.access_scopes == {"access:services!service=ide"}
    assert (hub.api_url, hub.api_token, hub.hub_prefix) == (
        "http://hub:8081/hub/api",
        "secret-token",
        "/hub/",
    )


def test_a_renamed_service_under_a_hub_prefix() -> None:
    """Another service name and a hub under /jupyter/ move every derived path along."""
    hub = read_hub_environment(
        {
            **EXTERNAL,
            "JUPYTERHUB_SERVICE_NAME": "code",
            "JUPYTERHUB_BASE_URL": "/jupyter",
            "JUPYTERHUB_SERVICE_URL": "https://ide.internal",
        }
    )
    assert (hub.port, hub.base_url, hub.hub_prefix) == (
        443,
        "/jupyter/services/code/",
        "/jupyter/hub/",
    )
    assert hub.client_id == "service-code"
    assert hub.access_scopes == {"access:services!service=code"}


def test_a_managed_service_takes_what_the_hub_gives() -> None:
    """Every variable a hub sets for its managed services is used as given."""
    hub = read_hub_environment(
        {
            **EXTERNAL,
            "JUPYTERHUB_SERVICE_NAME": "ide",
            "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:5555",
            "JUPYTERHUB_SERVICE_PREFIX": "/services/ide/",
            "JUPYTERHUB_CLIENT_ID": "service-ide-custom",
            "JUPYTERHUB_OAUTH_CALLBACK_URL": "/services/ide/oauth_callback",
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": '["access:services", "access:services!service=ide"]',
            "JUPYTERHUB_HOST": "https://hub.example.org",
        }
    )
    assert (hub.ip, hub.port) == ("127.0.0.1", 5555)
    assert hub.client_id == "service-ide-custom"
    assert hub.access_scopes == {"access:services", "access:services!service=ide"}
    assert hub.hub_auth_settings()["hub_host"] == "https://hub.example.org"


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("JUPYTERHUB_API_URL", "hub:8081/hub/api", "JUPYTERHUB_API_URL='hub:8081/hub/api' is not"),
        ("JUPYTERHUB_SERVICE_URL", "ftp://x:1", "JUPYTERHUB_SERVICE_URL='ftp://x:1' is not"),
        ("JUPYTERHUB_SERVICE_URL", "http://x:99999", "is not an http(s) URL"),
        ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "[]", "must be a JSON list of scopes"),
        ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", '[1, "a"]', "must be a JSON list of scopes"),
    ],
)
def test_bad_values_are_named(variable: str, value: str, said: str) -> None:
    """A value the service cannot use is refused with the variable's name."""
    with pytest.raises(HubEnvironmentError) as refused:
        read_hub_environment({**EXTERNAL, variable: value})
    assert said in str(refused.value)
    assert all(line.startswith(START) for line in refused.value.problems)
