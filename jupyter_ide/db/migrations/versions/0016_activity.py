"""live teaching: the activity timeline and the lab dashboard (reserved; filled by its change)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 09:10:00.000000
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
