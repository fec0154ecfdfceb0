"""HTTP and websockets of the live view: /ide/api/classroom/..., thin over LiveAccess and rooms.

- GET  /ide/api/classroom/<course>/live/members              the course's members (instructors)
- GET  /ide/api/classroom/<course>/live/<student>/files      their files, read-only (audited)
- GET  /ide/api/classroom/<course>/live/<student>/runs       their last runs with output
- WS   /ide/api/classroom/<course>/live/<student>/socket?path=   a file's room, read-only
                                                               (writable with pair editing)
- GET/PUT /ide/api/classroom/<course>/live/options          {pair_editing}
- GET/POST /ide/api/classroom/<course>/live/pairs           named partners {students: [a, b]}
- DELETE /ide/api/classroom/<course>/live/pairs/<student>   end the pair a student is in
  (a paired student reaches the partner's files and socket above, writable)
- WS   /ide/api/classroom/live/socket?path=                  the caller's own file's room
- GET  /ide/api/classroom/live/viewers                       who views the caller's workspace
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..auth import requires
from .handlers import AUTH_RESOURCE, COURSE, _ClassroomHandler
from .helpqueue import check_path
from .live_access import LiveAccess
from .live_rooms import PRESENCE, LiveRooms, PeerChannel, TooSlow
from .manager import ClassroomError

LIVE = "jupyter_ide_live"
STUDENT = r"(?P<student>[^/]+)"
BASE = rf"/ide/api/classroom/{COURSE}/live"
MAX_MESSAGE = 8 * 1024 * 1024  # bytes of one document message


class Live:
    """The live view's parts, as handlers reach them from the web app's settings."""

    def __init__(self, access: LiveAccess, rooms: LiveRooms) -> None:
        """Keep the parts."""
        self.access = access
        self.rooms = rooms


class _LiveHandler(_ClassroomHandler):
    """Shared parts: the live view."""

    @property
    def live(self) -> Live:
        """The server's live view."""
        live: Live | None = self.settings.get(LIVE)
        if live is None:
            raise web.HTTPError(503, "The live view is not available on this server")
        return live


class MembersHandler(_LiveHandler):
    """GET: the members of a course one teaches, with who has files open now."""

    @web.authenticated
    @requires("teaching:manage")
    async def get(self, course: str) -> None:
        """Return {members: [{name, role, open}]}."""
        user, role = self.who()
        members = await self.live.access.members(course, user, role)
        for member in members:
            member["open"] = self.live.rooms.open_paths(member["name"])
        self.reply({"course": course, "members": members})


class FilesHandler(_LiveHandler):
    """GET: a member's files and folders; starts a view (audited).

    For instructors of the member's course, or the member's named partner.
    """

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str, student: str) -> None:
        """Return {student, files: [{path, kind, size, modified}], open}."""
        user, role = self.who()
        files = await self.live.access.tree(course, student, user, role)
        open_now = self.live.rooms.open_paths(student)
        self.reply({"student": student, "files": files, "open": open_now})


class RunsHandler(_LiveHandler):
    """GET: a member's last runs with their output."""

    @web.authenticated
    @requires("teaching:manage")
    async def get(self, course: str, student: str) -> None:
        """Return {student, runs: [...]}, newest first."""
        user, role = self.who()
        self.reply(
            {"student": student, "runs": await self.live.access.runs(course, student, user, role)}
        )


class OptionsHandler(_LiveHandler):
    """The course's live-view options: read (members), change (its instructors)."""

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str) -> None:
        """Return {course, pair_editing}."""
        user, role = self.who()
        self.reply(await self.live.access.options(course, user, role))

    @web.authenticated
    @requires("teaching:manage")
    async def put(self, course: str) -> None:
        """Set {pair_editing: bool}."""
        user, role = self.who()
        self.reply(await self.live.access.set_options(course, self.body(), user, role))


class PairsHandler(_LiveHandler):
    """The course's named pairs: list (instructors: all; a student: their own), pair two."""

    @web.authenticated
    @requires("teaching:use")
    async def get(self, course: str) -> None:
        """Return {course, pairs: [{students, created_by, created_at}]} (students: + partner)."""
        user, role = self.who()
        self.reply(await self.live.access.pairs.listing(course, user, role))

    @web.authenticated
    @requires("teaching:manage")
    async def post(self, course: str) -> None:
        """Pair {students: [a, b]}: each may then edit the other's files live."""
        user, role = self.who()
        self.reply(await self.live.access.pairs.pair(course, self.body(), user, role), 201)


class PairHandler(_LiveHandler):
    """DELETE: end the pair a student is in."""

    @web.authenticated
    @requires("teaching:manage")
    async def delete(self, course: str, student: str) -> None:
        """Unpair ``student`` and their partner."""
        user, role = self.who()
        await self.live.access.pairs.unpair(course, student, user, role)
        self.set_status(204)
        self.finish()


class ViewersHandler(_LiveHandler):
    """GET: who views the caller's workspace live now."""

    @web.authenticated
    @requires("teaching:use")
    async def get(self) -> None:
        """Return {viewers: [names]}."""
        user, _ = self.who()
        self.reply({"viewers": self.live.rooms.viewing(user)})


class _RoomSocket(WebSocketMixin, JupyterHandler, WebSocketHandler):
    """A peer of a file's room: y-websocket's protocol (sync and awareness), binary frames."""

    auth_resource = AUTH_RESOURCE
    peer: PeerChannel | None = None
    serving: asyncio.Task[None] | None = None
    owner = ""
    path = ""
    writable = False

    @property
    def live(self) -> Live:
        """The server's live view."""
        live: Live | None = self.settings.get(LIVE)
        if live is None:
            raise web.HTTPError(503, "The live view is not available on this server")
        return live

    def who(self) -> tuple[str, Any]:
        """Return the caller's name and role."""
        roles = self.settings["jupyter_ide_roles"]
        return str(roles.name_of(self.current_user)), roles.role_of(self.current_user)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer a refusal before the upgrade as JSON {message, reason}, as the API does."""
        error = kwargs.get("exc_info", (None, None))[1]
        message = self._reason
        if isinstance(error, web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": self._reason}))

    def room_path(self) -> str:
        """Return the file the socket is for ("" : the owner's presence room), or raise 400."""
        try:
            return check_path(self.get_query_argument("path", "")) or PRESENCE
        except ClassroomError as e:
            raise web.HTTPError(400, e.message) from e

    def check_owner(self) -> None:
        """Refuse an ``owner`` query argument that is not the room's owner (400).

        Clients name the owner so that a balancer can send every socket of one owner's
        rooms to the same service replica (``balance url_param owner``).
        """
        asked = self.get_query_argument("owner", "")
        if asked and asked != self.owner:
            raise web.HTTPError(400, "owner must name the owner of the file's room")

    def get_compression_options(self) -> dict[str, Any] | None:
        """No compression: updates are small and latency matters."""
        return None

    @property
    def max_message_size(self) -> int:
        """The largest document message a peer may send."""
        return MAX_MESSAGE

    async def open(self, *args: Any, **kwargs: Any) -> None:
        """Join the room (created and seeded when needed) and serve it to the peer."""
        user, _ = self.who()
        try:
            room = await self.live.rooms.room(self.owner, self.path)
        except ClassroomError as e:
            self.close(4000 + e.status_code, e.message)
            return
        except LookupError as e:
            self.close(4429, str(e))
            return
        self.set_nodelay(True)
        self.peer = PeerChannel(self._send, f"{self.owner}:{self.path}", self.writable, user)
        self.serving = asyncio.create_task(self.live.rooms.serve(room, self.peer))

    async def _send(self, message: bytes) -> None:
        await self.write_message(message, binary=True)

    def on_message(self, message: str | bytes) -> None:
        """Pass a peer's binary message to its room; text frames are not part of the protocol."""
        if self.peer is None:
            return
        if isinstance(message, str):
            self.close(1003, "The live view speaks binary y-websocket messages")
            return
        try:
            self.peer.feed(message)
        except TooSlow as e:
            self.close(1008, str(e))

    def on_close(self) -> None:
        """Leave the room."""
        if self.peer is not None:
            self.peer.close()

    async def send_ping(self) -> None:
        """Keep-alive pings (Jupyter's), ignoring a socket that closed meanwhile."""
        try:
            await super().send_ping()
        except WebSocketClosedError:
            pass


class OwnSocketHandler(_RoomSocket):
    """WS: the caller's own file (or presence room), as a writable peer."""

    @ws_authenticated
    @requires("teaching:use")
    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Check the path, then upgrade."""
        self.owner, _ = self.who()
        self.path = self.room_path()
        self.writable = True
        self.check_owner()
        await super().get(*args, **kwargs)


class ViewSocketHandler(_RoomSocket):
    """WS: a member's file: instructors of their course, or their named partner.

    Read-only for instructors (writable with the course's pair editing on); writable for the
    member's named partner, in the same room the member edits in.
    """

    @ws_authenticated
    @requires("teaching:use")
    async def get(self, course: str, student: str, *args: Any, **kwargs: Any) -> None:
        """Check the caller teaches the student's course (audited), then upgrade."""
        user, role = self.who()
        self.path = self.room_path()
        self.owner = student
        self.check_owner()
        try:
            pairing = await self.live.access.check_viewer(course, student, self.path, user, role)
        except ClassroomError as e:
            raise web.HTTPError(e.status_code, e.message) from e
        self.writable = pairing and bool(self.path)
        await super().get(course, student, *args, **kwargs)


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (rf"{BASE}/members", MembersHandler, {}),
    (rf"{BASE}/options", OptionsHandler, {}),
    (rf"{BASE}/pairs", PairsHandler, {}),
    (rf"{BASE}/pairs/{STUDENT}", PairHandler, {}),
    (r"/ide/api/classroom/live/viewers", ViewersHandler, {}),
    (r"/ide/api/classroom/live/socket", OwnSocketHandler, {}),
    (rf"{BASE}/{STUDENT}/files", FilesHandler, {}),
    (rf"{BASE}/{STUDENT}/runs", RunsHandler, {}),
    (rf"{BASE}/{STUDENT}/socket", ViewSocketHandler, {}),
]
