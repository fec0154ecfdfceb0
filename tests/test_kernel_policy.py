"""While the sandbox is required only sandboxed kernels exist: a notebook's python3 runs as
ide-python, a kernel with no sandboxed equivalent is refused with a message naming those there
are, and nothing (sessions, listing, restart, the default) slips through unsandboxed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_ide.kernels.policy import KernelRefused, equivalent_language
from jupyter_ide.kernels.sandbox import SandboxManager

from .kernel_host import require_images

SPECS = {"kernel_spec_manager_class": "jupyter_ide.kernels.kernelspecs.IDEKernelSpecManager"}


def _config(base: dict[str, Any], sandbox: str) -> dict[str, Any]:
    """Serve the ide-* kernelspecs in the given sandbox mode."""
    config = {**base}
    config["ServerApp"] = {**config["ServerApp"], **SPECS}
    config["IDESettings"] = {**config["IDESettings"], "sandbox": sandbox}
    return config


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Kernels must run in Docker sandboxes."""
    return _config(jp_server_config, "docker")


async def _post(jp_fetch: Any, path: tuple[str, ...], body: dict[str, Any]) -> Any:
    response = await jp_fetch(*path, method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def _refusal(jp_fetch: Any, *path: str, method: str, body: dict[str, Any]) -> str:
    """Send a request that must be refused with a 400; return its message."""
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(*path, method=method, body=json.dumps(body))
    assert e.value.code == 400, e.value
    assert e.value.response is not None
    return str(json.loads(e.value.response.body)["message"])


async def _sandboxed(jp_fetch: Any, kernel_id: str) -> bool:
    info = json.loads((await jp_fetch("ide", "api", "kernels", kernel_id, "sandbox")).body)
    return bool(info["sandboxed"])


def test_common_kernel_names_have_sandboxed_equivalents() -> None:
    names = {
        "python3": "python",
        "Python3": "python",
        "python2": "python",
        "python3.11": "python",
        "ipython": "python",
        "conda-env-course-py": "python",
        "xcpp17": "cpp",
        "xcpp": "cpp",
        "java": "java",
        "ijavascript": "javascript",
        "javascript": "javascript",
        "gophernotes": "go",
        "evcxr": "rust",
        "rust": "rust",
        "bash": "bash",
        "c": "c",
    }
    assert {name: equivalent_language(name) for name in names} == names
    for name in ("ir", "julia-1.10", "deno", "scala", "sagemath", "python3-evil"):
        assert equivalent_language(name) is None, name


async def test_python3_runs_as_the_sandboxed_python(jp_fetch: Any) -> None:
    """The issue's repro: POST /api/kernels {"name": "python3"} in docker mode."""
    require_images("python")
    model = await _post(jp_fetch, ("api", "kernels"), {"name": "python3"})
    try:
        assert model["name"] == "ide-python"
        assert await _sandboxed(jp_fetch, model["id"]) is True
    finally:
        await jp_fetch("api", "kernels", model["id"], method="DELETE")


async def test_a_kernel_with_no_sandboxed_equivalent_is_refused_plainly(jp_fetch: Any) -> None:
    message = await _refusal(jp_fetch, "api", "kernels", method="POST", body={"name": "ir"})
    assert "'ir'" in message and "sandbox" in message
    assert "Python 3 (sandbox) (ide-python)" in message and "(ide-rust)" in message
    listed = json.loads((await jp_fetch("api", "kernels")).body)
    assert listed == []


async def test_sessions_map_or_refuse_the_notebooks_kernel(jp_fetch: Any) -> None:
    require_images("python")
    body = {"path": "lab.ipynb", "type": "notebook", "name": "lab.ipynb"}
    session = await _post(jp_fetch, ("api", "sessions"), {**body, "kernel": {"name": "python3"}})
    try:
        assert session["kernel"]["name"] == "ide-python"
        assert await _sandboxed(jp_fetch, session["kernel"]["id"]) is True
        message = await _refusal(
            jp_fetch,
            "api",
            "sessions",
            session["id"],
            method="PATCH",
            body={"kernel": {"name": "julia-1.10"}},
        )
        assert "'julia-1.10'" in message and "(ide-python)" in message
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")
    other = {"path": "r.ipynb", "type": "notebook", "name": "r.ipynb", "kernel": {"name": "ir"}}
    message = await _refusal(jp_fetch, "api", "sessions", method="POST", body=other)
    assert "'ir'" in message and "(ide-python)" in message
    assert json.loads((await jp_fetch("api", "sessions")).body) == []


async def test_only_sandboxed_kernelspecs_are_listed_or_found(jp_fetch: Any) -> None:
    listing = json.loads((await jp_fetch("api", "kernelspecs")).body)
    assert listing["default"] == "ide-python"
    assert listing["kernelspecs"] and all(n.startswith("ide-") for n in listing["kernelspecs"])
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("api", "kernelspecs", "python3")
    assert e.value.code == 404


async def test_the_kernel_managers_default_is_sandboxed(jp_fetch: Any, jp_serverapp: Any) -> None:
    require_images("python")
    kernels = jp_serverapp.kernel_manager
    kernel_id = await kernels.start_kernel(kernel_name=None)
    try:
        assert kernels.get_kernel(kernel_id).kernel_name == "ide-python"
        assert await _sandboxed(jp_fetch, kernel_id) is True
    finally:
        await kernels.shutdown_kernel(kernel_id, now=True)
    with pytest.raises(KernelRefused, match="ide-python"):
        await kernels.start_kernel(kernel_name="ir")


@pytest.fixture
def engine_away(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    """No Docker engine answers at the address the server is given (until a test says so)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    yield


class TestAutoModeWhileTheEngineIsAway:
    """auto without an engine keeps local kernels; once the engine is back they must not
    restart unsandboxed."""

    @pytest.fixture
    def jp_server_config(
        self, engine_away: None, jp_server_config: dict[str, Any]
    ) -> dict[str, Any]:
        return _config(jp_server_config, "auto")

    async def test_python3_is_local_then_refused_a_restart_once_the_engine_is_back(
        self, jp_fetch: Any, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
        assert "python3" in specs  # today's behaviour without an engine
        model = await _post(jp_fetch, ("api", "kernels"), {"name": "python3"})
        try:
            assert model["name"] == "python3"
            assert await _sandboxed(jp_fetch, model["id"]) is False
            monkeypatch.delenv("DOCKER_HOST")
            manager = SandboxManager.instance()
            manager.close_client()
            assert manager.engine_answers(max_age=0)  # the engine is back
            message = await _refusal(
                jp_fetch, "api", "kernels", model["id"], "restart", method="POST", body={}
            )
            assert "without a sandbox" in message and "ide-python" in message
            with pytest.raises(KernelRefused):
                await jp_serverapp.kernel_manager.restart_kernel(model["id"])
            specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
            assert "python3" not in specs
        finally:
            await jp_fetch("api", "kernels", model["id"], method="DELETE")


class TestLocalMode:
    """JUPYTER_IDE_SANDBOX=local: nothing changes, python3 is offered and runs on the host."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return _config(jp_server_config, "local")

    async def test_python3_is_listed_and_starts_unsandboxed(self, jp_fetch: Any) -> None:
        specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
        assert "python3" in specs and "ide-python" in specs
        model = await _post(jp_fetch, ("api", "kernels"), {"name": "python3"})
        try:
            assert model["name"] == "python3"
            assert await _sandboxed(jp_fetch, model["id"]) is False
        finally:
            await jp_fetch("api", "kernels", model["id"], method="DELETE")


async def test_an_unknown_kernels_restart_is_still_404(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("api", "kernels", str(uuid.uuid4()), "restart", method="POST", body="")
    assert e.value.code == 404
