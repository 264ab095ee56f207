"""Database connection, sessions and migrations (SQLite embedded by default, PostgreSQL in production)."""
from __future__ import annotations

import functools
import select
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: in a session's ``info``: it reads through the read-only pool, so all it sees is committed
READS_COMMITTED = "motcua.reads_committed"


class Database:
    """The database of one process: a pool for work that may write, and one for reading only.

    :meth:`session` runs in a transaction, committed or rolled back by its user. :meth:`read_session` is for
    work that only reads (a web page's GET), and the database refuses any write on its connections.

    * On PostgreSQL its connections are in autocommit: each statement is its own transaction and sees what was
      committed when it started, as at READ COMMITTED inside one (the default), without a ``BEGIN`` and a
      ``ROLLBACK`` per request: about 60% of PostgreSQL's CPU time per web journey, measured.
    * On SQLite it begins a plain (deferred) transaction instead of ``BEGIN IMMEDIATE``: a page reads one
      consistent state without taking the write lock, so it is not held up by a step being saved (WAL), and
      the transaction ends when the session does.

    An in-memory SQLite database cannot be opened by a second pool: there the read sessions are ordinary ones.
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.read_engine = None if _in_memory(url) else make_engine(url, read_only=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = (sessionmaker(self.read_engine, expire_on_commit=False, info={READS_COMMITTED: True})
                         if self.read_engine is not None else self._sessions)

    def session(self) -> Session:
        return self._sessions()

    def read_session(self) -> Session:
        """A session for reading only; the database refuses writes through it (see the class)."""
        return self._readers()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self.url), revision)

    def schema_problem(self) -> str | None:
        """Why this database cannot serve this code, or None: it must answer, and its schema be at the migrations'
        head (a database not yet upgraded, or upgraded by newer code, is not ready)."""
        try:
            with self.read_session() as session:
                current = set(session.scalars(text("SELECT version_num FROM alembic_version")))
        except SQLAlchemyError as exc:
            return f"database unreachable or not set up: {type(exc).__name__}"
        if current != migration_heads():
            code = ", ".join(sorted(migration_heads()))
            return f"schema at {', '.join(sorted(current)) or 'nothing'}, code at {code}"
        return None

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions this code's migrations end at (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _in_memory(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and (
        parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory")


def make_engine(url: str, read_only: bool = False) -> SAEngine:
    """An engine for ``url``; with ``read_only``, one whose connections refuse writes (see :class:`Database`)."""
    if url.startswith("sqlite"):
        if _in_memory(url):
            if read_only:
                raise ValueError("an in-memory SQLite database cannot be opened by a second engine")
        else:
            Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        (_sqlite_reader_setup if read_only else _sqlite_setup)(engine)
        return engine
    if read_only:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        _postgres_reader_setup(engine)
    else:
        engine = create_engine(url)
    _drop_closed_connections(engine)
    return engine


def _postgres_reader_setup(engine: SAEngine) -> None:
    """Each new connection of a reading engine refuses writes for its whole life: the database, not our code,
    stops a write on it ("cannot execute UPDATE in a read-only transaction"). Set once when it connects, so it
    costs nothing per request."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cur:
            cur.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()  # (a no-op if the driver is already in autocommit)


#: a pooled connection idle longer than this is pinged before use (see _drop_closed_connections)
IDLE_PING_SECONDS = 30.0
_CHECKED_IN = "motcua_checked_in"


def _drop_closed_connections(engine: SAEngine) -> None:
    """A pooled connection that can no longer work is replaced before a request uses it, with a round trip only
    after the connection has rested in the pool for a while.

    ``pool_pre_ping`` sends ``SELECT 1`` and waits for the answer at every checkout: 37 of the 253 round trips of
    a web journey. Instead:

    * a connection the server has closed (a restart, ``pg_terminate_backend``, an idle timeout, a crash of
      another backend) carries the server's goodbye and its socket reads as readable or hung up at once; a
      connection resting in the pool has nothing else to read (we never LISTEN), so such a socket, or a
      connection the driver already knows is broken, is discarded at checkout;
    * a connection that rested in the pool over :data:`IDLE_PING_SECONDS` is pinged as ``pool_pre_ping`` would,
      because what a quiet socket cannot show happens over idle time: a database host that rebooted or failed
      over, a load balancer or NAT that dropped an idle connection. Those answer only when something is sent.

    A discarded connection is replaced by the pool (``DisconnectionError``: it opens a new one, once). A
    connection that breaks during a request fails that request, with or without a ping.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
            raise DisconnectionError("the connection is closed")
        try:
            poller = select.poll()  # (select.select cannot take descriptors above 1023)
            poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
            woken = poller.poll(0)  # POLLHUP, POLLERR and POLLNVAL come whether asked or not
        except Exception as exc:  # noqa: BLE001 - a socket that cannot even be polled cannot be trusted
            raise DisconnectionError(f"the connection's socket cannot be polled: {exc}") from exc
        if woken:
            raise DisconnectionError("the server sent something to an idle connection: most likely its goodbye")
        rested = time.monotonic() - record.info.get(_CHECKED_IN, time.monotonic())
        if rested > IDLE_PING_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_connection)
                dbapi_connection.rollback()  # (the ping opened a transaction)
            except Exception as exc:  # noqa: BLE001 - any failure: the pool opens a new connection
                raise DisconnectionError(f"the connection did not answer after {rested:.0f} s idle: {exc}") from exc


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


def _sqlite_reader_setup(engine: SAEngine) -> None:
    """A reading engine on SQLite: a plain ``BEGIN`` (a snapshot, in WAL without waiting for a writer or holding
    one up), ended by the pool's rollback when the session closes; ``query_only`` makes SQLite refuse any write
    on the connection."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


#: the largest id a row can have: PostgreSQL's INTEGER (a larger number in a query is an error there, and past
#: 2**63 on SQLite too); an id outside 1..MAX_ID is nobody's
MAX_ID = 2**31 - 1


def number_from(value: Any, digits: int = 18) -> int | None:
    """A whole number written as at most ``digits`` decimal digits (of any script: int() reads them), from a form,
    an address or a header; None for anything else. (``str.isdigit`` also takes superscripts, which ``int``
    refuses, and ``int`` refuses over 4,300 digits: both would end the request.)"""
    written = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(written) if written.isdecimal() and len(written) <= digits else None


def id_from(value: Any) -> int | None:
    """A row's id written in a form or an address (:func:`number_from`, 1 to :data:`MAX_ID`); None otherwise."""
    number = number_from(value, digits=10)
    return number if number is not None and possible_id(number) and number > 0 else None


def possible_id(ident: Any) -> bool:
    """Whether a row could have this id (an id from outside, as a URL typed by hand, may be any number)."""
    return not isinstance(ident, int) or 0 < ident <= MAX_ID


def get_by_id(session: Session, statement: Any, cls: type, ident: Any) -> Any:
    """``session.get`` through a statement built once per process (``… WHERE id = :id`` with its loader
    options): SQLAlchemy computes a statement's cache key once per object, where ``session.get(cls, id,
    options=[…])`` builds and keys a new statement at every call (about half the cost of a small lookup).
    As with ``session.get``, an object already in the session is returned without a query; an id no row can
    have (out of the database's range, as from a URL typed by hand) is None without one."""
    if not possible_id(ident):
        return None
    found = session.identity_map.get(identity_key(cls, ident))
    if found is not None:
        return found
    return session.execute(statement, {"id": ident}).unique().scalar_one_or_none()
