"""Tell, from /proc, whether a program is blocked waiting to read the stdin pipe we hold.

A compiled program reads stdin with ``read`` (C, C++, Java, Go, Rust, bash) or waits for it
in ``epoll``/``poll`` (Node.js). When every such wait in the program's process group targets
our pipe and the pipe is empty, the kernel asks the user for a line (``input_request``).
"""

from __future__ import annotations

import fcntl
import os
import platform
import struct
import termios

# Syscall numbers per architecture: reads that take the fd as first argument, epoll waits
# (first argument: the epoll fd) and poll waits (first two: the pollfd array and its length).
_SYSCALLS: dict[str, tuple[frozenset[int], frozenset[int], frozenset[int]]] = {
    "x86_64": (
        frozenset({0, 17, 19, 295, 327}),  # read, pread64, readv, preadv, preadv2
        frozenset({232, 281, 441}),  # epoll_wait, epoll_pwait, epoll_pwait2
        frozenset({7, 271}),  # poll, ppoll
    ),
    "aarch64": (
        frozenset({63, 65, 67, 69, 286}),  # read, readv, pread64, preadv, preadv2
        frozenset({22, 441}),  # epoll_pwait, epoll_pwait2
        frozenset({73}),  # ppoll
    ),
}
_READS, _EPOLLS, _POLLS = _SYSCALLS.get(platform.machine(), (frozenset(), frozenset(), frozenset()))
READ = "read"
POLL = "poll"
_EPOLLIN = 0x001
_POLLIN = 0x001
_MAX_POLL_FDS = 256


def pipe_inode(fd: int) -> int:
    """Return the inode number of the pipe behind ``fd``."""
    return os.fstat(fd).st_ino


def pipe_pending(fd: int) -> int:
    """Return how many bytes wait unread in the pipe behind ``fd`` (FIONREAD)."""
    buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int(struct.unpack("i", buf)[0])


def group_pids(pgid: int) -> list[int]:
    """Return the live processes of one process group."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == pgid:
            pids.append(int(name))
    return pids


def _is_pipe(pid: int, fd: int, inode: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}") == f"pipe:[{inode}]"
    except OSError:
        return False


def _epoll_watches(pid: int, epfd: int, inode: int) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{epfd}") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for line in lines:
        if not line.startswith("tfd:"):
            continue
        parts = line.split()
        try:
            tfd = int(parts[1])
            events = int(parts[3], 16)
        except (IndexError, ValueError):
            continue
        if events & _EPOLLIN and _is_pipe(pid, tfd, inode):
            return True
    return False


def _poll_watches(pid: int, address: int, count: int, inode: int) -> bool:
    if not 0 < count <= _MAX_POLL_FDS:
        return False
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    except OSError:
        return False
    try:
        raw = os.pread(fd, 8 * count, address)
    except OSError:
        return False
    finally:
        os.close(fd)
    for i in range(len(raw) // 8):
        target, events, _ = struct.unpack_from("ihh", raw, 8 * i)
        if target >= 0 and events & _POLLIN and _is_pipe(pid, target, inode):
            return True
    return False


def _thread_waits(pid: int, tid: str, inode: int) -> str:
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall") as f:
            parts = f.read().split()
    except OSError:
        return ""
    if len(parts) < 3 or not parts[0].lstrip("-").isdigit():
        return ""  # "running", or no access
    number = int(parts[0])
    try:
        first, second = int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return ""
    if number in _READS:
        return READ if _is_pipe(pid, first, inode) else ""
    if number in _EPOLLS:
        return POLL if _epoll_watches(pid, first, inode) else ""
    if number in _POLLS:
        return POLL if _poll_watches(pid, first, second, inode) else ""
    return ""


def waiting_for_stdin(pgid: int, inode: int) -> str:
    """How a thread of process group ``pgid`` waits on pipe ``inode``: READ, POLL or ``""``.

    A blocking read is certain; a poll only says the program listens to stdin (an event loop
    such as Node's keeps the pipe registered for a while after it stopped reading).
    """
    found = ""
    for pid in group_pids(pgid):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            kind = _thread_waits(pid, tid, inode)
            if kind == READ:
                return READ
            found = found or kind
    return found
