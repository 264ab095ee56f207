"""Password guessing is slowed down: failed logins are counted per email and address over a sliding window
(engine.logins), in the database, and a login waits while a count is at its limit."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from engine import clock, logins
from engine.api import Engine
from engine.errors import TooManyAttempts
from engine.models import LoginFailure

CITIZEN, PASSWORD = "congdan@demo.motcua.vn", "matkhau-demo-2026"
HOME, CAFE = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def moved() -> clock.ManualClock:
    manual = clock.ManualClock(dt.datetime(2026, 11, 27, 2, 0))
    with clock.use(manual):
        yield manual


def fail(engine: Engine, email: str, source: str, times: int) -> None:
    for _ in range(times):
        with engine.session() as s:
            assert engine.authenticate(s, email, "khong-phai-mat-khau", source) is None
            s.commit()


def login(engine: Engine, email: str, password: str, source: str):  # noqa: ANN201
    with engine.session() as s:
        user = engine.authenticate(s, email, password, source)
        s.commit()
        return user


def test_five_wrong_passwords_make_that_address_wait_even_with_the_right_one(engine: Engine, moved) -> None:  # noqa: ANN001
    fail(engine, CITIZEN, HOME, logins.PER_PAIR)
    moved.advance(dt.timedelta(minutes=5))
    with pytest.raises(TooManyAttempts) as refused:
        login(engine, CITIZEN, PASSWORD, HOME)
    assert refused.value.retry_after == 10 * 60  # the first failure leaves the window 15 minutes after it
    assert "10 phút" in refused.value.message["vi"] and "10 minutes" in refused.value.message["en"]
    # the owner, somewhere else, is not held back by someone guessing at home
    assert login(engine, CITIZEN, PASSWORD, CAFE).email == CITIZEN
    # nor is anyone else at home
    assert login(engine, "motcua@demo.motcua.vn", PASSWORD, HOME) is not None
    moved.advance(dt.timedelta(minutes=10))
    assert login(engine, CITIZEN, PASSWORD, HOME).email == CITIZEN


def test_a_refused_login_is_not_counted_so_the_wait_does_not_grow(engine: Engine, moved) -> None:  # noqa: ANN001
    fail(engine, CITIZEN, HOME, logins.PER_PAIR)
    for _ in range(20):
        moved.advance(dt.timedelta(seconds=30))
        with pytest.raises(TooManyAttempts):
            login(engine, CITIZEN, "doan-mo-mat-khau", HOME)
    moved.advance(dt.timedelta(minutes=5, seconds=1))  # 15 minutes after the first failure
    assert login(engine, CITIZEN, PASSWORD, HOME) is not None


def test_a_success_clears_that_address_failures_only(engine: Engine, moved) -> None:  # noqa: ANN001
    fail(engine, CITIZEN, HOME, logins.PER_PAIR - 1)
    fail(engine, CITIZEN, CAFE, 2)
    assert login(engine, CITIZEN, PASSWORD, HOME) is not None
    with engine.session() as s:
        left = s.execute(select(LoginFailure.source, func.count()).group_by(LoginFailure.source)).all()
    assert dict(left) == {CAFE: 2}
    fail(engine, CITIZEN, HOME, logins.PER_PAIR - 1)  # a fresh count: four more mistakes are allowed
    assert login(engine, CITIZEN, PASSWORD, HOME) is not None


def test_an_unknown_email_is_counted_like_a_known_one(engine: Engine, moved) -> None:  # noqa: ANN001
    """The refusal must not tell which emails have accounts."""
    fail(engine, "khong-ai@example.com", HOME, logins.PER_PAIR)
    with pytest.raises(TooManyAttempts) as unknown:
        login(engine, "khong-ai@example.com", PASSWORD, HOME)
    fail(engine, CITIZEN, CAFE, logins.PER_PAIR)
    with pytest.raises(TooManyAttempts) as known:
        login(engine, CITIZEN, PASSWORD, CAFE)
    assert unknown.value.message == known.value.message


def test_one_address_trying_many_accounts_waits(engine: Engine, moved) -> None:  # noqa: ANN001
    with engine.session() as s:
        for i in range(logins.PER_SOURCE - 1):
            logins.failed(s, f"nguoi{i}@example.com", HOME)
        s.commit()
    fail(engine, "mot-nguoi-nua@example.com", HOME, 1)
    with pytest.raises(TooManyAttempts):
        login(engine, CITIZEN, PASSWORD, HOME)  # an account never tried from there
    assert login(engine, CITIZEN, PASSWORD, CAFE) is not None


def test_one_account_tried_from_many_addresses_waits(engine: Engine, moved) -> None:  # noqa: ANN001
    with engine.session() as s:
        for i in range(logins.PER_EMAIL - 1):
            logins.failed(s, CITIZEN, f"10.0.{i // 250}.{i % 250}")
        s.commit()
    fail(engine, CITIZEN, HOME, 1)
    with pytest.raises(TooManyAttempts):
        login(engine, CITIZEN, PASSWORD, CAFE)  # an address that never failed
    assert login(engine, "motcua@demo.motcua.vn", PASSWORD, CAFE) is not None


def test_failures_that_left_the_window_are_deleted(engine: Engine, moved) -> None:  # noqa: ANN001
    fail(engine, CITIZEN, HOME, 3)
    moved.advance(logins.WINDOW)
    fail(engine, "khac@example.com", CAFE, 1)
    with engine.session() as s:
        assert s.execute(select(LoginFailure.email)).scalars().all() == ["khac@example.com"]


def test_a_login_without_an_address_is_counted_under_one(engine: Engine, moved) -> None:  # noqa: ANN001
    fail(engine, CITIZEN, None, logins.PER_PAIR)  # type: ignore[arg-type]
    with pytest.raises(TooManyAttempts):
        login(engine, CITIZEN, PASSWORD, None)  # type: ignore[arg-type]


def register(engine: Engine, n: int, source: str | None) -> None:
    with engine.session() as s:
        engine.register_citizen(s, f"nguoi{n}.{source}@example.vn", "mat-khau-rat-dai", "Người Dân", source)
        s.commit()


def test_one_address_creates_a_limited_number_of_accounts(engine: Engine, moved) -> None:  # noqa: ANN001
    from engine.errors import FormInvalid, TooManyRegistrations
    from engine.models import Registration, User

    limit = engine.settings.registrations_per_address
    assert limit == 20
    for n in range(limit):
        register(engine, n, HOME)
        moved.advance(dt.timedelta(seconds=10))
    with pytest.raises(TooManyRegistrations) as refused:
        register(engine, limit, HOME)
    # the first account leaves the window 15 minutes after it was made
    assert refused.value.retry_after == 15 * 60 - limit * 10
    assert "thử lại sau 12 phút" in refused.value.message["vi"]
    register(engine, limit, CAFE)  # another address is not held up
    with engine.session() as s, pytest.raises(FormInvalid):  # a form with mistakes is told its mistakes first
        engine.register_citizen(s, "khong-phai-email", "ngan", "", HOME)
    moved.advance(dt.timedelta(seconds=15 * 60 - limit * 10))
    register(engine, limit + 1, HOME)
    with engine.session() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email.like(f"%.{HOME}@example.vn"))) \
            == limit + 1
        # rows that left the window are deleted as new ones come
        assert s.scalar(select(func.count()).select_from(Registration)) <= limit + 1
    # the engine's own callers (scripts, seeding) give no address and are not limited
    for n in range(limit + 1):
        register(engine, 100 + n, None)


def test_each_successful_login_is_kept_for_the_person_to_see_for_90_days(engine: Engine, moved) -> None:  # noqa: ANN001
    import pyotp

    fail(engine, CITIZEN, CAFE, 1)  # a failure is no sign-in
    assert login(engine, CITIZEN, PASSWORD, HOME) is not None
    moved.advance(dt.timedelta(days=1))
    with engine.session() as s:
        made = engine.user(s, engine.register_citizen(s, "moi@example.vn", "mat-khau-rat-dai", "Người Mới", CAFE).id)
        s.commit()
    signed_in = login(engine, CITIZEN, PASSWORD, CAFE)
    with engine.session() as s:
        citizen = engine.user(s, signed_in.id)
        setup = engine.two_step_setup(citizen)
        codes = engine.enable_two_step(s, citizen, setup.secret, pyotp.TOTP(setup.secret).at(
            clock.now().replace(tzinfo=dt.timezone.utc)), PASSWORD)
        s.commit()
    moved.advance(dt.timedelta(minutes=1))
    login(engine, CITIZEN, PASSWORD, HOME)  # the password alone is no sign-in with two-step login on
    with engine.session() as s:
        engine.verify_two_step(s, citizen.id, codes[0], HOME)
        s.commit()
    with engine.session() as s:
        kept = [(x.source, x.method) for x in engine.recent_sign_ins(s, citizen)]
        assert kept == [(HOME, "recovery"), (CAFE, "password"), (HOME, "password")]  # newest first
        assert [(x.source, x.method) for x in engine.recent_sign_ins(s, made)] == [(CAFE, "register")]
        assert [x["address"] for x in engine.personal_data(s, citizen)["sign_ins"]] == [HOME, CAFE, HOME]
    moved.advance(dt.timedelta(days=89, hours=23, minutes=59))  # the first two leave the 90 days, the third not yet
    with engine.session() as s:
        engine.verify_two_step(s, citizen.id, codes[1], CAFE)
        s.commit()
    with engine.session() as s:
        assert [(x.source, x.method) for x in engine.recent_sign_ins(s, citizen)] == [(CAFE, "recovery"),
                                                                                      (HOME, "recovery")]
