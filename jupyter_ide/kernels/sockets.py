"""A sandboxed kernel's private socket folder: what the server connects to, what the sandbox sees.

One folder per kernel, inside a root folder private to the server's user (0700, checked)::

    <root>/<run>-<id>/              0700, the server's; never mounted
        connection.json             the server's view of the connection (the kernel manager's)
        kernel.json                 the kernel's view, mounted read-only at /jide/connection.json
                                    and emptied (mode 000) once the kernel has answered
        k-1, k-3                    the shell and stdin proxies' sockets (clients connect here)
        k-2, k-4, k-5 -> ipc/k-N    iopub, control, heartbeat: the kernel's (relative links)
        ipc/                        mounted at /jide/ipc; the kernel binds its sockets here

Inside the container the paths are short and fixed, whatever the host's path is; on the host a
socket path must stay under Linux's limit for unix socket paths, about 107 bytes
(``SandboxManager.socket_root`` picks a short private folder when the data dir is too deep).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.connect import write_connection_file

from .channelproxy import ChannelProxy, async_context
from .profile import BindMount, sandbox_owner

KERNEL_DIR = "/jide"
IPC_INSIDE = f"{KERNEL_DIR}/ipc"
CONNECTION_INSIDE = f"{KERNEL_DIR}/connection.json"
SOCKET_PREFIX = "k"
PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
PROXIED = ("shell_port", "stdin_port")  # the server's own sockets, forwarding to the kernel's
LINKED = ("iopub_port", "control_port", "hb_port")
# sun_path holds 108 bytes with its final NUL.
IPC_PATH_MAX = 107
FOLDER_NAME_LENGTH = 21  # "<run id, 12>-<random, 8>"
# A kernel that has bound its sockets has long read its connection file by then.
SCRUB_AT_THE_LATEST = 30.0
LONGEST_TAIL = len(f"/{'x' * FOLDER_NAME_LENGTH}/ipc/{SOCKET_PREFIX}-{max(PORTS.values())}")


class UnsafeSocketFolder(RuntimeError):
    """A folder for kernel sockets exists but is not private to the server's user."""


def fits_socket_paths(root: Path) -> bool:
    """Whether every socket path of a kernel folder under ``root`` fits the ipc limit."""
    return len(os.fsencode(str(root))) + LONGEST_TAIL <= IPC_PATH_MAX


def ensure_private_dir(path: Path) -> Path:
    """Make ``path`` (0700) when missing; refuse it unless it is a real folder, ours, 0700."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass  # checked below, whoever made it
    else:
        path.chmod(0o700)  # whatever the umask
    info = path.lstat()
    problem = None
    if stat.S_ISLNK(info.st_mode):
        problem = "it is a symbolic link"
    elif not stat.S_ISDIR(info.st_mode):
        problem = "it is not a folder"
    elif info.st_uid != os.geteuid():
        problem = f"it belongs to uid {info.st_uid}, not to this server's uid {os.geteuid()}"
    elif stat.S_IMODE(info.st_mode) & 0o077:
        problem = f"its mode is {stat.S_IMODE(info.st_mode):04o}, not 0700"
    if problem:
        raise UnsafeSocketFolder(
            f"Refusing to keep kernel sockets in {path}: {problem}, so another user could "
            "reach the kernels. Remove it (jupyter-ide makes a private one) or set "
            "c.SandboxManager.ipc_root to a folder only this user can enter."
        )
    return path


class KernelSockets:
    """One kernel's socket folder, its two views of the connection and its channel proxies."""

    def __init__(self, folder: Path, key: bytes, signature_scheme: str = "hmac-sha256") -> None:
        """Describe the folder (``create`` makes it)."""
        self.folder = folder
        self.key = key
        self.signature_scheme = signature_scheme
        self.proxies: dict[str, ChannelProxy] = {}

    @classmethod
    def create(cls, folder: Path, key: bytes, signature_scheme: str) -> KernelSockets:
        """Make the folder and its ipc sub-folder (the sandbox user's) and link the channels."""
        folder.mkdir(mode=0o700)
        sockets = cls(folder, key, signature_scheme)
        sockets.ipc.mkdir(mode=0o700)
        owner = sandbox_owner()
        if owner is not None:
            os.chown(sockets.ipc, *owner)
        sockets.link()
        return sockets

    @property
    def ipc(self) -> Path:
        """The folder the kernel binds its sockets in (mounted at /jide/ipc)."""
        return self.folder / "ipc"

    @property
    def host_ip(self) -> str:
        """The ipc prefix clients on the host use."""
        return str(self.folder / SOCKET_PREFIX)

    @property
    def host_file(self) -> Path:
        """The server's connection file."""
        return self.folder / "connection.json"

    @property
    def kernel_file(self) -> Path:
        """The kernel's connection file (mounted read-only, emptied once the kernel answers)."""
        return self.folder / "kernel.json"

    def _info(self, ip: str) -> dict[str, Any]:
        return {
            "transport": "ipc",
            "ip": ip,
            **PORTS,
            "key": self.key.decode(),
            "signature_scheme": self.signature_scheme,
        }

    def host_info(self) -> dict[str, Any]:
        """Return the connection info for clients on the host."""
        return self._info(self.host_ip)

    def kernel_paths(self) -> list[Path]:
        """Return the socket files the kernel binds (on the host's side of the mount)."""
        return [self.ipc / f"{SOCKET_PREFIX}-{port}" for port in PORTS.values()]

    def mounts(self) -> tuple[BindMount, ...]:
        """Return the ipc folder and the connection file mounts (fixed paths inside)."""
        return (
            BindMount(self.ipc, target=IPC_INSIDE),
            BindMount(self.kernel_file, read_only=True, target=CONNECTION_INSIDE),
        )

    def link(self) -> None:
        """(Re)make the links from the host's channel paths to the kernel's sockets."""
        for name in LINKED:
            link = self.folder / f"{SOCKET_PREFIX}-{PORTS[name]}"
            if not link.is_symlink():
                link.unlink(missing_ok=True)
                link.symlink_to(Path("ipc") / link.name)

    def prepare(self, kernel_name: str) -> None:
        """Before a container starts: its connection file, the links and the shell proxy.

        A restart passes here too: the kernel manager removed the host's socket paths.
        """
        write_connection_file(
            str(self.kernel_file),
            ip=f"{IPC_INSIDE}/{SOCKET_PREFIX}",
            key=self.key,
            transport="ipc",
            signature_scheme=self.signature_scheme,
            kernel_name=kernel_name,
            shell_port=PORTS["shell_port"],
            iopub_port=PORTS["iopub_port"],
            stdin_port=PORTS["stdin_port"],
            control_port=PORTS["control_port"],
            hb_port=PORTS["hb_port"],
        )
        owner = sandbox_owner()
        if owner is not None:
            os.chown(self.kernel_file, *owner)
        self.kernel_file.chmod(0o400)
        self.link()
        for name in PROXIED:
            frontend = self.folder / f"{SOCKET_PREFIX}-{PORTS[name]}"
            proxy = self.proxies.get(name)
            if proxy is not None and (not proxy.running or not frontend.exists()):
                proxy.stop()  # the kernel manager removed its socket path (a restart)
                proxy = None
            if proxy is None:
                frontend.unlink(missing_ok=True)
                proxy = ChannelProxy(frontend, self.ipc / frontend.name, name == "shell_port")
                proxy.start()
                self.proxies[name] = proxy

    @property
    def capture_url(self) -> str | None:
        """Where copies of the shell channel's messages are published (once prepared)."""
        shell = self.proxies.get("shell_port")
        return shell.capture_url if shell is not None else None

    def scrub(self) -> None:
        """Empty the kernel's connection file and take every permission off it.

        The container keeps its read-only mount of the same file, so from now on the key is
        not there to read.
        """
        with contextlib.suppress(FileNotFoundError):
            self.kernel_file.chmod(0o600)
            os.truncate(self.kernel_file, 0)
            self.kernel_file.chmod(0)

    def close(self) -> None:
        """Stop the channel proxies (blocking)."""
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()


async def scrub_once_answered(sockets: KernelSockets, timeout: float = SCRUB_AT_THE_LATEST) -> None:
    """Scrub the kernel's connection file once it has answered on its shell channel.

    ipykernel reads the file, binds its sockets and then reads the file once more (to compare)
    before it answers anything; scrubbing earlier could break its start.
    """
    capture_url = sockets.capture_url
    if capture_url is None:
        return
    socket = async_context().socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    socket.connect(capture_url)
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not await socket.poll(left * 1000):
                break
            if _is_reply(await socket.recv_multipart()):
                break
    finally:
        socket.close(linger=0)
    await asyncio.to_thread(sockets.scrub)


def _is_reply(frames: list[bytes]) -> bool:
    """Whether a shell message is a reply (which only a started kernel sends)."""
    try:
        header = json.loads(frames[frames.index(b"<IDS|MSG>") + 2])
        return str(header.get("msg_type", "")).endswith("_reply")
    except (ValueError, IndexError, AttributeError):
        return False
