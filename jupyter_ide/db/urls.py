"""Database URLs: the async and sync driver for each backend, and a log-safe form."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def backend_of(url: str | URL) -> str:
    """Return "sqlite" or "postgresql", or raise ValueError for anything else."""
    backend = make_url(url).get_backend_name()
    if backend not in (SQLITE, POSTGRESQL):
        raise ValueError(
            f"Unsupported database URL scheme {backend!r}: use sqlite:///… or "
            "postgresql+psycopg://…"
        )
    return backend


def async_url(url: str) -> URL:
    """Return the URL with the async driver (aiosqlite or psycopg 3)."""
    parsed = make_url(url)
    driver = "sqlite+aiosqlite" if backend_of(parsed) == SQLITE else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def sync_url(url: str) -> URL:
    """Return the URL with the sync driver (sqlite3 or psycopg 3)."""
    parsed = make_url(url)
    driver = "sqlite" if backend_of(parsed) == SQLITE else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def safe_url(url: str) -> str:
    """Return the URL with its password masked, for logs and health reports."""
    return make_url(url).render_as_string(hide_password=True)
