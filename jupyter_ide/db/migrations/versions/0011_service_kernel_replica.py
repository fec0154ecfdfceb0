"""service: which replica (run) holds each kernel, so that another replica does not call it dead

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_kernels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("replica", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("service_kernels", schema=None) as batch_op:
        batch_op.drop_column("replica")
