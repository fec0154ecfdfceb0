"""The database: typed models, async sessions and Alembic migrations."""

from .engine import Database
from .migrate import (
    SchemaMismatchError,
    SchemaState,
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    schema_state,
    upgrade,
)
from .models import (
    AICoursePolicy,
    AIExamWindow,
    AIUsage,
    AuditEvent,
    Base,
    Course,
    CourseMember,
    Extension,
    File,
    JudgeSubmission,
    RefreshToken,
    User,
    UserExtension,
    UserToken,
    Workspace,
)
from .urls import safe_url

__all__ = [
    "AICoursePolicy",
    "AIExamWindow",
    "AIUsage",
    "AuditEvent",
    "Base",
    "Course",
    "CourseMember",
    "Database",
    "Extension",
    "File",
    "JudgeSubmission",
    "RefreshToken",
    "SchemaMismatchError",
    "SchemaState",
    "User",
    "UserExtension",
    "UserToken",
    "Workspace",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "safe_url",
    "schema_state",
    "upgrade",
]
