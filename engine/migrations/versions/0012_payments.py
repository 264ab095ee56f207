"""fees paid by bank transfer (VietQR) or at the desk, and the agencies' accounts (engine.payments)

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("bank_bin", sa.String(length=6), nullable=True))
        batch.add_column(sa.Column("bank_account", sa.String(length=19), nullable=True))
        batch.add_column(sa.Column("bank_account_name", sa.String(length=100), nullable=True))
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("declared_at", sa.DateTime(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("reference", sa.String(length=60), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id"),
    )


def downgrade() -> None:
    op.drop_table("payment")
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("bank_account_name")
        batch.drop_column("bank_account")
        batch.drop_column("bank_bin")
