"""Shared fixtures: a real database (SQLite file, and PostgreSQL when MOTCUA_TEST_POSTGRES_URL is set)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine import demo
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
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'motcua.db'}"
    else:
        yield from _postgres_schema_url()


def deployed_engine(database_url: str, **settings: object) -> Engine:
    """An engine on a migrated database with the shipped procedures deployed and the demo accounts created."""
    eng = Engine(Settings(database_url=database_url, root=DEFAULT_ROOT, **settings))  # type: ignore[arg-type]
    eng.upgrade_database()
    with eng.session() as session:
        eng.deploy(session)
        demo.seed(session)
        session.commit()
    return eng


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database with the shipped procedures deployed and the demo accounts created."""
    eng = deployed_engine(database_url)
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
