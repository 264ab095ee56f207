"""deadlines and timers: agency calendars, paused legal clock, extensions, due timers

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_day",
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("agency_id", "day"),
    )
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("clock_paused_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("extended_days", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_timer_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_dossier_next_timer_at", ["next_timer_at"])


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_index("ix_dossier_next_timer_at")
        batch.drop_column("next_timer_at")
        batch.drop_column("extended_days")
        batch.drop_column("clock_paused_at")
    op.drop_table("agency_day")
