"""The declarative permission table: which role may do which action. Deny by default."""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    """What a person is in a course."""

    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


# "resource:action" strings. A role holds exactly what is listed; anything else is denied.
_STUDENT = frozenset(
    {
        "ide:use",  # the /ide app and its static files
        "health:read",  # each subsystem's state
        "token:issue",  # short-lived API tokens for the user's own programs
        "courses:read",  # the courses one belongs to
        "ai:use",  # the AI proxy, within the user's quotas
        "ai:keys",  # one's own provider keys
        "ai:policy:read",  # one's effective AI mode (off / hint / full) and models
        "ai:usage",  # one's own AI usage (a course's: checked per course)
        "kernels:use",  # one's own sandboxed kernels and the sandbox's limits
        "terminals:use",  # terminals in one's own workspace (Jupyter's /api/terminals)
        "lsp:use",  # one's own sandboxed language servers (jupyter-lsp's /lsp/status, /lsp/ws)
        "files:history",  # versions of one's own files: list, view, restore
        "files:disk",  # one's workspace folder on disk: how full, what fills it, delete
        "judge:read",  # the judge's languages, statuses, about and configuration
        "judge:submit",  # compile-and-run submissions; reading one's own by token
        "assignments:use",  # released assignments of one's courses: fetch, submit, own results
        "marketplace:use",  # browse and download extensions; one's own installs and ratings
        "teaching:use",  # raise a hand in one's courses, one's place; one's own AI transcripts
    }
)
_INSTRUCTOR = _STUDENT | {
    "judge:submissions:course",  # submissions of the members of the courses one teaches
    "courses:manage",  # removing members of the courses one teaches (checked per course)
    "ai:policy:manage",  # AI policy of the courses one teaches (checked per course)
    "assignments:manage",  # assignments, grading, gradebook of courses one teaches (per course)
    "marketplace:publish",  # own publisher namespaces, keys, versions; course locks (per course)
    "teaching:manage",  # help queue and AI transcripts of the courses one teaches (per course)
}
_ADMIN = _INSTRUCTOR | {
    "judge:submissions:all",  # everyone's submissions (usage reports)
    "admin:checks",  # the doctor's report, with fixes, over HTTP
    "courses:create",
    "courses:enrol",  # adding members to courses, changing their roles
    "ai:keys:rotate",  # re-encrypt every stored key with the newest crypt key
    "marketplace:admin",  # approve namespaces, allow/block lists, quarantine review
}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.STUDENT: _STUDENT,
    Role.INSTRUCTOR: _INSTRUCTOR,
    Role.ADMIN: _ADMIN,
}


# Held by a course's instructors (course membership) whatever their hub-wide role: the
# decorator lets someone who teaches at least one course through, and the handler then checks
# the course named in the request (as it does for hub-wide instructors). A TA made instructor
# of one course through the hub's course groups manages that course and no other.
COURSE_SCOPED: frozenset[str] = frozenset(
    {
        "courses:manage",
        "ai:policy:manage",
        "assignments:manage",
        "teaching:manage",
        "judge:submissions:course",
    }
)


def known_permissions() -> frozenset[str]:
    """Every permission some role holds."""
    return frozenset().union(*PERMISSIONS.values())


def is_allowed(role: Role, permission: str) -> bool:
    """Return True when ``role`` holds ``permission``."""
    return permission in PERMISSIONS.get(role, frozenset())
