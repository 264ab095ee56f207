"""Two-step login's secrets are kept sealed under MOTCUA_DATA_KEY: not readable from the database alone; without a
key nothing new is sealed and two-step login is not turned on; keys change without locking anyone out (a new key in
front, `motcua reseal`, the old key gone); a secret no key opens still lets its owner in with a recovery code."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from engine import clock, sealed, two_step
from engine.api import Engine
from engine.demo import DEMO_PASSWORD
from engine.models import LoginFailure, User
from tests.conftest import TEST_DATA_KEY
from tests.engine import test_two_step
from tests.engine.test_two_step import OFFICIAL

pinned = test_two_step.pinned  # (noon on a Monday, as in the two-step tests)


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now().replace(tzinfo=dt.timezone.utc))


def turn_on(engine: Engine) -> tuple[str, list[str]]:
    with engine.session() as s:
        official = s.scalar(select(User).where(User.email == OFFICIAL))
        setup = engine.two_step_setup(official)
        codes = engine.enable_two_step(s, official, setup.secret, code_now(setup.secret), DEMO_PASSWORD)
        s.commit()
    return setup.secret, codes


def stored(engine: Engine) -> str:
    with engine.session() as s:
        return s.scalar(select(User.totp_secret).where(User.email == OFFICIAL))


def login(engine: Engine, code: str) -> Any:
    with engine.session() as s:
        user_id = s.scalar(select(User.id).where(User.email == OFFICIAL))
        verified = engine.verify_two_step(s, user_id, code)
        s.commit()
    return verified


def keys(engine: Engine, *data_keys: str) -> None:
    engine.settings = dataclasses.replace(engine.settings, data_keys=data_keys)


def test_a_secret_is_sealed_and_opened_only_with_the_key(engine: Engine) -> None:
    one, two = sealed.seal(engine.settings, "JBSWY3DPEHPK3PXP"), sealed.seal(engine.settings, "JBSWY3DPEHPK3PXP")
    assert one != two and one.startswith("v1:") and "JBSWY3DPEHPK3PXP" not in one  # (a new nonce each time)
    assert sealed.opened(engine.settings, one) == sealed.opened(engine.settings, two) == "JBSWY3DPEHPK3PXP"
    other = dataclasses.replace(engine.settings, data_keys=("mot-khoa-khac",))
    with pytest.raises(sealed.Unreadable):
        sealed.opened(other, one)
    with pytest.raises(sealed.Unreadable):
        sealed.opened(engine.settings, one[:-4] + "AAAA")  # tampered with
    assert sealed.opened(other, "JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"  # kept before sealing came in
    with pytest.raises(sealed.NoKey):
        sealed.seal(dataclasses.replace(engine.settings, data_keys=()), "JBSWY3DPEHPK3PXP")


def test_without_a_key_two_step_login_is_not_turned_on(engine: Engine, pinned: clock.ManualClock) -> None:
    keys(engine)
    with engine.session() as s:
        official = s.scalar(select(User).where(User.email == OFFICIAL))
        secret = engine.two_step_setup(official).secret
        with pytest.raises(sealed.NoKey):
            engine.enable_two_step(s, official, secret, code_now(secret), "sai-mat-khau")
        s.commit()
        assert s.scalar(select(LoginFailure.id)) is None  # refused before the password is looked at
        assert not s.scalar(select(User).where(User.email == OFFICIAL)).two_step


def test_keys_change_without_locking_anyone_out(engine: Engine, pinned: clock.ManualClock) -> None:
    secret, _ = turn_on(engine)
    first = stored(engine)
    keys(engine, "khoa-moi-2027", TEST_DATA_KEY)  # a new key in front of the old one: both open
    pinned.advance(dt.timedelta(minutes=1))
    assert login(engine, code_now(secret)) is not None
    with engine.session() as s:
        assert two_step.reseal(s, engine.settings) == (1, [])
        s.commit()
    assert stored(engine) != first and sealed.sealed_with_first(engine.settings, stored(engine))
    with engine.session() as s:
        assert two_step.reseal(s, engine.settings) == (0, [])  # nothing left to do
    keys(engine, "khoa-moi-2027")  # the old key gone
    pinned.advance(dt.timedelta(minutes=1))
    assert login(engine, code_now(secret)) is not None


def test_a_secret_no_key_opens_lets_its_owner_in_with_a_recovery_code(engine: Engine,
                                                                      pinned: clock.ManualClock) -> None:
    secret, codes = turn_on(engine)
    keys(engine, "khoa-sai")
    pinned.advance(dt.timedelta(minutes=1))
    with pytest.raises(sealed.Unreadable):
        login(engine, code_now(secret))
    with engine.session() as s:
        assert s.scalar(select(LoginFailure.id)) is None  # not the person's fault: not counted
    assert login(engine, codes[0]).recovery_left == 9
    with engine.session() as s:
        assert two_step.reseal(s, engine.settings) == (0, [s.scalar(select(User.id).where(User.email == OFFICIAL))])


def test_a_secret_kept_before_sealing_works_and_is_sealed_by_reseal(engine: Engine, pinned: clock.ManualClock,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.cli import main

    secret, _ = turn_on(engine)
    with engine.session() as s:
        s.execute(update(User).where(User.email == OFFICIAL).values(totp_secret=secret))  # as an older version kept it
        s.commit()
    pinned.advance(dt.timedelta(minutes=1))
    assert login(engine, code_now(secret)) is not None
    monkeypatch.setenv("MOTCUA_DATABASE_URL", engine.settings.database_url)
    monkeypatch.delenv("MOTCUA_DEV", raising=False)
    monkeypatch.delenv("MOTCUA_DATA_KEY", raising=False)
    assert main(["reseal"]) == 2 and "set MOTCUA_DATA_KEY" in capsys.readouterr().err
    monkeypatch.setenv("MOTCUA_DATA_KEY", TEST_DATA_KEY)
    assert main(["reseal"]) == 0 and "1 two-step secret(s) sealed again" in capsys.readouterr().out
    assert stored(engine).startswith("v1:") and secret not in stored(engine)
    pinned.advance(dt.timedelta(minutes=1))
    assert login(engine, code_now(secret)) is not None
