"""live teaching: the live view (a course's pair-editing option)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_course_settings",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("pair_editing", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_live_course_settings_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_live_course_settings")),
    )


def downgrade() -> None:
    op.drop_table("live_course_settings")
