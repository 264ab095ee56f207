"""Two-step login: an account's authenticator secret, the last time step used, the hashes of its recovery codes

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("totp_recovery", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        for name in ("totp_recovery", "totp_last_step", "totp_secret"):
            batch.drop_column(name)
