"""Officials find an applicant's dossiers by their personal ID number or phone: both indexed

Revision ID: 0021
Revises: 0020
"""
from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_user_account_id_number"), "user_account", ["id_number"])
    op.create_index(op.f("ix_user_account_phone"), "user_account", ["phone"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_account_phone"), table_name="user_account")
    op.drop_index(op.f("ix_user_account_id_number"), table_name="user_account")
