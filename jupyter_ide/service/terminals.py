"""Terminals for every hub user: each caller's shells, in sandboxes over their own workspace.

Jupyter's terminals API (``/api/terminals``, ``/api/terminals/<name>``,
``/terminals/websocket/<name>``) answered per caller, as files and kernels are: the web app's
``terminal_manager`` setting is a ``ServiceTerminals``, and the lookup answers with the
caller's own ``IDETerminalManager`` (made on first use, its owner the hub user the token
signed in). So a terminal's name is scoped to its owner: another user asking for it, or
for a name of their own, only ever reaches their own terminals (others are 404, as if they
did not exist). Every shell runs in a sandbox container with the hardened profile, the
owner's workspace at /workspace and nothing of the service's environment; what it writes
there flows back into the owner's files through their contents manager's sync.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tornado import web
from traitlets import Int, Unicode
from traitlets.config import LoggingConfigurable

from ..terminals.handlers import IDETerminalHandler, IDETerminalRootHandler, IDETermSocket
from ..terminals.manager import IDETerminalManager
from ..terminals.sandboxed import SHELL
from .caller import CALLER

if TYPE_CHECKING:
    from .contents import UserContentsManagers


class UserTerminalManager(IDETerminalManager):
    """One hub user's terminals: always in sandboxes, over that user's workspace."""

    def __init__(self, contents: UserContentsManagers, **kwargs: Any) -> None:
        """Serve the terminals of ``owner`` (a keyword), whose files ``contents`` holds."""
        super().__init__(**kwargs)
        self.contents = contents

    def workspace_dir(self) -> Path:
        """Return the owner's workspace folder (where their shells work, and the sync reads)."""
        return self.contents.for_user(self.owner).workspace_dir


class ServiceTerminals(LoggingConfigurable):
    """The service's terminals: one manager per hub user, made on first use."""

    max_terminals_per_user = Int(
        4,
        help="Terminals one user may run at once in the jupyter-ide service (each is a sandbox "
        "container); one more is refused with a 429 that says so. 0: no limit.",
    ).tag(config=True)

    sandbox_image = Unicode(
        "",
        help="The image users' terminals run in. Empty: IDETerminalManager's default (the "
        "Python kernels' image).",
    ).tag(config=True)

    def __init__(self, contents: UserContentsManagers, **kwargs: Any) -> None:
        """Start with nobody's terminals; ``contents`` holds each user's workspace."""
        super().__init__(**kwargs)
        self.contents = contents
        self._users: dict[str, UserTerminalManager] = {}
        # Resizes and the like of everybody's sockets; typed input has a thread per terminal.
        self.blocking_io_executor = ThreadPoolExecutor(1, thread_name_prefix="terminals-io")

    def for_user(self, owner: str) -> UserTerminalManager:
        """Return ``owner``'s terminal manager (made on first use)."""
        if not owner:
            raise web.HTTPError(403, "Sign in first")
        manager = self._users.get(owner)
        if manager is None:
            options: dict[str, Any] = {
                "parent": self,
                "log": self.log,
                "owner": owner,
                "require_sandbox": True,
                "terminal_limit": self.max_terminals_per_user,
                "shell_command": list(SHELL),
                "blocking_io_executor": self.blocking_io_executor,
            }
            if self.sandbox_image:
                options["sandbox_image"] = self.sandbox_image
            manager = UserTerminalManager(self.contents, **options)
            self._users[owner] = manager
        return manager

    def for_caller(self) -> UserTerminalManager | ServiceTerminals:
        """Return the signed-in caller's terminals; outside a request this (which has none)."""
        name = CALLER.get()
        return self.for_user(name) if name else self

    @property
    def terminals(self) -> dict[str, Any]:
        """Nobody's terminals: each user's are in their own manager (for_user)."""
        return {}

    async def terminate_all(self) -> None:
        """End every user's terminals, their containers removed (the service stops)."""
        managers = list(self._users.values())
        results = await asyncio.gather(
            *(manager.terminate_all() for manager in managers), return_exceptions=True
        )
        for manager, result in zip(managers, results, strict=True):
            if isinstance(result, BaseException):
                self.log.warning("Could not end the terminals of %s: %s", manager.owner, result)
        self.blocking_io_executor.shutdown(wait=False, cancel_futures=True)


class ServiceTermSocket(IDETermSocket):
    """A terminal's websocket in the service: it reaches the caller's own terminals only."""

    @property
    def terminal_manager(self) -> Any:
        """The manager the socket was connected through (the caller's, chosen at sign-in)."""
        return self.term_manager

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Connect to one of the caller's terminals (any other name is a 404)."""
        terminals = self.settings["terminal_manager"]  # the caller's, once signed in
        if isinstance(terminals, IDETerminalManager):
            self.term_manager = terminals
        await super().get(*args, **kwargs)


def default_handlers(
    terminals: ServiceTerminals,
) -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """Return the service's terminal routes (Jupyter's own URLs), relative to the base URL."""
    return [
        (r"/terminals/websocket/(\w+)", ServiceTermSocket, {"term_manager": terminals}),
        (r"/api/terminals", IDETerminalRootHandler, {}),
        (r"/api/terminals/(\w+)", IDETerminalHandler, {}),
    ]
