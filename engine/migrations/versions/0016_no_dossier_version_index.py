"""drop the index of dossiers by procedure version (0014): measured, it slowed the web journeys' writes more than the
designers' rare pages gain from it (docs/BENCHMARKS.md, twelfth session)

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_dossier_version_finished", table_name="dossier")


def downgrade() -> None:
    op.create_index("ix_dossier_version_finished", "dossier", ["version_id", "finished_at"])
