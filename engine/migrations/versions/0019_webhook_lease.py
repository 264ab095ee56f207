"""Webhooks: a worker delivering to a client holds it until a set time, so that two workers do not post the same batch

Revision ID: 0019
Revises: 0018
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_client") as batch:
        batch.add_column(sa.Column("webhook_lease_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_client") as batch:
        batch.drop_column("webhook_lease_until")
