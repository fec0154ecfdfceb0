"""A Debug Adapter Protocol client over a kernel's channels websocket (tests' shared helper).

As JupyterLab's debugger does: DAP requests go as ``debug_request`` on the control channel,
answers come back as ``debug_reply``, DAP events as ``debug_event`` on IOPub.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect


class KernelDAP:
    """One websocket to a kernel: DAP requests, DAP events, execute requests and their replies."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        """Wrap an open channels websocket."""
        self.ws = ws
        self.session = uuid.uuid4().hex
        self.seq = 0
        self.events: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}  # parent msg_id -> reply content
        self.output: dict[str, list[str]] = {}  # parent msg_id -> stream text
        self.closed = False

    @classmethod
    async def connect(cls, request: HTTPRequest | str) -> KernelDAP:
        """Open the kernel's channels websocket."""
        return cls(await websocket_connect(request))

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()

    async def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        """Send one Jupyter message; return its msg_id."""
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id,
                "msg_type": msg_type,
                "username": "test",
                "session": self.session,
                "date": "",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
        }
        await self.ws.write_message(json.dumps(message))
        return msg_id

    async def _read(self, timeout: float) -> None:
        """Read one message and file it."""
        raw = await asyncio.wait_for(self.ws.read_message(), timeout)
        if raw is None:
            self.closed = True
            raise ConnectionError("the kernel's websocket closed")
        if not isinstance(raw, str):
            return
        msg = json.loads(raw)
        kind, content = msg["msg_type"], msg["content"]
        parent = msg.get("parent_header", {}).get("msg_id", "")
        if kind == "debug_event":
            self.events.append(content)
        elif kind.endswith("_reply"):
            self.replies[parent] = content
        elif kind == "stream":
            self.output.setdefault(parent, []).append(content["text"])
        elif kind == "error":
            self.output.setdefault(parent, []).append(f"{content['ename']}: {content['evalue']}")

    async def reply_to(self, msg_id: str, timeout: float = 60) -> dict[str, Any]:
        """Wait for the reply to ``msg_id``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while msg_id not in self.replies:
            await self._read(max(0.01, deadline - loop.time()))
        return self.replies[msg_id]

    async def request(
        self, command: str, arguments: dict[str, Any] | None = None, timeout: float = 60
    ) -> dict[str, Any]:
        """Send a DAP request; return its DAP response."""
        self.seq += 1
        body = {"seq": self.seq, "type": "request", "command": command}
        body["arguments"] = arguments or {}
        return await self.reply_to(await self.send("control", "debug_request", body), timeout)

    async def event(self, name: str, timeout: float = 60, after: int = 0) -> dict[str, Any]:
        """Wait for a DAP event named ``name`` (among those from index ``after`` on)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.events[after:]:
                if event.get("event") == name:
                    return event
            await self._read(max(0.01, deadline - loop.time()))

    async def execute(self, code: str) -> str:
        """Send an execute request (its reply is read later with ``reply_to``)."""
        return await self.send(
            "shell", "execute_request", {"code": code, "silent": False, "allow_stdin": False}
        )

    async def start(self) -> dict[str, Any]:
        """Initialize and attach as JupyterLab does; return debugInfo's body."""
        init = await self.request(
            "initialize",
            {
                "clientID": "jupyter-ide-tests",
                "adapterID": "python",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
            },
        )
        assert init.get("success"), init
        attach = await self.request("attach", {})
        assert attach.get("success"), attach
        info = await self.request("debugInfo")
        assert info.get("success"), info
        return dict(info["body"])

    async def breakpoints(self, code: str, lines: list[int]) -> str:
        """Dump ``code`` as a cell and set breakpoints on ``lines``; return its source path."""
        dumped = await self.request("dumpCell", {"code": code})
        assert dumped.get("success"), dumped
        path = str(dumped["body"]["sourcePath"])
        reply = await self.request(
            "setBreakpoints",
            {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines]},
        )
        assert reply.get("success"), reply
        return path
