"""marketplace: a full-text search index over the packages' search text (PostgreSQL)

On PostgreSQL, a GIN index over the tsvector of ``search_text`` (its words: runs of letters
and digits, 'simple' configuration, no stemming) serves the store's text search; built-in,
no extension. SQLite keeps its LIKE scan: nothing changes there.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 13:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The indexed expression; jupyter_ide.marketplace.search queries with the very same text.
VECTOR = "to_tsvector('simple', regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g'))"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_marketplace_packages_search ON marketplace_packages "
            f"USING gin ({VECTOR})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_marketplace_packages_search")
