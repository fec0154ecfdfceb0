"""service: the kernels each hub user started, which outlive a restart of the service

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_kernels",
        sa.Column("kernel_id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("kernel_name", sa.String(length=255), nullable=False),
        sa.Column("folder", sa.String(length=1024), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kernel_id", name=op.f("pk_service_kernels")),
    )
    with op.batch_alter_table("service_kernels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_kernels_owner"), ["owner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_kernels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_kernels_owner"))
    op.drop_table("service_kernels")
