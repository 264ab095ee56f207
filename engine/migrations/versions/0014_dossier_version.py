"""dossiers by procedure version, running first (engine.designs: the dossiers on each version, moving them)

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_dossier_version_finished", "dossier", ["version_id", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_dossier_version_finished", table_name="dossier")
