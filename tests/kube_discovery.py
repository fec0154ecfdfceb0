"""Run kubectl's client-side dry run where no cluster exists. No tests here.

``kubectl apply --dry-run=client`` parses and maps each object itself, but first reads the
API's discovery documents (which group/version serves which kind) and asks for each object's
live copy (to choose create or patch). ``discovery()`` serves exactly that on loopback: the
discovery documents for the kinds in ``kubernetes_schema.DISCOVERY``, a 404 Status for every
object read, and it records every request so a test can prove nothing was written.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .kubernetes_schema import DISCOVERY


def _resource_list(group_version: str) -> dict[str, Any]:
    """The APIResourceList of one group/version."""
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": name,
                "singularName": "",
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            }
            for name, kind, namespaced in DISCOVERY[group_version]
        ],
    }


def _document(path: str) -> dict[str, Any] | None:
    """The discovery document at ``path``, or None."""
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        groups = []
        for group_version in DISCOVERY:
            if "/" in group_version:
                group, version = group_version.split("/")
                entry = {"groupVersion": group_version, "version": version}
                groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if path == "/api/v1":
        return _resource_list("v1")
    if path.startswith("/apis/") and path[len("/apis/") :] in DISCOVERY:
        return _resource_list(path[len("/apis/") :])
    return None


@dataclass
class Discovery:
    """The loopback server's address and the requests it was sent (method, path)."""

    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)

    def kubectl(self, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this server only (its own kubeconfig, HOME and cache)."""
        config = home / "kubeconfig"
        config.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "none", "cluster": {"server": self.url}}],
                    "contexts": [
                        {"name": "none", "context": {"cluster": "none", "namespace": "jhub"}}
                    ],
                    "current-context": "none",
                    "users": [{"name": "none", "user": {}}],
                }
            )
        )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
        env["KUBECONFIG"] = str(config)
        return subprocess.run(
            ["kubectl", *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )


@contextlib.contextmanager
def discovery() -> Iterator[Discovery]:
    """Serve discovery on a free loopback port while the block runs."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        """Discovery documents, a 404 Status for anything else; every request recorded."""

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            """Answer a read."""
            path = self.path.split("?", 1)[0]
            seen.append(("GET", path))
            if path == "/version":
                self._answer(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0"})
                return
            document = _document(path)
            if document is not None:
                self._answer(200, document)
                return
            self._answer(
                404,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "NotFound",
                    "code": 404,
                    "message": f"{path} not found",
                },
            )

        def _refuse(self) -> None:
            seen.append((self.command, self.path.split("?", 1)[0]))
            self._answer(405, {"kind": "Status", "status": "Failure", "code": 405})

        do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Discovery(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
