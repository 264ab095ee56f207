"""A citizen who forgot their password gets a link by mail (a real SMTP server on loopback) and sets a new one."""
from __future__ import annotations

import dataclasses
import re

import pytest

CITIZEN = "congdan@demo.motcua.vn"


@pytest.fixture
def box(engine, smtp):  # noqa: ANN001, ANN201
    mailbox, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    return mailbox


def link_in(mail) -> str:  # noqa: ANN001
    return re.search(r"http://localhost(/dat-lai-mat-khau/\S+)", mail.get_content()).group(1)


def test_a_forgotten_password_is_reset_through_a_mailed_link(people, box) -> None:  # noqa: ANN001
    citizen = people()
    page = citizen.get("/dang-nhap")
    assert page.has('href="/quen-mat-khau"', "Quên mật khẩu?")
    citizen.get("/quen-mat-khau")
    page = citizen.post("/quen-mat-khau", {"email": ""}, status=400)
    assert page.has("Có lỗi cần sửa", "Nhập địa chỉ email")
    page = citizen.post("/quen-mat-khau", {"email": " CongDan@demo.motcua.vn "})
    assert page.has("Kiểm tra hộp thư của bạn", "dùng được một lần, trong vòng 60 phút")
    (mail,) = box.mails
    assert mail["To"] == CITIZEN
    link = link_in(mail)

    response = citizen.client.get(link)
    assert response.status_code == 200 and response.headers["Referrer-Policy"] == "no-referrer"
    page = citizen.get(link)
    assert page.has("Đặt mật khẩu mới", 'autocomplete="new-password"')
    page = citizen.post(link, {"password": "ngan"}, status=400)
    assert page.has("Mật khẩu phải có ít nhất 10 ký tự")
    page = citizen.post(link, {"password": "mat-khau-moi-2026"})
    assert page.url == "/dang-nhap" and page.has("Đã đặt mật khẩu mới")
    assert citizen.post("/dang-nhap", {"email": CITIZEN, "password": "mat-khau-moi-2026"}).url == "/ho-so"

    visitor = people()
    page = visitor.get(link, status=400)
    assert page.has("Đường dẫn không dùng được", "đã được dùng hoặc đã hết hạn")
    visitor.get("/dang-nhap")
    visitor.post("/dang-nhap", {"email": CITIZEN, "password": "matkhau-demo-2026"}, status=400)


def test_an_unknown_email_gets_the_same_page_and_no_mail(people, box) -> None:  # noqa: ANN001
    visitor = people()
    visitor.get("/quen-mat-khau")
    page = visitor.post("/quen-mat-khau", {"email": "khong-ai@example.com"})
    assert page.has("Kiểm tra hộp thư của bạn", "khong-ai@example.com")
    assert box.mails == []
    assert visitor.get("/dat-lai-mat-khau/khong-phai-ma", status=400).has("Đường dẫn không dùng được")


def test_the_link_never_comes_from_a_forged_host(app, engine, box) -> None:  # noqa: ANN001
    """The Host header is the sender's to choose: a link built from it would hand the secret to their site. Without
    MOTCUA_BASE_URL only a local address is trusted; with it, it is always the link's address."""
    def ask(client, **headers: str):  # noqa: ANN001, ANN202
        page = client.get("/quen-mat-khau", headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return client.post("/quen-mat-khau", data={"email": CITIZEN, "csrf_token": token}, headers=headers)

    response = ask(app.test_client(), Host="evil.example")
    assert response.status_code == 503 and "Chưa gửi được thư" in response.get_data(as_text=True)
    assert box.mails == []
    engine.settings = dataclasses.replace(engine.settings, base_url="https://dichvucong.example.gov.vn/")
    assert ask(app.test_client(), Host="evil.example").status_code == 200
    assert "https://dichvucong.example.gov.vn/dat-lai-mat-khau/" in box.mails[0].get_content()
    assert "evil.example" not in box.mails[0].get_content()


def test_a_mail_server_that_is_down_is_said_so_and_nothing_is_kept(people, engine) -> None:  # noqa: ANN001
    from sqlalchemy import func, select

    from engine.models import PasswordReset

    engine.settings = dataclasses.replace(engine.settings, smtp_url="smtp://127.0.0.1:9")
    visitor = people()
    visitor.get("/quen-mat-khau")
    page = visitor.post("/quen-mat-khau", {"email": CITIZEN}, status=503)
    assert page.has("Hệ thống chưa gửi được thư lúc này")
    with engine.session() as s:
        assert s.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_a_password_change_keeps_this_session_and_ends_the_others(people) -> None:  # noqa: ANN001
    here, elsewhere = people(), people()
    here.login(CITIZEN)
    elsewhere.login(CITIZEN)
    page = here.get("/tai-khoan")
    assert page.has('href="/doi-mat-khau"')
    here.get("/doi-mat-khau")
    page = here.post("/doi-mat-khau", {"current_password": "doan-sai-roi", "password": "mat-khau-moi-2026"},
                     status=400)
    assert page.has("Mật khẩu hiện tại không đúng", 'href="#current_password"')
    page = here.post("/doi-mat-khau", {"current_password": "matkhau-demo-2026", "password": "ngan"}, status=400)
    assert page.has("Mật khẩu phải có ít nhất 10 ký tự")
    page = here.post("/doi-mat-khau", {"current_password": "matkhau-demo-2026", "password": "mat-khau-moi-2026"})
    assert page.url == "/ho-so" and page.has("Đã đổi mật khẩu")
    assert here.get("/ho-so").url == "/ho-so"  # still signed in here
    response = elsewhere.client.get("/ho-so")  # signed out elsewhere
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    visitor = people()
    visitor.get("/dang-nhap")
    assert visitor.post("/dang-nhap", {"email": CITIZEN, "password": "mat-khau-moi-2026"}).url == "/ho-so"


def test_guessing_the_current_password_waits_like_a_login(people) -> None:  # noqa: ANN001
    from engine import logins

    official = people()
    official.login("motcua@demo.motcua.vn")
    assert official.get("/can-bo/").has('href="/doi-mat-khau"')
    official.get("/doi-mat-khau")
    for _ in range(logins.PER_PAIR):
        official.post("/doi-mat-khau", {"current_password": "doan", "password": "mat-khau-moi-2026"}, status=400)
    page = official.post("/doi-mat-khau", {"current_password": "matkhau-demo-2026", "password": "mat-khau-moi-2026"},
                         status=429)
    assert page.has("Đã có quá nhiều lần đăng nhập sai")


def test_a_reset_password_signs_out_the_sessions_that_knew_the_old_one(people, box) -> None:  # noqa: ANN001
    intruder = people()
    intruder.login(CITIZEN)
    owner = people()
    owner.get("/quen-mat-khau")
    owner.post("/quen-mat-khau", {"email": CITIZEN})
    link = link_in(box.mails[0])
    owner.get(link)
    owner.post(link, {"password": "mat-khau-moi-2026"})
    response = intruder.client.get("/ho-so")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
