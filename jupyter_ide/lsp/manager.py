"""The language-server manager: every user's sessions, their sandboxes, idle shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from pathlib import Path
from typing import Any

from docker.errors import ImageNotFound
from traitlets import Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from ..kernels.image_names import image_for
from ..kernels.profile import BindMount
from ..kernels.sandbox import SandboxManager, SandboxUnavailable
from ..server_extension.settings import data_dir
from .launch import StdioContainer, StdioLaunch, start_stdio_container
from .session import LspSession, ServerUnavailable
from .specs import COMPILE_FLAGS, COMPILE_FLAGS_INSIDE, SPEC_VERSION, ServerSpec, default_specs
from .uris import file_uri

KIND = "lsp"  # the containers' kind label
LABEL_SERVER_KEY = "jupyter-ide.lsp-server"


class WarmLimited(RuntimeError):
    """The user started too many servers ahead of use lately (the message says so)."""


class LspManager(LoggingConfigurable):
    """One per server: the specs, and one session per (user, language server)."""

    idle_timeout = Float(
        600.0,
        help="Seconds a language server may go without a message either way before its "
        "container is removed (the next message starts a new one, given the open documents).",
    ).tag(config=True)

    image_repository = Unicode(
        "",
        help="Run the servers in <repository>/<language>:<version> instead of the kernels' "
        "images (empty: the kernels' images).",
    ).tag(config=True)

    warm_starts = Int(
        4,
        help="Servers one user may have started ahead of use (POST /lsp/warm) per "
        "warm_window seconds; more is a 429. Servers already running do not count.",
    ).tag(config=True)

    warm_window = Float(60.0, help="Seconds over which warm_starts is counted.").tag(config=True)

    def __init__(self, sandbox: SandboxManager, **kwargs: Any) -> None:
        """Serve language servers in ``sandbox``'s containers."""
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.specs: dict[str, ServerSpec] = default_specs()
        self.sessions: dict[tuple[str, str], LspSession] = {}
        self._idle_task: asyncio.Task[None] | None = None
        self._warmed: dict[str, deque[float]] = {}

    # -- status ---------------------------------------------------------------------------

    def status(self, owner: str, root_uri: str) -> dict[str, Any]:
        """Return /lsp/status for ``owner``: jupyter-lsp's keys (version, sessions, specs)."""
        # Every server is listed under sessions, "not_started" until used, as jupyter-lsp does:
        # JupyterLab's own LSP client connects only to the servers listed there.
        sessions = {
            key: {
                "handler_count": 0,
                "status": "not_started",
                "last_server_message_at": None,
                "last_handler_message_at": None,
                "spec": spec.status_spec(),
            }
            for key, spec in sorted(self.specs.items())
        }
        sessions.update(
            (key, session.to_json())
            for (who, key), session in sorted(self.sessions.items())
            if who == owner
        )
        return {
            "version": SPEC_VERSION,
            "sessions": sessions,
            "specs": {key: spec.status_spec() for key, spec in sorted(self.specs.items())},
            "root_uri": root_uri,
        }

    async def workspace(self, owner: str) -> Path:
        """Open and return ``owner``'s workspace folder (the one their kernels mount)."""
        try:
            return await self.sandbox.open_workspace(owner if self.sandbox.multi_user else "")
        except SandboxUnavailable as e:
            raise ServerUnavailable(str(e)) from e

    async def root_uri(self, owner: str) -> str:
        """Return the file URI of ``owner``'s workspace, the browser's root."""
        return file_uri(await self.workspace(owner))

    # -- sessions -------------------------------------------------------------------------

    def session(self, owner: str, key: str) -> LspSession:
        """Return ``owner``'s session of server ``key`` (made on first use); KeyError if none."""
        spec = self.specs[key]
        session = self.sessions.get((owner, key))
        if session is None:

            async def starter() -> StdioContainer:
                return await self._start(owner, spec)

            session = LspSession(owner, spec, starter)
            self.sessions[(owner, key)] = session
            self._ensure_idle_watch()
        return session

    def server_for(self, language: str) -> str | None:
        """Return the key of the server of ``language`` (a spec's language or key), if any."""
        wanted = language.lower()
        for key, spec in sorted(self.specs.items()):
            if wanted == key or wanted in spec.languages:
                return key
        return None

    async def warm(self, owner: str, key: str) -> str:
        """Start ``owner``'s server ``key`` ahead of use: "running" or "started".

        WarmLimited when the user started warm_starts servers in the last warm_window seconds.
        """
        session = self.session(owner, key)
        if session.process is not None:
            session.last_activity = time.monotonic()
            return "running"
        now = time.monotonic()
        starts = self._warmed.setdefault(owner, deque())
        while starts and now - starts[0] > self.warm_window:
            starts.popleft()
        if len(starts) >= self.warm_starts:
            raise WarmLimited(
                f"{len(starts)} language servers were started ahead of use in the last "
                f"{self.warm_window:g} s: the next one starts when a file is opened"
            )
        starts.append(now)
        return "started" if await session.warm() else "running"

    async def _start(self, owner: str, spec: ServerSpec) -> StdioContainer:
        """Start ``spec``'s server in a new sandbox of ``owner``'s."""
        mode = await asyncio.to_thread(self.sandbox.effective_mode)
        if mode != "docker":
            raise ServerUnavailable(
                "Language servers run only in Docker sandboxes, and no Docker engine answers "
                "(or JUPYTER_IDE_SANDBOX=local): start dockerd or set DOCKER_HOST."
            )
        workspace = await self.workspace(owner)
        mounts: tuple[BindMount, ...] = ()
        if spec.compile_flags:
            mounts = (
                BindMount(self._compile_flags(), read_only=True, target=COMPILE_FLAGS_INSIDE),
            )
        image = self._image(spec.language)
        launch = StdioLaunch(
            image=image,
            argv=list(spec.argv),
            workspace=workspace,
            kind=KIND,
            owner=owner if self.sandbox.multi_user else None,
            labels={LABEL_SERVER_KEY: spec.key},
            env=spec.env,
            mounts=mounts,
            via_socket=spec.via_socket,
        )
        try:
            return await start_stdio_container(self.sandbox, launch)
        except ImageNotFound as e:
            raise ServerUnavailable(
                f"The image {image} is missing: build it with `jupyter ide images build --offline`."
            ) from e

    def _image(self, language: str) -> str:
        """Return the image a language's server runs in."""
        if self.image_repository:
            return image_for(language).replace("jupyter-ide", self.image_repository, 1)
        return image_for(language)

    def _compile_flags(self) -> Path:
        """Return the host file mounted as /compile_flags.txt (written when missing)."""
        path = data_dir() / "lsp" / "compile_flags.txt"
        if not path.is_file() or path.read_text() != COMPILE_FLAGS:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(COMPILE_FLAGS)
            path.chmod(0o644)
        return path

    # -- idle shutdown --------------------------------------------------------------------

    def _ensure_idle_watch(self) -> None:
        """Start the task that removes idle servers (once)."""
        if self._idle_task is None or self._idle_task.done():
            self._idle_task = asyncio.ensure_future(self._watch_idle())

    async def _watch_idle(self) -> None:
        """Every few seconds, stop servers idle for longer than idle_timeout."""
        while self.sessions:
            await asyncio.sleep(max(0.2, min(self.idle_timeout / 4, 5.0)))
            now = time.monotonic()
            for key, session in list(self.sessions.items()):
                if now - session.last_activity < self.idle_timeout or session.busy:
                    continue
                if session.process is not None:
                    await session.stop(f"idle for {self.idle_timeout:g} s")
                if not session.clients:
                    self.sessions.pop(key, None)

    async def stop_all(self) -> None:
        """Remove every server's container (the server stops)."""
        if self._idle_task is not None:
            self._idle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._idle_task
        sessions = list(self.sessions.values())
        await asyncio.gather(
            *(s.stop("the server stops") for s in sessions), return_exceptions=True
        )
        self.sessions.clear()
