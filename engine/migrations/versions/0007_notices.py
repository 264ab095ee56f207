"""mail to applicants about their dossiers (engine.notices): the outbox, and each person's choice

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("notify_by_mail", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("language", sa.String(length=2), server_default="vi", nullable=False))
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notice_dossier_id"), "notice", ["dossier_id"])
    op.create_index("ix_notice_due", "notice", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notice_due", table_name="notice")
    op.drop_index(op.f("ix_notice_dossier_id"), table_name="notice")
    op.drop_table("notice")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
        batch.drop_column("notify_by_mail")
