"""contents: Jupyter checkpoints, one per path, apart from the history of versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_file_checkpoints_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_checkpoints")),
        sa.UniqueConstraint(
            "workspace_id", "path", name=op.f("uq_file_checkpoints_workspace_id_path")
        ),
    )
    with op.batch_alter_table("file_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_file_checkpoints_content_hash"), ["content_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("file_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_checkpoints_content_hash"))
    op.drop_table("file_checkpoints")
