"""the integration API: its clients (an agency's systems, by token), and when each dossier's status last changed

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE dossier SET status_changed_at = COALESCE(finished_at, submitted_at, created_at) "
               "WHERE status <> 'draft'")
    op.create_index("ix_dossier_agency_status_changed", "dossier", ["agency_id", "status_changed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_dossier_agency_status_changed", table_name="dossier")
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("status_changed_at")
    op.drop_table("api_client")
