"""Shared parts of the judge tests: server config, users, calls and polling. No tests here."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import docker
import pytest
from tornado.httpclient import HTTPClientError

from .test_ai_common import HubLikeIdentity, as_user

USERS = {"alice": "student", "bob": "student", "teacher": "instructor", "root": "admin"}


def docker_or_fail() -> None:
    """Fail (never skip) when no Docker engine answers or the images are missing."""
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except docker.errors.DockerException as e:
        pytest.fail(
            f"The Docker engine does not answer ({e}); start it: scripts/services.sh docker"
        )
    from jupyter_ide.kernels.image_names import image_for

    for key in ("c", "python"):
        try:
            client.images.get(image_for(key))
        except docker.errors.ImageNotFound:
            pytest.fail(f"{image_for(key)} is missing: jupyter ide images build --offline")


def judge_config(base: dict[str, Any], data_dir: Path, **judge: Any) -> dict[str, Any]:
    """A server config with hub-like users and a judge keeping its files in ``data_dir``."""
    HubLikeIdentity.USERS = dict(USERS)
    settings: dict[str, Any] = {
        "data_dir": str(data_dir),
        "pool_size": 1,
        "warm_languages": "c,python",
        "workers": 2,
        "max_source_bytes": 64 * 1024,
        "max_stdin_bytes": 256 * 1024,
        "max_request_bytes": 1024 * 1024,
    }
    settings.update(judge)
    return {
        **base,
        "ServerApp": {**base["ServerApp"], "identity_provider_class": HubLikeIdentity},
        "JudgeSettings": settings,
    }


async def call(
    jp_fetch: Any,
    method: str,
    *path: str,
    who: str = "alice",
    body: Any = None,
    raw: bytes | None = None,
    **params: Any,
) -> tuple[int, Any, Any]:
    """Call the judge API; return (status, JSON body, headers) for successes and errors alike."""
    kwargs: dict[str, Any] = {"method": method, "headers": as_user(who)}
    if params:
        kwargs["params"] = {
            k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()
        }
    if raw is not None:
        kwargs["body"] = raw
    elif body is not None:
        kwargs["body"] = json.dumps(body)
    elif method == "POST":
        kwargs["body"] = b""
    try:
        response = await jp_fetch("ide", "api", "judge", *path, **kwargs)
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, json.loads(e.response.body or b"null"), e.response.headers
    return response.code, json.loads(response.body or b"null"), response.headers


async def run(jp_fetch: Any, who: str = "alice", fields: str = "*", **submission: Any) -> Any:
    """Submit with wait=true and return the result (all fields)."""
    code, body, _ = await call(
        jp_fetch, "POST", "submissions", who=who, body=submission, wait=True, fields=fields
    )
    assert code == 201, body
    return body


async def poll(jp_fetch: Any, token: str, who: str = "alice", timeout: float = 120.0) -> Any:
    """GET a submission until it is finished."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        code, body, _ = await call(jp_fetch, "GET", "submissions", token, who=who, fields="*")
        assert code == 200, body
        if body["status"]["id"] > 2:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"{token} never finished"
        await asyncio.sleep(0.2)


def b64(data: bytes | str) -> str:
    """Base64 of bytes or UTF-8 text."""
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def zip_b64(files: dict[str, str]) -> str:
    """A base64 zip of the given files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()
