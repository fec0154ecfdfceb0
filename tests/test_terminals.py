"""Terminals through the real REST and websocket API: our checks, and only workspace folders.

These servers run with JUPYTER_IDE_SANDBOX=local (shells on the host, which say so);
test_terminals_sandboxed.py has the Docker ones.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import jupyter_server_terminals
import pytest
import yaml
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection

from jupyter_ide.terminals.handlers import (
    IDETerminalHandler,
    IDETerminalRootHandler,
    IDETermSocket,
)
from jupyter_ide.terminals.manager import CwdError, workspace_folder

from .test_permissions import _routes


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """No sandbox: terminals are shells on the host."""
    config = dict(jp_server_config)
    config["IDESettings"] = {**config["IDESettings"], "sandbox": "local"}
    return config


async def _workspace(serverapp: Any) -> Path:
    """The folder the server's user works in, opened (materialised) by our contents manager."""
    await serverapp.contents_manager.ready()
    return await asyncio.to_thread(Path(serverapp.contents_manager.workspace_dir).resolve)


async def _start(jp_fetch: Any, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/terminals and return the new terminal's model."""
    response = await jp_fetch("api", "terminals", method="POST", body=json.dumps(body))
    return dict(json.loads(response.body))


async def _refused(jp_fetch: Any, body: Any) -> tuple[int, str]:
    """POST /api/terminals expecting a refusal; return its code and message."""
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("api", "terminals", method="POST", body=json.dumps(body))
    response = caught.value.response
    assert response is not None
    return caught.value.code, str(json.loads(response.body)["message"])


async def _shell_output(ws: WebSocketClientConnection, command: str, marker: str) -> str:
    """Type a command in the terminal and read its output until ``marker`` shows."""
    await ws.write_message(json.dumps(["stdin", command + "\r"]))
    seen = ""
    async with asyncio.timeout(30):
        while marker not in seen:
            message = await ws.read_message()
            assert message is not None, f"the terminal closed; it said: {seen!r}"
            kind, *content = json.loads(message)
            if kind == "stdout":
                seen += str(content[0])
    return seen


async def _cleanup(jp_serverapp: Any) -> None:
    """End every terminal the test started."""
    await jp_serverapp.web_app.settings["terminal_manager"].terminate_all()


async def test_our_handlers_serve_every_terminal_route(jp_serverapp: Any) -> None:
    """Jupyter's terminal URLs are ours alone; the stock extension did not load."""
    routes = [(p, h) for p, h in _routes(jp_serverapp.web_app.default_router) if "terminals" in p]
    assert {h for _, h in routes} == {IDETerminalRootHandler, IDETerminalHandler, IDETermSocket}
    stock = jp_serverapp.extension_manager.extensions["jupyter_server_terminals"]
    assert not stock.enabled
    assert jp_serverapp.web_app.settings["terminals_available"] is True


async def _first_output(ws: WebSocketClientConnection) -> str:
    """Read the terminal's first output message."""
    async with asyncio.timeout(30):
        while True:
            message = await ws.read_message()
            assert message is not None, "the terminal closed before it wrote anything"
            kind, *content = json.loads(message)
            if kind == "stdout":
                return str(content[0])


async def test_a_host_terminal_opens_with_the_not_sandboxed_banner(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """JUPYTER_IDE_SANDBOX=local keeps the host shell; the first thing it shows is the warning."""
    name = (await _start(jp_fetch, {}))["name"]
    try:
        ws = await jp_ws_fetch("terminals", "websocket", name)
        first = await _first_output(ws)
        assert first.startswith("\x1b[33mjupyter-ide: this terminal is NOT sandboxed")
        assert "JUPYTER_IDE_SANDBOX=local" in first
        out = await _shell_output(ws, "echo on:$(hostname):$((6*7))", ":42")
        assert f"on:{socket.gethostname()}:42" in out
        ws.close()
    finally:
        await _cleanup(jp_serverapp)


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        '{"stdin": "ls"}',
        "[]",
        '["stdin", 42]',
        '["set_size", "24", 80]',
        '["set_size", 0, 80]',
        '["set_size", 24, 1000000]',
        '["set_size", true, 80]',
    ],
)
async def test_a_malformed_socket_message_closes_that_socket_only(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, message: str
) -> None:
    """Garbage on the terminal socket closes it (1008, saying why); the terminal lives on."""
    name = (await _start(jp_fetch, {}))["name"]
    try:
        ws = await jp_ws_fetch("terminals", "websocket", name)
        await ws.write_message(message)
        async with asyncio.timeout(30):
            while await ws.read_message() is not None:
                pass
        assert ws.close_code == 1008 and ws.close_reason
        ws = await jp_ws_fetch("terminals", "websocket", name)
        await _shell_output(ws, "echo fine$((6*7))", "fine42")
        ws.close()
    finally:
        await _cleanup(jp_serverapp)


async def test_unauthenticated_websocket_is_refused(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """Without a token (or with a wrong one) the socket is refused before the upgrade."""
    name = (await _start(jp_fetch, {}))["name"]
    try:
        for header in ("", "token not-the-token"):
            with pytest.raises(HTTPClientError) as caught:
                await jp_ws_fetch("terminals", "websocket", name, headers={"Authorization": header})
            assert caught.value.code == 403
        ws = await jp_ws_fetch("terminals", "websocket", name)
        ws.close()
    finally:
        await _cleanup(jp_serverapp)


async def test_unauthenticated_rest_calls_are_refused(
    jp_fetch: Any, jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    """Listing, starting, reading and ending terminals all need a signed-in user."""
    name = (await _start(jp_fetch, {}))["name"]
    try:
        for method, path, body in [
            ("GET", "api/terminals", None),
            ("POST", "api/terminals", b"{}"),
            ("GET", f"api/terminals/{name}", None),
            ("DELETE", f"api/terminals/{name}", None),
        ]:
            response = await http_server_client.fetch(
                jp_base_url + path, method=method, body=body, raise_error=False
            )
            assert response.code == 403, (method, path, response.code)
        assert name in jp_serverapp.web_app.settings["terminal_manager"].terminals
    finally:
        await _cleanup(jp_serverapp)


async def test_relative_cwd_opens_that_workspace_folder(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """cwd "src/lab 1" starts the shell in that folder of the workspace; none means the root."""
    workspace = await _workspace(jp_serverapp)
    (workspace / "src" / "lab 1").mkdir(parents=True)
    try:
        named = await _start(jp_fetch, {"cwd": "src/lab 1", "name": "lab"})
        assert named["name"] == "lab"
        ws = await jp_ws_fetch("terminals", "websocket", "lab")
        out = await _shell_output(ws, "echo at:$(pwd):$((6*7))", ":42")
        assert f"at:{workspace / 'src' / 'lab 1'}:42" in out
        ws.close()
        plain = await _start(jp_fetch, {})
        ws = await jp_ws_fetch("terminals", "websocket", plain["name"])
        out = await _shell_output(ws, "echo at:$(pwd):$((6*7))", ":42")
        assert f"at:{workspace}:42" in out
        ws.close()
    finally:
        await _cleanup(jp_serverapp)


@pytest.mark.parametrize(
    ("cwd", "says"),
    [
        ("/", "not an absolute path"),
        ("/etc", "not an absolute path"),
        ("..", "with '..'"),
        ("src/../../..", "with '..'"),
        ("missing", "No such folder in your workspace"),
        ("notes.txt", "No such folder in your workspace"),
        (["src"], "as a string"),
    ],
)
async def test_cwd_outside_the_workspace_is_a_clear_400(
    jp_fetch: Any, jp_serverapp: Any, cwd: Any, says: str
) -> None:
    """Absolute paths, '..', missing folders and files are refused and say why; no terminal."""
    workspace = await _workspace(jp_serverapp)
    (workspace / "src").mkdir(exist_ok=True)
    (workspace / "notes.txt").write_text("not a folder")
    code, message = await _refused(jp_fetch, {"cwd": cwd})
    assert code == 400
    assert says in message
    assert not jp_serverapp.web_app.settings["terminal_manager"].terminals


async def test_the_workspace_absolute_path_is_refused_too(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Even the workspace's own absolute path: cwd is relative, there is one way to say it."""
    code, message = await _refused(jp_fetch, {"cwd": str(await _workspace(jp_serverapp))})
    assert (code, "not an absolute path" in message) == (400, True)


async def test_a_link_out_of_the_workspace_is_refused(
    jp_fetch: Any, jp_serverapp: Any, tmp_path: Path
) -> None:
    """A symlink in the workspace to a folder outside it cannot be a terminal's folder."""
    outside = tmp_path / "outside"
    (outside / "deeper").mkdir(parents=True)
    workspace = await _workspace(jp_serverapp)
    (workspace / "escape").symlink_to(outside, target_is_directory=True)
    (workspace / "inside").mkdir()
    (workspace / "alias").symlink_to(workspace / "inside", target_is_directory=True)
    for cwd in ("escape", "escape/deeper"):
        code, message = await _refused(jp_fetch, {"cwd": cwd})
        assert (code, "through a link" in message) == (400, True), cwd
    # A link that stays inside is fine: it opens where the link points.
    assert workspace_folder(workspace, "alias") == workspace / "inside"


async def test_only_name_and_cwd_are_accepted(jp_fetch: Any, jp_serverapp: Any) -> None:
    """terminado would take any option from the body (even the shell to run): we refuse them."""
    marker = (await _workspace(jp_serverapp)) / "ran"
    code, message = await _refused(
        jp_fetch, {"shell_command": ["/bin/sh", "-c", f"touch {marker}"], "cwd": ""}
    )
    assert code == 400
    assert "Unknown field(s): shell_command" in message
    code, message = await _refused(jp_fetch, ["cwd"])
    assert (code, "JSON object" in message) == (400, True)
    code, message = await _refused(jp_fetch, {"name": "../x"})
    assert (code, "letters, digits or underscores" in message) == (400, True)
    await asyncio.sleep(0.2)
    assert not marker.exists()


async def test_a_name_in_use_is_a_409(jp_fetch: Any, jp_serverapp: Any) -> None:
    """Starting a second terminal under a running one's name does not replace it."""
    try:
        await _start(jp_fetch, {"name": "one"})
        code, message = await _refused(jp_fetch, {"name": "one"})
        assert (code, "already running" in message) == (409, True)
        assert len(jp_serverapp.web_app.settings["terminal_manager"].terminals) == 1
    finally:
        await _cleanup(jp_serverapp)


async def test_models_match_jupyters_terminal_api(jp_fetch: Any, jp_serverapp: Any) -> None:
    """POST, GET, list and DELETE answer as jupyter_server_terminals' REST spec says."""
    spec_file = Path(jupyter_server_terminals.__file__).parent / "rest-api.yml"
    schema = yaml.safe_load(spec_file.read_text())["components"]["schemas"]["Terminal"]
    try:
        model = await _start(jp_fetch, {})
        assert set(schema["required"]) <= set(model) <= set(schema["properties"])
        one = json.loads((await jp_fetch("api", "terminals", model["name"])).body)
        assert one["name"] == model["name"]
        listed = json.loads((await jp_fetch("api", "terminals")).body)
        assert [t["name"] for t in listed] == [model["name"]]
        gone = await jp_fetch("api", "terminals", model["name"], method="DELETE")
        assert gone.code == 204
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch("api", "terminals", model["name"])
        assert caught.value.code == 404
    finally:
        await _cleanup(jp_serverapp)


def test_workspace_folder_rules(tmp_path: Path) -> None:
    """The pure rule: relative folders inside the workspace only."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert workspace_folder(tmp_path, None) == tmp_path.resolve()
    assert workspace_folder(tmp_path, "") == tmp_path.resolve()
    assert workspace_folder(tmp_path, "./a/b/") == (tmp_path / "a" / "b").resolve()
    for bad in ("/tmp", "a/../..", "a\x00", "nope"):
        with pytest.raises(CwdError):
            workspace_folder(tmp_path, bad)
