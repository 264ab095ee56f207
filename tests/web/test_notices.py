"""Mail about one's dossiers, as a citizen chooses it: on by default, in the language they registered in, changed
on their profile page; the link in the mail opens the dossier's page."""
from __future__ import annotations

import dataclasses
import re

from flask import Flask, url_for
from sqlalchemy import select

from engine import notices
from engine.api import Engine
from engine.models import User
from tests.web.test_journey import register, start_birth_registration, submit_declaration


def stored(engine: Engine, email: str) -> tuple[bool, str]:
    with engine.session() as s:
        u = s.scalar(select(User).where(User.email == email))
        return u.notify_by_mail, u.language


def test_a_citizen_chooses_whether_and_in_which_language(people, engine: Engine) -> None:  # noqa: ANN001
    english = people()
    english.get("/ngon-ngu/en")
    english.get("/dang-ky")
    english.post("/dang-ky", {"full_name": "John Smith", "email": "john@example.com", "password": "mat-khau-rat-dai"})
    assert stored(engine, "john@example.com") == (True, "en")  # the language of the registration page

    citizen = register(people)
    assert stored(engine, "an@example.com") == (True, "vi")
    page = citizen.get("/tai-khoan")
    assert page.has("Thông báo qua email", "Ngôn ngữ của email")
    assert re.search(r'name="notify_by_mail"[^>]*checked', page.html)
    assert re.search(r'value="vi"[^>]*checked', page.html)
    # an unticked box is not posted
    page = citizen.post("/tai-khoan", {"full_name": "Trần Thị An", "language": "en"})
    assert page.has("Đã lưu thông tin cá nhân")
    assert stored(engine, "an@example.com") == (False, "en")
    assert not re.search(r'name="notify_by_mail"[^>]*checked', page.html)
    assert re.search(r'value="en"[^>]*checked', page.html)
    page = citizen.post("/tai-khoan", {"full_name": "Trần Thị An", "notify_by_mail": "1", "language": "fr"}, status=400)
    assert page.has("Chọn tiếng Việt hoặc tiếng Anh")
    assert re.search(r'name="notify_by_mail"[^>]*checked', page.html)  # what was posted is shown again
    assert stored(engine, "an@example.com") == (False, "en")  # nothing saved


def test_the_link_in_the_mail_opens_the_dossier(app: Flask, people, engine: Engine, smtp) -> None:  # noqa: ANN001
    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url, base_url="https://portal.example")
    citizen = register(people)
    task = start_birth_registration(citizen)
    code = submit_declaration(citizen, task)
    assert engine.send_due_notices().sent == 1
    (mail,) = box.mails
    assert mail["To"] == "an@example.com" and code in mail["Subject"]
    path = re.search(r"https://portal\.example(/\S+)", mail.get_content()).group(1)
    page = citizen.get(path)
    assert page.has(code, "Email thông báo", "Mới đăng ký", "Đã gửi lúc")
    with app.test_request_context():
        assert notices.DOSSIER_PATH.format(id=7) == url_for("citizen.dossier", dossier_id=7)
        assert notices.PROFILE_PATH == url_for("citizen.profile")


def test_the_dossier_page_says_what_became_of_each_mail(people, engine: Engine, smtp) -> None:  # noqa: ANN001
    from tests.web.test_journey import RECEPTION

    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    box.unknown.add("an@example.com")
    citizen = register(people)
    task = start_birth_registration(citizen)
    submit_declaration(citizen, task)
    dossier_url = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    page = citizen.get(dossier_url)
    assert page.has("Email thông báo", "Đang chờ gửi")
    assert engine.send_due_notices().failed == 1
    page = citizen.get(dossier_url)
    assert page.has("Không gửi được") and "No such mailbox" not in page.html  # the server's words: for officials
    official = people()
    official.login(RECEPTION)
    page = official.get("/can-bo" + dossier_url)
    assert page.has("Không gửi được (", "No such mailbox")
    # a citizen who turned mail off sees why none came
    citizen.get("/tai-khoan")
    citizen.post("/tai-khoan", {"full_name": "Trần Thị An", "language": "en"})
    task = start_birth_registration(citizen)
    submit_declaration(citizen, task)
    engine.send_due_notices()
    newest = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    assert citizen.get(newest).has("Không gửi: người nộp đã tắt thông báo qua email")
