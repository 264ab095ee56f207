"""Each official's tasks completed in a period (a head of office's statistics): an agency's tasks by completion

Revision ID: 0023
Revises: 0022
"""
from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_human_task_agency_completed", "human_task", ["agency_id", "completed_at"])


def downgrade() -> None:
    op.drop_index("ix_human_task_agency_completed", table_name="human_task")
