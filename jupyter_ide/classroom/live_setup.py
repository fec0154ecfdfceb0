"""Assemble the live view for a server: its rooms, its checks, its settings."""

from __future__ import annotations

from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from .handlers import Classroom
from .live_access import LiveAccess
from .live_handlers import Live
from .live_relay import LiveRelay
from .live_rooms import LiveRooms


class LiveSettings(LoggingConfigurable):
    """How long idle live-view rooms are kept and how many one user may have."""

    room_idle_seconds = Float(
        60.0,
        help="A live-view room nobody is in is freed after this many seconds.",
    ).tag(config=True)

    rooms_per_user = Int(
        64,
        help="At most this many files of one user's are open live at once.",
    ).tag(config=True)


def make_live(classroom: Classroom, parent: object, redis_url: str = "") -> Live:
    """Return the live view over the classroom's course checks and workspaces.

    With ``redis_url`` the rooms are relayed to the other replicas of the service sharing
    that Redis (live_relay.py); without it they live in this process alone.
    """
    settings = LiveSettings(parent=parent)
    assignments = classroom.assignments
    access = LiveAccess(assignments, assignments.files)
    rooms = LiveRooms(access.saved_text, settings.room_idle_seconds, settings.rooms_per_user)
    if redis_url:
        LiveRelay(redis_url).bind(rooms)
    return Live(access, rooms)


async def close_live(live: Live | None) -> None:
    """Stop every room, then the relay."""
    if live is not None:
        await live.rooms.close()
        if live.rooms.relay is not None:
            await live.rooms.relay.close()
