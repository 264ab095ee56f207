"""A forgotten password: a link mailed over a real SMTP conversation, working once, for an hour, at most three
an account in 15 minutes; only its hash is stored."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select

from engine import accounts, clock, logins, mail
from engine.api import Engine
from engine.errors import FormInvalid, ResetLinkInvalid
from engine.models import LoginFailure, PasswordReset

CITIZEN, OLD, NEW = "congdan@demo.motcua.vn", "matkhau-demo-2026", "mat-khau-moi-2026"
LINK = re.compile(r"https://portal\.example/dat-lai/(\S+)")


@pytest.fixture
def moved() -> clock.ManualClock:
    manual = clock.ManualClock(dt.datetime(2026, 11, 27, 2, 0))
    with clock.use(manual):
        yield manual


@pytest.fixture
def mailing(engine: Engine, smtp) -> tuple[Engine, object]:  # noqa: ANN001
    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url, mail_from="Một cửa <no-reply@example.vn>")
    return engine, box


def ask(engine: Engine, email: str = CITIZEN, lang: str = "vi") -> bool:
    with engine.session() as s:
        sent = engine.send_password_reset(s, email, lambda token: f"https://portal.example/dat-lai/{token}", lang)
        s.commit()
    return sent


def test_the_link_is_mailed_works_once_and_only_its_hash_is_kept(mailing, moved) -> None:  # noqa: ANN001
    engine, box = mailing
    assert ask(engine)
    (received,) = box.mails
    assert received["To"] == CITIZEN and received["From"] == "Một cửa <no-reply@example.vn>"
    assert received["Subject"] == "Đặt lại mật khẩu – Một cửa trực tuyến"
    body = received.get_content()
    assert "Xin chào Nguyễn Thị Lan" in body and "trong vòng 60 phút" in body
    token = LINK.search(body).group(1)
    with engine.session() as s:
        (stored,) = s.scalars(select(PasswordReset.token_hash)).all()
        assert token not in stored and len(stored) == 64
        assert engine.reset_link_works(s, token)
        engine.reset_password(s, token, NEW, "198.51.100.7")
        s.commit()
    assert engine.send_due_alerts().sent == 1  # the person is told the password changed, and from where
    assert box.mails[-1]["Subject"] == "Mật khẩu tài khoản đã được đổi – Một cửa trực tuyến"
    assert "(địa chỉ 198.51.100.7)" in box.mails[-1].get_content()
    with engine.session() as s:
        assert engine.authenticate(s, CITIZEN, NEW) is not None
        assert engine.authenticate(s, CITIZEN, OLD) is None
        assert not engine.reset_link_works(s, token)
        with pytest.raises(ResetLinkInvalid):
            engine.reset_password(s, token, "mot-mat-khau-khac")


def test_english_mail_for_an_english_page(mailing) -> None:  # noqa: ANN001
    engine, box = mailing
    assert ask(engine, lang="en")
    assert box.mails[0]["Subject"] == "Reset your password – Online one-stop shop"
    assert "open this link within 60 minutes" in box.mails[0].get_content()


def test_a_link_expires_after_an_hour_and_a_new_one_ends_the_others(mailing, moved) -> None:  # noqa: ANN001
    engine, box = mailing
    ask(engine)
    moved.advance(dt.timedelta(minutes=59))
    ask(engine)
    first, second = (LINK.search(m.get_content()).group(1) for m in box.mails)
    moved.advance(dt.timedelta(minutes=1))
    with engine.session() as s:
        assert not engine.reset_link_works(s, first) and engine.reset_link_works(s, second)
        engine.reset_password(s, second, NEW)
        s.commit()
    ask(engine)
    third = LINK.search(box.mails[-1].get_content()).group(1)
    with engine.session() as s:
        assert engine.reset_link_works(s, third)
        moved.advance(accounts.RESET_VALID_FOR)
        assert not engine.reset_link_works(s, third)


def test_nothing_is_sent_for_an_unknown_or_inactive_account_nor_beyond_three_in_a_while(mailing, moved) -> None:  # noqa: ANN001
    engine, box = mailing
    assert not ask(engine, "khong-ai@example.com")
    with engine.session() as s:
        accounts.create_official(s, "nghi@example.com", "mat-khau-cu-2026", "Đã nghỉ", None, []).active = False
        s.commit()
    assert not ask(engine, "nghi@example.com")
    assert box.mails == []
    assert [ask(engine) for _ in range(4)] == [True, True, True, False]  # no mail bombing
    moved.advance(accounts.RESET_WINDOW)
    assert ask(engine) and len(box.mails) == 4


def test_a_short_password_is_refused_and_the_link_still_works(mailing) -> None:  # noqa: ANN001
    engine, box = mailing
    ask(engine)
    token = LINK.search(box.mails[0].get_content()).group(1)
    with engine.session() as s:
        with pytest.raises(FormInvalid) as refused:
            engine.reset_password(s, token, "ngan")
        assert "ít nhất 10 ký tự" in refused.value.errors["password"]["vi"]
        s.rollback()
        assert engine.reset_link_works(s, token)
        with pytest.raises(ResetLinkInvalid):
            engine.reset_password(s, token + "x", NEW)


def test_a_new_password_lifts_the_wait_after_failed_logins(mailing, moved) -> None:  # noqa: ANN001
    engine, box = mailing
    for _ in range(logins.PER_PAIR):
        with engine.session() as s:
            engine.authenticate(s, CITIZEN, "doan-sai", "203.0.113.7")
            s.commit()
    ask(engine)
    with engine.session() as s:
        engine.reset_password(s, LINK.search(box.mails[0].get_content()).group(1), NEW)
        s.commit()
    with engine.session() as s:
        assert s.scalars(select(LoginFailure)).all() == []
        assert engine.authenticate(s, CITIZEN, NEW, "203.0.113.7") is not None


def test_a_mail_server_is_spoken_to_with_a_login_and_its_refusal_reported(engine: Engine, smtp) -> None:  # noqa: ANN001
    box, url = smtp
    host = url.removeprefix("smtp://")
    good = dataclasses.replace(engine.settings, smtp_url=f"smtp://cong%40example.vn:dung-mat-khau@{host}")
    assert mail.send(good, "a@example.com", "Chào", "Nội dung")
    assert box.logins == [("cong@example.vn", "dung-mat-khau")] and box.mails[0].get_content().strip() == "Nội dung"
    with pytest.raises(mail.MailFailed):
        mail.send(dataclasses.replace(good, smtp_url=f"smtp://cong:sai@{host}"), "a@example.com", "Chào", "x")
    with pytest.raises(mail.MailFailed):  # nobody listening
        mail.send(dataclasses.replace(good, smtp_url="smtp://127.0.0.1:9"), "a@example.com", "Chào", "x")
    assert not mail.send(dataclasses.replace(good, smtp_url=None), "a@example.com", "Chào", "x")  # not configured
    assert len(box.mails) == 1


def test_without_a_mail_server_development_shows_the_mail_and_production_hides_its_link(engine: Engine, caplog,
                                                                                       monkeypatch) -> None:  # noqa: ANN001
    caplog.set_level("WARNING", logger="motcua.mail")
    monkeypatch.setenv("MOTCUA_DEV", "1")
    assert not ask(engine)
    assert "Subject: Đặt lại mật khẩu" in caplog.text and "https://portal.example/dat-lai/" in caplog.text
    caplog.clear()
    monkeypatch.delenv("MOTCUA_DEV")
    assert not ask(engine)
    assert CITIZEN in caplog.text and "https://portal.example/dat-lai/" not in caplog.text


def test_long_vietnamese_subjects_keep_their_spaces(engine: Engine, smtp) -> None:  # noqa: ANN001
    """Folded into several encoded words, a subject reads as it was written (the standard library's newer folding
    lost the space at some splits)."""
    box, url = smtp
    settings = dataclasses.replace(engine.settings, smtp_url=url)
    subjects = ["Một mã dự phòng vừa được dùng để đăng nhập – Một cửa trực tuyến",
                "Hồ sơ 000.31.27.H14-261125-0001: đã có kết quả, mời nhận tại bộ phận một cửa – Một cửa trực tuyến"]
    for subject in subjects:
        assert mail.send(settings, CITIZEN, subject, "Xin chào,\n\nnội dung.\n")
    assert [m["Subject"] for m in box.mails] == subjects
    assert box.mails[0].get_content() == "Xin chào,\n\nnội dung.\n"
