"""Run one cell over a kernel's channels websocket, as a browser does (tests' shared helper)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


async def run_cell(
    request: HTTPRequest | str,
    code: str,
    timeout: float = 120,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Run ``code`` on the kernel at ``request``; return what it printed (and error names)."""
    ws = await websocket_connect(request)
    msg_id = uuid.uuid4().hex
    message = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "test",
            "session": uuid.uuid4().hex,
            "date": "",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": metadata or {},
        "content": {"code": code, "silent": False, "allow_stdin": False},
        "channel": "shell",
    }
    printed: list[str] = []
    try:
        await ws.write_message(json.dumps(message))
        replied = idle = False
        while not (replied and idle):
            raw = await asyncio.wait_for(ws.read_message(), timeout)
            assert raw is not None, "the kernel's websocket closed"
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = reply["msg_type"], reply["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                printed.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "execute_reply":
                replied = True
            elif kind == "status":
                idle = content["execution_state"] == "idle"
    finally:
        ws.close()
    return "".join(printed)
