"""C and C++ programs compiled with -g and run under lldb-vscode in a sandbox of the user's.

One container per debug session, started with the kernels' hardened profile (no network,
every capability dropped, no-new-privileges, read-only root, limits) through the language
servers' stdio launcher. Inside, a shell reads exactly the source's bytes from stdin, compiles
it (compiler messages on stderr) and becomes lldb-vscode, which reads DAP from the rest of
stdin. lldb debugs its own child: ptrace of a child by the same uid needs no capability.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from docker.errors import ImageNotFound
from traitlets import Dict, Unicode
from traitlets.config import LoggingConfigurable

from ..kernels.image_names import image_for
from ..kernels.sandbox import SandboxManager, SandboxUnavailable
from ..lsp.launch import StdioContainer, StdioLaunch, start_stdio_container
from .protocol import PROGRAM, SOURCE_DIR, Start

KIND = "dap"
COMPILERS = {
    "c": ["gcc", "-std=gnu17", "-g", "-O0", "-Wall", "-o", PROGRAM, "{source}", "-lm"],
    "cpp": ["g++", "-std=gnu++17", "-g", "-O0", "-Wall", "-o", PROGRAM, "{source}"],
}
COMPILE_FAILED = 3


class DebugUnavailable(RuntimeError):
    """The debugger cannot start (no engine, no image); the message says how to fix it."""


def shell_script(language: str, start: Start) -> str:
    """Return the container's shell: read the source, compile it, become the debug adapter."""
    size = len(start.source.encode("utf-8"))
    compile_argv = [a.replace("{source}", start.path) for a in COMPILERS[language]]
    return (
        f"mkdir -p {SOURCE_DIR} && "
        f"dd bs=1 count={size} of={shlex.quote(start.path)} 2>/dev/null && "
        f"{shlex.join(compile_argv)} 1>&2 || exit {COMPILE_FAILED}; "
        "exec lldb-vscode-14"
    )


class DebugAdapters(LoggingConfigurable):
    """Start debug adapters in sandboxes."""

    adapter = Unicode(
        "lldb-vscode-14", help="The DAP server in the c and cpp images (lldb's)."
    ).tag(config=True)

    images = Dict(help="Image per language for debug sessions (empty: the kernels' images).").tag(
        config=True
    )

    def __init__(self, sandbox: SandboxManager, **kwargs: object) -> None:
        """Debug in ``sandbox``'s containers."""
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.running: set[StdioContainer] = set()

    def time_limit(self) -> float:
        """Return the run's time limit, in CPU seconds (the sandbox's default)."""
        return float(self.sandbox.limits_for({}).time_limit)

    async def workspace(self, owner: str) -> Path:
        """Open and return ``owner``'s workspace folder."""
        try:
            return await self.sandbox.open_workspace(owner if self.sandbox.multi_user else "")
        except SandboxUnavailable as e:
            raise DebugUnavailable(str(e)) from e

    async def start(self, owner: str, language: str, start: Start) -> StdioContainer:
        """Start ``start``'s program for ``owner`` and write its source to the adapter's stdin."""
        mode = await asyncio.to_thread(self.sandbox.effective_mode)
        if mode != "docker":
            raise DebugUnavailable(
                "The C/C++ debugger runs only in Docker sandboxes, and no Docker engine answers "
                "(or JUPYTER_IDE_SANDBOX=local): start dockerd or set DOCKER_HOST."
            )
        image = str(self.images.get(language) or image_for(language))
        script = shell_script(language, start).replace("lldb-vscode-14", self.adapter)
        launch = StdioLaunch(
            image=image,
            argv=["sh", "-c", script],
            workspace=await self.workspace(owner),
            kind=KIND,
            owner=owner if self.sandbox.multi_user else None,
        )
        try:
            started = await start_stdio_container(self.sandbox, launch)
        except ImageNotFound as e:
            raise DebugUnavailable(
                f"The image {image} is missing: build it with `jupyter ide images build --offline`."
            ) from e
        self.running.add(started)
        await started.write(start.source.encode("utf-8"))
        return started

    async def remove(self, started: StdioContainer) -> None:
        """Remove a session's sandbox (the program and the adapter with it)."""
        self.running.discard(started)
        await started.remove()

    async def stop_all(self) -> None:
        """Remove every session's sandbox (the server is stopping)."""
        for started in list(self.running):
            await self.remove(started)
