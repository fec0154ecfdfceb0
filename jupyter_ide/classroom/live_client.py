"""A y-websocket peer in Python (pycrdt over a tornado websocket): tests and the bench use it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from pycrdt import (
    Awareness,
    Doc,
    Text,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
)
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from .live_documents import TEXT, read_notebook


class LivePeer:
    """One peer of a live room: its document, the text, the room's awareness states."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        """Serve ``connection`` (opened by :func:`connect`)."""
        self.connection = connection
        self.doc: Doc[Any] = Doc()
        self.text: Text = self.doc.get(TEXT, type=Text)
        self.awareness = Awareness(self.doc)
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.on_change: Callable[[str], None] | None = None
        self._remote = False
        self._reader: asyncio.Task[None] | None = None
        self.doc.observe(self._local_update)
        self.text.observe(lambda _event: self._text_changed())

    def start(self) -> None:
        """Ask for the room's document and read what the room sends."""
        self.connection.write_message(create_sync_message(self.doc), binary=True)
        self._reader = asyncio.create_task(self._read())

    def _text_changed(self) -> None:
        self.changed.set()
        if self.on_change is not None:
            self.on_change(str(self.text))

    def _local_update(self, event: TransactionEvent) -> None:
        if self._remote:
            return
        with contextlib.suppress(Exception):  # closed: the update stays in this document
            self.connection.write_message(create_update_message(event.update), binary=True)

    async def _read(self) -> None:
        while True:
            message = await self.connection.read_message()
            if message is None:
                return
            if isinstance(message, str) or len(message) < 2:
                continue
            if message[0] == YMessageType.SYNC:
                self._remote = True
                try:
                    reply = handle_sync_message(message[1:], self.doc)
                finally:
                    self._remote = False
                if reply is not None:
                    self.connection.write_message(reply, binary=True)
                self.changed.set()  # a notebook's cells, say: not only the text
                if message[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
            elif message[0] == YMessageType.AWARENESS:
                self.awareness.apply_awareness_update(read_message(message[1:]), "remote")

    def states(self) -> list[dict[str, Any]]:
        """Return the awareness states of the room (the server's: who views)."""
        return [s for s in self.awareness.states.values() if s]

    def viewers(self) -> list[str]:
        """Return who the room says is viewing the owner's workspace."""
        for state in self.states():
            if "viewers" in state:
                return list(state["viewers"])
        return []

    def notebook(self) -> dict[str, Any]:
        """Return the notebook the peer's document shows: {cells, error}."""
        return read_notebook(self.doc)

    def type(self, at: int, text: str) -> None:
        """Insert ``text`` at ``at`` (a keystroke); the update goes to the room."""
        self.text.insert(at, text)

    async def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``check()`` holds (raise TimeoutError after ``timeout``)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not check():
            left = end - loop.time()
            if left <= 0:
                raise TimeoutError("the live room did not reach the expected state")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 0.05))
            except TimeoutError:
                pass

    def close(self) -> None:
        """Leave the room."""
        self.connection.close()
        if self._reader is not None:
            self._reader.cancel()


async def connect(
    url: str, headers: dict[str, str] | None = None, state: bytes | None = None
) -> LivePeer:
    """Open a live socket at ``url`` (ws://...), sync, and return the peer.

    ``state`` (a document update) is what the peer's document already holds: a reconnect.
    """
    connection = await websocket_connect(
        HTTPRequest(url, headers=headers or {}, request_timeout=30)
    )
    peer = LivePeer(connection)
    if state is not None:
        peer._remote = True  # already known: not sent as a change of its own
        try:
            peer.doc.apply_update(state)
        finally:
            peer._remote = False
    peer.start()
    await asyncio.wait_for(peer.synced.wait(), 30)
    return peer
