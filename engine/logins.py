"""Slowing down password guessing: failed logins are counted over a sliding window, and a login is refused,
before its password is even checked, while one of these counts is at its limit:

- the same email from the same address (:data:`PER_PAIR`): someone who mistyped their password a few times
  waits a few minutes, and a guesser at one address gets a handful of tries per window;
- the same address, whatever the email (:data:`PER_SOURCE`): one address trying many accounts with common
  passwords. It is high because a mobile carrier puts many people behind one address;
- the same email, whatever the address (:data:`PER_EMAIL`): guessing one account from many addresses. It is
  high because anyone who knows an email can fail its logins and so make its owner wait.

Creating accounts is counted too (:func:`check_registration`): each one costs a password hash, as much CPU as a
login, and a row, so one address may create at most :attr:`~engine.config.Settings.registrations_per_address`
accounts in a window (20 by default; high, for the same reason as :data:`PER_SOURCE`).

Wrong lookups of a dossier by its code and its applicant's ID number (:mod:`engine.lookup`) are kept with the failed
logins, under a key no email can be, and so count towards their address's :data:`PER_SOURCE` too.

Successful logins are kept too (:func:`signed_in`, ``sign_in``, :data:`SIGN_INS_KEPT`), for the person to see on
their security page (:func:`recent`): a login they did not make shows.

The counts are kept in the database (``login_failure``, ``registration``), so every web worker sees the same
ones, and they survive a restart. A refused login is not counted (the wait does not grow while someone keeps trying), and a
successful one clears that email's failures from that address. The email is counted as typed, whether an account
has it or not, so the refusal tells nothing about which accounts exist.
"""
from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from . import clock
from .errors import TooManyAttempts, TooManyRegistrations
from .models import LoginFailure, Registration, SignIn

WINDOW = dt.timedelta(minutes=15)
PER_PAIR, PER_SOURCE, PER_EMAIL = 5, 100, 30
#: how long a successful login is kept, to be shown to the person
SIGN_INS_KEPT = dt.timedelta(days=90)
#: the address recorded when the caller gives none (a script, the engine's tests)
UNKNOWN = "-"


def source_of(source: str | None) -> str:
    """The address as it is kept (cut to the column's length; :data:`UNKNOWN` when none)."""
    return (source or UNKNOWN)[:64]


def wait(times: list[dt.datetime], limit: int, now: dt.datetime) -> int:
    """The seconds until fewer than ``limit`` of ``times`` (in the window, at least ``limit`` of them) are left in
    it: until the (len - limit + 1) oldest have left."""
    return max(1, math.ceil((sorted(times)[len(times) - limit] + WINDOW - now).total_seconds()))


def check(session: Session, email: str, source: str | None) -> int:
    """Raise :class:`TooManyAttempts` (with the seconds to wait) if a login for ``email`` from ``source`` must
    wait; otherwise return how many failures of that email from that address are counted. ``email`` is
    lower-cased and stripped already."""
    now, source = clock.now(), source_of(source)
    rows = session.execute(
        select(LoginFailure.email, LoginFailure.source, LoginFailure.at)
        .where(LoginFailure.at > now - WINDOW, or_(LoginFailure.email == email, LoginFailure.source == source))
    ).all()
    if not rows:
        return 0
    waits = [wait(counted, limit, now)
             for limit, counted in ((PER_PAIR, [r.at for r in rows if r.email == email and r.source == source]),
                                    (PER_SOURCE, [r.at for r in rows if r.source == source]),
                                    (PER_EMAIL, [r.at for r in rows if r.email == email]))
             if len(counted) >= limit]
    if waits:
        raise TooManyAttempts(max(waits))
    return sum(1 for r in rows if r.email == email and r.source == source)


def failed(session: Session, email: str, source: str | None) -> None:
    """Count a failed login (and forget the failures that have left the window)."""
    now = clock.now()
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
    session.add(LoginFailure(email=email[:254], source=source_of(source), at=now))
    session.flush()


def succeeded(session: Session, email: str, source: str | None) -> None:
    """Forget the failures of ``email`` from ``source``."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == email,
                                               LoginFailure.source == source_of(source)))


def check_registration(session: Session, source: str | None, limit: int) -> None:
    """Raise :class:`TooManyRegistrations` (with the seconds to wait) if ``source`` created ``limit`` accounts in
    the window."""
    now = clock.now()
    times = list(session.scalars(select(Registration.at).where(Registration.source == source_of(source),
                                                               Registration.at > now - WINDOW)))
    if len(times) >= limit:
        raise TooManyRegistrations(wait(times, limit, now))


def registered(session: Session, source: str | None) -> None:
    """Count an account created from ``source`` (and forget those that have left the window)."""
    now = clock.now()
    session.execute(delete(Registration).where(Registration.at <= now - WINDOW))
    session.add(Registration(source=source_of(source), at=now))


def signed_in(session: Session, user_id: int, source: str | None, method: str) -> None:
    """Keep a successful login of the account (``method``: password, code, recovery, register; see
    :class:`~engine.models.SignIn`), and forget its logins older than :data:`SIGN_INS_KEPT`."""
    now = clock.now()
    session.execute(delete(SignIn).where(SignIn.user_id == user_id, SignIn.at <= now - SIGN_INS_KEPT))
    session.add(SignIn(user_id=user_id, at=now, source=source_of(source), method=method))


def recent(session: Session, user_id: int, limit: int = 10) -> list[SignIn]:
    """The account's last logins, newest first."""
    return list(session.scalars(select(SignIn).where(SignIn.user_id == user_id)
                                .order_by(SignIn.at.desc(), SignIn.id.desc()).limit(limit)))
