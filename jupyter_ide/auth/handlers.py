"""HTTP handlers for API tokens and the caller's own identity."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .courses import CourseDirectory, CourseError
from .decorators import public, requires
from .identity import IDEIdentityProvider, bearer_jwt
from .permissions import PERMISSIONS
from .tokens import TokenError, TokenService

AUTH_RESOURCE = "ide"


def _tokens(handler: web.RequestHandler) -> TokenService:
    """Return the server's token service."""
    service: TokenService = handler.settings["jupyter_ide_tokens"]
    return service


class TokenHandler(APIHandler):
    """Issue an API token pair to a signed-in user."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires("token:issue")
    async def post(self) -> None:
        """Return a 15-minute access token and a refresh token."""
        if not isinstance(self.identity_provider, IDEIdentityProvider):
            # Under JupyterHub the hub signs every request in; it would refuse our tokens.
            raise web.HTTPError(
                409,
                "This server signs in through JupyterHub, which does not accept jupyter-ide API "
                "tokens: use a JupyterHub API token (Authorization: token …) instead",
            )
        if bearer_jwt(self) is not None:
            raise web.HTTPError(
                403, "An API token cannot issue new tokens: use your refresh token instead"
            )
        roles = self.settings["jupyter_ide_roles"]
        pair = await _tokens(self).issue(
            roles.name_of(self.current_user),
            roles.role_of(self.current_user).value,
            self.request.remote_ip,
        )
        self.set_status(201)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(pair.as_json()))


class RefreshHandler(APIHandler):
    """Trade a refresh token for a new pair (the old one stops working)."""

    auth_resource = AUTH_RESOURCE

    def check_xsrf_cookie(self) -> None:
        """No ambient credential here: the refresh token in the body is the proof."""

    @allow_unauthenticated
    @public("the refresh token in the request body")
    async def post(self) -> None:
        """Return a new token pair for a valid, unused refresh token."""
        try:
            body: Any = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise web.HTTPError(400, 'The body must be JSON: {"refresh_token": "…"}') from e
        token = body.get("refresh_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise web.HTTPError(401, 'Missing refresh token: send {"refresh_token": "…"}')
        try:
            pair = await _tokens(self).refresh(token, self.request.remote_ip)
        except TokenError as e:
            raise web.HTTPError(401, str(e)) from e
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(pair.as_json()))


class MeHandler(APIHandler):
    """Who the caller is and what their role allows."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @requires("ide:use")
    async def get(self) -> None:
        """Return the caller's name, role and permissions."""
        roles = self.settings["jupyter_ide_roles"]
        role = roles.role_of(self.current_user)
        self.finish(
            json.dumps(
                {
                    "name": roles.name_of(self.current_user),
                    "role": role.value,
                    "groups": roles.groups_of(self.current_user),
                    "permissions": sorted(PERMISSIONS[role]),
                }
            )
        )


def _json_body(handler: web.RequestHandler) -> dict[str, Any]:
    """Return the request's JSON object, or raise 400 saying what is wrong."""
    try:
        body = json.loads(handler.request.body or b"{}")
    except ValueError as e:
        raise web.HTTPError(400, f"The body must be a JSON object: {e}") from e
    if not isinstance(body, dict):
        raise web.HTTPError(400, "The body must be a JSON object")
    return body


class _CourseHandler(APIHandler):
    """Shared parts of the course handlers."""

    auth_resource = AUTH_RESOURCE

    @property
    def courses(self) -> CourseDirectory:
        """The server's course directory."""
        directory: CourseDirectory = self.settings["jupyter_ide_courses"]
        return directory

    def caller(self) -> tuple[str, Any]:
        """Return the caller's stable name and role."""
        roles = self.settings["jupyter_ide_roles"]
        return roles.name_of(self.current_user), roles.role_of(self.current_user)


class CoursesHandler(_CourseHandler):
    """The caller's courses; admins create courses."""

    @web.authenticated
    @requires("courses:read")
    async def get(self) -> None:
        """Return the courses the caller belongs to (all of them for admins)."""
        name, role = self.caller()
        self.finish(json.dumps({"courses": await self.courses.list_for(name, role)}))

    @web.authenticated
    @requires("courses:create")
    async def post(self) -> None:
        """Create a course from {"name": "cs101", "title": "…"}."""
        body = _json_body(self)
        try:
            course = await self.courses.create(
                body.get("name"), body.get("title", ""), self.caller()[0]
            )
        except CourseError as e:
            raise web.HTTPError(e.status, str(e)) from e
        self.set_status(201)
        self.finish(json.dumps(course))


class CourseMemberHandler(_CourseHandler):
    """Add, change or remove a member of a course."""

    @web.authenticated
    @requires("courses:enrol")
    async def put(self, course: str, user: str) -> None:
        """Set a member's role from {"role": "student" | "instructor"}."""
        by, role = self.caller()
        try:
            member = await self.courses.set_member(
                course, user, _json_body(self).get("role"), by, role
            )
        except CourseError as e:
            raise web.HTTPError(e.status, str(e)) from e
        self.finish(json.dumps(member))

    @web.authenticated
    @requires("courses:manage")
    async def delete(self, course: str, user: str) -> None:
        """Remove a member."""
        by, role = self.caller()
        try:
            await self.courses.remove_member(course, user, by, role)
        except CourseError as e:
            raise web.HTTPError(e.status, str(e)) from e
        self.set_status(204)
        self.finish()


default_handlers: list[tuple[str, type[web.RequestHandler], dict[str, Any]]] = [
    (r"/ide/api/auth/token", TokenHandler, {}),
    (r"/ide/api/auth/refresh", RefreshHandler, {}),
    (r"/ide/api/auth/me", MeHandler, {}),
    (r"/ide/api/courses", CoursesHandler, {}),
    (r"/ide/api/courses/([^/]+)/members/([^/]+)", CourseMemberHandler, {}),
]
