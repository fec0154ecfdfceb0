"""/ide/api/debug/ws/<c|cpp>: a C or C++ program under lldb-vscode, DAP over a websocket.

The first text frame is {"type": "start", "name": "main.c", "source": "..."}; the server
starts a sandbox of the caller's that compiles it with -g and runs the debug adapter, and
answers {"type": "started", "sourcePath": ...} (the path frames and breakpoints use). Then
each frame is one DAP message either way. Only the requests a debugging client needs pass;
``launch`` always runs the program compiled here. The run's time limit counts the sandbox's
CPU time from configurationDone: paused at a breakpoint, nothing is counted. A session is the
socket's own: closing it removes the sandbox, and no other socket (or user) can reach it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..auth import requires
from ..kernels.sandbox import SandboxManager
from ..lsp.framing import FramingError, frame, read_message
from ..lsp.launch import StdioContainer
from ..service.caller import CALLER
from .adapter import COMPILE_FAILED, DebugAdapters, DebugUnavailable
from .cpulimit import CpuLimit, cpu_reader
from .protocol import (
    BadMessage,
    check_request,
    error_response,
    event,
    parse_json,
    parse_start,
)

PERMISSION = "kernels:use"  # debugging runs one's own code in one's own sandbox
ADAPTERS_SETTING = "jupyter_ide_debug_adapters"
SANDBOX_SETTING = "jupyter_ide_sandbox"
MAX_MESSAGE = 1024 * 1024
CLOSE_INVALID = 1007
STDERR_LINES = 60  # of the compiler's messages shown
EXIT_WAIT = 10.0  # seconds to wait for a sandbox whose output ended to exit
LANGUAGES = ("c", "cpp")
_CLOSING: set[asyncio.Future[None]] = set()


def debug_adapters(settings: dict[str, Any]) -> DebugAdapters:
    """Return the server's debug adapter launcher (made on first use)."""
    adapters = settings.get(ADAPTERS_SETTING)
    if not isinstance(adapters, DebugAdapters):
        sandbox = settings.get(SANDBOX_SETTING)
        if not isinstance(sandbox, SandboxManager):
            raise web.HTTPError(503, "The debugger needs jupyter-ide's sandbox, not set up")
        adapters = DebugAdapters(sandbox, parent=settings.get("serverapp"))
        settings[ADAPTERS_SETTING] = adapters
    return adapters


class DebugSocketHandler(WebSocketMixin, JupyterHandler, WebSocketHandler):
    """One debug session of a C or C++ program, in a sandbox of the caller's."""

    auth_resource = "kernels"
    container: StdioContainer | None = None
    limit: CpuLimit | None = None
    language = "c"
    _owner = ""
    _pump: asyncio.Task[None] | None = None
    _ended = False

    def get_compression_options(self) -> dict[str, Any] | None:
        """No compression (messages are small)."""
        return None

    @property
    def max_message_size(self) -> int:
        """The largest message a browser may send."""
        return MAX_MESSAGE

    def _caller(self, adapters: DebugAdapters) -> str:
        if not adapters.sandbox.multi_user:
            return adapters.sandbox.owner
        name = CALLER.get()
        if not name:
            raise web.HTTPError(403, "Sign in first")
        return name

    @ws_authenticated
    @requires(PERMISSION)
    async def get(self, language: str, *args: Any, **kwargs: Any) -> None:
        """Check the caller and the language before the upgrade, then open the socket."""
        if language not in LANGUAGES:
            raise web.HTTPError(404, f"No debugger for {language!r} (there are: c, cpp)")
        self.language = language
        self._owner = self._caller(debug_adapters(self.settings))
        await super().get(language, *args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        """Wait for the start message."""
        self.set_nodelay(True)

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message to the browser (nothing once it has gone)."""
        try:
            await self.write_message(json.dumps(message, ensure_ascii=False))
        except WebSocketClosedError:
            pass

    async def on_message(self, message: str | bytes) -> None:
        """Start the program on the first message; pass each DAP request on after that."""
        try:
            parsed = parse_json(message)
            if self.container is None:
                await self._start(parse_start(parsed, self.language))
                return
            request = check_request(parsed)
        except BadMessage as e:
            self.log.info("Debug socket: refused a message: %s", e)
            if self.container is None:
                await self.send({"type": "error", "message": str(e)})
                self.close(CLOSE_INVALID, str(e)[:120])
            elif parsed.get("type") == "request":
                await self.send(error_response(parsed, str(e)))
            return
        if request["command"] == "configurationDone" and self.limit is not None:
            await self.limit.start()  # the program runs from here
        try:
            await self.container.write(frame(request))
        except ConnectionError:
            await self.send(error_response(request, "The debugged program has ended"))

    async def _start(self, start: Any) -> None:
        adapters = debug_adapters(self.settings)
        try:
            self.container = await adapters.start(self._owner, self.language, start)
        except DebugUnavailable as e:
            await self.send({"type": "error", "message": str(e)})
            self.close(1011, str(e)[:120])
            return
        limit = adapters.time_limit()

        async def over(used: float) -> None:
            await self._end(
                f"Time limit reached: the program used {used:.1f} s of CPU time "
                f"(limit {limit:g} s) and was stopped.\n"
            )

        self.limit = CpuLimit(cpu_reader(self.container.container), limit, over)
        await self.send({"type": "started", "sourcePath": start.path, "timeLimit": limit})
        self._pump = asyncio.ensure_future(self._relay())

    async def _relay(self) -> None:
        """Pass the adapter's messages to the browser until its stream ends."""
        assert self.container is not None
        relayed = 0
        try:
            while (read := await read_message(self.container.stdout)) is not None:
                relayed += 1
                try:
                    await self.write_message(read[1])  # the adapter's JSON text, as written
                except WebSocketClosedError:
                    break
        except FramingError as e:
            self.log.warning("Debug adapter wrote something that is not DAP: %s", e)
        if not self._ended:
            text = ""
            if relayed == 0:
                code = await self._exit_code()
                errors = await self._stderr()
                text = "The program did not compile:\n" if code == COMPILE_FAILED else ""
                text += errors or f"The debugger stopped (exit code {code})."
                text += "\n"
            await self._end(text)

    async def _exit_code(self) -> int | None:
        """Wait briefly for the sandbox to exit; return its exit code (None if it runs on)."""
        assert self.container is not None
        container = self.container.container

        def wait() -> int | None:
            try:
                return int(container.wait(timeout=EXIT_WAIT)["StatusCode"])
            except Exception:
                return None

        return await asyncio.to_thread(wait)

    async def _stderr(self) -> str:
        """Return what the sandbox wrote to stderr (the compiler's messages)."""
        assert self.container is not None
        container = self.container.container

        def tail() -> str:
            try:
                logs = container.logs(stdout=False, stderr=True, tail=STDERR_LINES)
            except Exception:
                return ""
            return bytes(logs).decode("utf-8", "replace").strip()

        return await asyncio.to_thread(tail) or "\n".join(self.container.stderr)

    async def _end(self, text: str) -> None:
        """Say why the session ended, end it and remove the sandbox."""
        if self._ended:
            return
        self._ended = True
        if text:
            await self.send(event("output", {"category": "stderr", "output": text}))
        await self.send(event("terminated"))
        await self._cleanup()
        self.close()

    async def _cleanup(self) -> None:
        if self.limit is not None:
            await self.limit.stop()
        if self.container is not None:
            await debug_adapters(self.settings).remove(self.container)

    def on_close(self) -> None:
        """Remove the sandbox (the program and the adapter with it)."""
        self._ended = True
        if self._pump is not None and self._pump is not asyncio.current_task():
            self._pump.cancel()
        task = asyncio.ensure_future(self._cleanup())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)


async def close_debug(settings: dict[str, Any]) -> None:
    """Remove every debug session's sandbox (call when the server stops)."""
    adapters = settings.get(ADAPTERS_SETTING)
    if isinstance(adapters, DebugAdapters):
        await adapters.stop_all()


def default_handlers() -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the debug socket's route."""
    return [(r"/ide/api/debug/ws/([A-Za-z+]+)", DebugSocketHandler, {})]
