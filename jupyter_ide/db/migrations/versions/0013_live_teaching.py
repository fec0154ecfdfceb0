"""classroom: help queue, activity timeline and AI transcripts (reserved, filled with the tables)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 05:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_slot", sa.Boolean(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_help_requests_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_help_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
        sa.UniqueConstraint(
            "course_id",
            "user_id",
            "open_slot",
            name=op.f("uq_help_requests_course_id_user_id_open_slot"),
        ),
    )
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_help_requests_course_status", ["course_id", "status", "raised_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_help_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ai_transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_ai_transcripts_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ai_transcripts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_transcripts")),
    )
    with op.batch_alter_table("ai_transcripts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ai_transcripts_course_created", ["course_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_ai_transcripts_user_created", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_transcripts_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ai_transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_transcripts_created_at"))
        batch_op.drop_index("ix_ai_transcripts_user_created")
        batch_op.drop_index("ix_ai_transcripts_course_created")
    op.drop_table("ai_transcripts")
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_requests_user_id"))
        batch_op.drop_index("ix_help_requests_course_status")
    op.drop_table("help_requests")
