"""How the worker sends the mail waiting in an outbox table (:class:`~engine.models.Outboxed`): the applicants'
notices about their dossiers (:mod:`engine.notices`) and the alerts about their accounts (:mod:`engine.alerts`).

A row is owed in the transaction of the change it tells of: a mail is owed for every change that was stored and
for none that was rolled back, and no request waits for a mail server. Sending is at least once: a sender first
takes rows for a few minutes (a lease, so that two workers never send one both), then sends, then marks each sent;
a sender stopped between the last two steps leaves it to be sent again when the lease ends. A failure is tried
again later (:data:`RETRY_AFTER`), then given up; a permanent refusal (the server rejects the address) is given up
at once. While the server is away, the rest of a run waits for the next try.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.orm import Session

from . import mail
from .config import Settings
from .models import Outboxed, utcnow

log = logging.getLogger("motcua.outbox")

#: how long a sender holds a row it took before another may take it (a mail takes seconds at most)
LEASE = dt.timedelta(minutes=5)
#: the wait before each new try after a failure; after the last, the row is given up ("failed")
RETRY_AFTER = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2),
               dt.timedelta(hours=6))
NO_SERVER = "no mail server configured (MOTCUA_SMTP_URL)"

#: what a loader gives for a row, or for a list of rows told in one mail: a reason not to send it (it is
#: skipped), or how to compose the mail (recipient, subject, body), called only when it is to be sent
Mail = str | Callable[[], tuple[str, str, str]]


@dataclass
class Sent:
    """What a sending run did: mails sent, rows with no mail (the person chose none, or no server is configured),
    failures to try again later, and rows given up."""

    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.skipped or self.retrying or self.failed)


def taking(model: type[Outboxed]) -> Update:
    """The statement that takes a table's due rows, oldest first, by moving their next attempt to the end of a
    lease and counting the attempt: of two senders that take at once, each gets other rows (PostgreSQL checks
    the conditions again on a row another sender has just changed; SQLite has one writer at a time)."""
    table: Any = model
    due = (table.state == "pending", table.next_attempt_at <= bindparam("now"))
    return (update(table)
            .where(table.id.in_(select(table.id).where(*due).order_by(table.next_attempt_at, table.id)
                                .limit(bindparam("limit"))), *due)
            .values(next_attempt_at=bindparam("until"), attempts=table.attempts + 1)
            .returning(table.id))


def take(session: Session, statement: Update, limit: int) -> list[int]:
    """Take up to ``limit`` due rows with ``statement`` (:func:`taking`) for a lease; the caller commits."""
    now = utcnow()
    return list(session.scalars(statement, {"now": now, "limit": limit, "until": now + LEASE}))


def send_due(sessions: Callable[[], Session], settings: Settings, model: type[Outboxed], statement: Update,
             load: Callable[[Session, list[int]], Iterable[tuple[Any, Mail]]], what: str, limit: int = 100) -> Sent:
    """Send the rows of ``model`` due by the engine's clock, oldest first, up to ``limit``, over one conversation
    with the mail server. They are taken in one short transaction (``statement``, :func:`taking`); ``load`` gives
    each taken row, or a list of them that one mail tells of, with its :data:`Mail`; each mail's outcome is
    committed as soon as it is known, so that a sender stopped halfway sends again only the mail it was sending.
    ``what``: the rows' name, for the log."""
    done = Sent()
    with sessions() as session:
        ids = take(session, statement, limit)
        session.commit()
        if not ids:
            return done
        with mail.Conversation(settings) as server:
            if not server.configured and not mail.shown_in_console():
                table: Any = model
                session.execute(update(table).where(table.id.in_(ids)).values(state="skipped", last_error=NO_SERVER))
                session.commit()
                log.warning("no MOTCUA_SMTP_URL: %d %s not sent", len(ids), what)
                done.skipped += len(ids)
                return done
            away: mail.MailFailed | None = None  # the server failed: the rest wait for the next try
            for told, owed in load(session, ids):
                rows = told if isinstance(told, list) else [told]
                if isinstance(owed, str):
                    _skipped(rows, owed, done)
                elif away is not None:
                    _not_sent(rows, away, done)
                else:
                    to, subject, body = owed()
                    try:
                        sent = server.send(to, subject, body)
                    except mail.MailFailed as exc:
                        _not_sent(rows, exc, done)
                        away = exc if exc.server_away else None
                    else:
                        if sent:
                            at = utcnow()
                            for row in rows:
                                row.state, row.sent_at = "sent", at
                            done.sent += 1
                        else:
                            _skipped(rows, NO_SERVER, done)
                session.commit()
    return done


def _skipped(rows: list[Any], why: str, done: Sent) -> None:
    for row in rows:
        row.state, row.last_error = "skipped", why
    done.skipped += len(rows)


def _not_sent(rows: list[Any], exc: mail.MailFailed, done: Sent) -> None:
    for row in rows:
        row.last_error = str(exc)[:1000]
        if exc.permanent or row.attempts > len(RETRY_AFTER):
            row.state = "failed"
            done.failed += 1
        else:
            row.next_attempt_at = utcnow() + RETRY_AFTER[row.attempts - 1]
            done.retrying += 1


def pending(row_values: dict[str, Any]) -> dict[str, Any]:
    """A new row's values, due now: ``row_values`` with the outbox's own."""
    now = utcnow()
    return {**row_values, "created_at": now, "state": "pending", "attempts": 0, "next_attempt_at": now}
