"""HTTP for similarity checks: /ide/api/courses/<course>/assignments/<name>/similarity/..."""

from __future__ import annotations

from typing import Any

from tornado import web

from ..auth import requires
from .handlers import ONE, _ClassroomHandler
from .manager import AssignmentManager
from .similarity_manager import SimilarityChecker

SIMILARITY = "jupyter_ide_similarity"


def make_similarity(assignments: AssignmentManager, parent: Any) -> SimilarityChecker:
    """Return the server's similarity checker (its worker processes start on first use)."""
    return SimilarityChecker(assignments, parent=parent, log=parent.log)


async def close_similarity(checker: SimilarityChecker | None) -> None:
    """Stop running checks and the worker processes."""
    if checker is not None:
        await checker.close()


class _SimilarityHandler(_ClassroomHandler):
    """Reaches the server's similarity checker."""

    @property
    def checker(self) -> SimilarityChecker:
        """The server's similarity checker."""
        checker: SimilarityChecker | None = self.settings.get(SIMILARITY)
        if checker is None:
            raise web.HTTPError(503, "Similarity checks are not available on this server")
        return checker


class SimilarityHandler(_SimilarityHandler):
    """A similarity check of an assignment: its state (GET), start one (POST)."""

    @web.authenticated
    @requires("assignments:manage")
    async def get(self, course: str, name: str) -> None:
        """Return the newest check with its progress, and the newest finished one."""
        user, role = self.who()
        self.reply(await self.checker.status(course, name, user, role))

    @web.authenticated
    @requires("assignments:manage")
    async def post(self, course: str, name: str) -> None:
        """Start a check of every student's latest submission (202; 409 while one runs)."""
        user, role = self.who()
        self.reply(await self.checker.start(course, name, self.body(), user, role), 202)


class SimilarityPairsHandler(_SimilarityHandler):
    """GET ?offset=&limit=: the newest finished check's pairs, most similar first."""

    @web.authenticated
    @requires("assignments:manage")
    async def get(self, course: str, name: str) -> None:
        """Return a page of ranked pairs."""
        user, role = self.who()
        offset = self.get_query_argument("offset", "")
        limit = self.get_query_argument("limit", "")
        self.reply(await self.checker.pairs(course, name, offset, limit, user, role))


class SimilarityPairHandler(_SimilarityHandler):
    """GET: one pair side by side, with the matched regions of both students' files."""

    @web.authenticated
    @requires("assignments:manage")
    async def get(self, course: str, name: str, pair: str) -> None:
        """Return both sides' files and matched regions (lines and characters)."""
        user, role = self.who()
        self.reply(await self.checker.pair(course, name, pair, user, role))


SIM = rf"{ONE}/similarity"
default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (rf"{SIM}/?", SimilarityHandler, {}),
    (rf"{SIM}/pairs/?", SimilarityPairsHandler, {}),
    (rf"{SIM}/pairs/(?P<pair>[^/]+)", SimilarityPairHandler, {}),
]
