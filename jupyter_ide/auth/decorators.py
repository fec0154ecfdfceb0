"""The check on every handler verb, and the start-up check that none was forgotten."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tornado import web

from .permissions import COURSE_SCOPED, Role, is_allowed, known_permissions

PERMISSION_ATTR = "__ide_permission__"
PUBLIC = "public"
VERBS = ("get", "head", "post", "put", "patch", "delete", "options")

F = TypeVar("F", bound=Callable[..., Any])


def requires(permission: str) -> Callable[[F], F]:
    """Allow the decorated verb only to roles whose permissions include ``permission``."""
    if permission not in known_permissions():
        raise ValueError(f"{permission!r} is not in the permission table")

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: web.RequestHandler, *args: Any, **kwargs: Any) -> Any:
            user = self.current_user
            if not user:
                raise web.HTTPError(403, "Sign in first")
            role: Role = self.settings["jupyter_ide_roles"].role_of(user)
            if is_allowed(role, permission):
                return method(self, *args, **kwargs)
            refused = web.HTTPError(
                403, f"Your role ({role.value}) does not allow this ({permission})"
            )
            if permission not in COURSE_SCOPED:
                raise refused
            return _as_course_instructor(self, permission, refused, method, args, kwargs)

        setattr(wrapper, PERMISSION_ATTR, permission)
        return wrapper  # type: ignore[return-value]

    return decorate


async def holds(handler: web.RequestHandler, permission: str) -> bool:
    """Whether the signed-in caller holds ``permission``: by role, or as a course's instructor.

    For a check inside a handler (what @requires decides for a whole verb); a per-course
    permission held through teaching a course still needs the handler's course check.
    """
    user = handler.current_user
    if not user:
        return False
    roles = handler.settings["jupyter_ide_roles"]
    if is_allowed(roles.role_of(user), permission):
        return True
    courses = handler.settings.get("jupyter_ide_courses")
    return (
        permission in COURSE_SCOPED
        and courses is not None
        and bool(await courses.teaches_any(roles.name_of(user)))
    )


async def _as_course_instructor(
    handler: web.RequestHandler,
    permission: str,
    refused: web.HTTPError,
    method: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run ``method`` when the caller teaches some course (the handler checks which); else 403.

    Deny by default: a server without a course directory (a hub user's own server) refuses.
    """
    if not await holds(handler, permission):
        raise refused
    result = method(handler, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def public(reason: str) -> Callable[[F], F]:
    """Declare a verb open to callers without a session; ``reason`` says what guards it."""
    if not reason.strip():
        raise ValueError("say what guards a public verb")

    def decorate(method: F) -> F:
        setattr(method, PERMISSION_ATTR, PUBLIC)
        return method

    return decorate


def undeclared_verbs(handlers: Iterable[type[web.RequestHandler]]) -> list[str]:
    """Return "Handler.verb" for each verb jupyter-ide's handlers define without @requires."""
    missing = []
    for handler in handlers:
        for verb in VERBS:
            owner = next((c for c in handler.__mro__ if verb in vars(c)), None)
            if owner is None or not owner.__module__.startswith("jupyter_ide."):
                continue
            if not getattr(vars(owner)[verb], PERMISSION_ATTR, None):
                missing.append(f"{handler.__name__}.{verb}")
    return missing
