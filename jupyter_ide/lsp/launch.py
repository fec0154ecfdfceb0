"""Start a program in a sandbox container of a user's, its stdin and stdout attached.

Reusable for anything that speaks over stdio (language servers, debug adapters): the
container has the kernels' hardened profile (kernels/profile.py: no network, read-only root,
limits), the user's workspace at /workspace and nothing of the server's environment but
what the launch names. Two ways to reach its stdio:

- ``via_socket`` (the default): a private folder beside the kernels' socket folders is
  mounted at /ide-stdio; the server listens on a Unix socket there, and the container's
  first process (python -I, so no workspace module can shadow the few it imports) connects
  to it, makes the connection its stdin and stdout and execs the program. Every byte then
  goes straight between the two processes, never through the engine (whose attach stream
  adds a hop and its load to each message).
- the engine's attach API: the server attaches before the container starts, so no output
  is lost; the multiplexed stream is split into stdout and stderr.

Either way ``stdout`` is a StreamReader of the program's output and ``write`` sends to its
input; stderr lines are kept (the last ones) for the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import struct
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.models.containers import Container

from ..kernels.containers import WORKSPACE_INSIDE, container_state, remove_container
from ..kernels.profile import (
    BindMount,
    SandboxLimits,
    SandboxSpec,
    container_options,
    sandbox_owner,
)
from ..kernels.sandbox import SandboxManager

log = logging.getLogger(__name__)

STDOUT, STDERR = 1, 2
STDERR_LINES = 50
STDIO_INSIDE = "/ide-stdio"
SOCKET_NAME = "s"
CONNECT_TIMEOUT = 60.0  # seconds a started container may take to connect its stdio
# Run by the container's python in isolated mode: connect twice (one connection for stdin,
# one for stdout, each saying which it is: one socket shared by both would let a program's
# shutdown of its output end its input too), make them fds 0 and 1, become the program.
RELAY = (
    "import os,socket,sys\n"
    "for fd in (0,1):\n"
    " s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
    " s.connect(sys.argv[1])\n"
    " s.sendall(str(fd).encode())\n"
    " os.dup2(s.fileno(),fd)\n"
    " s.close()\n"
    "os.execvp(sys.argv[2],sys.argv[2:])\n"
)


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
    via_socket: bool = True  # stdio over a mounted Unix socket, not the engine's attach


def stdio_options(
    manager: SandboxManager, launch: StdioLaunch, stdio_folder: Path | None = None
) -> dict[str, Any]:
    """Return the hardened profile's container options for ``launch``.

    With ``stdio_folder`` the program's stdio is the socket there (mounted at /ide-stdio);
    without, stdin is left open for the engine's attach.
    """
    labels = manager.labels(launch.kind, launch.owner)
    labels.update(launch.labels)
    command = list(launch.argv)
    mounts = (BindMount(launch.workspace, target=WORKSPACE_INSIDE), *launch.mounts)
    if stdio_folder is not None:
        command = ["python", "-I", "-c", RELAY, f"{STDIO_INSIDE}/{SOCKET_NAME}", *command]
        mounts = (*mounts, BindMount(stdio_folder, target=STDIO_INSIDE))
    spec = SandboxSpec(
        image=launch.image,
        command=command,
        limits=launch.limits or manager.limits_for({}),
        labels=labels,
        mounts=mounts,
        working_dir=launch.working_dir,
    )
    options = container_options(spec)
    options["environment"] = {**options["environment"], **launch.env}
    options.update(stdin_open=stdio_folder is None, tty=False)
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
        self._listener: asyncio.Server | None = None
        self._folder: Path | None = None
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
            if self._folder is not None:  # its output went to the engine's log
                await asyncio.to_thread(self._keep_log_tail)
            await asyncio.to_thread(remove_container, self.container)
        if self._listener is not None:
            self._listener.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        if self._writer is not None:
            self._writer.close()
        if isinstance(self._connection, asyncio.StreamWriter):  # stdout's end (via socket)
            self._connection.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump

    def _keep_log_tail(self) -> None:
        """Keep the last lines the program wrote to stderr (the engine's log of it)."""
        with contextlib.suppress(Exception):
            tail = self.container.logs(stdout=False, stderr=True, tail=STDERR_LINES)
            for line in tail.decode("utf-8", "replace").splitlines():
                self.stderr.append(line)

    @classmethod
    async def start(cls, manager: SandboxManager, launch: StdioLaunch) -> StdioContainer:
        """Start the container; return it with its streams connected."""
        if launch.via_socket:
            return await cls._start_via_socket(manager, launch)
        return await cls._start_attached(manager, launch)

    @classmethod
    async def _start_via_socket(
        cls, manager: SandboxManager, launch: StdioLaunch
    ) -> StdioContainer:
        """Listen on a fresh socket folder, start the container, wait for it to connect."""
        manager.instances.hold()
        folder = manager.socket_root() / f"{manager.instance_id}-lsp{uuid.uuid4().hex[:8]}"
        folder.mkdir(mode=0o700)
        owner = sandbox_owner()
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        connected = asyncio.get_running_loop().create_future()
        ends: dict[bytes, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                which = await asyncio.wait_for(reader.readexactly(1), CONNECT_TIMEOUT)
            except (TimeoutError, asyncio.IncompleteReadError, OSError):
                writer.close()
                return
            if connected.done() or which not in (b"0", b"1") or which in ends:
                writer.close()  # one stdin and one stdout, nothing more
                return
            ends[which] = (reader, writer)
            if len(ends) == 2:
                connected.set_result((ends[b"1"][0], ends[b"0"][1]))

        listener: asyncio.Server | None = None
        container: Container | None = None
        try:
            listener = await asyncio.start_unix_server(
                on_connect, path=str(folder / SOCKET_NAME), limit=2**26
            )
            (folder / SOCKET_NAME).chmod(0o600)
            if owner is not None:
                os.chown(folder / SOCKET_NAME, *owner)
                os.chown(folder, *owner)
            options = stdio_options(manager, launch, folder)

            def create_and_start() -> Container:
                created = manager.client.containers.create(**options)
                try:
                    created.start()
                except BaseException:
                    remove_container(created)
                    raise
                return created

            container = await asyncio.to_thread(create_and_start)
            reader, writer = await _wait_connected(container, connected)
        except BaseException:
            if listener is not None:
                listener.close()
            if container is not None:
                await asyncio.to_thread(remove_container, container)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        started = cls(container, ends[b"1"][1], reader)
        started._writer = writer
        started._listener = listener
        started._folder = folder
        return started

    @classmethod
    async def _start_attached(cls, manager: SandboxManager, launch: StdioLaunch) -> StdioContainer:
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


async def _wait_connected(
    container: Container,
    connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Wait for the container's connection; ConnectionError if it ends or never connects."""
    deadline = asyncio.get_running_loop().time() + CONNECT_TIMEOUT
    while True:
        try:
            return await asyncio.wait_for(asyncio.shield(connected), 0.5)
        except TimeoutError:
            pass
        state = await asyncio.to_thread(container_state, container)
        if not state.get("Running", False):
            logs = await asyncio.to_thread(container.logs, tail=5)
            raise ConnectionError(
                "the program's container ended before it connected: "
                + logs.decode("utf-8", "replace").strip()[-500:]
            )
        if asyncio.get_running_loop().time() > deadline:
            raise ConnectionError(
                f"the program's container did not connect in {CONNECT_TIMEOUT:g} s"
            )


async def start_stdio_container(manager: SandboxManager, launch: StdioLaunch) -> StdioContainer:
    """Start ``launch`` in a sandbox container (DockerException or OSError when it cannot)."""
    return await StdioContainer.start(manager, launch)
