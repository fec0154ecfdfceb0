"""Who may read which usage, and the summaries GET /ide/api/ai/usage answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..auth.permissions import Role
from .errors import AIError, Refused
from .ledger import Ledger
from .policy import CoursePolicies
from .quotas import Quotas


@dataclass
class UsageQuery:
    """What a caller asks to see."""

    caller: Any  # proxy.Caller
    first: date
    last: date
    course: str | None = None
    user: str | None = None
    whole_course: bool = False


class UsageReader:
    """Check that a caller may see what they ask for, then read the ledger."""

    def __init__(self, ledger: Ledger, policies: CoursePolicies, quotas: Quotas) -> None:
        """Read from ``ledger``; courses and quotas from the others."""
        self.ledger = ledger
        self.policies = policies
        self.quotas = quotas

    async def _scope(self, query: UsageQuery) -> tuple[str | None, str | None]:
        """Return (user, course) filters the caller may read, or raise 403/404/400."""
        me, role = query.caller.name, query.caller.role
        if query.whole_course:
            if not query.course:
                raise AIError("scope=course needs course=<name>")
            await self.policies.may_manage(query.course, me, role)
            return query.user, query.course
        if query.user is None or query.user == me:
            return me, query.course
        if query.course:
            await self.policies.may_manage(query.course, me, role)
            return query.user, query.course
        if role is not Role.ADMIN:
            raise Refused(
                "Only admins may read another user's usage outside a course they teach",
                code="not_allowed",
            )
        return query.user, None

    async def summary(self, query: UsageQuery) -> dict[str, Any]:
        """Return daily aggregates and totals (and the caller's quotas for their own usage)."""
        user, course = await self._scope(query)
        await self.ledger.flush()
        own = user == query.caller.name and not query.whole_course
        days = await self.ledger.daily(
            query.first, query.last, user=None if query.whole_course else user, course=course
        )
        found: dict[str, Any] = {
            "user": None if query.whole_course else user,
            "course": course,
            "from": query.first.isoformat(),
            "to": query.last.isoformat(),
            "days": days,
            "totals": self.ledger.totals(days),
        }
        if own:
            state = await self.policies.effective(
                query.caller.name, query.caller.role, query.course
            )
            limits = await self.quotas.status(query.caller.name, state.quota_courses)
            warnings = [item.pop("warning") for item in limits]
            found["quota"] = {
                "limits": limits,
                "warning": " | ".join(w for w in warnings if w) or None,
            }
        return found

    async def transcripts(self, query: UsageQuery) -> dict[str, Any]:
        """Return the kept prompts the caller may read: their own, or a course's they teach."""
        user, course = await self._scope(query)
        await self.ledger.flush()
        return {
            "user": None if query.whole_course else user,
            "course": course,
            "from": query.first.isoformat(),
            "to": query.last.isoformat(),
            "transcripts": await self.ledger.transcripts(
                query.first,
                query.last,
                user=None if query.whole_course else user,
                course=course,
            ),
        }

    async def csv(self, query: UsageQuery) -> str:
        """Return detailed daily rows (per user, course, provider and model) as CSV."""
        user, course = await self._scope(query)
        await self.ledger.flush()
        rows = await self.ledger.daily(
            query.first,
            query.last,
            user=None if query.whole_course else user,
            course=course,
            detailed=True,
        )
        return self.ledger.csv(rows)
