"""Course policy: AI off / hint-only / full, exam windows and model choice, per course."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.audit import record
from ..auth.permissions import Role
from ..db import AICoursePolicy, AIExamWindow, Course, CourseMember, Database, User
from .errors import AIError, Refused

MODES = ("off", "hint", "full")
STRICTNESS = {"off": 0, "hint": 1, "full": 2}
WINDOW_MODES = ("off", "hint")
MAX_WINDOWS = 200
MAX_MODELS = 100


@dataclass
class Membership:
    """A user's place in one course."""

    course: str
    course_id: int
    role: str


@dataclass
class Effective:
    """What the proxy enforces for one user's request now."""

    course: str | None
    courses: list[str]
    mode: str
    until: datetime | None = None
    reason: str | None = None
    next_window: dict[str, Any] | None = None
    models: list[str] | None = None  # None: any the server allows; []: none at all
    store_prompts: bool = False
    institution_keys: bool = True
    quota_courses: list[str] = field(default_factory=list)  # whose course quotas count it
    strictest_of: list[str] = field(default_factory=list)  # no course named: these combined

    def as_json(self, allowed_models: list[str]) -> dict[str, Any]:
        """Return the shape of GET /ide/api/ai/policy."""
        return {
            "course": self.course,
            "courses": self.courses,
            "mode": self.mode,
            "until": self.until.isoformat() if self.until else None,
            "reason": self.reason,
            "next_window": self.next_window,
            "models": allowed_models,
            "store_prompts": self.store_prompts,
            "strictest_of": self.strictest_of,
        }


def _time(value: Any, what: str) -> datetime:
    """Parse an ISO 8601 time with a zone, or raise 400."""
    if not isinstance(value, str):
        raise AIError(f"{what} must be an ISO 8601 time such as 2026-01-31T14:00:00+00:00")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise AIError(f"{what} is not an ISO 8601 time: {value!r}") from e
    if parsed.tzinfo is None:
        raise AIError(f"{what} needs a time zone (e.g. +00:00 or Z): {value!r}")
    return parsed.astimezone(timezone.utc)


def _windows(value: Any) -> list[dict[str, Any]]:
    """Check a list of exam windows, or raise 400."""
    if not isinstance(value, list) or len(value) > MAX_WINDOWS:
        raise AIError(f"exam_windows must be a list of at most {MAX_WINDOWS} windows")
    checked = []
    for i, window in enumerate(value):
        if not isinstance(window, dict):
            raise AIError(f"exam_windows[{i}] must be an object")
        starts = _time(window.get("starts_at"), f"exam_windows[{i}].starts_at")
        ends = _time(window.get("ends_at"), f"exam_windows[{i}].ends_at")
        if ends <= starts:
            raise AIError(f"exam_windows[{i}] ends before it starts")
        mode = window.get("mode", "off")
        if mode not in WINDOW_MODES:
            raise AIError(f"exam_windows[{i}].mode must be 'off' or 'hint'")
        reason = window.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 255:
            raise AIError(f"exam_windows[{i}].reason must be text of at most 255 characters")
        checked.append({"starts_at": starts, "ends_at": ends, "mode": mode, "reason": reason})
    return checked


def _window_json(window: AIExamWindow, course: str | None = None) -> dict[str, Any]:
    """Return an exam window as JSON."""
    found: dict[str, Any] = {"course": course} if course else {}
    found.update(
        starts_at=window.starts_at.isoformat(),
        ends_at=window.ends_at.isoformat(),
        mode=window.mode,
        reason=window.reason,
    )
    return found


class CoursePolicies:
    """Read and change course policies; work out a user's effective state."""

    def __init__(
        self, db: Database, default_mode: str = "full", *, cache_seconds: float = 0.0
    ) -> None:
        """Keep policies in ``db``; requests of no course get ``default_mode``.

        Effective states are reused for ``cache_seconds`` at most, and never past the next
        start or end of an exam window.
        """
        self.db = db
        self.default_mode = default_mode
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, Role, str | None], tuple[Effective, datetime]] = {}

    async def memberships(self, session: AsyncSession, user: str) -> list[Membership]:
        """Return the user's courses and roles in them."""
        rows = await session.execute(
            select(Course.name, Course.id, CourseMember.role)
            .join(CourseMember, CourseMember.course_id == Course.id)
            .join(User, User.id == CourseMember.user_id)
            .where(User.name == user)
            .order_by(Course.name)
        )
        return [Membership(name, cid, role) for name, cid, role in rows.all()]

    async def _course_id(self, session: AsyncSession, name: str) -> int:
        """Return a course's id or raise 404."""
        cid = (
            await session.execute(select(Course.id).where(Course.name == name))
        ).scalar_one_or_none()
        if cid is None:
            raise AIError(f"No course named {name!r}", status=404, code="course_not_found")
        return int(cid)

    async def effective(self, user: str, role: Role, requested: str | None) -> Effective:
        """Return the mode, models and rules in force for ``user`` now (cached briefly)."""
        now = datetime.now(timezone.utc)
        key = (user, role, requested)
        cached = self._cache.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        state, boundary = await self._effective(user, role, requested, now)
        if self.cache_seconds > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            expires = now + timedelta(seconds=self.cache_seconds)
            self._cache[key] = (state, min(expires, boundary) if boundary else expires)
        return state

    async def _effective(
        self, user: str, role: Role, requested: str | None, now: datetime
    ) -> tuple[Effective, datetime | None]:
        """Work out the state for ``user`` and the next time it may change by itself.

        The course is ``requested`` (the user must be a member; admins may name any), else
        the user's only course, else the only course the user is a student in. A student
        of several courses who names none gets the strictest of them all: the strictest
        mode, only models every course allows, institution keys only if every course
        allows them, prompts kept if any course keeps them, and every course's quotas.
        Exam windows of every course the user is a student in apply whatever course is
        named.
        """
        async with self.db.session() as session:
            mine = await self.memberships(session, user)
            by_name = {m.course: m for m in mine}
            studying = [m for m in mine if m.role == "student"]
            course: Membership | None = None
            if requested:
                course = by_name.get(requested)
                if course is None and role is Role.ADMIN:
                    course = Membership(
                        requested, await self._course_id(session, requested), "admin"
                    )
                if course is None:
                    raise Refused(
                        f"You are not a member of the course {requested!r}", code="not_a_member"
                    )
            elif len(mine) == 1:
                course = mine[0]
            elif len(studying) == 1:
                course = studying[0]
            combined = studying if course is None and len(studying) > 1 else []
            wanted = [m.course_id for m in combined] or ([course.course_id] if course else [])
            policies = {
                p.course_id: p
                for p in (
                    await session.execute(
                        select(AICoursePolicy).where(AICoursePolicy.course_id.in_(wanted))
                    )
                ).scalars()
            }
            student_in = {m.course_id: m.course for m in studying}
            windows = (
                (
                    await session.execute(
                        select(AIExamWindow)
                        .where(
                            AIExamWindow.course_id.in_(student_in),
                            AIExamWindow.ends_at > now,
                        )
                        .order_by(AIExamWindow.starts_at)
                    )
                )
                .scalars()
                .all()
                if student_in
                else []
            )
        state = Effective(
            course=course.course if course else None,
            courses=[m.course for m in mine],
            mode=self.default_mode if course is None and not combined else "full",
            quota_courses=[course.course] if course else [m.course for m in combined],
        )
        if combined:
            self._combine(state, combined, policies)
        elif course is not None and course.course_id in policies:
            policy = policies[course.course_id]
            applies = course.role == "student"
            state.store_prompts = policy.store_prompts
            state.institution_keys = policy.institution_keys or not applies
            if applies:
                state.mode = policy.mode
                state.models = list(policy.models) if policy.models else None
                if policy.mode != "full":
                    state.reason = f"Course policy of {course.course}"
        boundaries = [w.starts_at for w in windows if w.starts_at > now]
        boundaries += [w.ends_at for w in windows]
        for window in windows:
            name = student_in[window.course_id]
            if window.starts_at > now:
                if state.next_window is None:
                    state.next_window = _window_json(window, name)
                continue
            if STRICTNESS[window.mode] < STRICTNESS[state.mode] or (
                window.mode == state.mode and state.until and window.ends_at > state.until
            ):
                state.mode = window.mode
                state.until = window.ends_at
                state.reason = f"Exam: {window.reason or 'exam window'} ({name})"
        return state, min(boundaries, default=None)

    @staticmethod
    def _combine(
        state: Effective, courses: list[Membership], policies: dict[int, AICoursePolicy]
    ) -> None:
        """Apply the strictest rules of ``courses`` (no course was named) to ``state``."""
        state.strictest_of = [m.course for m in courses]
        models: list[str] | None = None
        for member in courses:
            policy = policies.get(member.course_id)
            if policy is None:
                continue
            if STRICTNESS[policy.mode] < STRICTNESS[state.mode]:
                state.mode = policy.mode
                state.reason = (
                    f"Course policy of {member.course} (no course named: the strictest of "
                    f"{', '.join(state.strictest_of)} applies)"
                )
            if policy.models:
                models = (
                    list(policy.models)
                    if models is None
                    else [m for m in models if m in policy.models]
                )
            state.institution_keys = state.institution_keys and policy.institution_keys
            state.store_prompts = state.store_prompts or policy.store_prompts
        state.models = models

    async def get(self, course: str) -> dict[str, Any]:
        """Return a course's stored policy (defaults when never set)."""
        async with self.db.session() as session:
            cid = await self._course_id(session, course)
            return await self._json(session, course, cid)

    async def _json(self, session: AsyncSession, course: str, cid: int) -> dict[str, Any]:
        """Return the stored policy of a course as JSON."""
        policy = await session.get(AICoursePolicy, cid)
        windows = (
            (
                await session.execute(
                    select(AIExamWindow)
                    .where(AIExamWindow.course_id == cid)
                    .order_by(AIExamWindow.starts_at)
                )
            )
            .scalars()
            .all()
        )
        return {
            "course": course,
            "mode": policy.mode if policy else "full",
            "models": list(policy.models or []) if policy else [],
            "store_prompts": policy.store_prompts if policy else False,
            "institution_keys": policy.institution_keys if policy else True,
            "exam_windows": [_window_json(w) for w in windows],
            "updated_at": policy.updated_at.isoformat() if policy else None,
            "updated_by": policy.updated_by if policy else None,
        }

    async def may_manage(self, course: str, user: str, role: Role) -> None:
        """Raise 403 unless ``user`` is an admin or an instructor of ``course`` (404 unknown)."""
        async with self.db.session() as session:
            await self._course_id(session, course)
            if role is Role.ADMIN:
                return
            mine = {m.course: m.role for m in await self.memberships(session, user)}
        if mine.get(course) != "instructor":
            raise Refused(
                f"Only the instructors of {course} and admins may see or change its AI policy",
                code="not_an_instructor",
            )

    async def put(self, course: str, body: Any, by: str, role: Role) -> dict[str, Any]:
        """Change a course's policy: the fields given, checked first, written in one go."""
        if not isinstance(body, dict):
            raise AIError("The body must be a JSON object")
        unknown = set(body) - {
            "mode",
            "models",
            "store_prompts",
            "institution_keys",
            "exam_windows",
        }
        if unknown:
            raise AIError(f"Unknown fields: {', '.join(sorted(unknown))}")
        if "mode" in body and body["mode"] not in MODES:
            raise AIError("mode must be one of off, hint, full")
        models = body.get("models")
        if "models" in body and (
            not isinstance(models, list)
            or len(models) > MAX_MODELS
            or not all(isinstance(m, str) and 0 < len(m) <= 255 for m in models)
        ):
            raise AIError(f"models must be a list of at most {MAX_MODELS} model names")
        for flag in ("store_prompts", "institution_keys"):
            if flag in body and not isinstance(body[flag], bool):
                raise AIError(f"{flag} must be true or false")
        windows = _windows(body["exam_windows"]) if "exam_windows" in body else None
        await self.may_manage(course, by, role)
        async with self.db.session() as session:
            cid = await self._course_id(session, course)
            policy = await session.get(AICoursePolicy, cid)
            if policy is None:
                policy = AICoursePolicy(
                    course_id=cid,
                    mode="full",
                    models=[],
                    store_prompts=False,
                    institution_keys=True,
                )
                session.add(policy)
            for name in ("mode", "store_prompts", "institution_keys"):
                if name in body:
                    setattr(policy, name, body[name])
            if models is not None:
                policy.models = list(dict.fromkeys(models))
            policy.updated_by = by
            policy.updated_at = datetime.now(timezone.utc)
            if windows is not None:
                await session.execute(delete(AIExamWindow).where(AIExamWindow.course_id == cid))
                session.add_all(AIExamWindow(course_id=cid, **w) for w in windows)
            record(session, "ai_policy_changed", by, course=course, fields=sorted(body))
            self._cache.clear()
            await session.flush()
            return await self._json(session, course, cid)
