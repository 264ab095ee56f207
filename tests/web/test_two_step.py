"""Two-step login in the portal: an official turns it on from "Bảo mật tài khoản" (QR code and key, a first code, the
password; ten recovery codes shown once), their other sessions end; a login then asks for the code before any page
opens; a recovery code works once; a late code page sends back to the login; turning it off takes the password; an
administrator turns it off for an official who lost their phone."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from engine import clock
from engine.api import Engine
from engine.config import Settings
from engine.demo import DEMO_PASSWORD
from engine.models import User
from web.auth import PENDING

OFFICIAL = "motcua@demo.motcua.vn"
ADMIN = "quantri@demo.motcua.vn"


@pytest.fixture
def pinned() -> Any:
    moving = clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))
    with clock.use(moving):
        yield moving


def code(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now().replace(tzinfo=dt.timezone.utc))


def turn_on(official: Any) -> tuple[str, list[str]]:
    page = official.get("/bao-mat")
    assert page.has("Xác thực hai bước", "Bật xác thực hai bước", "Đổi mật khẩu")
    page = official.get("/bao-mat/hai-buoc")
    assert page.has("<svg", "Mã QR để thêm tài khoản vào ứng dụng xác thực")
    secret = re.search(r'id="secret">([A-Z2-7 ]+)</code>', page.html).group(1).replace(" ", "")
    assert official.get("/bao-mat/hai-buoc").has(re.search(r'id="secret">([^<]+)<', page.html).group(1))  # the same
    page = official.post("/bao-mat/hai-buoc", {"code": "123", "password": "sai-mat-khau"}, status=400)
    assert page.has('href="#code"', 'href="#password"', "Mã không đúng")
    page = official.post("/bao-mat/hai-buoc", {"code": code(secret), "password": DEMO_PASSWORD})
    assert page.has("Đã bật xác thực hai bước", "Các mã chỉ hiện một lần")
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page.html)
    assert len(codes) == 10 and official.client.get("/can-bo/").status_code == 200  # this session goes on
    return secret, codes


def test_an_official_turns_it_on_and_logs_in_with_a_code(people, pinned: clock.ManualClock) -> None:  # noqa: ANN001
    official, elsewhere = people(), people()
    official.login(OFFICIAL)
    elsewhere.login(OFFICIAL)
    secret, codes = turn_on(official)
    assert elsewhere.client.get("/can-bo/").status_code == 302  # the session started before it ends
    page = official.get("/bao-mat")
    assert page.has("Đang bật", "Mã dự phòng còn dùng được", "10")
    official.logout()

    pinned.advance(dt.timedelta(seconds=30))
    page = official.login(OFFICIAL)
    assert page.url == "/dang-nhap/ma-xac-thuc" and page.has("Mã xác thực", 'autocomplete="one-time-code"')
    assert official.client.get("/can-bo/").status_code == 302  # not signed in before the code
    page = official.post("/dang-nhap/ma-xac-thuc", {"code": ""}, status=400)
    assert page.has("Nhập mã xác thực")
    page = official.post("/dang-nhap/ma-xac-thuc", {"code": "000000"}, status=400)
    assert page.has("Mã không đúng hoặc đã dùng")
    right = code(secret)
    page = official.post("/dang-nhap/ma-xac-thuc", {"code": right})
    assert page.url == "/can-bo/"
    other = people()  # the same code, seen over the shoulder, in another browser
    other.login(OFFICIAL)
    page = other.post("/dang-nhap/ma-xac-thuc", {"code": right}, status=400)
    assert page.has("Mã không đúng hoặc đã dùng")
    page = other.post("/dang-nhap/ma-xac-thuc", {"code": codes[0]})  # a recovery code, once
    assert page.url == "/can-bo/"
    other.logout()
    other.login(OFFICIAL)
    other.post("/dang-nhap/ma-xac-thuc", {"code": codes[0]}, status=400)
    assert "Mã dự phòng còn dùng được" in official.get("/bao-mat").html and ">9<" in official.page.html


def test_a_code_page_left_too_long_sends_back_to_the_login(people, pinned: clock.ManualClock) -> None:  # noqa: ANN001
    official = people()
    official.login(OFFICIAL)
    secret, _ = turn_on(official)
    official.logout()
    official.get("/dang-nhap?next=/can-bo/ho-so")
    official.post("/dang-nhap?next=/can-bo/ho-so", {"email": OFFICIAL, "password": DEMO_PASSWORD})
    with official.client.session_transaction() as session:
        session[PENDING] = {**session[PENDING], "until": 0}
    page = official.get("/dang-nhap/ma-xac-thuc")
    assert page.url == "/dang-nhap" and page.has("Đã quá thời gian nhập mã")
    pinned.advance(dt.timedelta(seconds=30))
    official.post("/dang-nhap?next=/can-bo/ho-so", {"email": OFFICIAL, "password": DEMO_PASSWORD})
    page = official.post("/dang-nhap/ma-xac-thuc", {"code": code(secret)})
    assert page.url == "/can-bo/ho-so"  # where the login was asked for


def test_turning_it_off_takes_the_password_or_an_administrator(people, engine,  # noqa: ANN001
                                                              pinned: clock.ManualClock) -> None:
    official = people()
    official.login(OFFICIAL)
    turn_on(official)
    official.get("/bao-mat")
    page = official.post("/bao-mat/hai-buoc/tat", {"password": "sai-mat-khau"}, status=400)
    assert page.has('href="#password"', "Mật khẩu không đúng")
    page = official.post("/bao-mat/hai-buoc/tat", {"password": DEMO_PASSWORD})
    assert page.has("Đã tắt xác thực hai bước", "Bật xác thực hai bước")
    turn_on(official)
    with engine.session() as s:
        user_id = s.scalar(select(User.id).where(User.email == OFFICIAL))
    admin = people()
    admin.login(ADMIN)
    row = re.search(rf'<tr class="govuk-table__row">(?:(?!</tr>).)*{OFFICIAL}(?:(?!</tr>).)*</tr>',
                    admin.get("/quan-tri/").html, re.S).group(0)
    assert row.count("<td") == 6 and re.search(r">Bật</td>", row)  # the list says who has it on
    page = admin.get(f"/quan-tri/can-bo/{user_id}")
    assert page.has("Xác thực hai bước", "Tắt xác thực hai bước")
    page = admin.post(f"/quan-tri/tai-khoan/{user_id}/tat-hai-buoc")
    assert page.url == f"/quan-tri/can-bo/{user_id}" and page.has(f"Đã tắt xác thực hai bước của {OFFICIAL}")
    assert "Tắt xác thực hai bước" not in page.html
    assert people().login(OFFICIAL).url == "/can-bo/"  # the password alone again
    citizen = people()
    citizen.login("congdan@demo.motcua.vn")
    citizen.get("/")
    citizen.post(f"/quan-tri/tai-khoan/{user_id}/tat-hai-buoc", status=403)


def test_staff_must_turn_it_on_when_required(engine, pinned: clock.ManualClock,  # noqa: ANN001
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.conftest import User as Browser
    from web import create_app

    strict = Engine(dataclasses.replace(engine.settings, staff_two_step_required=True))
    try:
        app = create_app(engine=strict, SECRET_KEY="k", TESTING=True)
        official = Browser(app.test_client())
        page = official.login(OFFICIAL)
        assert page.url == "/bao-mat/hai-buoc" and page.has("Tài khoản cán bộ phải bật xác thực hai bước")
        assert official.client.get("/can-bo/").headers["Location"] == "/bao-mat/hai-buoc"
        assert official.client.get("/bao-mat").status_code == 200  # (its own settings stay open)
        turn_on(official)
        assert official.get("/can-bo/").url == "/can-bo/"
        citizen = Browser(app.test_client())
        assert citizen.login("congdan@demo.motcua.vn").url == "/ho-so"  # citizens choose
    finally:
        strict.db.dispose()
    keyless = Engine(dataclasses.replace(engine.settings, staff_two_step_required=True, data_keys=()))
    try:  # staff could open no page: the app does not start, and says why
        with pytest.raises(RuntimeError, match="MOTCUA_STAFF_TWO_STEP=required needs MOTCUA_DATA_KEY"):
            create_app(engine=keyless, SECRET_KEY="k", TESTING=True)
    finally:
        keyless.db.dispose()
    monkeypatch.setenv("MOTCUA_STAFF_TWO_STEP", "required")
    assert Settings.from_env().staff_two_step_required
    monkeypatch.setenv("MOTCUA_STAFF_TWO_STEP", "always")
    with pytest.raises(ValueError, match="MOTCUA_STAFF_TWO_STEP must be one of optional, required"):
        Settings.from_env()


def test_the_person_is_mailed_each_change_of_how_the_account_is_protected(people, engine, smtp,  # noqa: ANN001
                                                                          pinned: clock.ManualClock) -> None:
    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    official = people()
    official.login(OFFICIAL)
    _, codes = turn_on(official)
    official.logout()
    official.login(OFFICIAL)
    official.post("/dang-nhap/ma-xac-thuc", {"code": codes[2]})
    official.get("/bao-mat")
    official.post("/bao-mat/hai-buoc/tat", {"password": DEMO_PASSWORD})
    assert box.mails == []  # no request waits for the mail server: the worker sends what is owed
    assert engine.send_due_alerts().sent == 3
    subjects = [m["Subject"] for m in box.mails]
    assert subjects == ["Đã bật xác thực hai bước – Một cửa trực tuyến",
                        "Một mã dự phòng vừa được dùng để đăng nhập – Một cửa trực tuyến",
                        "Đã tắt xác thực hai bước – Một cửa trực tuyến"]
    assert {m["To"] for m in box.mails} == {OFFICIAL}
    body = box.mails[1].get_content()
    assert "Còn 9 mã dự phòng" in body and "lúc 09:00 23/11/2026" in body and "đổi mật khẩu ngay" in body
    assert "(địa chỉ 127.0.0.1)" in body
    # an administrator's help is told too; a mail server away delays the mail, and does not undo the change
    official.get("/bao-mat")
    turn_on(official)
    assert engine.send_due_alerts().sent == 1
    with engine.session() as s:
        user_id = s.scalar(select(User.id).where(User.email == OFFICIAL))
    admin = people()
    admin.login(ADMIN)
    admin.get(f"/quan-tri/can-bo/{user_id}")
    page = admin.post(f"/quan-tri/tai-khoan/{user_id}/tat-hai-buoc")
    assert page.has(f"Đã tắt xác thực hai bước của {OFFICIAL}")
    engine.settings = dataclasses.replace(engine.settings, smtp_url="smtp://127.0.0.1:9")
    assert engine.send_due_alerts().retrying == 1
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    assert not engine.send_due_alerts()  # not yet: the next try is a minute later
    pinned.advance(dt.timedelta(minutes=1))
    assert engine.send_due_alerts().sent == 1
    assert box.mails[-1]["Subject"] == "Quản trị viên đã tắt xác thực hai bước của tài khoản – Một cửa trực tuyến"
    assert "(địa chỉ" not in box.mails[-1].get_content()  # (the administrator's address is not the person's)
    admin.post(f"/quan-tri/tai-khoan/{user_id}/tat-hai-buoc")  # off already: nothing changed, nothing to tell
    official.login(OFFICIAL)
    official.get("/doi-mat-khau")
    official.post("/doi-mat-khau", {"current_password": DEMO_PASSWORD, "password": "mat-khau-moi-2026"})
    assert engine.send_due_alerts().sent == 1
    assert box.mails[-1]["Subject"] == "Mật khẩu tài khoản đã được đổi – Một cửa trực tuyến"


def test_new_recovery_codes_replace_the_old_ones(people, pinned: clock.ManualClock) -> None:  # noqa: ANN001
    official = people()
    official.login(OFFICIAL)
    _, old = turn_on(official)
    page = official.get("/bao-mat")
    assert page.has("Tạo mã dự phòng mới")
    page = official.post("/bao-mat/hai-buoc/ma-du-phong", {"codes_password": "sai-mat-khau"}, status=400)
    assert page.has('href="#codes_password"', "Mật khẩu không đúng")
    page = official.post("/bao-mat/hai-buoc/ma-du-phong", {"codes_password": DEMO_PASSWORD})
    assert page.has("Đã tạo mã dự phòng mới", "Các mã dự phòng cũ không dùng được nữa")
    new = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page.html)
    assert len(new) == 10 and not set(new) & set(old)
    official.logout()
    official.login(OFFICIAL)
    official.post("/dang-nhap/ma-xac-thuc", {"code": old[0]}, status=400)
    assert official.post("/dang-nhap/ma-xac-thuc", {"code": new[0]}).url == "/can-bo/"


def test_the_servers_key_missing_or_wrong_is_said_not_blamed_on_the_person(people, engine,  # noqa: ANN001
                                                                          pinned: clock.ManualClock) -> None:
    official = people()
    official.login(OFFICIAL)
    secret, codes = turn_on(official)
    official.logout()
    engine.settings = dataclasses.replace(engine.settings, data_keys=("mot-khoa-khac",))  # MOTCUA_DATA_KEY changed
    pinned.advance(dt.timedelta(seconds=30))
    official.login(OFFICIAL)
    page = official.post("/dang-nhap/ma-xac-thuc", {"code": code(secret)}, status=503)
    assert page.has("Máy chủ không đọc được mã bí mật của tài khoản", 'href="#code"')
    page = official.post("/dang-nhap/ma-xac-thuc", {"code": codes[0]})  # a recovery code still lets them in
    assert page.url == "/can-bo/"
    official.get("/bao-mat")
    official.post("/bao-mat/hai-buoc/tat", {"password": DEMO_PASSWORD})
    engine.settings = dataclasses.replace(engine.settings, data_keys=())  # no MOTCUA_DATA_KEY at all
    page = official.get("/bao-mat/hai-buoc", status=503)
    assert page.has("Chưa bật được xác thực hai bước", "MOTCUA_DATA_KEY") and "<svg" not in page.html


def test_the_security_page_lists_the_recent_logins(people, pinned: clock.ManualClock) -> None:  # noqa: ANN001
    official = people()
    official.login(OFFICIAL)
    _, codes = turn_on(official)
    official.logout()
    pinned.advance(dt.timedelta(minutes=5))
    official.login(OFFICIAL)
    official.post("/dang-nhap/ma-xac-thuc", {"code": codes[0]})
    page = official.get("/bao-mat")
    table = page.html[page.html.index('id="dang-nhap-gan-day"'):]
    rows = re.findall(r"<tr class=\"govuk-table__row\">\s*<td[^>]*>([^<]+)</td>\s*<td[^>]*>([^<]+)</td>\s*"
                      r"<td[^>]*>([^<]+)</td>", table)
    assert rows == [("23/11/2026 09:05", "127.0.0.1", "Mật khẩu và mã dự phòng"),
                    ("23/11/2026 09:00", "127.0.0.1", "Mật khẩu")]
