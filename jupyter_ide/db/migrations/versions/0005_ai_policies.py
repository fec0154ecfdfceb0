"""ai: course policies, exam windows, kept prompts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 06:23:31.872035
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_course_policies",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("store_prompts", sa.Boolean(), nullable=False),
        sa.Column("institution_keys", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_ai_course_policies_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_ai_course_policies")),
    )
    op.create_table(
        "ai_exam_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_ai_exam_windows_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_exam_windows")),
    )
    with op.batch_alter_table("ai_exam_windows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ai_exam_windows_course_end", ["course_id", "ends_at"], unique=False
        )

    with op.batch_alter_table("ai_usage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prompt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ai_usage", schema=None) as batch_op:
        batch_op.drop_column("prompt")

    with op.batch_alter_table("ai_exam_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_exam_windows_course_end")

    op.drop_table("ai_exam_windows")
    op.drop_table("ai_course_policies")
