"""classroom: similarity runs and their ranked pairs

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 05:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ONE_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table(
        "similarity_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("starter", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_similarity_runs_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_runs")),
    )
    op.create_index(op.f("ix_similarity_runs_assignment_id"), "similarity_runs", ["assignment_id"])
    op.create_index(
        "ix_similarity_runs_one_running",
        "similarity_runs",
        ["assignment_id"],
        unique=True,
        postgresql_where=ONE_RUNNING,
        sqlite_where=ONE_RUNNING,
    )
    op.create_table(
        "similarity_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("submission_a", sa.Integer(), nullable=False),
        sa.Column("submission_b", sa.Integer(), nullable=False),
        sa.Column("student_a", sa.String(length=255), nullable=False),
        sa.Column("student_b", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("similarity_a", sa.Float(), nullable=False),
        sa.Column("similarity_b", sa.Float(), nullable=False),
        sa.Column("matched_a", sa.Integer(), nullable=False),
        sa.Column("matched_b", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["similarity_runs.id"],
            name=op.f("fk_similarity_pairs_run_id_similarity_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_a"],
            ["assignment_submissions.id"],
            name=op.f("fk_similarity_pairs_submission_a_assignment_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_b"],
            ["assignment_submissions.id"],
            name=op.f("fk_similarity_pairs_submission_b_assignment_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_pairs")),
    )
    op.create_index("ix_similarity_pairs_run_id_rank", "similarity_pairs", ["run_id", "rank"])


def downgrade() -> None:
    op.drop_index("ix_similarity_pairs_run_id_rank", table_name="similarity_pairs")
    op.drop_table("similarity_pairs")
    op.drop_index("ix_similarity_runs_one_running", table_name="similarity_runs")
    op.drop_index(op.f("ix_similarity_runs_assignment_id"), table_name="similarity_runs")
    op.drop_table("similarity_runs")
