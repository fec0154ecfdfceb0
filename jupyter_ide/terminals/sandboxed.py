"""A terminal whose shell runs in a sandbox container, spoken to through the engine's attach API.

The container gets the hardened profile every sandbox has (kernels/profile.py) plus a TTY and
an open stdin: nothing else. Its only process (under the engine's init) is the shell; the
server attaches to it before it starts (so no output is lost), reads and writes that one
connection as terminado reads and writes a pty, and resizes it through the engine. When the
shell exits the engine ends the connection; the container is then removed.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import DockerException
from docker.models.containers import Container
from terminado.management import PtyWithClients

from ..kernels.containers import WORKSPACE_INSIDE, path_inside, remove_container, signal_container
from ..kernels.profile import (
    LABEL_PREFIX,
    BindMount,
    SandboxLimits,
    SandboxSpec,
    container_options,
)
from ..kernels.sandbox import SandboxManager

log = logging.getLogger(__name__)

LABEL_TERMINAL = LABEL_PREFIX + "terminal"  # the terminal's name (kind=terminal)
SHELL = ["/bin/bash"]
# The engine watches stdin for a "detach" key sequence (ctrl-p ctrl-q unless told otherwise);
# those keys belong to the shell (ctrl-p is bash's previous line). This one nobody types.
DETACH_KEYS = "ctrl-],ctrl-@,ctrl-^,ctrl-_"
INITIAL_SIZE = (24, 80)
WRITE_TIMEOUT = 10.0  # seconds a shell may take no input before what is left is dropped


@dataclass(frozen=True)
class TerminalLaunch:
    """Everything one terminal's container needs."""

    image: str
    limits: SandboxLimits
    labels: Mapping[str, str]
    workspace: Path
    cwd: Path
    env: Mapping[str, str]


def terminal_spec(launch: TerminalLaunch) -> SandboxSpec:
    """Return the sandbox spec of a terminal: the workspace at /workspace, the shell in cwd."""
    return SandboxSpec(
        image=launch.image,
        command=list(SHELL),
        limits=launch.limits,
        labels=dict(launch.labels),
        env=dict(launch.env),
        mounts=(BindMount(launch.workspace, target=WORKSPACE_INSIDE),),
        working_dir=path_inside(launch.cwd, launch.workspace),
    )


def terminal_options(launch: TerminalLaunch) -> dict[str, Any]:
    """Return the hardened profile's container options, plus the TTY and stdin of a shell."""
    options = container_options(terminal_spec(launch))
    options.update(tty=True, stdin_open=True)
    return options


class ContainerPty:
    """The attach connection of a container, with the interface terminado expects of a pty."""

    delayafterterminate = 0.1

    def __init__(self, container: Container, connection: Any) -> None:
        """Wrap the container and its attach connection (docker's socket wrapper or a socket)."""
        self.container = container
        self._connection = connection  # keeps docker's wrapper (and its response) alive
        self._sock: socket.socket = getattr(connection, "_sock", connection)
        self._sock.settimeout(None)  # reads and writes say MSG_DONTWAIT; writes poll
        self.fd = self._sock.fileno()
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._size = INITIAL_SIZE
        self._applied: tuple[int, int] | None = None
        self._resize_lock = threading.Lock()
        self._resizing = False
        self._stalled = False  # the shell stopped taking input: drop what comes
        self._dropped = 0
        self.removed = False

    @classmethod
    def start(cls, manager: SandboxManager, launch: TerminalLaunch) -> ContainerPty:
        """Create the container, attach to it, then start it (blocking: call off the loop)."""
        container = manager.client.containers.create(**terminal_options(launch))
        try:
            connection = manager.client.api.attach_socket(
                container.id,
                params={
                    "stdin": 1,
                    "stdout": 1,
                    "stderr": 1,
                    "stream": 1,
                    "detachKeys": DETACH_KEYS,
                },
            )
            pty = cls(container, connection)
            container.start()
        except BaseException:
            remove_container(container)
            raise
        pty.apply_size()
        return pty

    # -- what terminado calls -------------------------------------------------------------

    def read(self, size: int) -> str:
        """Return what the shell wrote ("" when nothing is waiting); EOFError once it ended."""
        try:
            data = self._sock.recv(size, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return ""
        except OSError as e:
            raise EOFError(str(e)) from e
        if not data:
            raise EOFError("the shell's container ended")
        return str(self.decoder.decode(data))

    def write(self, text: str) -> None:
        """Send keystrokes to the shell; drop them once it has ended or stopped reading.

        A shell that takes no input for WRITE_TIMEOUT seconds loses the rest of it, and
        what is typed next is dropped at once until it reads again: a flood of input never
        holds the thread that writes it for longer than that.
        """
        data = memoryview(text.encode("utf-8"))
        poller = select.poll()
        poller.register(self._sock, select.POLLOUT)
        if self._stalled:
            if not poller.poll(0):
                self._dropped += len(data)
                return
            self._stalled = False
            if self._dropped:
                log.info(
                    "Terminal %s: its shell reads again; %d bytes typed meanwhile were dropped",
                    self.container.short_id,
                    self._dropped,
                )
                self._dropped = 0
        deadline = time.monotonic() + WRITE_TIMEOUT
        while data:
            try:
                data = data[self._sock.send(data, socket.MSG_DONTWAIT) :]
                continue
            except BlockingIOError:
                pass
            except OSError as e:
                log.debug("Terminal input dropped, its container ended: %s", e)
                return
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                self._stalled = True
                self._dropped += len(data)
                return

    def getwinsize(self) -> tuple[int, int]:
        """Return the size last asked for, as (rows, cols)."""
        return self._size

    def setwinsize(self, rows: int, cols: int) -> None:
        """Resize the container's TTY in a thread: the event loop never waits on the engine.

        One thread at a time: sizes asked for while it works are merged into the latest.
        """
        with self._resize_lock:
            self._size = (int(rows), int(cols))
            if self._resizing:
                return
            self._resizing = True
        threading.Thread(target=self.apply_size, name="terminal-resize", daemon=True).start()

    def apply_size(self) -> None:
        """Give the TTY the latest size asked for, until it holds (blocking)."""
        while True:
            with self._resize_lock:
                size = self._size
                if size == self._applied or self.removed:
                    self._resizing = False
                    return
            try:
                self.container.resize(height=size[0], width=size[1])
            except DockerException as e:
                log.debug("Could not resize terminal container %s: %s", self.container.short_id, e)
                with self._resize_lock:
                    self._resizing = False
                return
            with self._resize_lock:
                self._applied = size

    def isalive(self) -> bool:
        """Whether the connection to the shell is still open."""
        return self._sock.fileno() != -1

    def kill(self, sig: int = signal.SIGTERM) -> None:
        """Send a signal to the shell (through the container's init)."""
        signal_container(self.container, sig)

    def remove(self) -> None:
        """Remove the container and the shell with it (blocking); the connection then ends."""
        if not self.removed:
            self.removed = True
            remove_container(self.container)

    def close(self) -> None:
        """Close the connection (terminado calls this at EOF)."""
        for closable in (self._connection, self._sock):
            try:
                closable.close()
            except OSError:
                pass


class ContainerTerminal(PtyWithClients):
    """terminado's terminal (clients, replay buffer, resize), its shell in a container."""

    def __init__(self, ptyproc: ContainerPty) -> None:
        """Wrap a started container's connection (terminado's own __init__ spawns a process)."""
        self.clients: list[Any] = []
        self.read_buffer: deque[str] = deque(maxlen=1000)
        self.ptyproc = ptyproc
        self.term_name: str | None = None

    @property
    def container(self) -> Container:
        """The terminal's container."""
        return self.ptyproc.container

    def kill(self, sig: int = signal.SIGTERM) -> None:
        """Send a signal to the shell."""
        self.ptyproc.kill(sig)

    def killpg(self, sig: int = signal.SIGTERM) -> None:
        """Send a signal to the shell (its container is its process group)."""
        self.ptyproc.kill(sig)

    async def terminate(self, force: bool = False) -> bool:
        """Remove the container, whatever runs in it; True once it is gone."""
        await asyncio.to_thread(self.ptyproc.remove)
        return True
