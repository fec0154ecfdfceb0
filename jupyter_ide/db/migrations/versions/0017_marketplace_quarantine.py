"""marketplace: quarantine release and co-signatures (reserved; filled by its change)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 09:10:00.000000
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
