"""Two-step login: turned on with the password and a first code from the app; then a login needs a code the app shows
now (one step off at most, never one taken before) or a recovery code (once each); wrong codes count as failed
logins; turning it on or off ends the account's other sessions; an administrator turns it off for an official."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from engine import clock, sealed, two_step
from engine.api import Engine
from engine.demo import DEMO_PASSWORD
from engine.errors import EngineError, Forbidden, FormInvalid, NotFound, TooManyAttempts
from engine.models import AuditEvent, User

OFFICIAL = "motcua@demo.motcua.vn"
NOON = dt.datetime(2026, 11, 23, 5, 0, 0)


@pytest.fixture
def pinned() -> Any:
    moving = clock.ManualClock(NOON)
    with clock.use(moving):
        yield moving


def code_at(secret: str, moment: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=dt.timezone.utc))


def account(s: Any, email: str = OFFICIAL) -> User:
    return s.scalar(select(User).where(User.email == email))


def turned_on(engine: Engine) -> tuple[str, list[str]]:
    with engine.session() as s:
        official = account(s)
        setup = engine.two_step_setup(official)
        codes = engine.enable_two_step(s, official, setup.secret, code_at(setup.secret, clock.now()), DEMO_PASSWORD)
        s.commit()
    return setup.secret, codes


def test_it_is_turned_on_with_the_password_and_a_first_code(engine: Engine, pinned: clock.ManualClock) -> None:
    with engine.session() as s:
        official = account(s)
        stamp = official.password_stamp
        setup = engine.two_step_setup(official)
        assert setup.uri.startswith("otpauth://totp/") and "secret=" + setup.secret in setup.uri
        assert engine.two_step_setup(official, setup.secret).secret == setup.secret  # the same while setting up
        assert engine.two_step_setup(official, "not-a-secret").secret != "not-a-secret"
        with pytest.raises(FormInvalid) as refused:
            engine.enable_two_step(s, official, setup.secret, "000000", "sai-mat-khau")
        assert set(refused.value.errors) == {"code", "password"}
        s.commit()  # (the wrong password is counted)
        codes = engine.enable_two_step(s, official, setup.secret, code_at(setup.secret, NOON), DEMO_PASSWORD)
        s.commit()
        assert len(codes) == 10 and len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
        row = account(s)
        assert row.two_step and set(row.totp_recovery).isdisjoint(codes)
        assert setup.secret not in row.totp_secret and sealed.opened(engine.settings, row.totp_secret) == setup.secret
        assert row.password_stamp != stamp  # the sessions started before end
        assert engine.user(s, row.id).two_step and engine.user(s, row.id).password_stamp == row.password_stamp
        assert engine.recovery_codes_left(s, row) == 10
        with pytest.raises(EngineError, match="on already"):
            engine.enable_two_step(s, row, setup.secret, code_at(setup.secret, NOON), DEMO_PASSWORD)


def test_a_code_is_taken_once_and_only_while_it_is_shown(engine: Engine, pinned: clock.ManualClock) -> None:
    secret, _ = turned_on(engine)
    with engine.session() as s:
        user_id = account(s).id
    pinned.advance(dt.timedelta(minutes=2))

    def login(code: str) -> bool:
        with engine.session() as s:
            taken = engine.verify_two_step(s, user_id, code, "203.0.113.5") is not None
            s.commit()
        return taken

    assert not login(code_at(secret, NOON))  # two minutes old
    assert login(code_at(secret, clock.now() - dt.timedelta(seconds=30)))  # the step before: a phone a little slow
    assert not login(code_at(secret, clock.now() - dt.timedelta(seconds=30)))  # … but not twice
    assert not login(code_at(secret, clock.now() - dt.timedelta(seconds=60)))  # nor an older one after it
    now_code = code_at(secret, clock.now())
    assert login(f" {now_code[:3]} {now_code[3:]} ")  # (as typed, with spaces)
    assert not login(now_code)
    assert not login("") and not login("abc")


def test_a_recovery_code_logs_in_once(engine: Engine, pinned: clock.ManualClock) -> None:
    _, codes = turned_on(engine)
    with engine.session() as s:
        user_id = account(s).id
        assert engine.verify_two_step(s, user_id, codes[3].upper().replace("-", " ")) is not None
        s.commit()
        assert engine.verify_two_step(s, user_id, codes[3]) is None  # used up
        assert engine.verify_two_step(s, user_id, codes[4]) is not None
        s.commit()
        assert engine.recovery_codes_left(s, account(s)) == 8
        logged = s.scalars(select(AuditEvent.label_en).where(AuditEvent.action == "account.two_step")).all()
        assert logged[-2:] == ["Logged in with a recovery code (9 left)", "Logged in with a recovery code (8 left)"]


def test_guessing_codes_waits_like_guessing_passwords(engine: Engine, pinned: clock.ManualClock) -> None:
    secret, _ = turned_on(engine)
    with engine.session() as s:
        user_id = account(s).id
    for guess in range(5):
        with engine.session() as s:
            assert engine.verify_two_step(s, user_id, f"{guess:06d}", "198.51.100.7") is None
            s.commit()
    with engine.session() as s, pytest.raises(TooManyAttempts):
        engine.verify_two_step(s, user_id, code_at(secret, clock.now()), "198.51.100.7")  # even the right one waits
    pinned.advance(dt.timedelta(minutes=16))
    with engine.session() as s:
        assert engine.verify_two_step(s, user_id, code_at(secret, clock.now()), "198.51.100.7") is not None


def test_it_is_turned_off_with_the_password_or_by_an_administrator(engine: Engine, pinned: clock.ManualClock) -> None:
    secret, _ = turned_on(engine)
    with engine.session() as s:
        official = account(s)
        stamp = official.password_stamp
        with pytest.raises(FormInvalid) as refused:
            engine.disable_two_step(s, official, "sai-mat-khau")
        assert list(refused.value.errors) == ["password"]
        engine.disable_two_step(s, official, DEMO_PASSWORD)
        s.commit()
        row = account(s)
        assert not row.two_step and row.totp_recovery is None and row.password_stamp != stamp
        assert engine.verify_two_step(s, row.id, code_at(secret, clock.now())) is None  # off: no second step
    turned_on(engine)
    with engine.session() as s:
        citizen, admin = account(s, "congdan@demo.motcua.vn"), account(s, "quantri@demo.motcua.vn")
        with pytest.raises(Forbidden):
            engine.reset_two_step(s, citizen, account(s).id)
        with pytest.raises(NotFound):
            engine.reset_two_step(s, admin, citizen.id)  # (a citizen turns it off with their password)
        assert not engine.reset_two_step(s, admin, account(s).id).two_step
        s.commit()
        assert not account(s).two_step
        logged = s.scalars(select(AuditEvent.label_en).where(AuditEvent.action == "account.two_step")).all()
        assert logged[-1] == f"Turned two-step login off for {OFFICIAL}"


def test_a_secret_not_made_here_is_refused(engine: Engine, pinned: clock.ManualClock) -> None:
    with engine.session() as s:
        official = account(s)
        with pytest.raises(EngineError, match="not valid"):
            engine.enable_two_step(s, official, "short", "123456", DEMO_PASSWORD)
    assert two_step.SECRET.fullmatch(pyotp.random_base32())


def test_the_operator_turns_it_off_for_anyone(engine: Engine, pinned: clock.ManualClock, capsys: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.cli import main

    turned_on(engine)
    monkeypatch.setenv("MOTCUA_DATABASE_URL", engine.settings.database_url)
    monkeypatch.setenv("MOTCUA_ROOT", str(engine.settings.root))
    assert main(["two-step-off", OFFICIAL.upper()]) == 0
    assert capsys.readouterr().out.strip() == f"two-step login off for {OFFICIAL}"
    with engine.session() as s:
        assert not account(s).two_step
    assert main(["two-step-off", "khong-co@example.vn"]) == 2


def test_the_alert_speaks_the_persons_language_and_says_when_and_from_where(engine: Engine,
                                                                           pinned: clock.ManualClock) -> None:
    from engine import alerts

    with engine.session() as s:
        official = account(s)
        official.language = "en"
        alert = alerts.compose("recovery_code", official, clock.now(), "203.0.113.5", left=3)
    assert alert.to == OFFICIAL and alert.subject == "A recovery code was used to log in – Online one-stop shop"
    assert ("A recovery code was used to log in (account motcua@demo.motcua.vn on the online one-stop shop) at "
            "12:00 23/11/2026, Vietnam time (address 203.0.113.5).") in alert.body
    assert "3 recovery code(s) are left." in alert.body and "change your password at once" in alert.body


def test_the_right_password_does_not_wipe_the_wrong_codes(engine: Engine, pinned: clock.ManualClock) -> None:
    """Someone who knows the password cannot log in again between guesses to start the count of wrong codes anew."""
    turned_on(engine)
    with engine.session() as s:
        user_id = account(s).id
    for guess in range(5):
        with engine.session() as s:
            assert engine.authenticate(s, OFFICIAL, DEMO_PASSWORD, "198.51.100.7") is not None
            assert engine.verify_two_step(s, user_id, f"{guess:06d}", "198.51.100.7") is None
            s.commit()
    with engine.session() as s, pytest.raises(TooManyAttempts):
        engine.authenticate(s, OFFICIAL, DEMO_PASSWORD, "198.51.100.7")


def test_new_recovery_codes_need_it_on_and_the_password(engine: Engine, pinned: clock.ManualClock) -> None:
    with engine.session() as s:
        with pytest.raises(EngineError, match="is off"):
            engine.new_recovery_codes(s, account(s), DEMO_PASSWORD)
    _, old = turned_on(engine)
    with engine.session() as s:
        with pytest.raises(FormInvalid):
            engine.new_recovery_codes(s, account(s), "sai-mat-khau")
        new = engine.new_recovery_codes(s, account(s), DEMO_PASSWORD)
        s.commit()
        assert engine.verify_two_step(s, account(s).id, old[0]) is None
        assert engine.verify_two_step(s, account(s).id, new[0]).recovery_left == 9
