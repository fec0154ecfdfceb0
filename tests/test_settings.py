"""Settings come from traitlets config and from the JUPYTER_IDE_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyter_ide.server_extension.settings import IDESettings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No JUPYTER_IDE_* variables, and a data dir of our own."""
    for name in (
        "JUPYTER_IDE_DB_URL",
        "JUPYTER_IDE_REDIS_URL",
        "JUPYTER_IDE_STORAGE_URL",
        "JUPYTER_IDE_S3_ENDPOINT_URL",
        "JUPYTER_IDE_SANDBOX",
        "JUPYTER_IDE_CRYPT_KEY",
        "JUPYTER_IDE_AI_POOL_URL",
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_embedded_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With nothing set: SQLite and blobs in the data dir, in-process cache, auto sandbox."""
    settings = IDESettings()
    assert settings.db_url == f"sqlite:///{tmp_path / 'data' / 'jupyter_ide' / 'ide.db'}"
    assert settings.storage_url == (tmp_path / "data" / "jupyter_ide" / "blobs").as_uri()
    assert settings.redis_url == ""
    assert settings.sandbox == "auto"
    assert settings.ai_providers() == []


def test_environment_variables(clean_env: pytest.MonkeyPatch) -> None:
    """Each documented variable sets its trait."""
    clean_env.setenv("JUPYTER_IDE_DB_URL", "postgresql+psycopg://ide@db/ide")
    clean_env.setenv("JUPYTER_IDE_REDIS_URL", "redis://cache:6379/0")
    clean_env.setenv("JUPYTER_IDE_STORAGE_URL", "s3://bucket/prefix")
    clean_env.setenv("JUPYTER_IDE_S3_ENDPOINT_URL", "http://minio:9000")
    clean_env.setenv("JUPYTER_IDE_SANDBOX", "DOCKER")
    clean_env.setenv("JUPYTER_IDE_AI_POOL_URL", "http://pool/v1")
    clean_env.setenv("OPENAI_API_KEY", "sk-test")
    settings = IDESettings()
    assert settings.db_url == "postgresql+psycopg://ide@db/ide"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.storage_url == "s3://bucket/prefix"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.sandbox == "docker"
    assert settings.ai_providers() == ["openai", "pool"]


def test_config_wins_over_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    """A value in the config file overrides the variable."""
    clean_env.setenv("JUPYTER_IDE_SANDBOX", "docker")
    config = Config({"IDESettings": {"sandbox": "local"}})
    assert IDESettings(config=config).sandbox == "local"


@pytest.mark.parametrize(
    ("name", "value"),
    [("JUPYTER_IDE_SANDBOX", "vm"), ("JUPYTER_IDE_STORAGE_URL", "ftp://x")],
)
def test_bad_values_are_refused(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    """An unknown sandbox mode or storage scheme is an error that names the choices."""
    clean_env.setenv(name, value)
    settings = IDESettings()
    with pytest.raises(TraitError):
        _ = settings.sandbox if name.endswith("SANDBOX") else settings.storage_url
