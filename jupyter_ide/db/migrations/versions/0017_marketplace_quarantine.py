"""marketplace: quarantined uploads kept for an admin's review (release or reject)

Quarantined uploads keep their key and signature (and, when a review may release them, their
bytes) until an admin releases them (publishes after review) or rejects them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("marketplace_quarantine") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch.add_column(sa.Column("kept", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("marketplace_quarantine") as batch:
        batch.drop_column("signature")
        batch.drop_column("key_id")
        batch.drop_column("kept")
        batch.drop_column("status")
