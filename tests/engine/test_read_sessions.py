"""Sessions for work that only reads (engine.db.Database.read_session): they see what is committed and the
database itself refuses a write through them. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from engine.api import Engine
from engine.db import Database
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


def rename(engine: Engine, name: str) -> None:
    with engine.session() as writer:
        writer.execute(update(User).where(User.email == CITIZEN).values(full_name=name))
        writer.commit()


def read_name(session) -> str:  # noqa: ANN001
    return session.scalar(select(User.full_name).where(User.email == CITIZEN))


def test_a_read_session_reads_what_is_committed(engine: Engine) -> None:
    """PostgreSQL: no transaction at all, each statement sees what was committed when it started (as at READ
    COMMITTED). SQLite: one snapshot for the session, ended with it."""
    with engine.db.read_session() as reader:
        assert read_name(reader) == name_of(engine, CITIZEN)
        rename(engine, "Tên Đã Đổi")
        if engine.db.is_sqlite:
            assert read_name(reader) != "Tên Đã Đổi"  # the page reads one state
            assert in_transaction(reader)
        else:
            assert read_name(reader) == "Tên Đã Đổi"
            assert not in_transaction(reader)
    with engine.db.read_session() as reader:
        assert read_name(reader) == "Tên Đã Đổi"
    with engine.session() as writer:
        writer.scalar(select(User.id).where(User.email == CITIZEN))
        assert in_transaction(writer)  # (so that the PostgreSQL assertion above can fail)


def test_an_in_memory_database_reads_through_its_only_pool() -> None:

    for url in ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"):
        db = Database(url)
        with db.session() as s:
            s.execute(text("CREATE TABLE t (x INTEGER)"))
            s.execute(text("INSERT INTO t VALUES (7)"))
            s.commit()
        with db.read_session() as reader:
            assert reader.scalar(text("SELECT x FROM t")) == 7
        db.dispose()


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
