"""Rows a step appends and nothing reads back by id (the audit trail's events, the mail a step owes): they are not
ORM objects. They wait in the session (:func:`add`) and are written in one multi-row INSERT per table at the end of
the step (:func:`write`), before a query that may read them and before a commit, so that whatever the transaction
reads includes them; a rollback drops them with the rest."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

KEY = "motcua.buffered"
_INSERTS: dict[type, Any] = {}  # model → its INSERT, built once


def add(session: Session, model: type, row: dict[str, Any]) -> None:
    """Append a row of ``model``'s table to the transaction, to be written with the others."""
    session.info.setdefault(KEY, {}).setdefault(model, []).append(row)


def write(session: Session) -> None:
    """Write the waiting rows, table by table in the order they first came."""
    waiting = session.info.pop(KEY, None)
    for model, rows in (waiting or {}).items():
        insert = _INSERTS.get(model)
        if insert is None:
            insert = _INSERTS[model] = model.__table__.insert()
        session.connection().execute(insert, rows)


@event.listens_for(Session, "do_orm_execute")
def _before_a_query_that_may_read_them(state: Any) -> None:
    """A query of a waiting table, or one whose entities are not known, reads the rows written first; queries of
    other tables leave them to the end of the step."""
    waiting = state.session.info.get(KEY)
    if waiting:
        mappers = state.all_mappers
        if not mappers or any(m.class_ in waiting for m in mappers):
            write(state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write(session)


@event.listens_for(Session, "after_rollback")
def _dropped(session: Session) -> None:
    session.info.pop(KEY, None)
