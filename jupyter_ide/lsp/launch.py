"""Start a program in a sandbox container of a user's, its stdin and stdout attached.

Reusable for anything that speaks over stdio (language servers, debug adapters): the
container has the kernels' hardened profile (kernels/profile.py: no network, read-only root,
limits), the user's workspace at /workspace and nothing of the server's environment but
what the launch names. The server attaches before the container starts, so no output is
lost; the engine's multiplexed stream is split into stdout (read with ``read``/``readexactly``
/``readuntil`` on ``stdout``) and stderr (kept, last lines only, for the logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.models.containers import Container

from ..kernels.containers import WORKSPACE_INSIDE, container_state, remove_container
from ..kernels.profile import BindMount, SandboxLimits, SandboxSpec, container_options
from ..kernels.sandbox import SandboxManager

log = logging.getLogger(__name__)

STDOUT, STDERR = 1, 2
STDERR_LINES = 50
READ_CHUNK = 65536


@dataclass(frozen=True)
class StdioLaunch:
    """One program to run in a sandbox of ``owner``'s, over their workspace."""

    image: str
    argv: list[str]
    workspace: Path
    kind: str  # the containers' kind label ("lsp", "dap", ...)
    owner: str | None = None  # None: the server's user
    limits: SandboxLimits | None = None  # None: the kernels' limits
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # set as given (no allowlist)
    mounts: tuple[BindMount, ...] = ()  # besides the workspace
    working_dir: str = WORKSPACE_INSIDE


def stdio_options(manager: SandboxManager, launch: StdioLaunch) -> dict[str, Any]:
    """Return the hardened profile's container options for ``launch``, stdin open."""
    labels = manager.labels(launch.kind, launch.owner)
    labels.update(launch.labels)
    spec = SandboxSpec(
        image=launch.image,
        command=list(launch.argv),
        limits=launch.limits or manager.limits_for({}),
        labels=labels,
        mounts=(BindMount(launch.workspace, target=WORKSPACE_INSIDE), *launch.mounts),
        working_dir=launch.working_dir,
    )
    options = container_options(spec)
    options["environment"] = {**options["environment"], **launch.env}
    options.update(stdin_open=True, tty=False)
    return options


class StdioContainer:
    """A started container: write to its stdin, read its stdout, remove it."""

    def __init__(self, container: Container, connection: Any, stdout: asyncio.StreamReader):
        """Wrap a container and its attach connection (docker's socket wrapper)."""
        self.container = container
        self._connection = connection  # keeps docker's wrapper (and its response) alive
        self.stdout = stdout
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self.removed = False

    @property
    def short_id(self) -> str:
        """The container's short id, for logs."""
        return str(self.container.short_id)

    async def write(self, data: bytes) -> None:
        """Send bytes to the program's stdin; ConnectionError once it has ended."""
        if self._writer is None or self._writer.is_closing():
            raise ConnectionError("the program's container has ended")
        self._writer.write(data)
        await self._writer.drain()

    async def _demux(self, reader: asyncio.StreamReader) -> None:
        """Split the engine's stream into stdout (fed to ``stdout``) and stderr (kept)."""
        partial = b""
        try:
            while True:
                header = await reader.readexactly(8)
                kind, size = header[0], struct.unpack(">I", header[4:])[0]
                payload = await reader.readexactly(size)
                if kind == STDOUT:
                    self.stdout.feed_data(payload)
                elif kind == STDERR:
                    lines = (partial + payload).split(b"\n")
                    partial = lines.pop()[-4096:]
                    for line in lines:
                        self.stderr.append(line.decode("utf-8", "replace"))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.stdout.feed_eof()

    async def exit_state(self) -> dict[str, Any]:
        """Return the container's State block ({} once it is removed)."""
        return await asyncio.to_thread(container_state, self.container)

    async def remove(self) -> None:
        """Remove the container (the program with it) and close the connection."""
        if not self.removed:
            self.removed = True
            await asyncio.to_thread(remove_container, self.container)
        if self._writer is not None:
            self._writer.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump

    @classmethod
    async def start(cls, manager: SandboxManager, launch: StdioLaunch) -> StdioContainer:
        """Create the container, attach to it, start it; return it with its streams."""
        options = stdio_options(manager, launch)

        def create_and_attach() -> tuple[Container, Any]:
            container = manager.client.containers.create(**options)
            try:
                connection = manager.client.api.attach_socket(
                    container.id,
                    params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1},
                )
            except BaseException:
                remove_container(container)
                raise
            return container, connection

        container, connection = await asyncio.to_thread(create_and_attach)
        try:
            raw: socket.socket = getattr(connection, "_sock", connection)
            raw.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=raw, limit=2**24)
            started = cls(container, connection, asyncio.StreamReader(limit=2**26))
            started._writer = writer
            started._pump = asyncio.ensure_future(started._demux(reader))
            await asyncio.to_thread(container.start)
        except BaseException:
            await asyncio.to_thread(remove_container, container)
            raise
        return started


async def start_stdio_container(manager: SandboxManager, launch: StdioLaunch) -> StdioContainer:
    """Start ``launch`` in a sandbox container (DockerException or OSError when it cannot)."""
    return await StdioContainer.start(manager, launch)
