"""Shared fixtures: a real database (SQLite file, and PostgreSQL when MOTCUA_TEST_POSTGRES_URL is set)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from engine import clock, demo
from engine.api import Engine
from engine.config import DEFAULT_ROOT, Settings
from engine.models import User

POSTGRES_URL = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
IN_CI = bool(os.environ.get("CI"))


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards; its URL pins the search path to it."""
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    reason = "MOTCUA_TEST_POSTGRES_URL is not set (required in CI)"
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI is set but MOTCUA_TEST_POSTGRES_URL is not: the PostgreSQL tests are required in CI")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using a database runs on SQLite and on PostgreSQL."""
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'motcua.db'}"
    else:
        yield from _postgres_schema_url()


#: the key the tests' engines seal secrets with (engine.sealed; MOTCUA_DATA_KEY in production)
TEST_DATA_KEY = "khoa-thu-nghiem-cua-bo-kiem-thu"


def deployed_engine(database_url: str, **settings: object) -> Engine:
    """An engine on a migrated database with the shipped procedures deployed and the demo accounts created."""
    eng = Engine(Settings(database_url=database_url, root=DEFAULT_ROOT, **settings))  # type: ignore[arg-type]
    eng.upgrade_database()
    with eng.session() as session:
        eng.deploy(session)
        demo.seed(session)
        session.commit()
    return eng


SET_UP_AT = dt.datetime(2026, 11, 2, 1, 0)  # a Monday, 08:00 in Vietnam: three weeks before the tests' Monday


class Templates:
    """One deployed database (migrated, shipped procedures deployed, demo accounts made) per backend and test
    run, copied for each test that asks for one: making it takes ~0.35 s on SQLite and ~0.6 s on PostgreSQL,
    copying it ~1 ms (a file) and ~0.1 s (``CREATE DATABASE … TEMPLATE``). A copy is what a process finds after
    ``motcua setup`` ran in another one: nothing of the deploy is left in memory. It is made at a set moment
    (:data:`SET_UP_AT`, before every test's own clock), whichever test asks first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None  # the template database's name
        self._admin = None

    def sqlite(self, into: Path) -> str:
        if self._sqlite is None:
            made = self.folder / "template.db"
            with clock.use(clock.ManualClock(SET_UP_AT)):
                deployed_engine(f"sqlite:///{made}").db.dispose()
            with closing(sqlite3.connect(made)) as conn:  # everything into the main file, so that copying it is whole
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._sqlite = made
        target = into / "motcua.db"
        shutil.copyfile(self._sqlite, target)
        return f"sqlite:///{target}"

    @contextmanager
    def postgres(self) -> Iterator[str]:
        assert POSTGRES_URL
        if self._admin is None:
            self._admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            name = f"motcua_template_{uuid.uuid4().hex[:12]}"
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            with clock.use(clock.ManualClock(SET_UP_AT)):
                deployed_engine(self._url(name)).db.dispose()
            self._postgres = name
        name = f"motcua_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._postgres}"'))
        try:
            yield self._url(name)
        finally:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    @staticmethod
    def _url(database: str) -> str:
        return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)

    def close(self) -> None:
        if self._admin is not None:
            if self._postgres:
                with self._admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{self._postgres}" WITH (FORCE)'))
            self._admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("template"))
    yield made
    made.close()


@pytest.fixture
def engine(backend: str, tmp_path: Path, templates: Templates) -> Iterator[Engine]:
    """A migrated database with the shipped procedures deployed and the demo accounts created (a copy of the
    test run's template)."""
    with ExitStack() as stack:
        if backend == "sqlite":
            url = templates.sqlite(tmp_path)
        else:
            url = stack.enter_context(templates.postgres())
        eng = Engine(Settings(database_url=url, root=DEFAULT_ROOT, data_keys=(TEST_DATA_KEY,)))
        yield eng
        eng.db.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator:
    with engine.session() as s:
        yield s


class Accounts:
    """The demo accounts by role, loaded in a given session."""

    def __init__(self, session) -> None:  # noqa: ANN001
        self.session = session

    def by_email(self, email: str) -> User:
        from sqlalchemy import select

        return self.session.scalar(select(User).where(User.email == email))

    @property
    def citizen(self) -> User:
        return self.by_email("congdan@demo.motcua.vn")

    @property
    def reception(self) -> User:
        return self.by_email("motcua@demo.motcua.vn")

    @property
    def officer(self) -> User:
        return self.by_email("hotich@demo.motcua.vn")

    @property
    def chairman(self) -> User:
        return self.by_email("chutich@demo.motcua.vn")


@pytest.fixture
def accounts(session) -> Accounts:  # noqa: ANN001
    return Accounts(session)



class Mailbox:
    """What a real SMTP server on loopback (aiosmtpd) received: one ``email.message`` per mail, and the logins; it
    refuses mail to the addresses put in ``unknown``."""

    def __init__(self) -> None:
        self.mails: list = []
        self.logins: list[tuple[str, str]] = []
        self.unknown: set[str] = set()  # addresses refused for good (550), as a server refuses a mailbox it lacks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: ANN001
        if address in self.unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        from email import message_from_bytes, policy

        self.mails.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN201
        from aiosmtpd.smtp import AuthResult

        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == "dung-mat-khau", handled=False)  # (handled=False: the server replies 535)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, str]]:
    """An SMTP server on a free loopback port, and its URL (smtp://127.0.0.1:port). It accepts mail with or without
    a login; a login succeeds with the password "dung-mat-khau"."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield box, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
