"""Which role a signed-in user has: standalone owner, or from JupyterHub scopes and groups."""

from __future__ import annotations

import getpass
from typing import Any

from traitlets import List, Unicode, default
from traitlets.config import LoggingConfigurable

from .permissions import Role

ADMIN_SCOPE = "custom:ide:admin"
INSTRUCTOR_SCOPE = "custom:ide:instructor"


class RoleResolver(LoggingConfigurable):
    """Map a Jupyter user to a role."""

    standalone_role = Unicode(
        Role.ADMIN.value,
        help="Role of the user of a standalone server (no JupyterHub): its only user, an admin.",
    ).tag(config=True)

    admin_scopes = List(
        Unicode(), [ADMIN_SCOPE], help="JupyterHub scopes that make a user an admin."
    ).tag(config=True)

    instructor_scopes = List(
        Unicode(), [INSTRUCTOR_SCOPE], help="JupyterHub scopes that make a user an instructor."
    ).tag(config=True)

    admin_groups = List(Unicode(), [], help="JupyterHub groups whose members are admins.").tag(
        config=True
    )

    instructor_groups = List(
        Unicode(), [], help="JupyterHub groups whose members are instructors."
    ).tag(config=True)

    standalone_user = Unicode(
        help="Name recorded for the user of a standalone server (default: the OS account). "
        "Jupyter names token sign-ins anonymously and afresh; one person uses such a server.",
    ).tag(config=True)

    @default("standalone_user")
    def _default_standalone_user(self) -> str:
        return getpass.getuser()

    def name_of(self, user: Any) -> str:
        """Return a stable name: the hub's user name, or the standalone server's one user."""
        hub_user = getattr(user, "hub_user", None)
        if isinstance(hub_user, dict) and hub_user.get("name"):
            return str(hub_user["name"])
        return str(self.standalone_user)

    def groups_of(self, user: Any) -> list[str] | None:
        """Return the user's JupyterHub groups, or None on a standalone server."""
        hub_user = getattr(user, "hub_user", None)
        if not isinstance(hub_user, dict):
            return None
        return [str(g) for g in hub_user.get("groups", []) or []]

    def role_of(self, user: Any) -> Role:
        """Return the user's role; a hub user with no grant is a student."""
        hub_user = getattr(user, "hub_user", None)
        if not isinstance(hub_user, dict):
            return Role(self.standalone_role)
        scopes = {str(s) for s in hub_user.get("scopes", []) or []}
        groups = {str(g) for g in hub_user.get("groups", []) or []}
        if (
            hub_user.get("admin")
            or scopes & set(self.admin_scopes)
            or groups & set(self.admin_groups)
        ):
            return Role.ADMIN
        if scopes & set(self.instructor_scopes) or groups & set(self.instructor_groups):
            return Role.INSTRUCTOR
        return Role.STUDENT
