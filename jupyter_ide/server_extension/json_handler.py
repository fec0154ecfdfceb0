"""A base for /ide/api handlers that take and answer JSON."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..auth.permissions import Role


class JSONAPIHandler(APIHandler):
    """Jupyter's API handler with the caller's name and role, a parsed body and JSON replies."""

    def who(self) -> tuple[str, Role]:
        """Return the caller's name and role."""
        roles = self.settings["jupyter_ide_roles"]
        return str(roles.name_of(self.current_user)), roles.role_of(self.current_user)

    def body(self) -> Any:
        """Return the parsed JSON body, or raise 400."""
        try:
            return json.loads(self.request.body or b"null")
        except ValueError as e:
            raise web.HTTPError(400, f"The body is not valid JSON: {e}") from e

    def reply(self, data: Any, status: int = 200) -> None:
        """Answer JSON."""
        self.set_status(status)
        self.finish(json.dumps(data))
