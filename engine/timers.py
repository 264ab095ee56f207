"""The timer run: the dossiers whose earliest BPMN timer is due go on (``motcua worker`` runs it at every
interval)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, bindparam, select, tuple_
from sqlalchemy.orm import Session

from . import clock, runtime
from .catalog import VersionCache
from .dossiers import advance, save, workflow_of
from .errors import NotRunnable
from .models import Dossier, utcnow

# each with its due time as stored (the cursor of the next page; the object's may have changed in this session),
# after the cursor (the first page: after every due time); the cursor's parameters are typed: an untyped time
# would be compared as the driver writes it, not as the column stores it, on SQLite
DUE_TIMERS = (select(Dossier, Dossier.next_timer_at, Dossier.id)
              .where(Dossier.next_timer_at.is_not(None), Dossier.next_timer_at <= bindparam("now"),
                     Dossier.finished_at.is_(None),
                     tuple_(Dossier.next_timer_at, Dossier.id) > tuple_(
                         bindparam("after_at", type_=Dossier.__table__.c.next_timer_at.type),
                         bindparam("after_id", type_=Integer())))
              .order_by(Dossier.next_timer_at, Dossier.id).limit(bindparam("limit")))
BEFORE_ALL = (dt.datetime.min, 0)


def fire_due_timers(session: Session, cache: VersionCache, limit: int = 200) -> int:
    """Run the dossiers whose earliest BPMN timer is due by the engine's clock, earliest first, up to ``limit``;
    returns how many ran. A dossier that cannot run (:class:`NotRunnable`) is passed over, unchanged, and the
    dossiers due after it are read on, so that however many cannot run, they do not hold up the others."""
    now = utcnow()
    ran = 0
    after = BEFORE_ALL
    while ran < limit:
        due = session.execute(DUE_TIMERS, {"now": now, "limit": limit, "after_at": after[0],
                                           "after_id": after[1]}).all()
        if due and (due[0][1], due[0][2]) <= after:
            raise RuntimeError("the due timers' order went backwards")  # never loop over the same rows
        for dossier, due_at, dossier_id in due:
            after = (due_at, dossier_id)
            rt = cache.of(session, dossier.version_id)
            try:
                workflow = workflow_of(cache, rt, dossier)
            except NotRunnable:
                continue  # (a damaged state is logged there)
            ran += 1
            before = runtime.before_run(workflow)
            # what a timer starts happens when it fell due, however late this run comes (a pause ends then)
            fired_at = min(dossier.next_timer_at + dt.timedelta(seconds=1), now)
            with clock.use(lambda at=fired_at: at):
                runtime.refresh_timers(workflow)
                advance(session, rt, dossier, workflow, before, None)
            save(session, cache, dossier, workflow)
            if ran == limit:
                break
        if len(due) < limit:
            break
    return ran
