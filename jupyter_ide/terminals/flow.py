"""Bounds on a terminal's output in the server: the replay buffer and each client's backlog.

terminado keeps the last 1000 reads of a terminal, whatever their size, to replay to a socket
that connects later, and writes every read to every socket at once: a browser that reads
slower than ``yes`` writes lets tornado's write buffer grow without end. Here the replay
buffer holds at most a number of bytes (its oldest output goes first), and the manager stops
reading a terminal while one of its sockets has more than a number of bytes waiting to be
sent (manager.py): the shell then waits on its full TTY, as it would on a slow serial line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any


def utf8_size(text: str) -> int:
    """Return the size of ``text`` in UTF-8 (lone surrogates count as replaced)."""
    return len(text.encode("utf-8", "replace"))


class ReplayBuffer(deque[str]):
    """terminado's replay deque, bounded in bytes instead of in reads."""

    def __init__(self, iterable: Iterable[str] = (), maxlen: int | None = None, *, limit: int = 0):
        """Hold at most ``limit`` bytes of text (0: no bound)."""
        super().__init__(iterable, maxlen)
        self.limit = limit
        self.size = sum(utf8_size(s) for s in self)
        self._trim()

    def append(self, text: str) -> None:
        """Add the newest output; forget the oldest beyond the bound."""
        super().append(text)
        self.size += utf8_size(text)
        self._trim()

    def appendleft(self, text: str) -> None:
        """Add output before the rest (a banner); it goes first when the bound is reached."""
        super().appendleft(text)
        self.size += utf8_size(text)
        self._trim()

    def popleft(self) -> str:
        """Remove and return the oldest output."""
        text = super().popleft()
        self.size -= utf8_size(text)
        return text

    def clear(self) -> None:
        """Forget everything."""
        super().clear()
        self.size = 0

    def _trim(self) -> None:
        """Drop the oldest output until the bound holds; cut a read larger than it."""
        if self.limit <= 0:
            return
        while self.size > self.limit and len(self) > 1:
            self.popleft()
        if self.size > self.limit:
            text = super().popleft()
            tail = text.encode("utf-8", "replace")[-self.limit :].decode("utf-8", "ignore")
            super().append(tail)
            self.size = utf8_size(tail)


def backlog(client: Any) -> int:
    """Return the bytes a terminal socket has written that are not sent yet (0 if unknown)."""
    return int(getattr(client, "pending_output", 0))


def lagging(clients: Iterable[Any], limit: int) -> list[Any]:
    """Return the open sockets with more than ``limit`` bytes waiting (none when limit <= 0)."""
    if limit <= 0:
        return []
    return [c for c in clients if backlog(c) > limit and not _closing(c)]


def _closing(client: Any) -> bool:
    """Whether the socket is closing or closed (it holds the terminal back no longer)."""
    connection = getattr(client, "ws_connection", None)
    return connection is None or bool(connection.is_closing())
