"""Two-step login's secrets are kept sealed (engine.sealed): longer than the secret itself

Revision ID: 0022
Revises: 0021
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=200),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=200), type_=sa.String(length=64),
                           existing_nullable=True)
