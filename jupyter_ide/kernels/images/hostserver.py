"""Serve the host's apt sources, pip config and CA bundle to build steps, on loopback only.

Docker's classic builder has no build secrets, and whatever a Dockerfile COPYs stays in a
layer. So the builder serves these files while it builds, and each step that needs them
fetches them (base/host-config.sh, over the host network the builds use) and removes them
before it ends. The address is passed as the build argument IDE_HOST_CONFIG; it stays the
same from build to build (a preferred port and a token kept in the data dir), so Docker's
layer cache keeps working.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PREFERRED_PORT = 47319
TOKEN_FILE = "image_build_token"  # noqa: S105 - a file name


def build_token(folder: Path) -> str:
    """Return this machine's token for the served files' address (made once, 0600)."""
    path = folder / TOKEN_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(18)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
    return path.read_text().strip()


class _Handler(BaseHTTPRequestHandler):
    """Answer GET /<token>/<name> with one of the served files, anything else with 404."""

    server: _Server

    def do_GET(self) -> None:
        """Send the file, or 404."""
        prefix = f"/{self.server.token}/"
        name = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
        body = self.server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet: the build prints its own progress."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, token: str, files: dict[str, bytes]) -> None:
        self.token = token
        self.files = files
        super().__init__(("127.0.0.1", port), _Handler)


@contextlib.contextmanager
def serve(files: dict[str, bytes], token: str) -> Iterator[str]:
    """Serve ``files`` on loopback while the block runs; yield the address for IDE_HOST_CONFIG."""
    try:
        server = _Server(PREFERRED_PORT, token, files)
    except OSError:  # another build holds the port: any free one (the layer cache misses)
        server = _Server(0, token, files)
    thread = threading.Thread(target=server.serve_forever, name="image-host-config", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{token}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
