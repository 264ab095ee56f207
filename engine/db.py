"""Database connection, sessions and migrations (SQLite embedded by default, PostgreSQL in production)."""
from __future__ import annotations

import select
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self.url), revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def make_engine(url: str) -> SAEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_setup(engine)
        return engine
    engine = create_engine(url)
    _drop_closed_connections(engine)
    return engine


def _drop_closed_connections(engine: SAEngine) -> None:
    """A pooled connection the server has closed is replaced before a request uses it, without a round trip.

    A PostgreSQL server that restarts, or ends an idle backend (``pg_terminate_backend``, an idle timeout), sends
    its reason and closes the socket, which the client sees at once as readable; a connection resting in the pool
    has nothing else to read (we never LISTEN). So a pooled connection whose socket is readable, or which the
    driver already knows is broken, is discarded at checkout (``DisconnectionError``: the pool opens a new one,
    up to three times), where ``pool_pre_ping`` would send ``SELECT 1`` and wait for the answer at every checkout:
    37 of the 253 round trips of a web journey. Like the ping, this cannot notice a network that went silent; a
    connection that breaks during a request fails that request either way.
    """

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
            raise DisconnectionError("the connection is closed")
        try:
            readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
        except (OSError, ValueError) as exc:  # a socket already gone
            raise DisconnectionError("the connection's socket is gone") from exc
        if readable:
            raise DisconnectionError("the server sent something to an idle connection: most likely its goodbye")


def _sqlite_setup(engine: SAEngine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE.

    pysqlite's own transaction handling is switched off so that every transaction starts with
    ``BEGIN IMMEDIATE``: a write lock taken up front, waited for with the busy timeout. Otherwise a
    transaction that read first and writes later fails at once with "database is locked" when another
    connection wrote in between, instead of waiting its turn.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_by_id(session: Session, statement: Any, cls: type, ident: Any) -> Any:
    """``session.get`` through a statement built once per process (``… WHERE id = :id`` with its loader
    options): SQLAlchemy computes a statement's cache key once per object, where ``session.get(cls, id,
    options=[…])`` builds and keys a new statement at every call (about half the cost of a small lookup).
    As with ``session.get``, an object already in the session is returned without a query."""
    found = session.identity_map.get(identity_key(cls, ident))
    if found is not None:
        return found
    return session.execute(statement, {"id": ident}).unique().scalar_one_or_none()
