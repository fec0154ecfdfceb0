"""SQLAlchemy 2 typed models of jupyter-ide's schema."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def utctoday() -> date:
    """Return today's date in UTC."""
    return utcnow().date()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware times in UTC; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return UTC-aware times."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


class Timestamps:
    """Creation and update times."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Timestamps, Base):
    """A person: the Jupyter (or JupyterHub) user, with their OAuth identity when known."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oauth_provider", "oauth_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    oauth_provider: Mapped[str | None] = mapped_column(String(64))
    oauth_id: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), default="student")


class UserToken(Base):
    """A secret of a user's (a provider API key), encrypted at rest."""

    __tablename__ = "user_tokens"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(64))
    encrypted_token: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Workspace(Timestamps, Base):
    """A named set of files that belongs to one user."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class File(Timestamps, Base):
    """An index row: which content-addressed blob a workspace path holds (or a directory)."""

    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("workspace_id", "path"),
        Index("ix_files_workspace_parent", "workspace_id", "parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))
    # "file" or "directory"; a directory has no blob (content_hash "" and size 0).
    kind: Mapped[str] = mapped_column(String(16), default="file", server_default="file")
    # The folder the entry sits in ("" for the workspace root), so a listing reads only children.
    parent: Mapped[str] = mapped_column(String(1024), default="", server_default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)


class FileVersion(Base):
    """A previous content of a workspace path, kept by a save, a kernel write or a delete."""

    __tablename__ = "file_versions"
    __table_args__ = (Index("ix_file_versions_workspace_path", "workspace_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # When this content was written (the file's last_modified at the time).
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Why it was kept: save, kernel, restore, delete, checkpoint.
    reason: Mapped[str] = mapped_column(String(16), default="save")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FileCheckpoint(Base):
    """The one Jupyter checkpoint of a workspace path: what "Revert to checkpoint" restores."""

    __tablename__ = "file_checkpoints"
    __table_args__ = (UniqueConstraint("workspace_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # The file's last_modified when the checkpoint was made (Jupyter's copy keeps the mtime).
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Blob(Base):
    """A content-addressed blob in the store; touched by every writer, so GC never races one."""

    __tablename__ = "blobs"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    touched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AIUsage(Base):
    """One AI request in the usage ledger."""

    __tablename__ = "ai_usage"
    __table_args__ = (Index("ix_ai_usage_user_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course: Mapped[str | None] = mapped_column(String(255), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))
    cache_hit: Mapped[bool] = mapped_column(default=False)
    latency_ms: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[date] = mapped_column(Date, default=utctoday, index=True)
    prompt: Mapped[str | None] = mapped_column(Text)  # kept only when the course says so


class AICoursePolicy(Base):
    """A course's AI rules: mode (off / hint / full), models, prompt keeping, key use."""

    __tablename__ = "ai_course_policies"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(8), default="full")
    models: Mapped[list[str]] = mapped_column(JSON, default=list)
    store_prompts: Mapped[bool] = mapped_column(default=False)
    institution_keys: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class AIExamWindow(Base):
    """A time during which a course's AI is switched off or to hint-only."""

    __tablename__ = "ai_exam_windows"
    __table_args__ = (Index("ix_ai_exam_windows_course_end", "course_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(255), default="")


class MarketplacePublisher(Base):
    """A publisher namespace of the extension store; an admin approves new ones."""

    __tablename__ = "marketplace_publishers"

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # pending -> approved | rejected
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Permissions no package of this namespace may declare (set by admins).
    forbidden_permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MarketplaceKey(Base):
    """An Ed25519 public key of a publisher; packages are signed with its private half."""

    __tablename__ = "marketplace_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(
        ForeignKey("marketplace_publishers.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(32), unique=True)  # sha256 of the key, 32 hex
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # the raw 32 bytes
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


# The words of a package's search text as PostgreSQL indexes them (its search_vector): runs
# of letters and digits, the 'simple' configuration (no stemming, no stop words).
SEARCH_VECTOR = "to_tsvector('simple', regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g'))"


class MarketplacePackage(Base):
    """An extension of the store across its versions: what search reads."""

    __tablename__ = "marketplace_packages"
    __table_args__ = (
        Index("ix_marketplace_packages_listed_downloads", "listed", "downloads"),
        Index("ix_marketplace_packages_listed_updated", "listed", "updated_at"),
        # PostgreSQL's full-text index (migration 0019); SQLite scans search_text with LIKE.
        Index("ix_marketplace_packages_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(130), unique=True)  # "<namespace>.<name>"
    publisher_id: Mapped[int] = mapped_column(
        ForeignKey("marketplace_publishers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="ide")  # ide | vscode
    display_name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64), default="other", index=True)
    # Lower-cased name, display name, description and keywords: what text search matches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # PostgreSQL: SEARCH_VECTOR of search_text, kept by a trigger (migration 0019). SQLite: NULL.
    search_vector: Mapped[str | None] = mapped_column(
        Text().with_variant(TSVECTOR(), "postgresql"), deferred=True
    )
    latest_version: Mapped[str | None] = mapped_column(String(64))  # newest served, not yanked
    listed: Mapped[bool] = mapped_column(default=False)  # has a version the store serves
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)
    rating: Mapped[float] = mapped_column(Float, default=0.0)  # mean stars, 0 when unrated
    rating_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Extension(Base):
    """A published version of a marketplace extension."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketplace_packages.id", ondelete="CASCADE"), index=True
    )
    content_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # [{"key_id", "signature" (base64)}]: each over the package's sha256.
    signatures: Mapped[list[Any]] = mapped_column(JSON, default=list)
    yanked_at: Mapped[datetime | None]
    yank_reason: Mapped[str | None] = mapped_column(String(255))


class MarketplaceQuarantine(Base):
    """A package that failed the publish scan, with the reason; its bytes wait for review."""

    __tablename__ = "marketplace_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewed_at: Mapped[datetime | None]
    # pending (waits for an admin), released (published after review) or rejected (deleted).
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    kept: Mapped[bool] = mapped_column(default=False, server_default="0")  # bytes are held
    key_id: Mapped[str | None] = mapped_column(String(32))  # what signed the upload
    signature: Mapped[str | None] = mapped_column(String(128))  # base64 Ed25519


class UserExtension(Base):
    """An extension a user installed, with their settings for it."""

    __tablename__ = "user_extensions"
    __table_args__ = (UniqueConstraint("user_id", "package_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    extension_id: Mapped[int] = mapped_column(
        ForeignKey("extensions.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketplace_packages.id", ondelete="CASCADE"), index=True
    )
    granted: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Why it was switched off by the store (a revoked key, a block), shown to the user.
    notice: Mapped[str | None] = mapped_column(Text)
    # Set when the row holds a student's settings for a course's locked extension.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    installed_at: Mapped[datetime | None]


class MarketplaceCourseLock(Base):
    """An extension a course installs for all its students; they cannot remove it."""

    __tablename__ = "marketplace_course_locks"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[int] = mapped_column(
        ForeignKey("marketplace_packages.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted: Mapped[list[str]] = mapped_column(JSON, default=list)
    locked_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MarketplaceListEntry(Base):
    """An admin's allow or block list entry: a namespace or a "<namespace>.<name>" package."""

    __tablename__ = "marketplace_list_entries"

    list: Mapped[str] = mapped_column(String(8), primary_key=True)  # allow | block
    subject: Mapped[str] = mapped_column(String(130), primary_key=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    added_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MarketplaceRating(Base):
    """A user's stars (1-5) for an extension."""

    __tablename__ = "marketplace_ratings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[int] = mapped_column(
        ForeignKey("marketplace_packages.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    stars: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """A refresh token, stored only as its hash; tokens of one login share a family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEvent(Base):
    """A security-relevant event: token issue, rotation, reuse, refusals, admin actions."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    user_name: Mapped[str] = mapped_column(String(255))
    event: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remote_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Course(Base):
    """A course: a group of users, some of them its instructors."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseMember(Base):
    """A user's place in a course: student or instructor."""

    __tablename__ = "course_members"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32), default="student")
    source: Mapped[str] = mapped_column(String(16), default="api")


class JudgeSubmission(Base):
    """A compile-and-run submission of the judge API: who, what, how it ended, its outputs."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The course it was made in (None: no course); its instructors see it, others' do not.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True
    )
    language_id: Mapped[int]
    status_id: Mapped[int] = mapped_column(default=1, index=True)
    time: Mapped[float | None] = mapped_column(Float)  # CPU seconds of the run (cgroup)
    wall_time: Mapped[float | None] = mapped_column(Float)
    memory: Mapped[int | None]  # peak KB of the run (cgroup)
    exit_code: Mapped[int | None]
    exit_signal: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(Text)
    compile_cached: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    # The request's and the run's text fields and limits, zlib-compressed JSON (base64 texts).
    detail: Mapped[bytes] = mapped_column(LargeBinary)


class ServiceKernel(Base):
    """A kernel the jupyter-ide service started for a hub user, kept while they want it.

    A row outlives the service process: after a restart or a crash, the kernels it held are
    reported dead to their owners (who may restart them under the same id) instead of
    vanishing. Removed when the owner shuts the kernel down (or it is culled).
    """

    __tablename__ = "service_kernels"

    kernel_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    kernel_name: Mapped[str] = mapped_column(String(255))
    folder: Mapped[str] = mapped_column(String(1024), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The run (sandbox instance id) of the service replica that holds the kernel's sockets.
    replica: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Assignment(Base):
    """A course's assignment: released starter files, the grading spec, deadline and policy."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[str] = mapped_column(String(255))
    source_folder: Mapped[str] = mapped_column(String(1024))
    # path -> [content hash, size]: the student copy (solutions stripped, hidden tests out).
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # path -> [content hash, size]: the instructor's notebooks and test files, never released.
    instructor_files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)  # GradingSpec.to_json()
    rubric: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{name, points}]
    due_at: Mapped[datetime | None]
    late_penalty_percent: Mapped[float] = mapped_column(Float, default=0.0)  # per day late
    cutoff_hours: Mapped[float | None] = mapped_column(Float)  # after the deadline: 0 points
    max_submissions: Mapped[int] = mapped_column(default=0)  # per window; 0: no limit
    window_seconds: Mapped[int] = mapped_column(default=86400)
    version: Mapped[int] = mapped_column(default=1)  # bumped by each change of the files
    released_at: Mapped[datetime | None]
    feedback_published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AssignmentExtension(Base):
    """A student's own deadline for an assignment."""

    __tablename__ = "assignment_extensions"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(255))


class AssignmentCopy(Base):
    """What a student was given of an assignment: the base their edits are compared with."""

    __tablename__ = "assignment_copies"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # path -> hash given
    # Files the student had changed when a newer version came: path -> new version's path.
    kept: Mapped[dict[str, Any]] = mapped_column(default=dict)
    released_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentSubmission(Base):
    """A student's submission: an append-only snapshot of content hashes, then its grade."""

    __tablename__ = "assignment_submissions"
    __table_args__ = (
        Index("ix_assignment_submissions_assignment_user", "assignment_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # path -> [hash, size]
    # queued -> grading -> graded | error
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    grade_runs: Mapped[int] = mapped_column(default=0)
    results: Mapped[list[Any]] = mapped_column(JSON, default=list)  # TestResult dicts
    graded_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # {points: {item: points}, comments: [{path, line, text, by}]}; never touched by grading.
    manual: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deadline: Mapped[datetime | None]  # the deadline in force when last scored
    late_days: Mapped[int] = mapped_column(default=0)
    penalty_percent: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)


# Tables of other parts, in modules of their own; imported here so Base.metadata holds them.
from . import (  # noqa: E402, F401
    activity_models,
    live_models,
    similarity_models,
    teaching_models,
)
