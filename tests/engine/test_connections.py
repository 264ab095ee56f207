"""Pooled PostgreSQL connections: a connection the server ended is replaced before a request uses it, a healthy
one is kept with no round trip at checkout, and one that rested long is pinged first
(engine.db._drop_closed_connections)."""
from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, event, text

from engine import db as db_module
from engine.db import Database
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def database() -> Iterator[Database]:
    assert POSTGRES_URL
    db = Database(POSTGRES_URL)
    yield db
    db.dispose()


def backend_pid(db: Database) -> int:
    with db.session() as s:
        return s.execute(text("SELECT pg_backend_pid()")).scalar_one()


def statements_of_a_session(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What a session that runs one statement sends: its statements and SQLAlchemy's pings (``SELECT 1`` through
    the dialect's ``do_ping``, which bypasses the statement events)."""
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: sent.append("<ping>") or ping(conn))
    with db.session() as s:
        s.execute(text("SELECT 42")).scalar_one()
    return sent


def terminate(pid: int) -> None:
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
            for _ in range(200):  # until the backend is gone (its goodbye is then on the client's socket)
                if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                    {"pid": pid}).scalar_one():
                    break
                time.sleep(0.01)
    finally:
        admin.dispose()


def test_a_healthy_pooled_connection_is_reused_without_a_ping(database: Database,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    first = backend_pid(database)
    assert backend_pid(database) == first
    assert statements_of_a_session(database, monkeypatch) == ["SELECT 42"]


def test_a_connection_the_server_ended_is_replaced_before_use(database: Database) -> None:
    first = backend_pid(database)
    terminate(first)
    # the next session works at once, on a new backend, instead of failing with "server closed the connection"
    second = backend_pid(database)
    assert second != first
    assert backend_pid(database) == second


def test_a_connection_that_rested_long_is_pinged_and_replaced_if_it_does_not_answer(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a quiet socket cannot show (a host that rebooted, a NAT that dropped the connection) shows only when
    something is sent: after a rest in the pool, the connection is pinged first."""
    first = backend_pid(database)
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    assert statements_of_a_session(database, monkeypatch) == ["<ping>", "SELECT 42"]
    assert backend_pid(database) == first  # a ping that was answered keeps the connection

    real_ping = database.engine.dialect.do_ping
    failures = []

    def unanswered(conn: object) -> bool:  # as a connection dropped on the way would fail
        if not failures:
            failures.append(conn)
            raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")
        return real_ping(conn)

    monkeypatch.setattr(database.engine.dialect, "do_ping", unanswered)
    second = backend_pid(database)
    assert failures and second != first
