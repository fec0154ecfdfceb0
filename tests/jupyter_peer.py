"""Jupyter's own contents API, side by side with ours: a stock Jupyter Server to compare with.

``JupyterPeer`` runs ``python -m jupyter_server`` (the same jupyter_server the project uses,
with its default FileContentsManager and FileCheckpoints, no jupyter-ide extension) in its own
process on a temporary root, HOME and Jupyter dirs. Each test works in a fresh folder of that
root (``peer.side(...)``), so one server serves a whole module; the folder is hidden from the
test: paths are prefixed on the way out and the prefix is taken off the answers.

``Ours`` drives our server (pytest-jupyter's ``jp_fetch``) the same way, and ``same`` compares
two answers: status, and the model minus what legitimately differs (times, hashes, the line
wrapping of base64). No tests here.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from .s3_server import free_port

START_TIMEOUT = 120.0
# Fields of a contents model that differ between any two servers: when, and (ours always
# computes it on a save) the content hash.
VOLATILE = ("created", "last_modified", "hash", "hash_algorithm")


@dataclass
class Answer:
    """One HTTP answer of the contents API."""

    status: int
    body: Any
    location: str | None

    @property
    def message(self) -> str:
        """The error message of a refusal ("" when there is none)."""
        return str(self.body.get("message", "")) if isinstance(self.body, dict) else ""


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"message": raw.decode(errors="replace")}


def _body(method: str, body: Any) -> str | None:
    if body is not None:
        return json.dumps(body)
    return "" if method in ("POST", "PUT", "PATCH") else None


class Ours:
    """Our server, through pytest-jupyter's ``jp_fetch``."""

    def __init__(self, jp_fetch: Any) -> None:
        """Call through ``jp_fetch``."""
        self.jp_fetch = jp_fetch

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Answer:
        """Send ``method`` to /api/contents/<path>; never raise on an HTTP error."""
        parts = ["api", "contents", *[p for p in path.split("/") if p]]
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        sent = _body(method, body)
        if sent is not None:
            kwargs["body"] = sent
        if params:
            kwargs["params"] = params
        response = await self.jp_fetch(*parts, **kwargs)
        return Answer(response.code, _decode(response.body), response.headers.get("Location"))


class PeerSide:
    """The stock server, seen from inside one test's folder."""

    def __init__(self, peer: JupyterPeer, folder: str) -> None:
        """Work in ``folder`` of the peer's root (made on the first call)."""
        self.peer = peer
        self.folder = folder
        self._made = False

    def _in(self, path: str) -> str:
        path = path.strip("/")
        return f"{self.folder}/{path}" if path else self.folder

    def _out(self, value: Any) -> Any:
        """Take the test's folder off every path in an answer."""
        if isinstance(value, list):
            return [self._out(v) for v in value]
        if isinstance(value, dict):
            found = dict(value)
            if isinstance(found.get("path"), str) and "type" in found:
                found["path"] = found["path"][len(self.folder) + 1 :]
                if not found["path"]:
                    found["name"] = ""  # the test's folder is the root
            if isinstance(found.get("content"), list):
                found["content"] = self._out(found["content"])
            return found
        return value

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Answer:
        """Send ``method`` to /api/contents/<folder>/<path>; never raise on an HTTP error."""
        if not self._made:
            self._made = True
            made = await self._send("PUT", "", {"type": "directory"}, {})
            assert made.status == 201, made
        return await self._send(method, path, body, params)

    async def _send(self, method: str, path: str, body: Any, params: dict[str, Any]) -> Answer:
        if isinstance(body, dict):
            body = {
                k: self._in(v) if k in ("copy_from", "path") and isinstance(v, str) else v
                for k, v in body.items()
            }
        url = f"{self.peer.url}/api/contents/{urllib.parse.quote(self._in(path))}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = HTTPRequest(
            url,
            method=method,
            body=_body(method, body),
            headers={"Authorization": f"token {self.peer.token}"},
            request_timeout=60,
        )
        client = AsyncHTTPClient(force_instance=True)
        try:
            response = await client.fetch(request, raise_error=False)
        finally:
            client.close()
        location = response.headers.get("Location")
        if location:
            location = location.replace(f"/api/contents/{self.folder}", "/api/contents", 1)
        return Answer(response.code, self._out(_decode(response.body)), location)


class JupyterPeer:
    """A stock Jupyter Server in its own process, on a temporary root."""

    def __init__(self, base: Path) -> None:
        """Keep its root, HOME and Jupyter dirs under ``base``."""
        self.root = base / "root"
        self.home = base / "home"
        self.log = base / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers with our token."""
        self.root.mkdir(parents=True)
        config = self.home / "config"
        config.mkdir(parents=True)
        # Only Jupyter itself: the extensions the venv enables are switched off.
        (config / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "ServerApp": {
                        "jpserver_extensions": {
                            "jupyter_ide": False,
                            "jupyter_server_terminals": False,
                        }
                    }
                }
            )
        )
        env = {
            **os.environ,
            "HOME": str(self.home),
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(self.home / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTER_CONFIG_PATH": "",
            "JUPYTER_PATH": "",
        }
        args = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
        ]
        if os.geteuid() == 0:
            args.append("--allow-root")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + START_TIMEOUT
        request = urllib.request.Request(
            f"{self.url}/api/status", headers={"Authorization": f"token {self.token}"}
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Jupyter Server exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(request, timeout=2).close()
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Jupyter Server did not answer: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(15)
        self.process = None

    def side(self) -> PeerSide:
        """Return a client working in a fresh folder of the root."""
        return PeerSide(self, f"t{uuid.uuid4().hex[:12]}")


def _iso(value: Any) -> bool:
    with contextlib.suppress(TypeError, ValueError):
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return True
    return False


def comparable(value: Any) -> Any:
    """Return a model (or list, or checkpoint) without what legitimately differs."""
    if isinstance(value, list):
        items = [comparable(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if not isinstance(value, dict):
        return value
    found = dict(value)
    for key in VOLATILE:
        if key in found:
            assert key.startswith("hash") or _iso(found[key]), (key, found[key])
            found[key] = "…"
    if found.get("format") == "base64" and isinstance(found.get("content"), str):
        found["content"] = base64.b64decode("".join(found["content"].split()))
    elif isinstance(found.get("content"), list):
        found["content"] = comparable(found["content"])
    return found


def _where(location: str | None) -> str | None:
    """A Location header from /api/contents on (our test server has a base URL)."""
    if location is None or "/api/contents" not in location:
        return location
    return location[location.index("/api/contents") :]


def same(ours: Answer, theirs: Answer, what: str) -> None:
    """Assert two answers agree: status, Location, and the body when it is a success."""
    assert ours.status == theirs.status, (what, ours, theirs)
    if ours.status >= 400:
        assert ours.message, (what, "our refusal says nothing", ours)
        return
    assert _where(ours.location) == _where(theirs.location), (what, ours, theirs)
    assert comparable(ours.body) == comparable(theirs.body), (what, ours.body, theirs.body)
