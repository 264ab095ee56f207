"""The Alembic migrations create exactly the schema the models describe, on SQLite and PostgreSQL, and fill in what
a new column needs for the rows there are."""
from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from engine.db import Database
from engine.models import Base


def test_upgrade_head_matches_the_models(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []


def test_accounts_made_before_the_folded_names_get_theirs(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade("0025")
    with db.engine.begin() as conn:
        for i, name in enumerate(("Đinh  Văn Đạo", "NGUYỄN Thị Lan", "Lê Hộ")):
            conn.execute(text("INSERT INTO user_account (email, password_hash, full_name, kind, active, created_at,"
                              " notify_by_mail, language) VALUES (:email, 'x', :name, 'citizen', :yes, :at, :yes,"
                              " 'vi')"), {"email": f"p{i}@example.com", "name": name, "yes": True,
                                          "at": dt.datetime(2026, 11, 1)})
    db.upgrade()
    with db.engine.connect() as conn:
        folded = dict(conn.execute(text("SELECT email, name_folded FROM user_account")).all())
    db.dispose()
    assert folded == {"p0@example.com": "dinh van dao", "p1@example.com": "nguyen thi lan", "p2@example.com": "le ho"}
