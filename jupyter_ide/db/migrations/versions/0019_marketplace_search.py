"""marketplace: a full-text search index over the packages' search text (PostgreSQL)

On PostgreSQL, ``search_vector`` holds the tsvector of ``search_text`` (its words: runs of
letters and digits, 'simple' configuration, no stemming), kept by a trigger on every insert
or update, under a GIN index: the store's text search reads the index and compares stored
vectors instead of parsing every row's text. Built in, no extension. On SQLite the column
stays NULL (its search keeps the LIKE scan).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# jupyter_ide.db.models.SEARCH_VECTOR, over the new row, then over the rows already there.
ROW_VECTOR = "to_tsvector('simple', regexp_replace(NEW.search_text, '[^[:alnum:]]+', ' ', 'g'))"
FILL = (
    "UPDATE marketplace_packages SET search_vector = "
    "to_tsvector('simple', regexp_replace(search_text, '[^[:alnum:]]+', ' ', 'g'))"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("marketplace_packages") as batch:
        batch.add_column(
            sa.Column(
                "search_vector", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=True
            )
        )
    if postgres:
        op.execute(
            "CREATE FUNCTION marketplace_packages_search_vector() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"NEW.search_vector := {ROW_VECTOR}; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER marketplace_packages_search_vector "
            "BEFORE INSERT OR UPDATE OF search_text ON marketplace_packages "
            "FOR EACH ROW EXECUTE FUNCTION marketplace_packages_search_vector()"
        )
        op.execute(FILL)
    op.create_index(
        "ix_marketplace_packages_search",
        "marketplace_packages",
        ["search_vector"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_marketplace_packages_search", table_name="marketplace_packages")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER marketplace_packages_search_vector ON marketplace_packages")
        op.execute("DROP FUNCTION marketplace_packages_search_vector()")
    with op.batch_alter_table("marketplace_packages") as batch:
        batch.drop_column("search_vector")
