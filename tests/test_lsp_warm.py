"""POST /lsp/warm: a user's language servers started before the first file is opened.

Real dockerd and the python image. The /ide client asks for the languages of the workspace
when it opens; the editor's first connection then finds the server running.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_ide.lsp.handlers import lsp_manager

from .kernel_host import require_images
from .test_lsp_servers import PY, _client, _containers, _put, _status


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """The engine and the python image must be there (never skip)."""
    require_images("python")


@pytest.fixture
def engine() -> Iterator[docker.DockerClient]:
    """A client of the real engine, to look at the servers' containers."""
    client = docker.from_env(timeout=30)
    yield client
    client.close()


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Sandboxes required."""
    config = dict(jp_server_config)
    config["IDESettings"] = {**config["IDESettings"], "sandbox": "docker"}
    return config


async def _warm(jp_fetch: Any, body: Any) -> dict[str, Any]:
    reply = await jp_fetch("lsp", "warm", method="POST", body=json.dumps(body))
    return dict(json.loads(reply.body))


async def _refused(jp_fetch: Any, body: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("lsp", "warm", method="POST", body=body)
    assert caught.value.response is not None
    return caught.value.code, json.loads(caught.value.response.body)["message"]


async def test_warm_starts_one_server_that_the_editor_then_uses(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """A warm-up and the editor's first connection at the same moment (the page opens, a file
    with it) start one container between them and the editor's initialize is answered; a
    later warm-up (by language or key) finds it running; diagnostics and completion follow."""
    await _put(jp_fetch, "w.py", PY)
    warmed, (client, root) = await asyncio.gather(
        _warm(jp_fetch, {"languages": ["python"]}),
        _client(jp_fetch, jp_ws_fetch, "pylsp"),
    )
    assert warmed["servers"]["pylsp"] in ("started", "running"), warmed
    boxes = _containers(engine, jp_serverapp, "pylsp")
    assert len(boxes) == 1
    assert (await _status(jp_fetch))["sessions"]["pylsp"]["status"] == "started"
    again = await _warm(jp_fetch, {"languages": ["python", "pylsp", "Python"]})
    assert again == {"servers": {"pylsp": "running"}}
    uri = root + "/w.py"
    client.open(uri, "python", PY)
    messages = " | ".join(d["message"] for d in await client.diagnostics(uri))
    assert "undefined name 'undefined_name'" in messages
    reply = await client.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}},
    )
    items = reply["result"]["items"] if isinstance(reply["result"], dict) else reply["result"]
    assert "path" in {item["label"] for item in items}
    assert [b.id for b in _containers(engine, jp_serverapp, "pylsp")] == [boxes[0].id]
    owner = jp_serverapp.web_app.settings["jupyter_ide_sandbox"].owner
    assert lsp_manager(jp_serverapp.web_app.settings).sessions[(owner, "pylsp")].starts == 1
    client.ws.close()


async def test_a_warmed_server_initializes_for_its_first_editor(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """Warmed first, then an editor: its own initialize reaches the server (pylsp answers
    with its capabilities) and its file gets diagnostics, still in that one container."""
    assert await _warm(jp_fetch, {"languages": ["python"]}) == {"servers": {"pylsp": "started"}}
    boxes = _containers(engine, jp_serverapp, "pylsp")
    assert len(boxes) == 1
    client, root = await _client(jp_fetch, jp_ws_fetch, "pylsp")
    uri = root + "/v.py"
    client.open(uri, "python", "print(not_here)\n")
    assert any("not_here" in d["message"] for d in await client.diagnostics(uri))
    assert [b.id for b in _containers(engine, jp_serverapp, "pylsp")] == [boxes[0].id]
    client.ws.close()


async def test_warm_refuses_bad_requests_and_too_many_starts(
    jp_fetch: Any, jp_serverapp: Any, engine: docker.DockerClient
) -> None:
    """Unknown languages, a missing or malformed body and too many languages are 400s with a
    message; past the user's warm_starts it is a 429; none of them starts a container."""
    code, message = await _refused(jp_fetch, json.dumps({"languages": ["cobol"]}))
    assert code == 400 and "cobol" in message and "python" in message
    code, message = await _refused(jp_fetch, json.dumps({"language": "python"}))
    assert code == 400 and "languages" in message
    code, message = await _refused(jp_fetch, "python")
    assert code == 400 and "JSON" in message
    code, message = await _refused(jp_fetch, json.dumps({"languages": [1]}))
    assert code == 400
    code, message = await _refused(jp_fetch, json.dumps({"languages": ["python"] * 9}))
    assert code == 400 and "At most" in message
    lsp_manager(jp_serverapp.web_app.settings).warm_starts = 0
    code, message = await _refused(jp_fetch, json.dumps({"languages": ["python"]}))
    assert code == 429 and "ahead of use" in message
    assert _containers(engine, jp_serverapp) == []


async def test_warm_needs_sign_in_and_the_authorizer(
    jp_fetch: Any,
    jp_serverapp: Any,
    jp_base_url: str,
    jp_http_port: int,
    engine: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No credentials: 403; Jupyter's authorizer refusing the lsp resource: 403; no start."""
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}lsp/warm"
    with pytest.raises(HTTPClientError) as caught:
        await AsyncHTTPClient().fetch(
            url, method="POST", body=json.dumps({"languages": ["python"]})
        )
    assert caught.value.code == 403
    authorizer = jp_serverapp.web_app.settings["authorizer"]

    def refuse_lsp(handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "lsp"

    monkeypatch.setattr(authorizer, "is_authorized", refuse_lsp)
    code, _message = await _refused(jp_fetch, json.dumps({"languages": ["python"]}))
    assert code == 403
    assert _containers(engine, jp_serverapp) == []
