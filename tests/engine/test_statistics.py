"""An agency's figures over a period (engine.statistics), counted in the database: received, resolved early / on
time / late by the day in Vietnam, in progress at the period's end, refused, withdrawn."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from engine import calendar, clock, runtime, statistics
from engine.api import Engine
from engine.errors import Forbidden
from engine.models import Agency, Dossier, Payment, ProcedureVersion, Rating, User
from tests.engine.test_birth_registration import CITIZEN, Journey, declaration, user

RECEPTION = "motcua@demo.motcua.vn"
NOW = dt.datetime(2026, 11, 27, 3, 0)  # Friday 10:00 in Vietnam
U = dt.datetime  # times below are naive UTC, as stored; Vietnam is 7 hours ahead


@pytest.fixture
def moved() -> Any:
    manual = clock.ManualClock(NOW)
    with clock.use(manual):
        yield manual


class Dossiers:
    """Dossier rows written as the bulk seeder writes them, for figures whose every case is known."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # (the other agency is another level's: the figures are per agency, whatever it serves)
        with engine.session() as s:
            self.agency_id = user(s, RECEPTION).agency_id
            self.other_agency = s.scalar(select(Agency.id).where(Agency.id != self.agency_id))
            self.applicant = user(s, CITIZEN).id
            self.versions = dict(s.execute(select(ProcedureVersion.procedure_code, ProcedureVersion.id)).all())
        self.n = 0

    def add(self, status: str, submitted: dt.datetime | None, due: dt.datetime | None = None,
            finished: dt.datetime | None = None, code: str = "birth_registration", agency: int | None = None) -> None:
        self.n += 1
        with self.engine.session() as s:
            row = Dossier(code=f"T-{self.n:04d}", procedure_code=code, version_id=self.versions[code],
                          applicant_id=self.applicant, agency_id=agency or self.agency_id, status=status,
                          created_at=submitted or NOW, submitted_at=submitted, appointment_at=due, finished_at=finished,
                          data={}, workflow=runtime.PLACEHOLDER_STATE, serializer_version=runtime.SERIALIZER_VERSION)
            s.add(row)
            s.commit()
            self.last = row.id

    def paid(self, amount: int, at: dt.datetime, status: str = "paid") -> None:
        """The fees of the dossier added last, received (or only said to be transferred) at ``at``."""
        with self.engine.session() as s:
            s.add(Payment(dossier_id=self.last, amount=amount, status=status, method="transfer",
                          paid_at=at if status == "paid" else None, declared_at=at))
            s.commit()

    def rated(self, score: int, at: dt.datetime) -> None:
        """The applicant's rating of the dossier added last."""
        with self.engine.session() as s:
            s.add(Rating(dossier_id=self.last, score=score, created_at=at))
            s.commit()


def figures(engine: Engine, year: int, month: int | None) -> statistics.Report:
    with engine.session() as s:
        return engine.statistics(s, user(s, RECEPTION), year, month)


def test_every_case_is_counted_where_the_national_reports_count_it(engine: Engine, moved: Any) -> None:
    d = Dossiers(engine)
    due = U(2026, 11, 5, 10, 0)  # 17:00 on 5 November in Vietnam
    d.add("done", U(2026, 11, 3, 2), due, U(2026, 11, 4, 3))  # early
    d.rated(5, U(2026, 11, 4, 5))
    d.add("done", U(2026, 11, 3, 2), due, U(2026, 11, 5, 9))  # on time
    d.rated(2, U(2026, 11, 6, 5))
    d.paid(16000, U(2026, 11, 5, 9))
    # 00:30 on 6 November in Vietnam, still the 5th in UTC: late, as the day in Vietnam says
    d.add("done", U(2026, 11, 3, 2), due, U(2026, 11, 5, 17, 30))
    # due 08:00 on 6 November in Vietnam, done at 01:00 that day: on time (the 5th in UTC would say early)
    d.add("unresolved", U(2026, 11, 3, 2), U(2026, 11, 6, 1), U(2026, 11, 5, 18))
    d.add("denied", U(2026, 11, 10, 2), U(2026, 11, 12, 10), U(2026, 11, 10, 4))
    d.add("cancelled", U(2026, 11, 10, 2), U(2026, 11, 12, 10), U(2026, 11, 11, 4))
    d.add("processing", U(2026, 11, 20, 2), U(2026, 12, 2, 10))  # within time now
    d.paid(8000, U(2026, 11, 21, 2), status="declared")  # said to be transferred, not received: not counted
    d.add("processing", U(2026, 11, 20, 2), U(2026, 11, 26, 10))  # overdue now
    d.add("waiting", U(2026, 11, 24, 2), U(2026, 11, 25, 10))  # the clock is stopped: waiting, not overdue
    d.add("done", U(2026, 10, 30, 2), U(2026, 10, 30, 10), U(2026, 11, 2, 2))  # sent in October, late in November
    d.paid(8000, U(2026, 11, 2, 2))
    d.rated(3, U(2026, 12, 1, 1))  # rated in December (of that month's figures, not November's)
    d.add("done", U(2026, 11, 3, 2), due, U(2026, 11, 4, 3), code="marital_status_certificate")
    d.add("draft", None)  # never sent: nowhere
    d.add("done", U(2026, 11, 3, 2), due, U(2026, 11, 4, 3), agency=d.other_agency)  # another agency's

    november = figures(engine, 2026, 11)
    assert november.as_of == NOW and november.start == U(2026, 10, 31, 17)
    birth = november.by_procedure["birth_registration"]
    assert dataclass_values(birth) == {
        "received": 9, "early": 1, "on_time": 2, "late": 2, "open_within_time": 1, "open_overdue": 1,
        "open_waiting": 1, "denied": 1, "withdrawn": 1, "ratings": 2, "satisfied": 1, "fees": 24000}
    assert birth.satisfied_share == 0.5
    assert birth.resolved == 5 and birth.in_progress == 3 and birth.on_time_share == pytest.approx(3 / 5)
    marital = november.by_procedure["marital_status_certificate"]
    assert (marital.received, marital.early, marital.on_time_share) == (1, 1, 1.0)
    assert november.total.received == 10 and november.total.resolved == 6
    assert november.total.on_time_share == pytest.approx(4 / 6)

    # October, over: what was still open at its end is counted as it stood then
    october = figures(engine, 2026, 10).by_procedure["birth_registration"]
    assert dataclass_values(october) == {
        "received": 1, "early": 0, "on_time": 0, "late": 0, "open_within_time": 0, "open_overdue": 1,
        "open_waiting": 0, "denied": 0, "withdrawn": 0, "ratings": 0, "satisfied": 0, "fees": 0}
    assert october.on_time_share is None

    year = figures(engine, 2026, None).total
    assert (year.received, year.resolved, year.in_progress) == (11, 6, 3)

    # the public figures: each agency's as its own report counts them, but the fees
    with engine.session() as s:
        public = engine.public_statistics(s, 2026, 11)
    assert set(public.by_agency) == {d.agency_id, d.other_agency}
    assert dataclass_values(public.by_agency[d.agency_id]) == {**dataclass_values(november.total), "fees": 0}
    assert (public.by_agency[d.other_agency].received, public.by_agency[d.other_agency].early) == (1, 1)
    assert public.total.received == 11 and public.total.resolved == 7
    december = figures(engine, 2026, 12).by_procedure  # (still to come: only the rating dated then)
    assert [(code, f.received, f.ratings, f.satisfied) for code, f in december.items()] == [
        ("birth_registration", 0, 1, 0)]


def dataclass_values(f: statistics.Figures) -> dict[str, int]:
    return {name: getattr(f, name) for name in f.__dataclass_fields__}


def test_a_dossier_run_through_the_engine_is_classified_as_its_own_page_says(engine: Engine) -> None:
    moved = clock.ManualClock(U(2026, 11, 23, 2))  # Monday 09:00 in Vietnam (the declaration's dates count from then)
    with clock.use(moved):
        classified_as = _through_the_engine(engine, moved)
    assert classified_as in ("early", "on_time", "late")


def _through_the_engine(engine: Engine, moved: clock.ManualClock) -> str:
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    j.decide("return_result", "returned")
    view = j.view()
    moved.move_to(NOW)
    f = figures(engine, 2026, 11).by_procedure["birth_registration"]
    assert view.classification == calendar.classify(view.finished_at, view.appointment_at, NOW)
    assert {"early": f.early, "on_time": f.on_time, "late": f.late}[view.classification] == 1
    assert f.received == 1 and f.resolved == 1
    return view.classification


def test_only_an_agency_official_sees_its_figures(engine: Engine, moved: Any) -> None:
    with engine.session() as s:
        for email in (CITIZEN, "quantri@demo.motcua.vn"):
            with pytest.raises(Forbidden):
                engine.statistics(s, user(s, email), 2026, 11)
        assert s.scalar(select(User.kind).where(User.email == "quantri@demo.motcua.vn")) == "admin"


def test_periods_are_months_and_years_in_vietnam() -> None:
    assert statistics.period(2026, 12) == (U(2026, 11, 30, 17), U(2026, 12, 31, 17))
    assert statistics.period(2026, None) == (U(2025, 12, 31, 17), U(2026, 12, 31, 17))


def test_the_public_figures_are_counted_once_every_ten_minutes(engine: Engine, moved: Any) -> None:
    d = Dossiers(engine)
    d.add("processing", U(2026, 11, 20, 2), U(2026, 12, 2, 10))
    with engine.session() as s:
        first = engine.public_statistics(s, 2026)
    d.add("processing", U(2026, 11, 21, 2), U(2026, 12, 2, 10))
    moved.advance(dt.timedelta(minutes=9))
    with engine.session() as s:
        assert engine.public_statistics(s, 2026) is first and first.total.received == 1  # kept
        assert engine.public_statistics(s, 2026, 11).total.received == 2  # another period: counted now
    moved.advance(dt.timedelta(minutes=2))
    with engine.session() as s:
        assert engine.public_statistics(s, 2026).total.received == 2  # counted again
