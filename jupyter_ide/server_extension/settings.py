"""Deployment settings: traitlets that also read the JUPYTER_IDE_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, CaselessStrEnum, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from .csp import check_image_host, parse_image_hosts

SANDBOX_MODES = ("docker", "auto", "local")


def data_dir() -> Path:
    """Return jupyter-ide's folder inside the Jupyter data dir."""
    return Path(jupyter_data_dir()) / "jupyter_ide"


def _env(name: str, fallback: str = "") -> str:
    """Return an environment variable, or ``fallback`` when it is unset or empty."""
    return os.environ.get(name, "").strip() or fallback


def _checked_storage_url(value: str) -> str:
    """Return a storage URL, or raise TraitError for a scheme we do not store to."""
    if not value.startswith(("s3://", "file://")):
        raise TraitError(f"storage_url must start with s3:// or file://, not {value!r}")
    return value


class IDESettings(Configurable):
    """Where jupyter-ide keeps its state and which backends it uses."""

    db_url = Unicode(
        help="SQLAlchemy URL of the database (sqlite:///… or postgresql+psycopg://…). "
        "Env: JUPYTER_IDE_DB_URL. Default: a SQLite file in the Jupyter data dir.",
    ).tag(config=True)

    redis_url = Unicode(
        help="redis:// URL of the shared cache; empty means in-process. "
        "Env: JUPYTER_IDE_REDIS_URL.",
    ).tag(config=True)

    storage_url = Unicode(
        help="Where file contents are kept: s3://bucket/prefix or file:///dir. "
        "Env: JUPYTER_IDE_STORAGE_URL. Default: a folder in the Jupyter data dir.",
    ).tag(config=True)

    s3_endpoint_url = Unicode(
        help="Endpoint of the S3 API (MinIO, Ceph, moto); empty means AWS. "
        "Env: JUPYTER_IDE_S3_ENDPOINT_URL.",
    ).tag(config=True)

    s3_region = Unicode(
        help="Region of the S3 bucket; empty means the AWS variables' or us-east-1. "
        "Env: JUPYTER_IDE_S3_REGION.",
    ).tag(config=True)

    s3_sse = Unicode(
        help="Server-side encryption for stored files: '' (bucket default), 'AES256' or "
        "'aws:kms'. Env: JUPYTER_IDE_S3_SSE.",
    ).tag(config=True)

    s3_kms_key_id = Unicode(
        help="KMS key id for 'aws:kms' encryption. Env: JUPYTER_IDE_S3_KMS_KEY_ID.",
    ).tag(config=True)

    sandbox = CaselessStrEnum(
        SANDBOX_MODES,
        help="docker: kernels must run in Docker sandboxes; auto: Docker when an engine "
        "answers, else local kernels with a warning; local: no sandbox (single-user only). "
        "Env: JUPYTER_IDE_SANDBOX.",
    ).tag(config=True)

    freeze_startup_heap = Bool(
        True,
        help="Once the server has started, move every object alive then out of the garbage "
        "collector's sight (gc.freeze): full collections then scan only what requests made, "
        "instead of pausing the server for 100+ ms over the ~400k objects of start-up.",
    ).tag(config=True)

    crypt_key = Unicode(
        help="Key(s) for secrets at rest, ';'-separated; the first one encrypts. "
        "Env: JUPYTER_IDE_CRYPT_KEY.",
    ).tag(config=True)

    ai_pool_url = Unicode(
        help="OpenAI-compatible endpoint of an institution's shared model pool. "
        "Env: JUPYTER_IDE_AI_POOL_URL.",
    ).tag(config=True)

    allowed_image_hosts = List(
        Unicode(),
        help="Origins the /ide page may show remote images from (markdown, AI answers, "
        "outputs), e.g. ['https://upload.wikimedia.org', 'https://*.example.edu']. Empty: "
        "none, so no image can carry a student's code to another server. "
        "Env: JUPYTER_IDE_IMAGE_HOSTS (comma- or space-separated).",
    ).tag(config=True)

    @default("db_url")
    def _default_db_url(self) -> str:
        return _env("JUPYTER_IDE_DB_URL", f"sqlite:///{data_dir() / 'ide.db'}")

    @default("redis_url")
    def _default_redis_url(self) -> str:
        return _env("JUPYTER_IDE_REDIS_URL")

    @default("storage_url")
    def _default_storage_url(self) -> str:
        # Defaults skip @validate, so a bad environment value is checked here.
        return _checked_storage_url(
            _env("JUPYTER_IDE_STORAGE_URL", (data_dir() / "blobs").as_uri())
        )

    @default("s3_endpoint_url")
    def _default_s3_endpoint_url(self) -> str:
        return _env("JUPYTER_IDE_S3_ENDPOINT_URL")

    @default("s3_region")
    def _default_s3_region(self) -> str:
        return _env("JUPYTER_IDE_S3_REGION")

    @default("s3_sse")
    def _default_s3_sse(self) -> str:
        return _env("JUPYTER_IDE_S3_SSE")

    @default("s3_kms_key_id")
    def _default_s3_kms_key_id(self) -> str:
        return _env("JUPYTER_IDE_S3_KMS_KEY_ID")

    @default("sandbox")
    def _default_sandbox(self) -> str:
        return _env("JUPYTER_IDE_SANDBOX", "auto")

    @default("crypt_key")
    def _default_crypt_key(self) -> str:
        return _env("JUPYTER_IDE_CRYPT_KEY")

    @default("ai_pool_url")
    def _default_ai_pool_url(self) -> str:
        return _env("JUPYTER_IDE_AI_POOL_URL")

    @default("allowed_image_hosts")
    def _default_allowed_image_hosts(self) -> list[str]:
        try:
            return parse_image_hosts(_env("JUPYTER_IDE_IMAGE_HOSTS"))
        except ValueError as e:
            raise TraitError(f"JUPYTER_IDE_IMAGE_HOSTS: {e}") from e

    @validate("allowed_image_hosts")
    def _validate_allowed_image_hosts(self, proposal: dict[str, Any]) -> list[str]:
        try:
            return [check_image_host(str(host)) for host in proposal["value"]]
        except ValueError as e:
            raise TraitError(f"allowed_image_hosts: {e}") from e

    @validate("storage_url")
    def _validate_storage_url(self, proposal: dict[str, Any]) -> str:
        return _checked_storage_url(str(proposal["value"]))

    def ai_providers(self) -> list[str]:
        """Return the AI providers that have credentials configured."""
        found = []
        if _env("OPENAI_API_KEY"):
            found.append("openai")
        if _env("GEMINI_API_KEY"):
            found.append("gemini")
        if self.ai_pool_url:
            found.append("pool")
        return found
