"""The live view's CRDT rooms: one pycrdt-websocket YRoom per (owner, file), peers by socket.

A room's document holds the file's text as the Y.Text ``source``, or a notebook in
jupyter_ydoc's YNotebook layout (live_documents.py). The owner's editors are
writable peers; a viewer (an instructor) is a read-only peer whose document changes are
dropped here, on the server, before the room sees them. The room's own awareness state names
who is viewing, so the owner's editor can say so. Rooms live in the process that serves the
socket (the service in hub mode) and are freed when no peer has been connected for a while.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from pycrdt import (
    Channel,
    Decoder,
    Doc,
    Text,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    read_message,
)
from pycrdt.websocket import YRoom

from .live_documents import RoomContent, content_for

if TYPE_CHECKING:
    from .live_relay import LiveRelay

log = logging.getLogger(__name__)

PRESENCE = ""  # the path of an owner's presence room: no text, only who is viewing
INBOX = 512  # messages a peer may have waiting before its socket is closed as too slow
EMPTY_STATE = b"\x00"  # the state vector of a document that holds nothing yet

Send = Callable[[bytes], Awaitable[None]]
Seed = Callable[[str, str], Awaitable[str]]


def state_clients(state: bytes) -> set[int]:
    """Return the client ids a Yjs state vector holds items of ({} for none or a bad one)."""
    try:
        decoder = Decoder(state)
        found = set()
        for _ in range(decoder.read_var_uint()):
            client, clock = decoder.read_var_uint(), decoder.read_var_uint()
            if clock > 0:
                found.add(client)
        return found
    except (RuntimeError, IndexError):
        return set()


class TooSlow(Exception):
    """A peer's waiting messages passed the limit."""


class PeerChannel(Channel):
    """A websocket as pycrdt sees a peer; a read-only peer may only ask for the document."""

    def __init__(self, send: Send, path: str, writable: bool, name: str) -> None:
        """Send through ``send``; ``writable`` says whether the peer's changes are applied."""
        self._send_to_peer = send
        self._path = path
        self.writable = writable
        self.name = name
        self.dropped = 0  # document changes of a read-only peer, refused
        self.first_state: bytes | None = None  # the state vector of the peer's first sync
        self._inbox: MemoryObjectSendStream[bytes]
        self._outbox: MemoryObjectReceiveStream[bytes]
        self._inbox, self._outbox = anyio.create_memory_object_stream[bytes](INBOX)

    @property
    def path(self) -> str:
        """The room's name, for pycrdt's logs."""
        return self._path

    def feed(self, message: bytes) -> None:
        """Queue a message the peer sent; raise TooSlow when too many wait."""
        try:
            self._inbox.send_nowait(message)
        except anyio.WouldBlock as e:
            raise TooSlow(f"more than {INBOX} messages waiting") from e
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def close(self) -> None:
        """End the peer's stream: the room stops serving it."""
        self._inbox.close()

    def allowed(self, message: bytes) -> bool:
        """Return whether the room may see ``message`` from this peer."""
        if len(message) < 2:
            return False
        if message[0] == YMessageType.SYNC and message[1] == YSyncMessageType.SYNC_STEP1:
            if self.first_state is None:
                try:
                    self.first_state = read_message(message[2:])
                except Exception:
                    return False
            return True
        # Updates, a sync's second step (the peer's own changes) and awareness: writers only.
        if self.writable:
            return True
        self.dropped += 1
        return False

    async def __anext__(self) -> bytes:
        """Return the next message the room may see; stop when the peer is gone."""
        while True:
            try:
                message = await self._outbox.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError) as e:
                raise StopAsyncIteration from e
            if self.allowed(message):
                return message

    async def send(self, message: bytes) -> None:
        """Send the room's message to the peer (a gone peer is skipped)."""
        try:
            await self._send_to_peer(message)
        except Exception:  # the socket closed meanwhile
            self.close()

    async def recv(self) -> bytes:
        """Return the next message (pycrdt's Channel interface)."""
        return await self.__anext__()


@dataclass
class Room:
    """A running room: its YRoom, the task serving it, who is in it."""

    owner: str
    path: str
    yroom: YRoom
    task: asyncio.Task[None]
    content: RoomContent
    peers: set[PeerChannel] = field(default_factory=set)
    idle_since: float | None = None

    @property
    def text(self) -> Text:
        """The file's text in the room's document."""
        return self.content.text


class LiveRooms:
    """Every room of this process, by (owner, path); who views whose workspace."""

    def __init__(self, seed: Seed, idle_seconds: float = 60.0, max_per_owner: int = 64) -> None:
        """Seed new rooms with ``seed(owner, path)`` (the saved text); free rooms idle so long."""
        self.seed = seed
        self.idle_seconds = idle_seconds
        self.max_per_owner = max_per_owner
        self.rooms: dict[tuple[str, str], Room] = {}
        self.viewers: dict[str, Counter[str]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.relay: LiveRelay | None = None  # rooms of other replicas (live_relay.py)

    def owner_rooms(self, owner: str) -> list[Room]:
        """Return the rooms of one owner's files."""
        return [room for (o, _), room in self.rooms.items() if o == owner]

    def open_paths(self, owner: str) -> list[str]:
        """Return the files the owner has open in an editor now, here or on another replica."""
        remote = self.relay.open_paths(owner) if self.relay is not None else set()
        return sorted(set(self.local_open_paths(owner)) | remote)

    def local_open_paths(self, owner: str) -> list[str]:
        """Return the files the owner has open in an editor here (a writable peer of theirs)."""
        return sorted(
            room.path
            for room in self.owner_rooms(owner)
            if room.path != PRESENCE and any(p.writable and p.name == owner for p in room.peers)
        )

    async def room(self, owner: str, path: str) -> Room:
        """Return the running room of ``owner``'s ``path``, created and seeded when missing."""
        key = (owner, path)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            found = self.rooms.get(key)
            if found is not None:
                return found
            if len(self.owner_rooms(owner)) >= self.max_per_owner:
                raise LookupError(f"{owner} has {self.max_per_owner} files open live already")
            doc: Doc[Any] = Doc()
            content = content_for(path, doc)
            joined = self.relay is not None and await self.relay.join(owner, path, doc)
            if path != PRESENCE and not joined:  # else: another replica's room's state
                await content.seed(lambda: self.seed(owner, path))
            yroom = YRoom(ready=True, ydoc=doc, log=log)
            task = asyncio.create_task(yroom.start())
            await yroom.started.wait()
            room = Room(
                owner, path, yroom, task, content, idle_since=asyncio.get_running_loop().time()
            )
            self.rooms[key] = room
            if self.relay is not None:
                self.relay.attach(room)
            self._show_viewers(room)
            self._start_sweeping()
            return room

    async def serve(self, room: Room, peer: PeerChannel) -> None:
        """Serve ``peer`` in ``room`` until it leaves."""
        viewer = peer.name != room.owner
        if viewer:
            await self._refresh(room)
        room.peers.add(peer)
        room.idle_since = None
        if viewer:
            self.viewers.setdefault(room.owner, Counter())[peer.name] += 1
            self._show_viewers_of(room.owner)
        self._announce(room.owner)
        try:
            await peer.send(self._awareness_message(room))
            await room.yroom.serve(_FreshWriter(self, room, peer))
        finally:
            room.peers.discard(peer)
            if not room.peers:
                room.idle_since = asyncio.get_running_loop().time()
            if viewer:
                counts = self.viewers.get(room.owner)
                if counts is not None:
                    counts[peer.name] -= 1
                    if counts[peer.name] <= 0:
                        del counts[peer.name]
                    if not counts:
                        del self.viewers[room.owner]
                self._show_viewers_of(room.owner)
            self._announce(room.owner)

    def _announce(self, owner: str) -> None:
        """Tell the other replicas who views ``owner`` here and what they edit here."""
        if self.relay is not None:
            self.relay.announce(owner)

    async def _refresh(self, room: Room) -> None:
        """With none of the owner's editors in the room, make its content the saved file's.

        The file may have changed since the room was seeded (a kernel wrote it, another client
        saved it); a viewer joining then sees what is saved, not an old copy.
        """
        if room.path == PRESENCE or any(p.name == room.owner and p.writable for p in room.peers):
            return
        if self.relay is not None and room.path in self.relay.open_paths(room.owner):
            return  # the owner edits it on another replica
        try:
            saved = await self.seed(room.owner, room.path)
        except Exception as e:  # too large or not text now: keep what the room holds
            log.info("Live room %s of %s not refreshed: %s", room.path, room.owner, e)
            return
        room.content.refresh(saved)

    def reset_if_first_writer(self, room: Room, peer: PeerChannel) -> None:
        """Empty the text for an editor of the owner's that is alone; that editor fills it.

        The owner's editor holds the text as it is (saved or not); a room may hold an older
        one (seeded from the saved file, or an editor's that closed unsaved). So the room is
        emptied for a new editor (its document empty), and for a reconnecting one whose
        document shares nothing with this room (the room was freed meanwhile, or is on another
        replica now): merging two histories of one text would hold it twice. An editor coming
        back to the room it was in (the room knows its changes) merges instead.
        """
        if not peer.writable or peer.name != room.owner or peer.first_state is None:
            return
        if peer.first_state != EMPTY_STATE:
            theirs = state_clients(peer.first_state)
            if theirs & state_clients(room.yroom.ydoc.get_state()):
                return
        others = [p for p in room.peers if p is not peer and p.writable and p.name == room.owner]
        if self.relay is not None and room.path in self.relay.open_paths(room.owner):
            return  # an editor of the owner's on another replica holds the text
        if not others and room.path != PRESENCE:
            room.content.clear()

    def viewing(self, owner: str) -> list[str]:
        """Return who views ``owner``'s workspace now, here or on another replica."""
        remote = self.relay.viewers(owner) if self.relay is not None else set()
        return sorted(set(self.viewers.get(owner, {})) | remote)

    def _awareness_message(self, room: Room) -> bytes:
        """Return the room's own awareness state (who views) as a message."""
        awareness = room.yroom.awareness
        return create_awareness_message(awareness.encode_awareness_update([awareness.client_id]))

    def _show_viewers(self, room: Room) -> None:
        """Put who views the owner's workspace in the room's awareness state."""
        room.yroom.awareness.set_local_state({"viewers": self.viewing(room.owner)})

    def _show_viewers_of(self, owner: str) -> None:
        for room in self.owner_rooms(owner):
            self._show_viewers(room)

    def _start_sweeping(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Free rooms nobody has been in for ``idle_seconds``."""
        while self.rooms:
            await asyncio.sleep(max(0.05, min(self.idle_seconds / 4, 15.0)))
            now = asyncio.get_running_loop().time()
            for key, room in list(self.rooms.items()):
                if room.idle_since is not None and now - room.idle_since >= self.idle_seconds:
                    await self._free(key, room)

    async def _free(self, key: tuple[str, str], room: Room) -> None:
        self.rooms.pop(key, None)
        self._locks.pop(key, None)
        if self.relay is not None:
            await self.relay.detach(room)
        try:
            await room.yroom.stop()
        except Exception:  # already stopped
            log.debug("Room %s of %s was stopped already", room.path, room.owner)
        await asyncio.gather(room.task, return_exceptions=True)

    async def close(self) -> None:
        """Stop every room."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for key, room in list(self.rooms.items()):
            await self._free(key, room)


class _FreshWriter(Channel):
    """The peer as the room reads it: its first sync may empty the room for it (see above)."""

    def __init__(self, rooms: LiveRooms, room: Room, peer: PeerChannel) -> None:
        self._rooms, self._room, self._peer = rooms, room, peer
        self._checked = False

    @property
    def path(self) -> str:
        """The room's name."""
        return self._peer.path

    async def __anext__(self) -> bytes:
        """Return the peer's next message; before its first, reset the room if it is alone."""
        message = await self._peer.__anext__()
        if not self._checked and self._peer.first_state is not None:
            self._checked = True
            self._rooms.reset_if_first_writer(self._room, self._peer)
        return message

    async def send(self, message: bytes) -> None:
        """Send to the peer."""
        await self._peer.send(message)

    async def recv(self) -> bytes:
        """Return the next message."""
        return await self.__anext__()
