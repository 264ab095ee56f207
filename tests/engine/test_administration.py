"""Administrators keep the agencies and the officials' accounts; an official who can no longer do a task they
hold gives it back to the queue."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine import accounts, clock
from engine.api import Engine
from engine.errors import Forbidden, FormInvalid
from tests.engine.test_birth_registration import CITIZEN, ROLE_EMAIL, Journey, declaration, user

ADMIN = "quantri@demo.motcua.vn"
RECEPTION = ROLE_EMAIL["reception_officer"]
AGENCY = {"code": "000.32.27.h14", "name_vi": "UBND xã Mẫu Đông", "name_en": "Mau Dong Commune People's Committee",
          "level": "commune", "bank_bin": "970436", "bank_account": "0011000270002", "bank_account_name": "UBND XA MAU DONG"}


@pytest.fixture(autouse=True)
def monday() -> Any:
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):
        yield


def test_agencies_are_added_and_changed_with_every_problem_said_at_once(engine: Engine) -> None:
    with engine.session() as s:
        admin = user(s, ADMIN)
        with pytest.raises(FormInvalid) as refused:
            engine.save_agency(s, admin, None, {"code": "xa mau dong", "name_vi": "", "level": "district",
                                                "bank_bin": "97043", "bank_account": "001 100"})
        assert sorted(refused.value.errors) == ["bank_account", "bank_account_name", "bank_bin", "code", "level",
                                                "name_en", "name_vi"]
        added = engine.save_agency(s, admin, None, AGENCY)
        s.commit()
        assert (added.code, added.bank_account) == ("000.32.27.H14", "0011000270002")  # the code in capitals
        with pytest.raises(FormInvalid) as refused:
            engine.save_agency(s, admin, None, {**AGENCY, "name_vi": "Trùng mã"})
        assert refused.value.errors["code"]["vi"] == "Đã có cơ quan với mã này"
        s.rollback()
        changed = engine.save_agency(s, admin, added.id, {**AGENCY, "bank_bin": "", "bank_account": "",
                                                          "bank_account_name": ""})
        s.commit()
        assert changed.bank_bin is None and changed.bank_account is None  # no account: fees in cash
        assert [a.code for a in engine.agencies(s, admin)] == ["000.31.27.H14", "000.32.27.H14", "000.00.27.H14"]
        log = engine.admin_log(s, admin)
        assert [e.action for e in log] == ["agency.saved", "agency.saved"] and log[0].actor_name == "Quản trị viên"
        with pytest.raises(Forbidden):
            engine.agencies(s, user(s, RECEPTION))
        with pytest.raises(Forbidden):
            engine.admin_log(s, user(s, RECEPTION))
        with pytest.raises(Forbidden):
            engine.save_agency(s, user(s, CITIZEN), None, AGENCY)


def test_a_new_official_sets_a_password_through_the_link_and_sees_the_queue(engine: Engine) -> None:
    with engine.session() as s:
        admin = user(s, ADMIN)
        agency_id = user(s, RECEPTION).agency_id
        assert "reception_officer" in engine.roles(s) and engine.roles(s)["reception_officer"]["vi"]
        with pytest.raises(FormInvalid) as refused:
            engine.save_official(s, admin, None, {"email": "khong-phai-email", "full_name": "", "roles": ["thu_quy"]})
        assert sorted(refused.value.errors) == ["agency_id", "email", "full_name", "roles"]
        made = engine.save_official(s, admin, None, {"email": " Moi@MauSon.gov.vn ", "full_name": "Ngô Văn Mới",
                                                     "agency_id": agency_id, "roles": ["reception_officer"]})
        s.commit()
        assert (made.email, made.roles, made.active) == ("moi@mauson.gov.vn", ("reception_officer",), True)
        assert accounts.authenticate(s, "moi@mauson.gov.vn", "") is None  # no password until they set one
        with pytest.raises(FormInvalid) as refused:
            engine.save_official(s, admin, None, {"email": "moi@mauson.gov.vn", "full_name": "Lần hai",
                                                  "agency_id": agency_id, "roles": ["reception_officer"]})
        assert refused.value.errors["email"]["vi"] == "Đã có tài khoản với email này"
        s.rollback()
        _user, token = accounts.request_password_reset(s, "moi@mauson.gov.vn")
        engine.reset_password(s, token, "mat-khau-moi-rat-dai")
        s.commit()
        official = engine.authenticate(s, "moi@mauson.gov.vn", "mat-khau-moi-rat-dai")
        assert official is not None and engine.queue(s, engine.user(s, official.id)) == []


def test_an_official_who_can_no_longer_do_a_task_gives_it_back(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    task = j.open_task()
    with engine.session() as s:
        admin, reception = user(s, ADMIN), user(s, RECEPTION)
        engine.claim(s, task.id, reception)
        s.commit()
        me = engine.official(s, admin, reception.id)
        other_roles = {"full_name": me.full_name, "agency_id": me.agency_id, "roles": ["civil_status_officer"]}
        engine.save_official(s, admin, reception.id, {**other_roles, "active": True})
        s.commit()
        assert engine.task(s, task.id, admin).claimed_by_id is None  # back in the reception queue
        engine.save_official(s, admin, reception.id, {**other_roles, "roles": ["reception_officer"], "active": True})
        engine.claim(s, task.id, user(s, RECEPTION))
        s.commit()
        engine.save_official(s, admin, reception.id, {**other_roles, "roles": ["reception_officer"], "active": False})
        s.commit()
        assert engine.task(s, task.id, admin).claimed_by_id is None
        assert engine.authenticate(s, RECEPTION, "matkhau-demo-2026") is None  # deactivated: no login
        assert [o.email for o in engine.officials(s, admin) if not o.active] == [RECEPTION]


def test_an_agencys_own_day_off_moves_the_due_dates_computed_after_it(engine: Engine) -> None:
    with engine.session() as s:
        admin = user(s, ADMIN)
        agency_id = user(s, RECEPTION).agency_id
        with pytest.raises(FormInvalid) as refused:
            engine.set_agency_day(s, admin, agency_id, "2026-02-30", False, "x" * 201)
        assert sorted(refused.value.errors) == ["day", "note"]
        engine.set_agency_day(s, admin, agency_id, "2026-11-23", False, "Đại hội đại biểu")  # the Monday
        s.commit()
        days = engine.agency_days(s, admin, agency_id)
        assert [(d.day.isoformat(), d.working, d.note) for d in days] == [("2026-11-23", False, "Đại hội đại biểu")]
        with pytest.raises(Forbidden):
            engine.agency_days(s, user(s, RECEPTION), agency_id)
    j = Journey(engine)
    j.step("declaration", declaration())  # sent on the agency's day off: due the next working day (Wednesday,
    due = j.view().appointment_at          # since Tuesday the 24th is Vietnam Cultural Day)
    assert (due.date().isoformat(), due.hour) == ("2026-11-25", 10)  # 17:00 in Vietnam
    with engine.session() as s:
        engine.remove_agency_day(s, user(s, ADMIN), agency_id, dt.date(2026, 11, 23))
        s.commit()
        assert engine.agency_days(s, user(s, ADMIN), agency_id) == []
