"""Working days in Vietnam: weekends, public holidays (lunar ones included, from ``holidays``), each agency's
extra days off and make-up working days, office sessions, the 15:00 rule for same-day procedures.

Times in the database are naive UTC; the rules are in Vietnam time, UTC+7 all year (no daylight saving).
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

import holidays

from . import clock

VN_OFFSET = dt.timedelta(hours=7)
#: office sessions (Vietnam time): morning and afternoon
MORNING = (dt.time(7, 30), dt.time(11, 30))
AFTERNOON = (dt.time(13, 30), dt.time(17, 0))
OFFICE_OPEN, OFFICE_CLOSE = MORNING[0], AFTERNOON[1]


def to_local(moment: dt.datetime) -> dt.datetime:
    """Naive UTC → naive Vietnam time."""
    return moment + VN_OFFSET


def to_utc(moment: dt.datetime) -> dt.datetime:
    return moment - VN_OFFSET


def today() -> dt.date:
    """Today's date in Vietnam, by the engine's clock."""
    return to_local(clock.now()).date()


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


@functools.lru_cache(maxsize=64)
def _make_up_days(year: int) -> frozenset[dt.date]:
    """Weekend days worked nationally to make up a bridge day off: ``holidays`` names the day off
    "Day off (substituted from MM/DD/YYYY)", the date in brackets being the Saturday or Sunday worked instead."""
    found = set()
    for y in (year - 1, year, year + 1):
        for name in _holidays(y).values():
            match = re.search(r"substituted from (\d{2})/(\d{2})/(\d{4})", name)
            if match:
                month, day, yr = (int(g) for g in match.groups())
                found.add(dt.date(yr, month, day))
    return frozenset(d for d in found if d.year == year)


class WorkCalendar:
    """The working days of one agency: the national calendar plus its own days off and make-up days."""

    def __init__(self, days_off: Iterable[dt.date] = (), working_days: Iterable[dt.date] = ()):
        self.days_off = frozenset(days_off)
        self.extra_working_days = frozenset(working_days)  # e.g. a Saturday worked to make up a bridge day

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.days_off:
            return False
        if day in _make_up_days(day.year):
            return True
        return day.weekday() < 5 and day not in _holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (0 when end is not after start)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def is_office_time(self, received_utc: dt.datetime) -> bool:
        local = to_local(received_utc)
        t = local.time()
        return self.is_working_day(local.date()) and any(a <= t < b for a, b in (MORNING, AFTERNOON))

    def received_day(self, received_utc: dt.datetime, cutoff: dt.time = OFFICE_CLOSE) -> dt.date:
        """The working day a dossier counts as received: a day off, or after ``cutoff``, means the next one."""
        local = to_local(received_utc)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= cutoff:
            day = self.next_working_day(day)
        return day

    def appointment(self, received_utc: dt.datetime, working_days: int,
                    same_day_cutoff: dt.time | None = None) -> dt.datetime:
        """When the result is due (naive UTC): the close of office ``working_days`` after the day of receipt.

        Same-day procedures (0 days) received after ``same_day_cutoff`` (e.g. 15:00) are due the next working
        day; any dossier received after office hours or on a day off counts from the next working day.
        """
        cutoff = same_day_cutoff if working_days == 0 and same_day_cutoff else OFFICE_CLOSE
        due = self.add_working_days(self.received_day(received_utc, cutoff), working_days)
        return to_utc(dt.datetime.combine(due, OFFICE_CLOSE))

    def move(self, due_utc: dt.datetime, working_days: int) -> dt.datetime:
        """A due date moved by ``working_days`` (a pause, an extension), still at the close of office."""
        day = self.add_working_days(to_local(due_utc).date(), working_days)
        return to_utc(dt.datetime.combine(day, OFFICE_CLOSE))

    def working_days_later(self, moment_utc: dt.datetime, count: int) -> dt.datetime:
        """The close of office ``count`` working days after the day of ``moment_utc`` (0: that day's close)."""
        day = to_local(moment_utc).date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            count = max(count - 1, 0)
        return to_utc(dt.datetime.combine(self.add_working_days(day, count), OFFICE_CLOSE))


NATIONAL = WorkCalendar()
is_working_day = NATIONAL.is_working_day
next_working_day = NATIONAL.next_working_day
add_working_days = NATIONAL.add_working_days
working_days_later = NATIONAL.working_days_later


def appointment(received_utc: dt.datetime, working_days: int, same_day_cutoff: dt.time | None = None) -> dt.datetime:
    return NATIONAL.appointment(received_utc, working_days, same_day_cutoff)


def classify(finished_utc: dt.datetime | None, appointment_utc: dt.datetime | None, at_utc: dt.datetime) -> str | None:
    """early / on_time / late for a finished dossier (by the day, as the national reports do); within_time /
    late for one still open at ``at_utc``; None without an appointment."""
    if appointment_utc is None:
        return None
    due_day = to_local(appointment_utc).date()
    if finished_utc is None:
        return "late" if to_local(at_utc) > to_local(appointment_utc) else "within_time"
    done_day = to_local(finished_utc).date()
    if done_day < due_day:
        return "early"
    return "on_time" if done_day == due_day else "late"
