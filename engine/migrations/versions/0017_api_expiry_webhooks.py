"""API clients: tokens that expire, and webhooks (where the worker posts an agency's status changes)

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ("expires_at", "webhook_url", "webhook_secret", "webhook_after_at", "webhook_after_id", "webhook_failures",
           "webhook_retry_at", "webhook_error", "webhook_delivered_at")


def upgrade() -> None:
    with op.batch_alter_table("api_client") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("webhook_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("webhook_after_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("webhook_after_id", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("webhook_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("webhook_retry_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("webhook_error", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("webhook_delivered_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_client") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
