"""A small LSP client over jupyter-lsp's websocket framing (one JSON-RPC message per frame)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

from tornado.websocket import WebSocketClientConnection


class LspClient:
    """Requests, notifications and the server's notifications, on one /lsp/ws socket."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        """Speak over ``ws``."""
        self.ws = ws
        self.ids = itertools.count(1)
        self.seen: list[dict[str, Any]] = []

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.ws.write_message(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    async def request(self, method: str, params: Any, timeout: float = 60) -> dict[str, Any]:
        """Send a request and return its response (result or error)."""
        request_id = next(self.ids)
        self.ws.write_message(
            json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        )
        return await self.wait_for(
            lambda m: m.get("id") == request_id and "method" not in m, timeout
        )

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        """Return the first message (seen or coming) that ``match`` accepts."""
        for message in self.seen:
            if match(message):
                self.seen.remove(message)
                return message
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.ws.read_message()
                assert raw is not None, (
                    f"socket closed: {self.ws.close_code} {self.ws.close_reason}"
                )
                message = json.loads(raw)
                if "method" in message and "id" in message:  # a server request: answer it
                    reply = {"jsonrpc": "2.0", "id": message["id"], "result": None}
                    self.ws.write_message(json.dumps(reply))
                if match(message):
                    return message
                self.seen.append(message)

    async def initialize(self, root_uri: str) -> dict[str, Any]:
        """Initialize the server with ``root_uri``; send ``initialized``."""
        reply = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "workspace"}],
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {},
                        "completion": {"completionItem": {"snippetSupport": False}},
                        "synchronization": {"didSave": True},
                    },
                    "workspace": {"workspaceFolders": True, "configuration": True},
                },
            },
        )
        assert "result" in reply, reply
        self.notify("initialized", {})
        return reply

    def open(self, uri: str, language: str, text: str) -> None:
        """Open a document."""
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        )

    async def diagnostics(self, uri: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Return the first non-empty diagnostics published for ``uri``."""
        found = await self.wait_for(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and bool(m["params"]["diagnostics"])
            ),
            timeout,
        )
        return list(found["params"]["diagnostics"])
