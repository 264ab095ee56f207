"""The motcua command on a real database: setup, agency calendar days, the timer worker."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main


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


def test_setup_twice_changes_nothing(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["setup"]) == 0
    out = capsys.readouterr().out
    assert "new version" not in out and "unchanged" in out and "(new)" not in out
