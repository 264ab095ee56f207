"""Accounts: argon2id passwords (older hashes upgraded at login) and the signed-in user as a plain record."""
from __future__ import annotations

import datetime as dt
from dataclasses import FrozenInstanceError

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine import accounts, clock
from engine.api import Engine
from engine.errors import FormInvalid
from engine.models import User, UserRole


def test_hashes_use_argon2id_with_the_chosen_parameters(engine: Engine) -> None:
    with engine.session() as s:
        user = engine.register_citizen(s, "moi@example.com", "mat-khau-rat-dai", "Người Mới")
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert engine.authenticate(s, "moi@example.com", "mat-khau-rat-dai") is user
        assert engine.authenticate(s, "moi@example.com", "sai-mat-khau-nhe") is None
        assert engine.authenticate(s, "khong-co@example.com", "mat-khau-rat-dai") is None


def test_an_older_hash_is_upgraded_at_login(engine: Engine) -> None:
    with engine.session() as s:
        user = engine.register_citizen(s, "cu@example.com", "mat-khau-rat-dai", "Người Cũ")
        user.password_hash = PasswordHasher().hash("mat-khau-rat-dai")  # the library's default parameters
        s.flush()
        assert accounts.HASHER.check_needs_rehash(user.password_hash)
        assert engine.authenticate(s, "cu@example.com", "mat-khau-rat-dai") is user
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_the_signed_in_user_is_a_plain_record_read_afresh(engine: Engine) -> None:
    """``Engine.user`` (Flask-Login's loader) gives what the row holds, roles and agency included, as a record
    that cannot be changed; each call reads the database again, so a change of roles counts at the next request
    (the web signs out an account deactivated meanwhile: tests/web/test_guards.py)."""
    with engine.session() as s:
        row = s.scalar(select(User).where(User.email == "motcua@demo.motcua.vn"))
        actor = engine.user(s, row.id)
        assert isinstance(actor, accounts.Actor) and not isinstance(actor, User)
        assert (actor.id, actor.email, actor.full_name, actor.kind, actor.agency_id) == (
            row.id, row.email, row.full_name, row.kind, row.agency_id)
        assert actor.roles == row.roles == {"reception_officer"}
        assert (actor.agency.name_vi, actor.agency.name_en) == (row.agency.name_vi, row.agency.name_en)
        assert actor.is_official and not actor.is_citizen and not actor.is_admin
        assert actor.is_authenticated and actor.is_active and not actor.is_anonymous
        assert actor.get_id() == row.get_id() == f"{row.id}.{row.password_stamp}"  # the session's id
        with pytest.raises(FrozenInstanceError):
            actor.kind = "admin"  # type: ignore[misc]
        assert engine.user(s, row.id + 10_000) is None

        citizen = s.scalar(select(User).where(User.email == "congdan@demo.motcua.vn"))
        person = engine.user(s, citizen.id)
        assert person.is_citizen and person.roles == frozenset() and person.agency is None
        assert person.profile() == citizen.profile()

        row.role_rows = [UserRole(role="civil_status_officer"), UserRole(role="commune_chairman")]
        row.active = False
        s.commit()
    with engine.session() as s:
        again = engine.user(s, row.id)
        assert again.roles == {"civil_status_officer", "commune_chairman"} and not again.is_active


def test_a_profile_is_updated_through_the_record_of_the_signed_in_user(engine: Engine) -> None:
    with engine.session() as s:
        user = engine.register_citizen(s, "hoso@example.com", "mat-khau-rat-dai", "Người Mới")
        s.commit()
        actor = engine.user(s, user.id)
    with engine.session() as s:
        engine.update_profile(s, actor, full_name="Người Đã Đổi", phone="0901 234 567")
        s.commit()
    with engine.session() as s:
        assert (engine.user(s, actor.id).full_name, engine.user(s, actor.id).phone) == ("Người Đã Đổi", "0901234567")
        with pytest.raises(FormInvalid):
            engine.update_profile(s, actor, full_name="")
        # the desk finds the account by its new name, written either way, and no longer by the old one
        assert accounts.applicants_matching(s, "nguoi da doi") == [actor.id]
        assert accounts.applicants_matching(s, "NGƯỜI  ĐÃ ĐỔI") == [actor.id]
        assert accounts.applicants_matching(s, "Người Mới") == []


@pytest.mark.parametrize("moment,birth,message", [
    # 17:30 UTC on 27 November is already the 28th in Vietnam: born "today" there is allowed, the 29th is not
    (dt.datetime(2026, 11, 27, 17, 30), "2026-11-29", "Date of birth must be today or in the past"),
    (dt.datetime(2026, 11, 27, 17, 30), "0990-05-06", "Date of birth must be 01/01/1900 or later"),
    (dt.datetime(2026, 11, 27, 17, 30), "2026-11-28", None),
    (dt.datetime(2026, 11, 27, 16, 30), "2026-11-28", "Date of birth must be today or in the past"),
])
def test_a_profile_date_of_birth_is_neither_in_the_future_nor_before_1900(engine: Engine, moment, birth,
                                                                          message) -> None:
    with engine.session() as s:
        user = engine.register_citizen(s, "ngaysinh@example.com", "mat-khau-rat-dai", "Người Mới",
                                       birth_date="1990-06-05")
        s.commit()
        actor = engine.user(s, user.id)
    with engine.session() as s, clock.use(clock.ManualClock(moment)):
        if message is None:
            engine.update_profile(s, actor, full_name="Người Mới", birth_date=birth)
            s.commit()
            assert engine.user(s, actor.id).birth_date == dt.date.fromisoformat(birth)
            return
        with pytest.raises(FormInvalid) as info:
            engine.update_profile(s, actor, full_name="Người Mới", birth_date=birth)
        assert info.value.errors["birth_date"]["en"] == message
        s.rollback()
        assert engine.user(s, actor.id).birth_date == dt.date(1990, 6, 5)  # nothing lost
        with pytest.raises(FormInvalid) as info:  # the same rule when registering
            engine.register_citizen(s, "ngaysinh2@example.com", "mat-khau-rat-dai", "Người Khác", birth_date=birth)
        assert info.value.errors["birth_date"]["en"] == message


def test_one_email_registered_twice_at_once_makes_one_account_and_one_message(engine: Engine) -> None:
    """A double click on "create account": the second request reads no account yet (the first has not committed),
    then waits for the first's row (PostgreSQL's unique index; SQLite's write lock) and is told the email is taken,
    not shown an error page."""
    import threading

    first = engine.session()
    engine.register_citizen(first, "doi@example.com", "mat-khau-rat-dai", "Người Bấm Hai Lần")
    outcome: list[object] = []

    def second() -> None:
        with engine.session() as s:
            try:
                engine.register_citizen(s, "doi@example.com", "mat-khau-rat-dai", "Người Bấm Hai Lần")
                s.commit()
                outcome.append("registered")
            except FormInvalid as exc:
                outcome.append(exc.errors["email"]["vi"])

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first
    first.commit()
    first.close()
    thread.join(10)
    assert outcome == ["Email này đã được dùng để đăng ký"]
    with engine.session() as s:
        assert len(s.scalars(select(User).where(User.email == "doi@example.com")).all()) == 1
