"""indexes for an agency's statistics: its dossiers received, and finished or still open, in a period

Revision ID: 0009
Revises: 0008

Measured on a million dossiers (PostgreSQL, the busiest agency: 57,000 dossiers): a month's figures read every
dossier of the agency through the index on agency_id alone, 310 ms; with these, 14 ms. They lead with agency_id,
so they replace that index.
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_dossier_agency_submitted", "dossier", ["agency_id", "submitted_at"])
    op.create_index("ix_dossier_agency_finished", "dossier", ["agency_id", "finished_at"])
    op.drop_index("ix_dossier_agency_id", table_name="dossier")


def downgrade() -> None:
    op.create_index("ix_dossier_agency_id", "dossier", ["agency_id"])
    op.drop_index("ix_dossier_agency_finished", table_name="dossier")
    op.drop_index("ix_dossier_agency_submitted", table_name="dossier")
