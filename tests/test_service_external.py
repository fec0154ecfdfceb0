"""The jupyter-ide service as an external JupyterHub service: started by the operator, not the hub.

The hub runs deploy/jupyterhub_config.py with JUPYTER_IDE_SERVICE=external (it knows the
service's URL and token); the test starts `jupyter ide service` itself with the three
variables an operator sets, and the secrets only it holds.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .hubfixture import (
    ACCESS,
    BIN,
    ServiceHub,
    browser_sign_in,
    service_hub,
    tail,
    wait_for_service,
)
from .s3_server import MotoServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# What the operator gives an external service: hub variables, and its own settings.
OWN_SETTINGS = (
    "JUPYTER_IDE_DB_URL",
    "JUPYTER_IDE_REDIS_URL",
    "JUPYTER_IDE_STORAGE_URL",
    "JUPYTER_IDE_S3_ENDPOINT_URL",
    "JUPYTER_IDE_CRYPT_KEY",
    "JUPYTER_IDE_SANDBOX",
    "JUPYTER_IDE_WORKSPACE_VOLUME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "PATH",
)


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """These tests talk to processes over HTTP: no pytest-jupyter loop."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server to clean up."""


@pytest.fixture(scope="module")
def external(
    tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer
) -> Iterator[ServiceHub]:
    """A hub that knows an external service, and that service, started by hand."""
    base = tmp_path_factory.mktemp("service-external")
    with service_hub(base, moto_server, "external") as (hub, hub_env):
        env = {name: hub_env[name] for name in OWN_SETTINGS if name in hub_env}
        env.update(
            {
                "JUPYTERHUB_API_TOKEN": hub_env["JUPYTER_IDE_SERVICE_TOKEN"],
                "JUPYTERHUB_API_URL": f"{hub.url}/hub/api",
                "JUPYTERHUB_SERVICE_URL": hub_env["JUPYTER_IDE_SERVICE_URL"],
                "JUPYTER_DATA_DIR": str(base / "own" / "data"),
                "JUPYTER_RUNTIME_DIR": str(base / "own" / "runtime"),
                "JUPYTER_CONFIG_DIR": str(base / "own" / "config"),
            }
        )
        log = base / "service.log"
        process = subprocess.Popen(
            [str(BIN / "jupyter"), "ide", "service", "--JudgeSettings.pool_size=0"],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=base,
        )
        try:
            hub.log = log  # failures show the service's own log
            wait_for_service(hub, process)
            yield hub
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_an_external_service_serves_hub_users(external: ServiceHub) -> None:
    """A user's token and a browser's OAuth sign-in work with the operator's three variables."""
    hub = external
    name = f"eve-{uuid.uuid4().hex[:6]}"
    hub.add_user(name)
    token = hub.token(name, [ACCESS])
    model = {"type": "file", "format": "text", "content": "external"}
    saved = hub.call("/api/contents/e.txt", token, "PUT", model)
    assert saved.status_code == 201, (saved.text, tail(Path(hub.log)))
    assert hub.call("/ide/api/auth/me", token).json()["name"] == name

    browser = requests.Session()
    page = browser_sign_in(browser, f"{hub.service_url}/ide", name)
    assert page.status_code == 200 and page.url == f"{hub.service_url}/ide", page.url
    listed = browser.get(f"{hub.service_url}/api/contents", timeout=30).json()
    assert [e["name"] for e in listed["content"]] == ["e.txt"]
