"""Working days: weekends, Vietnamese holidays (lunar ones too), the 15:00 rule for same-day procedures."""
from __future__ import annotations

import datetime as dt

from engine.calendar import appointment, is_working_day, to_utc


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> dt.datetime:
    return to_utc(dt.datetime(y, m, d, hh, mm))


def test_tet_and_weekends_are_days_off() -> None:
    assert not is_working_day(dt.date(2027, 2, 8))  # third day of Tết 2027
    assert not is_working_day(dt.date(2026, 11, 28))  # Saturday
    assert is_working_day(dt.date(2026, 11, 25))


def test_same_day_before_and_after_15() -> None:
    assert appointment(local(2026, 11, 25, 10), 0, dt.time(15)) == local(2026, 11, 25, 17)
    assert appointment(local(2026, 11, 25, 15, 1), 0, dt.time(15)) == local(2026, 11, 26, 17)


def test_friday_afternoon_rolls_over_the_weekend() -> None:
    assert appointment(local(2026, 11, 27, 16), 0, dt.time(15)) == local(2026, 11, 30, 17)


def test_working_days_skip_tet() -> None:
    # received Wednesday 3 Feb 2027, 3 working days: 4-10 Feb are Tết holidays, 6-7 a weekend
    assert appointment(local(2027, 2, 3, 9), 3, None) == local(2027, 2, 15, 17)
