"""Jupyter's sessions API in the service, per caller: what /ide served by the service needs.

The /ide app (like JupyterLab) opens a notebook's kernel through a session, which maps the
notebook's path to its kernel so that a reload, a second tab or a rename finds the same kernel.
User servers keep their own sessions (the gateway protocol has none); when the service serves
/ide itself, it keeps each hub user's sessions apart: ``ServiceSessionManager`` serves each
call from the signed-in caller's ``CallerSessions``, whose kernels are that caller's view of
the service's kernels (kernels.CallerKernels) and whose files are their own contents manager.
One user's sessions never list, reach or reuse another's kernel or path. Sessions live in the
service's memory, as Jupyter's do: after a restart a notebook opens a new one.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.sessions.sessionmanager import SessionManager
from tornado import web
from traitlets import Any as AnyTrait

from .caller import CALLER


class CallerSessions(SessionManager):
    """One hub user's sessions (an in-memory table of their own) over their own kernels."""

    # The caller's views, not Jupyter's managers: kernels.CallerKernels, their contents manager.
    kernel_manager = AnyTrait()
    contents_manager = AnyTrait()

    def get_kernel_env(self, path: str | None, name: Any = None) -> dict[str, str]:
        """Return only the session's name: never the service's environment (its secrets)."""
        return {"JPY_SESSION_NAME": str(path or "")}


class ServiceSessionManager(SessionManager):
    """The service's session manager: each call is served by the caller's ``CallerSessions``.

    It keeps no sessions of its own: outside a signed-in request it refuses.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Start with nobody's sessions."""
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self._users: dict[str, CallerSessions] = {}

    def for_user(self, name: str) -> CallerSessions:
        """Return hub user ``name``'s sessions (made on first use)."""
        if not name:
            raise web.HTTPError(403, "Sign in first")
        sessions = self._users.get(name)
        if sessions is None:
            sessions = CallerSessions(  # type: ignore[no-untyped-call]
                parent=self,
                log=self.log,
                kernel_manager=self.kernel_manager.for_user(name),
                contents_manager=self.contents_manager.for_user(name),
            )
            self._users[name] = sessions
        return sessions

    def for_caller(self) -> CallerSessions:
        """Return the signed-in caller's sessions (a 403 outside a signed-in request)."""
        return self.for_user(CALLER.get() or "")

    def _caller(self) -> Any:
        """Return the caller's sessions, typed loosely (Jupyter's SessionManager is untyped)."""
        return self.for_caller()

    # Jupyter's session handlers call these: each is the caller's own.

    async def session_exists(self, path: str) -> bool:
        """Whether the caller has a session for ``path``."""
        return bool(await self._caller().session_exists(path))

    async def create_session(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Create a session of the caller's, on one of their kernels or a new one."""
        model: dict[str, Any] = await self._caller().create_session(*args, **kwargs)
        return model

    async def start_kernel_for_session(self, *args: Any, **kwargs: Any) -> str:
        """Start a kernel of the caller's for one of their sessions."""
        kernel_id: str = await self._caller().start_kernel_for_session(*args, **kwargs)
        return kernel_id

    async def get_session(self, **kwargs: Any) -> dict[str, Any]:
        """Return one of the caller's sessions (404 for anyone else's)."""
        model: dict[str, Any] = await self._caller().get_session(**kwargs)
        return model

    async def update_session(self, session_id: str, **kwargs: Any) -> None:
        """Change one of the caller's sessions."""
        await self._caller().update_session(session_id, **kwargs)

    async def list_sessions(self) -> list[dict[str, Any]]:
        """List the caller's sessions."""
        sessions: list[dict[str, Any]] = await self._caller().list_sessions()
        return sessions

    async def delete_session(self, session_id: str) -> None:
        """End one of the caller's sessions and shut its kernel down."""
        await self._caller().delete_session(session_id)

    def close(self) -> None:
        """Close every user's table, then this one's."""
        for sessions in self._users.values():
            sessions.close()  # type: ignore[no-untyped-call]
        self._users.clear()
        super().close()  # type: ignore[no-untyped-call]
