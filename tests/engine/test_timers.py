"""The timer worker's run: due timers fire, and a dossier whose state cannot be read does not hold up the others."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import clock, scenarios
from engine.api import Engine
from engine.config import DEFAULT_ROOT
from engine.models import Dossier, HumanTask

CODE = "civil_status_extract_copy"
SCENARIOS = DEFAULT_ROOT / "workflows" / CODE / "scenarios"
DAMAGED_STATE = '{"tasks": {}, "root": "not-a-uuid"}'
LATER = dt.datetime.fromisoformat("2026-11-25T17:30:00+07:00")  # one working day after, both timers are due


@pytest.fixture
def waiting(database_url: str, tmp_path: Path):  # noqa: ANN201
    """An engine with two dossiers waiting for the applicant's confirmation, whose timer gives up after one
    working day (the first three steps of the procedure's "silence is consent" scenario): (engine, ids in the
    order their timers run: earliest first, then by id)."""
    text = (SCENARIOS / "silence_is_consent.toml").read_text(encoding="utf-8")
    (tmp_path / "waiting.toml").write_text(text.split("[[step]]\nwait_until")[0], encoding="utf-8")
    shutil.copy(SCENARIOS / "_fixtures.toml", tmp_path / "_fixtures.toml")
    runner = scenarios.Runner(DEFAULT_ROOT, database_url)
    try:
        for _ in range(2):
            result = runner.run_file(CODE, tmp_path / "waiting.toml")
            assert result.passed, result.message
        with runner.engine.session() as s:
            ids = s.scalars(select(Dossier.id).where(Dossier.next_timer_at.is_not(None))
                            .order_by(Dossier.next_timer_at, Dossier.id)).all()
        yield runner.engine, ids
    finally:
        runner.close()


def open_tasks(eng: Engine, dossier_id: int) -> list[str]:
    with eng.session() as s:
        return list(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.dossier_id == dossier_id,
                                                               HumanTask.state == "open")))


def test_a_dossier_that_cannot_run_does_not_hold_up_the_others_timers(
        waiting: tuple[Engine, list[int]], caplog: pytest.LogCaptureFixture) -> None:
    eng, (damaged, healthy) = waiting  # the first due is damaged
    with eng.session() as s:
        s.execute(update(Dossier).where(Dossier.id == damaged)  # (a new version, as every writer leaves)
                  .values(workflow=DAMAGED_STATE, row_version=Dossier.row_version + 1))
        s.commit()
        kept = s.execute(select(Dossier.row_version, Dossier.status, Dossier.next_timer_at)
                         .where(Dossier.id == damaged)).one()

    caplog.set_level(logging.ERROR)
    with clock.use(clock.ManualClock(LATER)):
        with eng.session() as s:  # one at a time: the damaged dossier, first in line, is passed over
            assert eng.fire_due_timers(s, limit=1) == 1
            s.commit()
        with eng.session() as s:
            assert eng.fire_due_timers(s) == 0  # and it stays passed over

    assert open_tasks(eng, healthy) == ["chairman_sign"]  # deemed confirmed, as in the whole scenario
    assert open_tasks(eng, damaged) == ["confirm_draft"]
    with eng.session() as s:
        assert s.execute(select(Dossier.row_version, Dossier.status, Dossier.next_timer_at)
                         .where(Dossier.id == damaged)).one() == kept
    assert f"dossier {damaged}: its workflow state cannot be restored" in caplog.text


def test_the_timer_run_reads_on_from_the_due_times_as_stored(waiting: tuple[Engine, list[int]]) -> None:
    """The run reads on from where the database says each passed-over dossier stands, not from a copy its
    session holds: here the damaged dossier's timer was moved (still due) after the session first read it."""
    eng, (damaged, healthy) = waiting
    with eng.session() as s:
        s.execute(update(Dossier).where(Dossier.id == damaged)
                  .values(workflow=DAMAGED_STATE, row_version=Dossier.row_version + 1))
        s.commit()
    with clock.use(clock.ManualClock(LATER)), eng.session() as s:
        held = s.get(Dossier, damaged)  # the session holds it from here on (as a page that showed it would)
        first_read = held.next_timer_at
        s.commit()  # (not expired; the database is free for the other session's write)
        with eng.session() as other:  # both timers later, the damaged one still first
            for dossier_id, minutes in ((damaged, 1), (healthy, 2)):
                other.execute(update(Dossier).where(Dossier.id == dossier_id).values(
                    next_timer_at=first_read + dt.timedelta(minutes=minutes), row_version=Dossier.row_version + 1))
            other.commit()
        assert eng.fire_due_timers(s, limit=1) == 1
        s.commit()
        assert held.next_timer_at == first_read  # (the session's copy was never read again)
    assert open_tasks(eng, healthy) == ["chairman_sign"]
