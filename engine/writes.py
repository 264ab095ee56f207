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

When the session holds anything else pending (another kind of object, a deletion), the whole flush is left to
the ORM, so this is a fast path, never a second way of storing that could disagree with the first; the dossier's
version check holds on both paths, the task rows' guards on this one (a step's session holds nothing else).
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

    def __init__(self, row: HumanTask):
        self.row = row
        super().__init__()


_DOSSIER = Dossier.__table__
_TASK = HumanTask.__table__
_COLUMNS = {cls: frozenset(p.key for p in inspect(cls).column_attrs) for cls in (Dossier, HumanTask)}
# the statements take attribute names as column names
assert all(p.key == p.columns[0].key for cls in _COLUMNS for p in inspect(cls).column_attrs)
UPDATE_DOSSIER = update(_DOSSIER).where(_DOSSIER.c.id == bindparam("b_id"),
                                        _DOSSIER.c.row_version == bindparam("b_version"))
INSERT = {Dossier: _DOSSIER.insert(), HumanTask: _TASK.insert()}


def _known_defaults(table: Any) -> dict[str, Any]:
    """What an INSERT stores in a column left unset, where that is a constant: the column's plain Python default
    (SQLAlchemy applies it before a server default), else NULL when there is no default at all."""
    known = {}
    for c in table.columns:
        if c.default is not None and c.default.is_scalar:
            known[c.key] = c.default.arg
        elif c.default is None and c.server_default is None:
            known[c.key] = None
    return known


#: per class: the columns whose unset value is known (the others are computed by the INSERT, read back if used)
_KNOWN_DEFAULTS = {cls: _known_defaults(cls.__table__) for cls in _COLUMNS}
_KNOWN_DEFAULTS[Dossier]["row_version"] = 1  # the ORM's version counter starts at 1


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
    new, dirty = list(session.new), list(session.dirty)
    if session.deleted or any(type(o) not in _COLUMNS for o in (*new, *dirty)):
        session.flush()
        return
    conn = session.connection()
    identity_map = session.identity_map
    # the dossier first: a stale step fails before anything else is written
    for obj in sorted(dirty, key=lambda o: type(o) is not Dossier):
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
                raise TaskRowChanged(obj)
        # what was written is now the row's stored state: no history, nothing left for a later flush
        # the call the ORM's own flush ends with (private; SQLAlchemy is pinned, and
        # tests/engine/test_facade.py::test_a_step_leaves_the_session_as_stored fails if it stops doing this)
        state._commit_all(values, identity_map)
    for obj in sorted(new, key=lambda o: type(o) is not Dossier):  # (a task row may refer to a new dossier)
        cls, values = type(obj), inspect(obj).dict
        row, unset = {}, {}
        for key in _COLUMNS[cls] - {"id"}:
            if key in values:
                row[key] = values[key]
            elif key in _KNOWN_DEFAULTS[cls]:  # what the INSERT stores when the constructor left it unset
                row[key] = unset[key] = _KNOWN_DEFAULTS[cls][key]
            # else a computed default: the INSERT computes it, and it is read back if it is ever used
        (obj_id,) = conn.execute(INSERT[cls], row).inserted_primary_key
        session.expunge(obj)
        for key, value in {**unset, "id": obj_id}.items():
            setattr(obj, key, value)
        make_transient_to_detached(obj)  # stored: an identity, no history
        session.add(obj)
