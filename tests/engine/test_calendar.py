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


def test_a_national_make_up_saturday_is_a_working_day() -> None:
    # 2026: Monday 31 August is a bridge day off, worked on Saturday 22 August instead
    assert not is_working_day(dt.date(2026, 8, 31))
    assert is_working_day(dt.date(2026, 8, 22))
    # received Friday 21 August 10:00, 1 working day: due Saturday 22 August
    assert appointment(local(2026, 8, 21, 10), 1, None) == local(2026, 8, 22, 17)


def test_an_agencys_own_days_off_and_make_up_days() -> None:
    from engine.calendar import WorkCalendar

    cal = WorkCalendar(days_off=[dt.date(2026, 12, 1)], working_days=[dt.date(2026, 12, 5)])
    assert not cal.is_working_day(dt.date(2026, 12, 1)) and cal.is_working_day(dt.date(2026, 12, 5))
    # received Monday 30 Nov, 3 working days: Tue 1 Dec is off, so Wed 2, Thu 3, Fri 4
    assert cal.appointment(local(2026, 11, 30, 9), 3) == local(2026, 12, 4, 17)
    # 5 working days: … Fri 4, Sat 5 (made up), Mon 7
    assert cal.appointment(local(2026, 11, 30, 9), 5) == local(2026, 12, 7, 17)


def test_office_sessions() -> None:
    from engine.calendar import NATIONAL

    assert NATIONAL.is_office_time(local(2026, 11, 25, 8))
    assert not NATIONAL.is_office_time(local(2026, 11, 25, 12))  # lunch
    assert NATIONAL.is_office_time(local(2026, 11, 25, 14))
    assert not NATIONAL.is_office_time(local(2026, 11, 25, 18))
    assert not NATIONAL.is_office_time(local(2026, 11, 28, 9))  # Saturday
    # received after the close of office: counts from the next working day
    assert appointment(local(2026, 11, 25, 18), 1, None) == local(2026, 11, 27, 17)


def test_pauses_and_extensions_move_the_due_date_in_working_days() -> None:
    from engine.calendar import NATIONAL

    due = appointment(local(2027, 1, 27, 9), 3, None)  # Wednesday → Monday 1 February
    assert due == local(2027, 2, 1, 17)
    # a supplement from Thursday 28 January to Tuesday 2 February: 3 working days (29, 1, 2)
    paused = NATIONAL.working_days_between(dt.date(2027, 1, 28), dt.date(2027, 2, 2))
    assert paused == 3
    due = NATIONAL.move(due, paused)
    assert due == local(2027, 2, 11, 17)  # 2, 3, then Tết (4-10 Feb) skipped, 11
    # an extension of 2 working days with an apology: 12, 15
    assert NATIONAL.move(due, 2) == local(2027, 2, 15, 17)


def test_early_on_time_late() -> None:
    from engine.calendar import classify

    due = local(2026, 11, 27, 17)
    assert classify(local(2026, 11, 26, 10), due, due) == "early"
    assert classify(local(2026, 11, 27, 16), due, due) == "on_time"
    assert classify(local(2026, 11, 30, 9), due, due) == "late"
    assert classify(None, due, local(2026, 11, 27, 12)) == "within_time"
    assert classify(None, due, local(2026, 11, 28, 9)) == "late"
