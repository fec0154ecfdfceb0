"""Identity, roles and the one permission table every handler is checked against."""

from .decorators import PERMISSION_ATTR, PUBLIC, public, requires, undeclared_verbs
from .permissions import PERMISSIONS, Role, is_allowed
from .roles import RoleResolver

__all__ = [
    "PERMISSIONS",
    "PERMISSION_ATTR",
    "PUBLIC",
    "Role",
    "RoleResolver",
    "is_allowed",
    "public",
    "requires",
    "undeclared_verbs",
]
