"""The motcua command on a real database: setup, agency calendar days, the timer worker."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.cli import main
from tests.documents import attach_required


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MOTCUA_DATABASE_URL", url)
    assert main(["setup"]) == 0
    return url


def test_agency_days_are_set_and_listed(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agency-day", "000.31.27.H14", "2026-12-05", "--working", "--note", "Làm bù"]) == 0
    assert main(["agency-day", "000.31.27.H14", "2026-12-01", "--note", "Đại hội"]) == 0
    out = capsys.readouterr().out
    assert "2026-12-01  day off      Đại hội\n2026-12-05  working day  Làm bù" in out
    assert main(["agency-day", "khong-co"]) == 2
    assert main(["agency-day", "000.31.27.H14", "30/12/2026"]) == 2
    assert "is not a date" in capsys.readouterr().err


def test_the_worker_runs_once(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--once"]) == 0
    assert "firing due timers" in capsys.readouterr().out


def test_the_worker_sends_the_mail_owed_to_applicants(db_env: str, smtp, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import select

    from engine import clock
    from engine.api import Engine
    from engine.config import Settings
    from engine.models import User
    from tests.engine.test_birth_registration import declaration

    box, url = smtp
    engine = Engine(Settings.from_env())
    with engine.session() as s, clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):  # (the declaration's day)
        citizen = s.scalar(select(User).where(User.email == "congdan@demo.motcua.vn"))
        view = engine.start_dossier(s, "birth_registration", citizen)
        attach_required(engine, s, view.id, citizen)
        engine.complete(s, view.open_tasks[0].id, citizen, declaration())
        s.commit()
    engine.db.dispose()
    monkeypatch.setenv("MOTCUA_SMTP_URL", url)
    assert main(["worker", "--once"]) == 0
    assert "notices: 1 sent, 0 not to be sent, 0 to try again, 0 given up" in capsys.readouterr().out
    # (and, on a working day after 7:30, the officials' reminders: engine.reminders)
    assert [m["To"] for m in box.mails if "Nhắc việc" not in m["Subject"]] == ["congdan@demo.motcua.vn"]


def test_a_failed_timer_run_is_reported_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A run that fails (here a database without its tables) is logged and the worker goes on to its next run;
    with --once it says so by its exit status."""
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["worker", "--once"]) == 1
    assert "firing timers failed" in caplog.text and "no such table" in caplog.text
    assert "posting webhooks failed" in caplog.text  # (each job on its own: one failing does not stop the others)


def test_setup_twice_changes_nothing(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["setup"]) == 0
    out = capsys.readouterr().out
    assert "new version" not in out and "unchanged" in out and "(new)" not in out


def test_seed_generates_dossiers_that_the_engine_can_list(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import func, select

    from engine.api import Engine
    from engine.config import Settings
    from engine.models import Dossier, HumanTask, User

    assert main(["seed", "--dossiers", "400", "--real", "5", "--quiet"]) == 0
    engine = Engine(Settings.from_env())
    with engine.session() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) >= 400
        statuses = set(s.scalars(select(Dossier.status).distinct()))
        assert {"done", "processing"} <= statuses
        codes = s.scalars(select(Dossier.code).where(Dossier.code.is_not(None))).all()
        assert len(codes) == len(set(codes))
        from engine.models import UserRole

        task = s.scalar(select(HumanTask).where(HumanTask.state == "open", HumanTask.role != "applicant",
                                                HumanTask.claimed_by_id.is_(None)))
        official = s.scalar(select(User).join(UserRole).where(
            User.kind == "official", User.agency_id == task.agency_id, UserRole.role == task.role))
        assert task.id in [t.id for t in engine.queue(s, official)]
        # the bulk-written accounts are found by name as any other (their folded name written with them)
        from engine import seed
        from engine.accounts import applicants_matching
        from engine.i18n import fold

        citizen = s.scalar(select(User).where(User.kind == "citizen", User.email.like(f"congdan%@{seed.EMAIL_DOMAIN}")).limit(1))
        assert citizen.id in applicants_matching(s, fold(citizen.full_name).upper())
    engine.db.dispose()


def test_the_first_administrator_comes_from_the_command_line(db_env: str, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOTCUA_ADMIN_PASSWORD", "ngan")
    assert main(["admin", "boss@tinh.gov.vn", "--name", "Trưởng Quản Trị"]) == 2
    assert "Password must be at least" in capsys.readouterr().err
    monkeypatch.setenv("MOTCUA_ADMIN_PASSWORD", "mat-khau-quan-tri-dai")
    assert main(["admin", "Boss@tinh.gov.vn", "--name", "Trưởng Quản Trị"]) == 0
    assert main(["admin", "boss@tinh.gov.vn", "--name", "Trưởng Quản Trị"]) == 0
    assert capsys.readouterr().out.splitlines() == ["administrator boss@tinh.gov.vn: created",
                                                    "administrator boss@tinh.gov.vn: updated"]
    assert main(["admin", "congdan@demo.motcua.vn", "--name", "Không Được"]) == 2  # a citizen's email
    assert main(["admin", "ve@tinh.gov.vn", "--name", "Người Vẽ", "--designer"]) == 0
    assert main(["admin", "boss@tinh.gov.vn", "--name", "Trưởng Quản Trị", "--designer"]) == 2  # an admin's email
    assert "process designer ve@tinh.gov.vn: created" in capsys.readouterr().out
    from engine.api import Engine

    engine = Engine()
    with engine.session() as s:
        admin = engine.authenticate(s, "boss@tinh.gov.vn", "mat-khau-quan-tri-dai")
        assert admin is not None and admin.is_admin
        designer = engine.authenticate(s, "ve@tinh.gov.vn", "mat-khau-quan-tri-dai")
        assert designer is not None and designer.is_designer and not designer.is_admin
    engine.db.dispose()

