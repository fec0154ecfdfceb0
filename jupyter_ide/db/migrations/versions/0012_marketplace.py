"""marketplace: publishers, keys, package versions, installs (reserved, filled with the tables)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 05:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "marketplace_publishers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("forbidden_permissions", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_marketplace_publishers_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_publishers")),
        sa.UniqueConstraint("namespace", name=op.f("uq_marketplace_publishers_namespace")),
    )
    op.create_index(
        op.f("ix_marketplace_publishers_owner_id"), "marketplace_publishers", ["owner_id"]
    )
    op.create_table(
        "marketplace_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publisher_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["publisher_id"],
            ["marketplace_publishers.id"],
            name=op.f("fk_marketplace_keys_publisher_id_marketplace_publishers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_marketplace_keys_key_id")),
    )
    op.create_index(op.f("ix_marketplace_keys_publisher_id"), "marketplace_keys", ["publisher_id"])
    op.create_table(
        "marketplace_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=130), nullable=False),
        sa.Column("publisher_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("latest_version", sa.String(length=64), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["publisher_id"],
            ["marketplace_publishers.id"],
            name=op.f("fk_marketplace_packages_publisher_id_marketplace_publishers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_packages")),
        sa.UniqueConstraint("name", name=op.f("uq_marketplace_packages_name")),
    )
    op.create_index(
        op.f("ix_marketplace_packages_publisher_id"), "marketplace_packages", ["publisher_id"]
    )
    op.create_index(op.f("ix_marketplace_packages_category"), "marketplace_packages", ["category"])
    op.create_index(
        "ix_marketplace_packages_listed_downloads",
        "marketplace_packages",
        ["listed", "downloads"],
    )
    op.create_index(
        "ix_marketplace_packages_listed_updated", "marketplace_packages", ["listed", "updated_at"]
    )
    op.create_table(
        "marketplace_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("reviewed_by", sa.String(length=255), nullable=True),
        sa.Column("reviewed_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_quarantine")),
    )
    op.create_index(
        op.f("ix_marketplace_quarantine_namespace"), "marketplace_quarantine", ["namespace"]
    )
    op.create_index(
        op.f("ix_marketplace_quarantine_created_at"), "marketplace_quarantine", ["created_at"]
    )
    op.create_table(
        "marketplace_course_locks",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("granted", sa.JSON(), nullable=False),
        sa.Column("locked_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_marketplace_course_locks_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["marketplace_packages.id"],
            name=op.f("fk_marketplace_course_locks_package_id_marketplace_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "course_id", "package_id", name=op.f("pk_marketplace_course_locks")
        ),
    )
    op.create_index(
        op.f("ix_marketplace_course_locks_package_id"), "marketplace_course_locks", ["package_id"]
    )
    op.create_table(
        "marketplace_list_entries",
        sa.Column("list", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=130), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("list", "subject", name=op.f("pk_marketplace_list_entries")),
    )
    op.create_table(
        "marketplace_ratings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["marketplace_packages.id"],
            name=op.f("fk_marketplace_ratings_package_id_marketplace_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_marketplace_ratings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "package_id", name=op.f("pk_marketplace_ratings")),
    )
    op.create_index(
        op.f("ix_marketplace_ratings_package_id"), "marketplace_ratings", ["package_id"]
    )
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("content_hash", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("size", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("signatures", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("yanked_at", TIME, nullable=True))
        batch_op.add_column(sa.Column("yank_reason", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_extensions_package_id"), ["package_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_extensions_package_id_marketplace_packages"),
            "marketplace_packages",
            ["package_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("user_extensions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("granted", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("notice", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("course_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("installed_at", TIME, nullable=True))
        batch_op.create_index(batch_op.f("ix_user_extensions_package_id"), ["package_id"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_user_extensions_user_id_package_id"), ["user_id", "package_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_extensions_package_id_marketplace_packages"),
            "marketplace_packages",
            ["package_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_extensions_course_id_courses"),
            "courses",
            ["course_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("user_extensions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_user_extensions_course_id_courses"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_user_extensions_package_id_marketplace_packages"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_user_extensions_user_id_package_id"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_user_extensions_package_id"))
        for column in ("installed_at", "course_id", "notice", "granted", "package_id"):
            batch_op.drop_column(column)
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_extensions_package_id_marketplace_packages"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_extensions_package_id"))
        for column in ("yank_reason", "yanked_at", "signatures", "size", "content_hash"):
            batch_op.drop_column(column)
        batch_op.drop_column("package_id")
    op.drop_table("marketplace_ratings")
    op.drop_table("marketplace_list_entries")
    op.drop_table("marketplace_course_locks")
    op.drop_table("marketplace_quarantine")
    op.drop_table("marketplace_packages")
    op.drop_table("marketplace_keys")
    op.drop_table("marketplace_publishers")
