"""The timer worker's run: due timers fire, and a dossier whose state cannot be read does not hold up the others."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import clock, scenarios
from engine.config import DEFAULT_ROOT
from engine.models import Dossier, HumanTask

CODE = "civil_status_extract_copy"
SCENARIOS = DEFAULT_ROOT / "workflows" / CODE / "scenarios"


def test_a_dossier_that_cannot_run_does_not_hold_up_the_others_timers(
        database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # two dossiers waiting for the applicant's confirmation, whose timer gives up after one working day: the
    # first three steps of the procedure's "silence is consent" scenario
    text = (SCENARIOS / "silence_is_consent.toml").read_text(encoding="utf-8")
    (tmp_path / "waiting.toml").write_text(text.split("[[step]]\nwait_until")[0], encoding="utf-8")
    shutil.copy(SCENARIOS / "_fixtures.toml", tmp_path / "_fixtures.toml")
    runner = scenarios.Runner(DEFAULT_ROOT, database_url)
    try:
        for _ in range(2):
            result = runner.run_file(CODE, tmp_path / "waiting.toml")
            assert result.passed, result.message
        eng = runner.engine
        with eng.session() as s:
            # the first due (the timers run earliest first, then by id) is damaged
            damaged, healthy = s.scalars(select(Dossier.id).where(Dossier.next_timer_at.is_not(None))
                                         .order_by(Dossier.next_timer_at, Dossier.id)).all()
            s.execute(update(Dossier).where(Dossier.id == damaged)  # (a new version, as every writer leaves)
                      .values(workflow='{"tasks": {}, "root": "not-a-uuid"}', row_version=Dossier.row_version + 1))
            s.commit()
            kept = s.execute(select(Dossier.row_version, Dossier.status, Dossier.next_timer_at)
                             .where(Dossier.id == damaged)).one()

        caplog.set_level(logging.ERROR)
        with clock.use(clock.ManualClock(dt.datetime.fromisoformat("2026-11-25T17:30:00+07:00"))):
            with eng.session() as s:  # one at a time: the damaged dossier, first in line, is passed over
                assert eng.fire_due_timers(s, limit=1) == 1
                s.commit()
            with eng.session() as s:
                assert eng.fire_due_timers(s) == 0  # and it stays passed over

        def open_tasks(dossier_id: int) -> list[str]:
            with eng.session() as s:
                return list(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.dossier_id == dossier_id,
                                                                       HumanTask.state == "open")))

        assert open_tasks(healthy) == ["chairman_sign"]  # deemed confirmed, as in the whole scenario
        assert open_tasks(damaged) == ["confirm_draft"]
        with eng.session() as s:
            assert s.execute(select(Dossier.row_version, Dossier.status, Dossier.next_timer_at)
                             .where(Dossier.id == damaged)).one() == kept
        assert f"dossier {damaged}: its workflow state cannot be restored" in caplog.text
    finally:
        runner.close()
