"""Officials find an applicant's dossiers by their name, written with or without diacritics: each account keeps its
name folded (lower case, no diacritics, single spaces), indexed; the accounts there are get it now

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BATCH = 5000


def _folded(name: str) -> str:
    # (as engine.i18n.folded_name does it on the day of this migration, kept here so that the migration never changes)
    name = name.replace("đ", "d").replace("Đ", "D")
    plain = "".join(ch for ch in unicodedata.normalize("NFD", name) if not unicodedata.combining(ch)).casefold()
    return " ".join(plain.split())


def upgrade() -> None:
    op.add_column("user_account", sa.Column("name_folded", sa.String(length=200), nullable=True))
    accounts = sa.table("user_account", sa.column("id", sa.Integer), sa.column("full_name", sa.String),
                        sa.column("name_folded", sa.String))
    fill = (sa.update(accounts).where(accounts.c.id == sa.bindparam("row_id"))
            .values(name_folded=sa.bindparam("folded")))
    connection, after = op.get_bind(), 0
    while True:
        rows = connection.execute(sa.select(accounts.c.id, accounts.c.full_name).where(accounts.c.id > after)
                                  .order_by(accounts.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(fill, [{"row_id": row_id, "folded": _folded(name or "")} for row_id, name in rows])
        after = rows[-1][0]
    op.create_index(op.f("ix_user_account_name_folded"), "user_account", ["name_folded"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_account_name_folded"), table_name="user_account")
    op.drop_column("user_account", "name_folded")
