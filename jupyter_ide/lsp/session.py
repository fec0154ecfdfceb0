"""One user's language server of one kind: its sandbox container and the clients it serves.

The container starts on the first message and is removed after ``idle_timeout`` seconds with
no message either way. When it ends on its own (a crash, a kill, out of memory) the session
starts a new one at once and gives it what the old one had: the client's ``initialize``
(its answer kept from the clients), ``initialized`` and every open document's current text.
Requests the old server never answered are answered with an error, so no editor waits on
them. Clients stay connected throughout; the lifecycle is the session's, so a client's
``shutdown`` is answered here and its ``exit`` dropped, and a second client's ``initialize``
gets the first answer again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, Protocol

from .documents import OpenDocuments
from .framing import FramingError, frame, read_message
from .launch import StdioContainer
from .specs import ServerSpec

log = logging.getLogger(__name__)

REPLAY_ID = "jupyter-ide-restart-"
INIT_TIMEOUT = 60.0  # seconds a restarted server may take to answer the replayed initialize
CRASH_WINDOW = 60.0
CRASHES_IN_WINDOW = 5  # more crashes than this in CRASH_WINDOW seconds: no eager restart
SERVER_ERROR = -32603  # JSON-RPC internal error
Starter = Callable[[], Awaitable[StdioContainer]]


class Client(Protocol):
    """A websocket of the session: it receives the server's messages (in its own URIs)."""

    async def deliver(self, message: dict[str, Any], text: str | None = None) -> None:
        """Send one message (URIs as the server names them; ``text``: as it sent it)."""


class ServerUnavailable(RuntimeError):
    """The language server cannot be started (the message says why)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


class LspSession:
    """One (user, language server) pair: at most one container, any number of clients."""

    def __init__(self, owner: str, spec: ServerSpec, starter: Starter) -> None:
        """Serve ``owner``'s ``spec`` server; ``starter`` starts its container."""
        self.owner = owner
        self.spec = spec
        self._starter = starter
        self.clients: set[Client] = set()
        self._opened_by: dict[Client, set[str]] = {}
        self.process: StdioContainer | None = None
        self.status = "not_started"
        self.documents = OpenDocuments()
        self.init_request: dict[str, Any] | None = None
        self.init_result: dict[str, Any] | None = None
        self._initialized: dict[str, Any] | None = None
        self._in_flight: dict[Any, Client] = {}
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._replay_ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._crashes: deque[float] = deque()
        self.starts = 0
        self.last_activity = time.monotonic()
        self.last_server_message_at: datetime | None = None
        self.last_handler_message_at: datetime | None = None

    @property
    def busy(self) -> bool:
        """Whether a client waits for an answer (an idle server is not removed then)."""
        return bool(self._in_flight) or self._lock.locked()

    # -- what /lsp/status shows ----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Return the session as jupyter-lsp's /lsp/status shows one."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "handler_count": len(self.clients),
            "status": self.status,
            "last_server_message_at": iso(self.last_server_message_at),
            "last_handler_message_at": iso(self.last_handler_message_at),
            "spec": self.spec.status_spec(),
        }

    # -- clients -------------------------------------------------------------------------

    def subscribe(self, client: Client) -> None:
        """Add a client: it receives everything the server sends from now on."""
        self.clients.add(client)
        self._opened_by.setdefault(client, set())

    async def unsubscribe(self, client: Client) -> None:
        """Remove a client; documents only it had open are closed in the server."""
        self.clients.discard(client)
        mine = self._opened_by.pop(client, set())
        others = set().union(*self._opened_by.values()) if self._opened_by else set()
        for uri in sorted(mine - others):
            if uri in self.documents.documents:
                closing = {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didClose",
                    "params": {"textDocument": {"uri": uri}},
                }
                self.documents.note(closing)
                if self.process is not None:
                    with contextlib.suppress(ConnectionError, OSError):
                        await self.process.write(frame(closing))
        for request_id in [k for k, v in self._in_flight.items() if v is client]:
            self._in_flight.pop(request_id, None)

    # -- client to server ----------------------------------------------------------------

    async def from_client(self, client: Client, message: dict[str, Any]) -> None:
        """Pass one client message (URIs already the server's) on, starting it if need be."""
        self.last_activity = time.monotonic()
        self.last_handler_message_at = _now()
        method = message.get("method")
        if method == "exit":
            return  # the session decides when the server ends
        if method == "shutdown" and "id" in message:
            await client.deliver({"jsonrpc": "2.0", "id": message["id"], "result": None})
            return
        if method == "initialize" and "id" in message:
            if self.init_result is not None and self.process is not None:
                await client.deliver(
                    {"jsonrpc": "2.0", "id": message["id"], "result": self.init_result}
                )
                return
            self.init_request = message
        if method == "initialized":
            if self._initialized is not None and self.process is not None:
                return  # the server was told once
            self._initialized = message
        if method == "textDocument/didOpen":
            uri = (message.get("params") or {}).get("textDocument", {}).get("uri")
            if isinstance(uri, str):
                self._opened_by.setdefault(client, set()).add(uri)
        self.documents.note(message)
        if "id" in message and isinstance(method, str):
            self._in_flight[message["id"]] = client
        try:
            process = await self._running(replay=method != "initialize")
            await process.write(frame(message))
        except (ConnectionError, OSError) as e:
            log.info(
                "Language server %s of %s: a message was lost: %s", self.spec.key, self.owner, e
            )
            await self._fail_in_flight(f"the language server ended: {e}")

    async def warm(self) -> bool:
        """Start the server ahead of its first message; return whether it was started now."""
        self.last_activity = time.monotonic()
        if self.process is not None:
            return False
        if not self.clients:
            # Nobody to replay for: the next client's own initialize goes to the new server
            # (a kept answer would be given instead, and the server never initialized).
            self.init_request = self.init_result = self._initialized = None
        await self._running(replay=bool(self.clients) and self.init_result is not None)
        return True

    async def _running(self, replay: bool) -> StdioContainer:
        """Return the running server, starting it (and replaying the client's state) first."""
        async with self._lock:
            if self.process is not None:
                return self.process
            process = await self._start()
            if replay and self.init_request is not None:
                await self._replay(process)
            return process

    async def _start(self) -> StdioContainer:
        """Start the container and the task that reads it."""
        self.status = "starting"
        try:
            process = await self._starter()
        except Exception as e:
            self.status = "stopped"
            raise ServerUnavailable(f"{self.spec.display_name} could not start: {e}") from e
        self.process = process
        self.starts += 1
        self.status = "started"
        self._reader = asyncio.ensure_future(self._read(process))
        log.info(
            "Language server %s of %s: started in %s", self.spec.key, self.owner, process.short_id
        )
        return process

    async def _replay(self, process: StdioContainer) -> None:
        """Give a new server the client's initialize, initialized and open documents."""
        assert self.init_request is not None
        replay_id = f"{REPLAY_ID}{next(self._replay_ids)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[replay_id] = waiter
        try:
            await process.write(frame({**self.init_request, "id": replay_id}))
            async with asyncio.timeout(INIT_TIMEOUT):
                reply = await waiter
        finally:
            self._replies.pop(replay_id, None)
        if "result" in reply:
            self.init_result = reply["result"]
        initialized = self._initialized or {"jsonrpc": "2.0", "method": "initialized", "params": {}}
        await process.write(frame(initialized))
        for opening in self.documents.reopen():
            await process.write(frame(opening))

    # -- server to clients ---------------------------------------------------------------

    async def _read(self, process: StdioContainer) -> None:
        """Pass the server's messages to every client until it ends; then restart it."""
        problem = ""
        try:
            while True:
                read = await read_message(process.stdout)
                if read is None:
                    break
                self.last_activity = time.monotonic()
                self.last_server_message_at = _now()
                await self._dispatch(*read)
        except FramingError as e:
            problem = str(e)
        except asyncio.CancelledError:
            return
        await self._ended(process, problem)

    async def _dispatch(self, message: dict[str, Any], text: str) -> None:
        """Route one server message: a replay's answer stays here, the rest go to clients."""
        is_reply = "method" not in message and "id" in message
        if is_reply:
            waiter = self._replies.get(str(message.get("id")))
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(message)
                return
            client = self._in_flight.pop(message.get("id"), None)
            if self.init_request is not None and message.get("id") == self.init_request.get("id"):
                self.init_result = message.get("result", self.init_result)
            if client is not None and client in self.clients and len(self.clients) > 1:
                await client.deliver(message, text)
                return
        for client in list(self.clients):
            await client.deliver(message, text)

    async def _ended(self, process: StdioContainer, problem: str) -> None:
        """Handle a server that ended by itself: start anew at once, then say why it ended."""
        if self.process is not process:
            return  # removed on purpose (idle, stop)
        self.process = None
        self.status = "stopped"
        restart: asyncio.Future[None] | None = None
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > CRASH_WINDOW:
            self._crashes.popleft()
        if self.clients and len(self._crashes) <= CRASHES_IN_WINDOW:
            restart = asyncio.ensure_future(self._restart())
        await self._fail_in_flight("the language server ended and was restarted")
        state = await process.exit_state()
        await process.remove()
        tail = " | ".join(list(process.stderr)[-5:])
        log.warning(
            "Language server %s of %s ended (%s)%s",
            self.spec.key,
            self.owner,
            problem or _exit_words(state),
            f"; it said: {tail}" if tail else "",
        )
        if restart is not None:
            await restart

    async def _restart(self) -> None:
        """Start a new server with the client's state (logged, not raised, when it fails)."""
        try:
            await self._running(replay=True)
        except (ServerUnavailable, ConnectionError, OSError, TimeoutError) as e:
            log.warning("Language server %s of %s: no restart: %s", self.spec.key, self.owner, e)

    async def _fail_in_flight(self, why: str) -> None:
        """Answer every request the server will not answer now with an error."""
        pending, self._in_flight = self._in_flight, {}
        for request_id, client in pending.items():
            if client in self.clients:
                await client.deliver(
                    {
                        "jsonrpc": "2.0",
                        "id": request_id,
                        "error": {"code": SERVER_ERROR, "message": why},
                    }
                )

    # -- ending ---------------------------------------------------------------------------

    async def stop(self, reason: str) -> None:
        """Remove the container (the session stays: a next message starts a new one)."""
        async with self._lock:
            process, self.process = self.process, None
            if process is None:
                return
            self.status = "stopping"
            log.info("Language server %s of %s: stopping (%s)", self.spec.key, self.owner, reason)
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.cancel()
            await process.remove()
            self.status = "stopped"
        await self._fail_in_flight(f"the language server was stopped ({reason})")


def _exit_words(state: dict[str, Any]) -> str:
    """Say how a container ended."""
    if not state:
        return "its container was removed"
    if state.get("OOMKilled"):
        return "out of memory"
    code = int(state.get("ExitCode", -1))
    if code == 137:
        return "killed"
    return f"exit code {code}"
