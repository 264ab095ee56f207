"""accounts created per client address over a short window (engine.logins)

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_registration_source", "registration", ["source", "at"])
    op.create_index(op.f("ix_registration_at"), "registration", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_registration_at"), table_name="registration")
    op.drop_index("ix_registration_source", table_name="registration")
    op.drop_table("registration")
