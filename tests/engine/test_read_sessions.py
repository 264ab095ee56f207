"""Sessions for work that only reads (engine.db.Database.read_session): they hold no transaction between
statements, see what is committed, and the database itself refuses a write through them. On SQLite and
PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from engine.api import Engine
from engine.models import User

CITIZEN = "congdan@demo.motcua.vn"


def in_transaction(session) -> bool:  # noqa: ANN001
    """Whether the session's database connection is inside a transaction, as the driver knows it."""
    raw = session.connection().connection.dbapi_connection
    if hasattr(raw, "in_transaction"):  # sqlite3
        return raw.in_transaction
    import psycopg

    return raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def name_of(engine: Engine, email: str) -> str:
    with engine.session() as s:
        return s.scalar(select(User.full_name).where(User.email == email))


def test_a_read_session_reads_committed_rows_outside_any_transaction(engine: Engine) -> None:
    with engine.db.read_session() as reader:
        assert reader.scalar(select(User.full_name).where(User.email == CITIZEN)) == name_of(engine, CITIZEN)
        assert not in_transaction(reader)  # a writing session would now hold one (checked below)
        # a change committed meanwhile is seen by the reader's next statement, as at READ COMMITTED
        with engine.session() as writer:
            writer.execute(update(User).where(User.email == CITIZEN).values(full_name="Tên Đã Đổi"))
            writer.commit()
        assert reader.scalar(select(User.full_name).where(User.email == CITIZEN)) == "Tên Đã Đổi"
        assert not in_transaction(reader)
    with engine.session() as writer:
        writer.scalar(select(User.id).where(User.email == CITIZEN))
        assert in_transaction(writer)  # (so that the assertion above can fail)


def test_the_database_refuses_a_write_through_a_read_session(engine: Engine) -> None:
    before = name_of(engine, CITIZEN)
    with engine.db.read_session() as reader:
        user = reader.scalars(select(User).where(User.email == CITIZEN)).one()
        user.full_name = "Không được ghi"
        with pytest.raises(DBAPIError, match="(?i)read-only|readonly"):
            reader.flush()
    with engine.db.read_session() as reader:
        with pytest.raises(DBAPIError, match="(?i)read-only|readonly"):
            reader.execute(update(User).where(User.email == CITIZEN).values(full_name="Không được ghi"))
    with engine.db.read_session() as reader:
        with pytest.raises(DBAPIError, match="(?i)read-only|readonly"):
            reader.execute(insert(User).values(email="moi@example.com", full_name="Mới", kind="citizen",
                                               password_hash="x", active=True))
    assert name_of(engine, CITIZEN) == before
    with engine.session() as s:
        assert s.scalar(select(User.id).where(User.email == "moi@example.com")) is None


def test_a_read_session_still_works_after_a_refused_write(engine: Engine) -> None:
    """The refusal leaves the pooled connection usable for the next request."""
    for _ in range(3):
        with engine.db.read_session() as reader:
            with pytest.raises(DBAPIError):
                reader.execute(update(User).where(User.email == CITIZEN).values(full_name="x"))
        with engine.db.read_session() as reader:
            assert reader.scalar(select(User.email).where(User.email == CITIZEN)) == CITIZEN
