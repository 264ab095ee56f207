"""workflow state stored as JSON text: serialized and parsed once per step, no conversion in between

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dossier ALTER COLUMN workflow TYPE TEXT USING workflow::text")
    else:
        with op.batch_alter_table("dossier") as batch:
            batch.alter_column("workflow", type_=sa.Text(), existing_type=sa.JSON(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dossier ALTER COLUMN workflow TYPE JSON USING workflow::json")
    else:
        with op.batch_alter_table("dossier") as batch:
            batch.alter_column("workflow", type_=sa.JSON(), existing_type=sa.Text(), existing_nullable=False)
