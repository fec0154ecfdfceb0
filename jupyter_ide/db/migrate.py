"""Alembic migrations, run synchronously at start-up and from `jupyter ide upgrade-db`."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from .engine import ensure_sqlite_folder
from .models import Base
from .urls import safe_url, sync_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run `jupyter ide upgrade-db`"
# PostgreSQL advisory lock held while a fresh database gets its schema: replicas (and judge
# workers) starting together create it once, the others wait and find it current.
SCHEMA_LOCK = 0x6A757079


class SchemaState(enum.Enum):
    """How a database's schema compares with this version's."""

    FRESH = "fresh"
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD_OR_UNKNOWN = "ahead_or_unknown"
    UNVERSIONED = "unversioned"


class SchemaMismatchError(RuntimeError):
    """The database's schema is not the one this version of jupyter-ide expects."""


def alembic_config(url: str) -> Config:
    """Return an Alembic config for ``url`` pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sync_url"] = sync_url(url)
    return config


def head_revision() -> str:
    """Return the newest revision this version ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    """Open one sync connection, without pooling."""
    ensure_sqlite_folder(url)
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """Return the revision the database is at, or None when it has none."""
    with _connect(url) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to ``revision`` ("base" removes every table)."""
    command.downgrade(alembic_config(url), revision)


@contextmanager
def _creating_schema(url: str) -> Iterator[None]:
    """Hold the schema lock of a PostgreSQL database (SQLite's file lock serialises itself)."""
    if sync_url(url).get_backend_name() != "postgresql":
        yield
        return
    with _connect(url) as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})


def schema_state(url: str) -> SchemaState:
    """Compare the database's revision with this version's head."""
    with _connect(url) as conn:
        found = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
    if found is None:
        ours = set(Base.metadata.tables)
        return SchemaState.UNVERSIONED if tables & ours else SchemaState.FRESH
    if found == head_revision():
        return SchemaState.CURRENT
    script = ScriptDirectory.from_config(alembic_config(url))
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState.BEHIND if found in known else SchemaState.AHEAD_OR_UNKNOWN


def ensure_schema(url: str, *, initialise_fresh: bool = True) -> SchemaState:
    """Accept a current schema, create a fresh one, and refuse any other."""
    state = schema_state(url)
    if state is SchemaState.FRESH and initialise_fresh:
        with _creating_schema(url):
            state = schema_state(url)  # another process may have created it meanwhile
            if state is SchemaState.FRESH:
                upgrade(url)
                state = SchemaState.CURRENT
    if state is SchemaState.CURRENT:
        return state
    head, found = head_revision(), current_revision(url)
    where = safe_url(url)
    if state is SchemaState.AHEAD_OR_UNKNOWN:
        message = (
            f"The database {where} is at schema revision {found!r}, which this version of "
            f"jupyter-ide (schema {head}) does not know: upgrade jupyter-ide, or {UPGRADE_HINT} "
            "with the version that made it."
        )
    elif state is SchemaState.UNVERSIONED:
        message = (
            f"The database {where} has jupyter-ide tables but no schema revision; "
            f"{UPGRADE_HINT} to bring it to schema {head}."
        )
    else:
        message = (
            f"The database {where} is at schema {found or 'none'}, this version needs {head}: "
            f"{UPGRADE_HINT}."
        )
    raise SchemaMismatchError(message)
