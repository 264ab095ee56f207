"""An agency's figures over a period, as the national reports on administrative procedures count them, per
procedure: dossiers received; resolved, early, on time or late (by the day in Vietnam, as
:func:`engine.calendar.classify`); still in progress at the period's end, within time, overdue or waiting for the
applicant; refused at reception; withdrawn; the applicants' ratings given in the period and how many were
satisfied; the fees received in the period. The share resolved on time is (early + on time) / resolved.

Every agency's figures at once (:func:`by_agency`), but the fees, are public: the portal publishes how its agencies
resolve their dossiers, as the national and provincial portals do.

For a head of office, the same per official (:func:`by_official`): the tasks each completed in the period, how
many after their task's due time, and the open tasks each holds now, how many overdue.

Each figure is counted in the database (one grouped query per kind of figure, on the agency's dossiers of the
period), never by loading dossiers: an agency's year is tens of thousands of them.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, func, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from . import calendar
from .catalog import by_name
from .models import Dossier, HumanTask, Payment, Rating, User, utcnow
from .procedures import APPLICANT_ROLE
from .ratings import SATISFIED
from .tasks import WORKLOADS

#: statuses that end a dossier without resolving it: refused at reception, withdrawn by the applicant
NOT_RESOLVED = ("denied", "cancelled")


class local_day(FunctionElement):  # noqa: N801 - an SQL function, named as one
    """The day in Vietnam of a stored (naive UTC) time, in SQL."""

    type = Date()
    inherit_cache = True


@compiles(local_day, "postgresql")
def _local_day_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} + INTERVAL '7 hours') AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


if calendar.VN_OFFSET != dt.timedelta(hours=7):  # (the SQL above writes the offset out)
    raise RuntimeError("engine.statistics assumes Vietnam's UTC+7")


@dataclass
class Figures:
    """One procedure's figures (or the agency's totals) for a period."""

    received: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    open_within_time: int = 0
    open_overdue: int = 0
    open_waiting: int = 0  # waiting for the applicant (a supplement): the legal clock is stopped
    denied: int = 0
    withdrawn: int = 0
    ratings: int = 0  # applicants' ratings given in the period (engine.ratings)
    satisfied: int = 0  # of them, satisfied or very satisfied
    fees: int = 0  # đồng of fees received in the period (engine.payments)

    @property
    def resolved(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def in_progress(self) -> int:
        return self.open_within_time + self.open_overdue + self.open_waiting

    @property
    def on_time_share(self) -> float | None:
        """(early + on time) / resolved; None when nothing was resolved."""
        return (self.early + self.on_time) / self.resolved if self.resolved else None

    @property
    def satisfied_share(self) -> float | None:
        """satisfied / ratings; None without a rating."""
        return self.satisfied / self.ratings if self.ratings else None

    def add(self, other: Figures) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class OfficialFigures:
    """One official's tasks: completed in the period (of them, after the task's due time), and held now (of them,
    overdue)."""

    id: int
    name: str
    completed: int = 0
    late: int = 0
    held: int = 0
    held_overdue: int = 0

    @property
    def on_time_share(self) -> float | None:
        """Completed by their due time / completed; None when none was completed."""
        return (self.completed - self.late) / self.completed if self.completed else None


@dataclass
class Report:
    """An agency's figures from ``start`` to ``end`` (naive UTC; the dossiers still open are counted as they stood
    at ``as_of``: the period's end, or now for a period not over)."""

    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    by_procedure: dict[str, Figures] = field(default_factory=dict)
    total: Figures = field(default_factory=Figures)
    by_official: list[OfficialFigures] | None = None  # for a head of office (:func:`by_official`)


@dataclass
class AgencyReport:
    """Every agency's figures (by its id) from ``start`` to ``end``, as :class:`Report` counts them, but the fees."""

    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    by_agency: dict[int, Figures] = field(default_factory=dict)
    total: Figures = field(default_factory=Figures)


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


OF_AGENCY = Dossier.agency_id == bindparam("agency_id")
_RESOLVED = not_(Dossier.status.in_(NOT_RESOLVED))
_DONE_DAY, _DUE_DAY = local_day(Dossier.finished_at), local_day(Dossier.appointment_at)
_WAITING = Dossier.status == "waiting"


def _queries(by: Any, *where: ColumnElement[bool]) -> dict[str, Any]:
    """The grouped queries of a report, by ``by`` (a column: the procedure, the agency), on the dossiers ``where``
    says (one agency's; none: every agency's)."""
    return {
        "received": (select(by, func.count())
                     .where(*where, Dossier.submitted_at >= bindparam("start"), Dossier.submitted_at < bindparam("end"))
                     .group_by(by)),
        "finished": (select(by,
                            _sum(and_(_RESOLVED, _DONE_DAY < _DUE_DAY)),
                            _sum(and_(_RESOLVED, _DONE_DAY == _DUE_DAY)),
                            # (a resolved dossier without a due date, which the engine never makes, counts as late)
                            _sum(and_(_RESOLVED, or_(_DONE_DAY > _DUE_DAY, Dossier.appointment_at.is_(None)))),
                            _sum(Dossier.status == "denied"),
                            _sum(Dossier.status == "cancelled"))
                     .where(*where, Dossier.submitted_at.is_not(None),
                            Dossier.finished_at >= bindparam("start"), Dossier.finished_at < bindparam("end"))
                     .group_by(by)),
        "in_progress": (select(by,
                               _sum(and_(not_(_WAITING), Dossier.appointment_at >= bindparam("as_of"))),
                               _sum(and_(not_(_WAITING), Dossier.appointment_at < bindparam("as_of"))),
                               _sum(_WAITING))
                        .where(*where, Dossier.submitted_at < bindparam("as_of"),
                               or_(Dossier.finished_at.is_(None), Dossier.finished_at >= bindparam("as_of")))
                        .group_by(by)),
        "ratings": (select(by, func.count(), _sum(Rating.score >= SATISFIED))
                    .join(Dossier, Dossier.id == Rating.dossier_id)
                    .where(*where, Rating.created_at >= bindparam("start"), Rating.created_at < bindparam("end"))
                    .group_by(by)),
    }


BY_PROCEDURE = _queries(Dossier.procedure_code, OF_AGENCY)
#: every agency's figures at once, for the public page (:func:`by_agency`)
BY_AGENCY = _queries(Dossier.agency_id)
FEES = (select(Dossier.procedure_code, func.sum(Payment.amount))
        .join(Dossier, Dossier.id == Payment.dossier_id)
        .where(OF_AGENCY, Payment.status == "paid", Payment.paid_at >= bindparam("start"),
               Payment.paid_at < bindparam("end"))
        .group_by(Dossier.procedure_code))


_OFFICIALS_TASK = and_(HumanTask.agency_id == bindparam("agency_id"), HumanTask.role != APPLICANT_ROLE)
COMPLETED_BY = (select(HumanTask.completed_by_id, User.full_name, func.count(),
                       _sum(HumanTask.completed_at > HumanTask.due_at))
                .join(User, User.id == HumanTask.completed_by_id)
                .where(_OFFICIALS_TASK, HumanTask.state == "completed",
                       HumanTask.completed_at >= bindparam("start"), HumanTask.completed_at < bindparam("end"))
                .group_by(HumanTask.completed_by_id, User.full_name))


def by_official(session: Session, agency_id: int, start: dt.datetime, end: dt.datetime) -> list[OfficialFigures]:
    """The agency's officials (those active in it now, and any other who completed its tasks in [start, end)) with
    their tasks' figures, ordered as a Vietnamese list of names."""
    params = {"agency_id": agency_id, "start": start, "end": end, "now": utcnow()}
    found: dict[int, OfficialFigures] = {}
    for uid, name, held, overdue in session.execute(WORKLOADS, params):
        found[uid] = OfficialFigures(uid, name, held=held, held_overdue=int(overdue or 0))
    for uid, name, completed, late in session.execute(COMPLETED_BY, params):
        figures = found.setdefault(uid, OfficialFigures(uid, name))
        figures.completed, figures.late = completed, int(late or 0)
    return [found[uid] for uid, _name in by_name([(f.id, f.name) for f in found.values()])]


def period(year: int, month: int | None) -> tuple[dt.datetime, dt.datetime]:
    """A month (or, without one, a year) in Vietnam, as naive UTC bounds [start, end)."""
    if month is None:
        first, after = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    else:
        first = dt.datetime(year, month, 1)
        after = dt.datetime(year + (month == 12), month % 12 + 1, 1)
    return calendar.to_utc(first), calendar.to_utc(after)


def _figures(session: Session, queries: dict[str, Any], params: dict[str, Any]) -> dict[Any, Figures]:
    """Run a report's grouped ``queries`` (:func:`_queries`): each group's figures, but the fees."""
    found: dict[Any, Figures] = {}

    def of(key: Any) -> Figures:
        return found.setdefault(key, Figures())

    for key, received in session.execute(queries["received"], params):
        of(key).received = received
    for key, early, on_time, late, denied, withdrawn in session.execute(queries["finished"], params):
        f = of(key)
        f.early, f.on_time, f.late, f.denied, f.withdrawn = early, on_time, late, denied, withdrawn
    if params["as_of"] > params["start"]:  # (a period still to come has nothing in progress)
        for key, within, overdue, waiting in session.execute(queries["in_progress"], params):
            f = of(key)
            f.open_within_time, f.open_overdue, f.open_waiting = within, overdue, waiting
    for key, ratings, satisfied in session.execute(queries["ratings"], params):
        f = of(key)
        f.ratings, f.satisfied = ratings, satisfied
    return found


def report(session: Session, agency_id: int, start: dt.datetime, end: dt.datetime) -> Report:
    """The agency's figures for [start, end) (naive UTC)."""
    as_of = min(end, utcnow())
    params = {"agency_id": agency_id, "start": start, "end": end, "as_of": as_of}
    out = Report(start=start, end=end, as_of=as_of, by_procedure=_figures(session, BY_PROCEDURE, params))
    for code, fees in session.execute(FEES, params):
        out.by_procedure.setdefault(code, Figures()).fees = int(fees or 0)
    for figures in out.by_procedure.values():
        out.total.add(figures)
    return out


def by_agency(session: Session, start: dt.datetime, end: dt.datetime) -> AgencyReport:
    """Every agency's figures for [start, end) (naive UTC), without the fees: what the portal publishes of how
    agencies resolve their dossiers."""
    as_of = min(end, utcnow())
    out = AgencyReport(start=start, end=end, as_of=as_of,
                       by_agency=_figures(session, BY_AGENCY, {"start": start, "end": end, "as_of": as_of}))
    for figures in out.by_agency.values():
        out.total.add(figures)
    return out


#: how long every agency's figures, once counted, are shown before they are counted again (a whole province's
#: period is hundreds of thousands of dossiers; the public page is anyone's to ask for)
PUBLISHED_FOR = dt.timedelta(minutes=10)


class Published:
    """Every agency's figures per period (:func:`by_agency`), counted at most once per :data:`PUBLISHED_FOR` in a
    process, whoever asks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple[int, int | None], tuple[dt.datetime, AgencyReport]] = {}

    def of(self, session: Session, year: int, month: int | None = None) -> AgencyReport:
        now = utcnow()
        with self._lock:
            kept = self._kept.get((year, month))
        if kept is not None and now - kept[0] < PUBLISHED_FOR:
            return kept[1]
        start, end = period(year, month)
        counted = by_agency(session, start, end)
        with self._lock:
            if len(self._kept) >= 64:  # (periods asked for are few; never let them grow without end)
                self._kept.clear()
            self._kept[(year, month)] = (now, counted)
        return counted
