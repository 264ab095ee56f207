"""The engine's notion of "now": real time, or a moved clock (scenarios, tests, the timer run).

Every time the engine stores or compares (task created, dossier submitted, deadlines, BPMN timers) comes from
:func:`now`, naive UTC. :func:`use` sets another clock for the current thread or task only.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator

_override: contextvars.ContextVar[Callable[[], dt.datetime] | None] = contextvars.ContextVar("motcua_clock", default=None)


def now() -> dt.datetime:
    """Naive UTC."""
    fn = _override.get()
    return fn() if fn is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that only moves when told to (forward only)."""

    def __init__(self, start: dt.datetime):
        self.current = _naive_utc(start)

    def __call__(self) -> dt.datetime:
        return self.current

    def move_to(self, moment: dt.datetime) -> None:
        moment = _naive_utc(moment)
        if moment < self.current:
            raise ValueError(f"the clock only moves forward ({moment} is before {self.current})")
        self.current = moment

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


@contextlib.contextmanager
def use(clock: Callable[[], dt.datetime]) -> Iterator[None]:
    token = _override.set(clock)
    try:
        yield
    finally:
        _override.reset(token)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment
