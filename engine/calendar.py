"""Working days in Vietnam: weekends, public holidays (lunar ones included, from ``holidays``), office hours.

Times in the database are naive UTC; the rules (15:00 cut-off, office hours) are in Vietnam time, UTC+7 all
year (no daylight saving).
"""
from __future__ import annotations

import datetime as dt
import functools

import holidays

VN_OFFSET = dt.timedelta(hours=7)
OFFICE_CLOSE = dt.time(17, 0)


def to_local(moment: dt.datetime) -> dt.datetime:
    """Naive UTC → naive Vietnam time."""
    return moment + VN_OFFSET


def to_utc(moment: dt.datetime) -> dt.datetime:
    return moment - VN_OFFSET


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, count: int) -> dt.date:
    for _ in range(count):
        day = next_working_day(day)
    return day


def appointment(received_utc: dt.datetime, working_days: int, same_day_cutoff: dt.time | None = None) -> dt.datetime:
    """When the result is due (naive UTC), counting working days from receipt.

    A dossier received on a day off, or after the cut-off (``same_day_cutoff``, e.g. 15:00, for same-day
    procedures) or after office hours, counts as received the next working day. The result is due at the
    close of office on the last day.
    """
    local = to_local(received_utc)
    day = local.date()
    cutoff = same_day_cutoff if working_days == 0 and same_day_cutoff else OFFICE_CLOSE
    if not is_working_day(day) or local.time() >= cutoff:
        day = next_working_day(day)
    due = add_working_days(day, working_days)
    return to_utc(dt.datetime.combine(due, OFFICE_CLOSE))
