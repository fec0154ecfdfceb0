"""The database on SQLite and PostgreSQL: migrations, models, sessions and schema checks."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, delete, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from jupyter_ide.db import (
    AIUsage,
    Base,
    Database,
    Extension,
    File,
    SchemaMismatchError,
    SchemaState,
    User,
    UserExtension,
    UserToken,
    Workspace,
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    schema_state,
    upgrade,
)
from jupyter_ide.db.engine import ensure_sqlite_folder
from jupyter_ide.db.urls import sync_url

TABLES = {
    "users",
    "user_tokens",
    "workspaces",
    "files",
    "file_versions",
    "file_checkpoints",
    "blobs",
    "ai_usage",
    "extensions",
    "user_extensions",
    "refresh_tokens",
    "audit_events",
    "courses",
    "course_members",
    "ai_course_policies",
    "ai_exam_windows",
    "submissions",
    "service_kernels",
    "assignments",
    "assignment_extensions",
    "assignment_copies",
    "assignment_submissions",
    "help_requests",
    "ai_transcripts",
    "marketplace_publishers",
    "marketplace_keys",
    "marketplace_packages",
    "marketplace_quarantine",
    "marketplace_course_locks",
    "marketplace_list_entries",
    "marketplace_ratings",
    "similarity_runs",
    "similarity_pairs",
    "activity_events",
    "activity_presence",
    "live_course_settings",
    "live_pairs",
}


def _tables(url: str) -> set[str]:
    """The tables the database holds, but Alembic's own."""
    ensure_sqlite_folder(url)
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _set_revision(url: str, revision: str | None) -> None:
    """Overwrite the stored revision (None drops Alembic's table)."""
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if revision is None:
                conn.execute(text("DROP TABLE alembic_version"))
            else:
                conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def test_migrations_go_up_down_and_up_again(any_db_url: str) -> None:
    """Upgrade creates every table, downgrade removes them, upgrade again works."""
    assert _tables(any_db_url) == set()
    upgrade(any_db_url)
    assert _tables(any_db_url) == TABLES
    assert current_revision(any_db_url) == head_revision()
    downgrade(any_db_url, "base")
    assert _tables(any_db_url) == set()
    assert current_revision(any_db_url) is None
    upgrade(any_db_url)
    assert _tables(any_db_url) == TABLES


def test_models_and_migrations_do_not_drift(any_db_url: str) -> None:
    """Autogenerate finds no difference between the models and the migrated schema."""
    upgrade(any_db_url)
    engine = create_engine(sync_url(any_db_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


async def test_models_round_trip(any_db_url: str) -> None:
    """Every model is written and read back with its values."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        async with db.session() as s:
            user = User(name="ada", email="ada@example.org", oauth_provider="github", oauth_id="1")
            s.add(user)
            await s.flush()
            workspace = Workspace(user_id=user.id, name="default", settings={"theme": "dark"})
            extension = Extension(
                name="lint", version="1.0.0", manifest={"a": [1]}, author_id=user.id
            )
            s.add_all([workspace, extension])
            await s.flush()
            s.add_all(
                [
                    UserToken(
                        user_id=user.id, provider="openai", encrypted_token=b"\x00\xffsecret"
                    ),
                    File(
                        workspace_id=workspace.id,
                        path="src/main.py",
                        content_hash="a" * 64,
                        size=2**40,
                    ),
                    AIUsage(
                        user_id=user.id,
                        course="cs101",
                        provider="openai",
                        model="gpt",
                        prompt_tokens=10,
                        completion_tokens=5,
                        cost=Decimal("0.000123"),
                    ),
                    UserExtension(
                        user_id=user.id, extension_id=extension.id, settings={"on": True}
                    ),
                ]
            )
        async with db.session() as s:
            stored = (await s.execute(select(User).where(User.name == "ada"))).scalar_one()
            assert stored.role == "student" and stored.created_at.tzinfo is not None
            token = (await s.execute(select(UserToken))).scalar_one()
            assert token.encrypted_token == b"\x00\xffsecret"
            file = (await s.execute(select(File))).scalar_one()
            assert (file.path, file.size) == ("src/main.py", 2**40)
            usage = (await s.execute(select(AIUsage))).scalar_one()
            assert usage.cost == Decimal("0.000123") and usage.cache_hit is False
            assert usage.day == usage.created_at.date()
            ws = (await s.execute(select(Workspace))).scalar_one()
            assert ws.settings == {"theme": "dark"}
            ext = (await s.execute(select(UserExtension))).scalar_one()
            assert ext.enabled is True and ext.settings == {"on": True}
    finally:
        await db.dispose()


async def test_constraints_and_cascades(any_db_url: str) -> None:
    """Unique constraints hold, a failed unit of work rolls back, deleting a user cascades."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    try:
        async with db.session() as s:
            user = User(name="bob")
            s.add(user)
            await s.flush()
            ws = Workspace(user_id=user.id, name="w")
            s.add(ws)
            await s.flush()
            s.add(File(workspace_id=ws.id, path="a.py", content_hash="b" * 64, size=1))
        with pytest.raises(IntegrityError):
            async with db.session() as s:
                s.add(User(name="carol"))
                await s.flush()
                s.add(File(workspace_id=ws.id, path="a.py", content_hash="c" * 64, size=2))
        async with db.session() as s:
            names = (await s.execute(select(User.name))).scalars().all()
            assert names == ["bob"]
            assert (await s.execute(select(File.content_hash))).scalar_one() == "b" * 64
            await s.execute(delete(User).where(User.name == "bob"))
        async with db.session() as s:
            assert (await s.execute(select(Workspace))).first() is None
            assert (await s.execute(select(File))).first() is None
    finally:
        await db.dispose()


async def test_ping_and_safe_url(pg_database_url: str) -> None:
    """The database answers; the URL shown in logs hides the password."""
    db = Database(pg_database_url.replace("postgres@", "postgres:hunter2@"))
    try:
        await db.ping()
        assert "hunter2" not in db.safe_url and db.backend == "postgresql"
    finally:
        await db.dispose()


def test_ensure_schema_initialises_a_fresh_database(any_db_url: str) -> None:
    """An empty database gets the current schema."""
    assert schema_state(any_db_url) is SchemaState.FRESH
    assert ensure_schema(any_db_url) is SchemaState.CURRENT
    assert schema_state(any_db_url) is SchemaState.CURRENT
    assert ensure_schema(any_db_url) is SchemaState.CURRENT


def test_ensure_schema_refuses_an_unknown_revision(any_db_url: str) -> None:
    """A revision this version does not ship is refused, naming upgrade-db."""
    upgrade(any_db_url)
    _set_revision(any_db_url, "f00dfeed")
    assert schema_state(any_db_url) is SchemaState.AHEAD_OR_UNKNOWN
    with pytest.raises(SchemaMismatchError, match="jupyter ide upgrade-db"):
        ensure_schema(any_db_url)


def test_ensure_schema_refuses_unversioned_tables(any_db_url: str) -> None:
    """Our tables without a revision are refused rather than guessed at."""
    upgrade(any_db_url)
    _set_revision(any_db_url, None)
    assert schema_state(any_db_url) is SchemaState.UNVERSIONED
    with pytest.raises(SchemaMismatchError, match="jupyter ide upgrade-db"):
        ensure_schema(any_db_url)


def test_fresh_database_is_left_alone_when_asked(any_db_url: str) -> None:
    """With initialise_fresh=False an empty database is a mismatch, not created."""
    with pytest.raises(SchemaMismatchError, match="jupyter ide upgrade-db"):
        ensure_schema(any_db_url, initialise_fresh=False)
    assert _tables(any_db_url) == set()


def test_unsupported_url_is_a_clear_error() -> None:
    """A URL of another database is refused with the schemes we take."""
    with pytest.raises(ValueError, match="sqlite"):
        Database("mysql://root@127.0.0.1/test")


START_AT = """
import sys, time
from jupyter_ide.db.migrate import ensure_schema
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
print(ensure_schema(sys.argv[1]).value)
"""


@pytest.mark.postgres
def test_servers_starting_at_once_create_a_fresh_schema_once(pg_database_url: str) -> None:
    """Replicas starting together on an empty PostgreSQL database: each finds it current."""
    at = str(time.time() + 8)  # every process imported and waiting by then
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", START_AT, pg_database_url, at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [process.communicate(timeout=120) for process in starts]
    assert [process.returncode for process in starts] == [0] * 4, [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["current"] * 4
    assert schema_state(pg_database_url) is SchemaState.CURRENT
