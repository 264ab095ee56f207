"""A step's writes as a few prebuilt Core statements instead of the ORM's unit of work.

A step changes the same few rows every time: its dossier (state, data, status, dates), the task just
completed, the task rows it opens or cancels. The ORM's flush finds and orders these changes generally, at
several times the cost of the statements themselves (measured: about 60% of a flush on the step's path). Here
they are written directly, and the objects are then marked as stored, so the session holds exactly what the
ORM would have left after its own flush (same values, same identities, nothing pending).

The rules the ORM would have applied are kept:

* the dossier is versioned: ``UPDATE … WHERE row_version = <read>`` bumps it, and a dossier changed by someone
  else since it was read is refused (:class:`StaleDataError`, as from a flush), never overwritten;
* a task row's ``state`` or claimant changes only if it still holds what was read: a task claimed, completed or
  cancelled by someone else in between raises :class:`TaskRowChanged` (a :class:`StaleDossier`), never a
  silent overwrite.

Anything else pending in the session (another kind of object, a deletion) is then flushed by the ORM as usual,
so the guards hold whatever else a transaction changes. ORM flush events (``before_flush`` and the mapper
events) do not fire for the rows written here; none is registered.

A failed write (:class:`StaleDataError`, :class:`TaskRowChanged`) may leave part of the step written in the
transaction, as a failed flush would: the caller rolls the transaction back.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError

from .errors import StaleDossier
from .models import Dossier, HumanTask


class TaskRowChanged(StaleDossier):
    """A task row's state or claimant changed in the database since it was read: to whoever caused the step, the
    dossier changed meanwhile (a caller that knows better, as a completion of that very task, says more)."""


_DOSSIER = Dossier.__table__
_TASK = HumanTask.__table__
_COLUMNS = {cls: frozenset(p.key for p in inspect(cls).column_attrs) for cls in (Dossier, HumanTask)}
if any(p.key != p.columns[0].key for cls in _COLUMNS for p in inspect(cls).column_attrs):
    raise TypeError("engine.writes takes attribute names as column names")
UPDATE_DOSSIER = update(_DOSSIER).where(_DOSSIER.c.id == bindparam("b_id"),
                                        _DOSSIER.c.row_version == bindparam("b_version"))
INSERT = {Dossier: _DOSSIER.insert(), HumanTask: _TASK.insert()}


def _defaults(table: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """For the columns a constructor may leave unset: the Python defaults the INSERT applies (a constant, or a
    function such as the clock, called when the row is written, as the ORM's flush calls it), and the columns
    with no default at all, which the INSERT leaves out (SQL NULL) and the object reads as None."""
    defaults, empty = {}, set()
    for c in table.columns:
        if c.default is not None and (c.default.is_scalar or c.default.is_callable):
            defaults[c.key] = c.default
        elif c.default is None and c.server_default is None and not c.primary_key:
            empty.add(c.key)
    return defaults, frozenset(empty)


_DEFAULTS = {cls: _defaults(cls.__table__) for cls in _COLUMNS}


def _default_value(default: Any) -> Any:
    return default.arg if default.is_scalar else default.arg(None)  # (SQLAlchemy wraps f() as f(context))


def _task_update(guard_state: bool, guard_claim: bool) -> Any:
    stmt = update(_TASK).where(_TASK.c.id == bindparam("b_id"))
    if guard_state:
        stmt = stmt.where(_TASK.c.state == bindparam("b_state"))
    if guard_claim:
        stmt = stmt.where(_TASK.c.claimed_by_id.is_not_distinct_from(bindparam("b_claimed")))
    return stmt


#: the task row's UPDATE by which of its guarded columns it changes (state, claimant)
UPDATE_TASK = {(s, c): _task_update(s, c) for s in (False, True) for c in (False, True)}


def flush_step(session: Session) -> None:
    """Write what the session holds pending, as the ORM's flush would (see the module's text)."""
    new, dirty = session.new, session.dirty
    mine = [o for o in (*new, *dirty) if type(o) in _COLUMNS]
    if mine:
        conn = session.connection()
        # the dossier first: a stale step fails before anything else is written
        for obj in sorted(mine, key=lambda o: type(o) is not Dossier):
            if obj in new:
                _insert(session, conn, obj)
            else:
                _update(session, conn, obj)
    if len(mine) < len(new) + len(dirty) or session.deleted:
        session.flush()  # anything else, by the ORM


def _update(session: Session, conn: Any, obj: Any) -> None:
    state = inspect(obj)
    values = state.dict
    # (a column set again to what it held is not written, as the ORM's flush would not write it)
    changed = {key: values[key] for key, held in state.committed_state.items()
               if key in _COLUMNS[type(obj)] and values[key] != held}
    if changed and type(obj) is Dossier:
        version = values["row_version"]
        changed["row_version"] = version + 1
        if conn.execute(UPDATE_DOSSIER, {**changed, "b_id": obj.id, "b_version": version}).rowcount != 1:
            raise StaleDataError(f"dossier {obj.id} changed since it was read (row_version {version})")
        values["row_version"] = version + 1
    elif changed:
        # guarded by what was read (a value never read guards nothing)
        read = state.committed_state
        guard_state = "state" in changed and read["state"] is not NO_VALUE
        guard_claim = "claimed_by_id" in changed and read["claimed_by_id"] is not NO_VALUE
        params = {**changed, "b_id": obj.id}
        if guard_state:
            params["b_state"] = read["state"]
        if guard_claim:
            params["b_claimed"] = read["claimed_by_id"]
        if conn.execute(UPDATE_TASK[guard_state, guard_claim], params).rowcount != 1:
            raise TaskRowChanged()
    # what was written is now the row's stored state: no history, nothing left for a later flush. This is the
    # call the ORM's own flush ends with (private; SQLAlchemy is pinned, and
    # tests/engine/test_facade.py::test_a_step_leaves_the_session_as_stored fails if it stops doing this)
    state._commit_all(values, session.identity_map)


def _insert(session: Session, conn: Any, obj: Any) -> None:
    cls, values = type(obj), inspect(obj).dict
    defaults, empty = _DEFAULTS[cls]
    row = {key: values[key] for key in _COLUMNS[cls] if key in values and key != "id"}
    filled = {key: _default_value(default) for key, default in defaults.items() if key not in values}
    if cls is Dossier and "row_version" not in values:
        filled["row_version"] = 1  # the ORM's version counter starts at 1
    (obj_id,) = conn.execute(INSERT[cls], {**row, **filled}).inserted_primary_key
    session.expunge(obj)
    unset = {key: None for key in empty if key not in values and key not in filled}
    for key, value in {**filled, **unset, "id": obj_id}.items():
        setattr(obj, key, value)
    make_transient_to_detached(obj)  # stored: an identity, no history
    session.add(obj)
