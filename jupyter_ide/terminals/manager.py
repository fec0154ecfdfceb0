"""Terminals: which folder one opens in, where its shell runs, and what a request may ask.

While the sandbox is required (``JUPYTER_IDE_SANDBOX=docker``, or ``auto`` with an engine that
answers) a terminal's shell runs in a sandbox container of its own (sandboxed.py); otherwise it
is a shell on the host, which says so in yellow when it opens.

Files a shell writes reach the contents API through the workspace sync (the contents manager's
``sync_from_disk``, which kernels call after each run): a terminal asks for one once its
output has been quiet for ``SYNC_QUIET`` seconds (a command ended and its prompt came back;
at the latest ``SYNC_AT_MOST`` seconds after the first output) and when its shell exits.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from docker.errors import DockerException, ImageNotFound
from jupyter_server_terminals.terminalmanager import TerminalManager
from terminado.management import DEFAULT_TERM_TYPE, PtyWithClients
from tornado import web
from tornado.ioloop import IOLoop
from traitlets import Bool, Float, Int, Unicode, default

from ..kernels.image_names import image_for
from ..kernels.sandbox import SandboxManager, SandboxUnavailable
from .flow import ReplayBuffer, lagging
from .sandboxed import LABEL_TERMINAL, ContainerPty, ContainerTerminal, TerminalLaunch

# Terminal names end up in URLs matched by (\w+).
_NAME = re.compile(r"^\w{1,64}$")
# What POST /api/terminals may carry; terminado would take any option (even the shell command).
FIELDS = frozenset({"name", "cwd"})
NO_ENGINE = (
    "Terminals must run in a Docker sandbox here, but no Docker engine answers: start dockerd "
    "(scripts/services.sh docker) or set DOCKER_HOST; with JUPYTER_IDE_SANDBOX=local a "
    "single-user server runs terminals on the host instead."
)
# Shown first in a terminal that runs on the host (yellow, then the shell's own output).
HOST_BANNER = (
    "\x1b[33mjupyter-ide: this terminal is NOT sandboxed ({reason}): its commands run on "
    "this computer as the server's user, with the server's files and network.\x1b[0m\r\n"
)
SYNC_QUIET = 0.5  # seconds of no terminal output after which the workspace is synced
SYNC_AT_MOST = 5.0  # a terminal that never goes quiet still syncs this often
PAUSE_CHECK = 0.05  # seconds between looks at the sockets a paused terminal waits for


class CwdError(ValueError):
    """A requested terminal folder that is not inside the workspace."""


class TerminalUnavailable(RuntimeError):
    """No terminal can start now: the sandbox it must run in is missing (the message says why)."""


class TooManyTerminals(RuntimeError):
    """The user already has as many terminals running as they may."""


def workspace_folder(workspace: Path, requested: object) -> Path:
    """Return the real folder ``requested`` names inside ``workspace`` (the root when empty).

    ``requested`` is relative to the workspace; absolute paths, ``..`` and links that lead
    out of it are refused with a :class:`CwdError` that says why.
    """
    root = workspace.resolve()
    if requested is None:
        return root
    if not isinstance(requested, str):
        raise CwdError("cwd must be a folder of your workspace, as a string")
    if "\x00" in requested:
        raise CwdError("cwd may not contain a NUL character")
    if requested.strip() in ("", "."):
        return root
    relative = PurePosixPath(requested)
    if relative.is_absolute():
        raise CwdError(
            f"cwd must be relative to your workspace, not an absolute path: {requested!r}"
        )
    if ".." in relative.parts:
        raise CwdError(f"cwd may not leave your workspace with '..': {requested!r}")
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise CwdError(f"cwd leads out of your workspace through a link: {requested!r}")
    if not target.is_dir():
        raise CwdError(f"No such folder in your workspace: {requested!r}")
    return target


class IDETerminalManager(TerminalManager):
    """Jupyter's terminal manager: a name and a workspace folder per terminal, sandboxed."""

    owner = Unicode(
        "",
        help="Whose terminals these are (the owner label of their containers); empty: the "
        "server's user.",
    ).tag(config=True)

    require_sandbox = Bool(
        False,
        help="Refuse every terminal that would run on the host, whatever the sandbox mode. "
        "Otherwise terminals follow the kernels' sandbox mode (JUPYTER_IDE_SANDBOX).",
    ).tag(config=True)

    sandbox_image = Unicode(
        help="The image sandboxed terminals run in. Default: the Python kernels' image "
        "(jupyter-ide/python:<version>: bash, coreutils and python3 with the kernels' "
        "packages); jupyter-ide/cpp:<version> has g++ instead.",
    ).tag(config=True)

    terminal_limit = Int(
        8,
        help="The most terminals that may run at once (0: no limit); each sandboxed one is a "
        "container.",
    ).tag(config=True)

    replay_limit = Int(
        256 * 1024,
        help="Bytes of a terminal's latest output kept to show a socket that connects later "
        "(a reload, a second tab); older output is forgotten. 0: no bound (terminado keeps "
        "1000 reads of any size).",
    ).tag(config=True)

    client_backlog_limit = Int(
        1024 * 1024,
        help="Bytes of output that may wait for one terminal socket (a browser reading slower "
        "than the program writes). Beyond it the terminal's output is not read until the "
        "socket catches up: the program waits, nothing is lost and the server's memory "
        "stays bounded (this plus one read, 64 KiB of text). 0: no bound.",
    ).tag(config=True)

    stalled_client_timeout = Float(
        120.0,
        help="Seconds a terminal may stay paused for one socket that does not catch up; that "
        "socket is then closed (its browser reconnects and gets the replay) so the terminal "
        "goes on for its other sockets. 0: never close it.",
    ).tag(config=True)

    @default("sandbox_image")
    def _default_sandbox_image(self) -> str:
        return image_for("python")

    def __init__(self, **kwargs: Any) -> None:
        """Start with no terminal; names of terminals whose sandbox is starting are held."""
        super().__init__(**kwargs)
        self._starting: set[str] = set()
        self._removals: set[asyncio.Future[None]] = set()
        self._stopping = False
        self._sync_timer: object | None = None
        self._sync_first_asked = 0.0
        self._sync_task: asyncio.Task[None] | None = None
        self._sync_again = False
        self._paused: dict[int, tuple[PtyWithClients, float]] = {}
        self._pause_timer: object | None = None

    # -- starting -------------------------------------------------------------------------

    async def create_in(self, workspace: Path, body: dict[str, Any]) -> dict[str, Any]:
        """Start a terminal as ``body`` asks (``name``, ``cwd``) and return its model.

        Raises CwdError/ValueError (a bad request), FileExistsError (the name is taken),
        TooManyTerminals, or TerminalUnavailable (the sandbox it needs cannot start).
        """
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise ValueError(
                f"Unknown field(s): {', '.join(unknown)} (a new terminal takes 'name' and 'cwd')"
            )
        name: str | None = None
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError("name must be 1 to 64 letters, digits or underscores")
        if SandboxManager.initialized():
            # Materialised (and its volume mounted) before a shell works in it.
            workspace = await SandboxManager.instance().open_workspace(self.owner)
        cwd = workspace_folder(workspace, body.get("cwd"))
        self._check_free(name)
        sandbox = await self._sandbox()
        self._check_free(name)  # again: another request may have started one meanwhile
        if sandbox is None:
            return self._host_terminal(name, cwd)
        name = name or self._next_available_name()
        self._starting.add(name)
        try:
            launch = self._launch(sandbox, name, workspace, cwd)
            pty = await asyncio.to_thread(ContainerPty.start, sandbox, launch)
        except ImageNotFound as e:
            raise TerminalUnavailable(
                f"The terminal's sandbox image {self.sandbox_image} is missing: build it with "
                "`jupyter ide images build --offline`."
            ) from e
        except (DockerException, OSError) as e:  # OSError: the engine's connection broke
            raise TerminalUnavailable(f"The terminal's sandbox could not start: {e}") from e
        finally:
            self._starting.discard(name)
        self.log.info("Terminal %s: a shell in sandbox %s", name, pty.container.short_id)
        return dict(self.create(name=name, prepared=ContainerTerminal(pty)))

    def _check_free(self, name: str | None) -> None:
        """Refuse a name in use and a terminal beyond the limit."""
        if name is not None and (name in self.terminals or name in self._starting):
            raise FileExistsError(f"A terminal named {name!r} is already running")
        running = len(self.terminals) + len(self._starting)
        if 0 < self.terminal_limit <= running:
            raise TooManyTerminals(
                f"{running} terminals are running, the most allowed here: close one (type "
                "exit in it) before opening another."
            )

    async def _sandbox(self) -> SandboxManager | None:
        """Return the sandbox to start the terminal in, or None for a shell on the host."""
        if not SandboxManager.initialized():
            if self.require_sandbox:
                raise TerminalUnavailable("Terminals need the Docker sandbox, which is not set up")
            return None
        manager = SandboxManager.instance()
        if self.require_sandbox and manager.mode == "local":
            raise TerminalUnavailable(
                "Terminals run only in Docker sandboxes here, and JUPYTER_IDE_SANDBOX=local "
                "turns the sandbox off."
            )
        try:
            mode = await asyncio.to_thread(manager.effective_mode)
        except SandboxUnavailable as e:
            raise TerminalUnavailable(NO_ENGINE) from e
        if mode == "docker":
            return manager
        if self.require_sandbox:
            raise TerminalUnavailable(NO_ENGINE)
        return None

    def _launch(
        self, manager: SandboxManager, name: str, workspace: Path, cwd: Path
    ) -> TerminalLaunch:
        """Describe the terminal's container: the image, the sandbox's limits and labels."""
        labels = manager.labels("terminal", owner=self.owner or None)
        labels[LABEL_TERMINAL] = name
        return TerminalLaunch(
            image=self.sandbox_image,
            limits=manager.limits_for({}),
            labels=labels,
            workspace=workspace,
            cwd=cwd,
            env={"TERM": self.term_settings.get("type", DEFAULT_TERM_TYPE)},
        )

    def _host_terminal(self, name: str | None, cwd: Path) -> dict[str, Any]:
        """Start a shell on the host (no sandbox here); it opens with a warning saying so."""
        options: dict[str, Any] = {"cwd": str(cwd), "on_host": True}
        if name is not None:
            options["name"] = name
        model = dict(self.create(**options))
        reason = "no Docker engine answers"
        if not SandboxManager.initialized() or SandboxManager.instance().mode == "local":
            reason = "JUPYTER_IDE_SANDBOX=local"
        self.terminals[model["name"]].read_buffer.appendleft(HOST_BANNER.format(reason=reason))
        self.log.warning("Terminal %s runs WITHOUT a sandbox (%s)", model["name"], reason)
        return model

    def _next_available_name(self) -> str:
        """Return the lowest free number, skipping names whose sandbox is starting."""
        for n in itertools.count(start=1):
            name = str(self.name_template % n)
            if name not in self.terminals and name not in self._starting:
                return name
        raise AssertionError("unreachable")

    def new_terminal(self, **kwargs: Any) -> PtyWithClients:
        """Return the terminal ``create_in`` prepared; nothing else starts one."""
        prepared = kwargs.pop("prepared", None)
        if isinstance(prepared, ContainerTerminal):
            term: PtyWithClients = prepared
        elif kwargs.pop("on_host", False):
            term = super().new_terminal(**kwargs)
        else:
            raise TerminalUnavailable("Terminals start through POST /api/terminals only")
        # Its own thread writes what is typed: a shell that stops reading holds no other's input.
        term.input_executor = ThreadPoolExecutor(1, thread_name_prefix="terminal-input")  # type: ignore[attr-defined]
        term.read_buffer = ReplayBuffer(term.read_buffer, limit=self.replay_limit)
        return term

    # -- output flow ----------------------------------------------------------------------

    def pty_read(self, fd: int, events: Any = None) -> None:
        """Read the terminal's output, unless a socket is too far behind: then pause it."""
        term = self.ptys_by_fd.get(fd)
        if term is not None and lagging(term.clients, self.client_backlog_limit):
            self._pause(fd, term)
            return
        super().pty_read(fd, events)

    def _pause(self, fd: int, term: PtyWithClients) -> None:
        """Stop reading ``fd`` until its sockets catch up (the program waits on its TTY)."""
        IOLoop.current().remove_handler(fd)
        if fd not in self._paused:
            self._paused[fd] = (term, time.monotonic())
            self.log.debug("Terminal %s: a socket is behind, its output waits", term.term_name)
        if self._pause_timer is None:
            self._pause_timer = IOLoop.current().call_later(PAUSE_CHECK, self._check_paused)

    def _check_paused(self) -> None:
        """Read again the terminals whose sockets caught up; close sockets stalled too long."""
        self._pause_timer = None
        loop = IOLoop.current()
        now = time.monotonic()
        for fd, (term, since) in list(self._paused.items()):
            if self.ptys_by_fd.get(fd) is not term:
                del self._paused[fd]  # it ended meanwhile
                continue
            behind = lagging(term.clients, self.client_backlog_limit)
            if not behind:
                del self._paused[fd]
                loop.add_handler(fd, self.pty_read, loop.READ)
                continue
            if 0 < self.stalled_client_timeout <= now - since:
                for client in behind:
                    self.log.warning(
                        "Terminal %s: closing a socket that read nothing for %.0f s",
                        term.term_name,
                        now - since,
                    )
                    client.close(1013, "This terminal's output waited too long for you")
                self._paused[fd] = (term, now)
        if self._paused:
            self._pause_timer = loop.call_later(PAUSE_CHECK, self._check_paused)

    def paused_terminals(self) -> list[str]:
        """Return the names of the terminals whose output waits for a socket now."""
        return [str(term.term_name) for term, _ in self._paused.values()]

    def get_terminal(self, term_name: str) -> PtyWithClients:  # type: ignore[override]
        """Return a running terminal: a websocket connects to one, it never starts one."""
        term = self.terminals.get(term_name)
        if term is None:
            raise web.HTTPError(404, f"Terminal not found: {term_name}")
        return term

    # -- workspace sync -------------------------------------------------------------------

    def pre_pty_read_hook(self, ptywclients: PtyWithClients) -> None:
        """Note the shell's output: the workspace syncs once it has been quiet a moment."""
        super().pre_pty_read_hook(ptywclients)
        self._sync_soon()

    def _sync_soon(self, delay: float = SYNC_QUIET) -> None:
        """Sync the workspace after ``delay`` more quiet seconds (never later than at most)."""
        if self._stopping or not SandboxManager.initialized():
            return
        if SandboxManager.instance().after_run_of(self.owner) is None:
            return
        loop = IOLoop.current()
        now = time.monotonic()
        if self._sync_timer is not None:
            if now - self._sync_first_asked >= SYNC_AT_MOST:
                return  # due anyway: output that never stops does not postpone it
            loop.remove_timeout(self._sync_timer)
        else:
            self._sync_first_asked = now
        self._sync_timer = loop.call_later(delay, self._start_sync)

    def _start_sync(self) -> None:
        """Run one sync (or one more right after the one running now)."""
        self._sync_timer = None
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_again = True
            return
        self._sync_task = asyncio.ensure_future(self._sync())

    async def _sync(self) -> None:
        """Pull what the shells changed in the workspace folder into the contents index."""
        while True:
            self._sync_again = False
            if self._stopping or not SandboxManager.initialized():
                return
            after_run = SandboxManager.instance().after_run_of(self.owner)
            if after_run is None or not await asyncio.to_thread(self.workspace_dir().is_dir):
                return  # nothing to sync to, or the server is closing the workspace
            try:
                await after_run()
            except Exception as e:
                self.log.warning("Syncing the workspace after terminal output failed: %s", e)
            if not self._sync_again:
                return

    def workspace_dir(self) -> Path:
        """Return the folder the shells work in, which the sync reads (the server's workspace)."""
        return SandboxManager.instance().workspace_dir()

    # -- ending ---------------------------------------------------------------------------

    def on_eof(self, ptywclients: PtyWithClients) -> None:
        """Forget an ended terminal (once), remove its container and sync the workspace."""
        if self.ptys_by_fd.get(ptywclients.ptyproc.fd) is not ptywclients:
            return  # already ended
        self._paused.pop(ptywclients.ptyproc.fd, None)
        super().on_eof(ptywclients)
        executor = getattr(ptywclients, "input_executor", None)
        if isinstance(executor, ThreadPoolExecutor):
            executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(ptywclients, ContainerTerminal):
            removal = asyncio.ensure_future(asyncio.to_thread(ptywclients.ptyproc.remove))
            self._removals.add(removal)
            removal.add_done_callback(self._removed)
        self._sync_soon(0)

    def _removed(self, removal: asyncio.Future[None]) -> None:
        """Log a container that could not be removed (the start-up sweep takes it later)."""
        self._removals.discard(removal)
        if not removal.cancelled() and removal.exception() is not None:
            self.log.warning("Could not remove a terminal's container: %s", removal.exception())

    async def terminate(self, name: str, force: bool = False) -> None:
        """End the terminal; a sandboxed one is gone, container and all, when this returns."""
        self._check_terminal(name)
        term = self.terminals[name]
        fd = term.ptyproc.fd
        await super().terminate(name, force=force)
        unread = isinstance(term, ContainerTerminal) or fd in self._paused
        if unread and self.ptys_by_fd.get(fd) is term:
            self.on_eof(term)  # its end was not read yet (or never will be, paused): end it here
            for client in list(term.clients):
                client.on_pty_died()

    async def terminate_all(self) -> None:
        """End every terminal and wait until their containers are removed (server stop)."""
        self._stopping = True
        try:
            await super().terminate_all()
            if self._removals:
                await asyncio.gather(*self._removals, return_exceptions=True)
            if self._sync_timer is not None:
                IOLoop.current().remove_timeout(self._sync_timer)
                self._sync_timer = None
            if self._pause_timer is not None:
                IOLoop.current().remove_timeout(self._pause_timer)
                self._pause_timer = None
            if self._sync_task is not None:
                await asyncio.gather(self._sync_task, return_exceptions=True)
        finally:
            self._stopping = False
