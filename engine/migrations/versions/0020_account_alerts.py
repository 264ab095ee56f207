"""Account alerts go through an outbox: owed in the change's transaction, sent and retried by the worker

Revision ID: 0020
Revises: 0019
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("recovery_left", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_account_alert_user_id"), "account_alert", ["user_id"])
    op.create_index("ix_account_alert_due", "account_alert", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_account_alert_due", table_name="account_alert")
    op.drop_index(op.f("ix_account_alert_user_id"), table_name="account_alert")
    op.drop_table("account_alert")
