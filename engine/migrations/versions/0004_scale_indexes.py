"""indexes for reads at scale: an official's claimed tasks, an applicant's dossiers newest first

Revision ID: 0004
Revises: 0003

Measured with benchmarks/scale_bench.py on a million dossiers: "my tasks" of an official read every open task
of the province and filtered them by claimer (the queue index leads with state); "my dossiers" read an
applicant's rows by applicant and sorted them, and cannot be paged without an index in their order.
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_human_task_claimed", "human_task", ["claimed_by_id", "state"])
    op.create_index("ix_dossier_applicant_created", "dossier", ["applicant_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_dossier_applicant_created", table_name="dossier")
    op.drop_index("ix_human_task_claimed", table_name="human_task")
