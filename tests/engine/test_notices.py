"""Mail to applicants about their dossiers: owed in the step's transaction, sent by the worker over a real SMTP
conversation, in the applicant's language, unless they chose none; retried when the server is away, given up when
it refuses the address for good, never sent twice by two senders."""
from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from typing import Any

import pytest
from sqlalchemy import select, update

from engine import clock, notices, outbox
from engine.api import Engine
from engine.models import Notice, User
from tests.engine.test_birth_registration import CITIZEN, DECISIONS, Journey, declaration, user
from tests.documents import attach_required

BASE = "https://dichvucong.example.vn"


@pytest.fixture
def moved() -> Any:
    manual = clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))  # Monday 09:00 in Vietnam
    with clock.use(manual):
        yield manual


@pytest.fixture
def mailing(engine: Engine, smtp: Any) -> tuple[Engine, Any]:
    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url, base_url=BASE)
    return engine, box


def rows(engine: Engine) -> list[Notice]:
    with engine.session() as s:
        found = s.scalars(select(Notice).order_by(Notice.id)).all()
        s.expunge_all()
        return list(found)


def body(mail: Any) -> str:
    return mail.get_content().replace("\r\n", "\n")


def set_preferences(engine: Engine, **preferences: Any) -> None:
    with engine.session() as s:
        engine.update_profile(s, user(s, CITIZEN), **preferences)
        s.commit()


def test_each_change_the_applicant_should_know_of_is_mailed_once(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "supplement")
    j.decide("provide_supplement", "answer")
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    j.decide("return_result", "returned")
    # "processing" is for the agency only; a supplement sent is told apart from a first submission
    assert [n.kind for n in rows(engine)] == ["receiving", "waiting", "supplied", "new", "releasing", "done"]
    assert box.mails == []  # nothing is sent inside a step: the worker sends
    done = engine.send_due_notices()
    assert (done.sent, done.skipped, done.retrying, done.failed) == (6, 0, 0, 0)
    code = j.view().code
    assert [m["Subject"] for m in box.mails] == [
        f"Hồ sơ {code}: Mới đăng ký", f"Hồ sơ {code}: Yêu cầu bổ sung", f"Hồ sơ {code}: Mới đăng ký",
        f"Hồ sơ {code}: Đã tiếp nhận", f"Hồ sơ {code}: Có kết quả", f"Hồ sơ {code}: Đã trả kết quả"]
    assert all(m["To"] == CITIZEN for m in box.mails)
    submitted, waiting, supplied, accepted, ready, _ = (body(m) for m in box.mails)
    assert submitted.startswith("Xin chào Nguyễn Thị Lan,")
    assert f"Hồ sơ {code} (Đăng ký khai sinh, UBND xã Mẫu Sơn) đã được nộp trực tuyến" in submitted
    appointment = j.view().appointment_at + dt.timedelta(hours=7)
    assert f"Ngày hẹn trả kết quả: {appointment:%d/%m/%Y}" in accepted
    assert f"Xem hồ sơ: {BASE}/ho-so/{j.dossier_id}" in waiting
    # the official's written request reaches the applicant word for word
    assert "  " + DECISIONS["reception_check"]["supplement"]["reception_reason"] in waiting
    assert "đã nhận phần bổ sung" in supplied
    assert "Tôi gửi lại" not in supplied and "Nội dung cơ quan" not in supplied  # not the applicant's own words
    assert "gửi qua bưu điện" in ready  # the applicant chose delivery by post
    assert "phí, lệ phí, trang hồ sơ ghi số tiền và mã QR" in " ".join(ready.split())  # where to pay the fees
    assert f"bỏ chọn tại {BASE}/tai-khoan" in ready
    assert all(n.state == "sent" and n.sent_at == moved() and n.attempts == 1 for n in rows(engine))
    assert not engine.send_due_notices() and len(box.mails) == 6  # sent once


def test_a_step_rolled_back_owes_no_mail(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    j = Journey(engine)
    task = j.open_task()
    with engine.session() as s:
        engine.complete(s, task.id, user(s, CITIZEN), declaration())
        assert [n.kind for n in s.scalars(select(Notice))] == ["receiving"]  # a read in the step sees it
        s.rollback()
    assert rows(engine) == [] and not engine.send_due_notices() and box.mails == []


def test_in_english_when_chosen_and_none_when_declined(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    set_preferences(engine, language="en")
    j = Journey(engine)
    j.step("declaration", declaration(delivery_method="online", postal_address=""))
    j.decide("reception_check", "refuse")
    engine.send_due_notices()
    code = j.view().code
    assert [m["Subject"] for m in box.mails] == [f"Application {code}: Submitted online",
                                                 f"Application {code}: Refused at reception"]
    refused = body(box.mails[1])
    assert refused.startswith("Hello Nguyễn Thị Lan,") and "(Birth registration, Mau Son Commune People's Committee)" in refused
    assert "Reason given by the agency:\n  " + DECISIONS["reception_check"]["refuse"]["reception_reason"] in refused

    set_preferences(engine, notify_by_mail=False)
    j = Journey(engine)
    j.step("declaration", declaration())
    done = engine.send_due_notices()
    assert (done.sent, done.skipped) == (0, 1) and len(box.mails) == 2
    assert rows(engine)[-1].state == "skipped"


def test_a_server_away_is_tried_again_later_then_given_up(engine: Engine, smtp: Any, moved: Any) -> None:
    box, url = smtp
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        away = f"smtp://127.0.0.1:{s.getsockname()[1]}"
    engine.settings = dataclasses.replace(engine.settings, smtp_url=away)
    Journey(engine).step("declaration", declaration())
    done = engine.send_due_notices()
    assert (done.sent, done.retrying) == (0, 1)
    (notice,) = rows(engine)
    assert notice.state == "pending" and notice.attempts == 1 and notice.last_error
    assert notice.next_attempt_at == moved() + outbox.RETRY_AFTER[0]
    assert not engine.send_due_notices()  # not due yet
    # the server comes back before the next try: the mail goes then
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    moved.advance(outbox.RETRY_AFTER[0])
    assert engine.send_due_notices().sent == 1 and len(box.mails) == 1
    assert rows(engine)[0].attempts == 2

    engine.settings = dataclasses.replace(engine.settings, smtp_url=away)
    Journey(engine).step("declaration", declaration())
    for wait in outbox.RETRY_AFTER:
        assert engine.send_due_notices().retrying == 1
        moved.advance(wait)
    done = engine.send_due_notices()
    assert done.failed == 1
    last = rows(engine)[-1]
    assert last.state == "failed" and last.attempts == len(outbox.RETRY_AFTER) + 1
    moved.advance(dt.timedelta(days=2))
    assert not engine.send_due_notices()  # given up for good


def test_an_address_the_server_refuses_is_given_up_at_once(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    box.unknown.add(CITIZEN)
    Journey(engine).step("declaration", declaration())
    assert engine.send_due_notices().failed == 1
    (notice,) = rows(engine)
    assert notice.state == "failed" and notice.attempts == 1 and "No such mailbox" in notice.last_error


def test_a_mail_another_sender_holds_is_not_sent_twice(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    Journey(engine).step("declaration", declaration())
    (notice,) = rows(engine)
    with engine.session() as s:  # another worker takes it, as send_due does, and is then stopped
        assert notices.take(s, 10) == [notice.id]
        s.commit()
    assert not engine.send_due_notices() and box.mails == []
    moved.advance(outbox.LEASE)  # its lease ends: the mail is owed still, and sent
    assert engine.send_due_notices().sent == 1 and len(box.mails) == 1


def test_without_a_mail_server_nothing_is_kept_waiting(engine: Engine, moved: Any,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    assert engine.settings.smtp_url is None
    Journey(engine).step("declaration", declaration())
    assert engine.send_due_notices().skipped == 1
    (notice,) = rows(engine)
    assert notice.state == "skipped" and "MOTCUA_SMTP_URL" in notice.last_error
    assert "no MOTCUA_SMTP_URL: 1 notice(s) to applicants not sent" in caplog.text


def test_a_closed_account_gets_no_mail(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    Journey(engine).step("declaration", declaration())
    with engine.session() as s:
        s.execute(update(User).where(User.email == CITIZEN).values(active=False))
        s.commit()
    assert engine.send_due_notices().skipped == 1 and box.mails == []


def second_citizen(engine: Engine, email: str = "binh@example.vn") -> None:
    with engine.session() as s:
        engine.register_citizen(s, email, "mat-khau-rat-dai", "Trần Văn Bình")
        s.commit()


def submit_as(engine: Engine, email: str) -> None:
    with engine.session() as s:
        applicant = user(s, email)
        view = engine.start_dossier(s, "birth_registration", applicant)
        attach_required(engine, s, view.id, applicant)
        engine.complete(s, view.open_tasks[0].id, applicant, declaration())
        s.commit()


def test_one_refused_address_does_not_hold_up_the_others(mailing: Any, moved: Any) -> None:
    engine, box = mailing
    second_citizen(engine)
    submit_as(engine, CITIZEN)
    submit_as(engine, "binh@example.vn")
    box.unknown.add(CITIZEN)
    done = engine.send_due_notices()
    assert (done.sent, done.failed) == (1, 1)
    assert [m["To"] for m in box.mails] == ["binh@example.vn"]


def test_when_the_server_is_away_the_whole_run_waits_for_the_next_try(engine: Engine, moved: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        engine.settings = dataclasses.replace(engine.settings, smtp_url=f"smtp://127.0.0.1:{s.getsockname()[1]}")
    second_citizen(engine)
    submit_as(engine, CITIZEN)
    submit_as(engine, "binh@example.vn")
    set_preferences(engine, notify_by_mail=False)
    done = engine.send_due_notices()
    assert (done.retrying, done.skipped) == (1, 1)  # the second was not tried: the first found the server away
    assert [(n.state, n.attempts) for n in rows(engine)] == [("skipped", 1), ("pending", 1)]


def test_in_development_the_mail_is_shown_in_the_log(engine: Engine, moved: Any, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MOTCUA_DEV", "1")
    engine.settings = dataclasses.replace(engine.settings, base_url="http://127.0.0.1:5000")
    submit_as(engine, CITIZEN)
    assert engine.send_due_notices().skipped == 1
    assert "Xin chào Nguyễn Thị Lan" in caplog.text and "Xem hồ sơ: http://127.0.0.1:5000/ho-so/" in caplog.text


def test_two_workers_at_once_send_each_mail_once(mailing: Any, moved: Any) -> None:
    import threading

    engine, box = mailing
    for _ in range(12):
        submit_as(engine, CITIZEN)
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        while sent := engine.send_due_notices(limit=2):
            results.append(sent)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in results) == 12
    subjects = [m["Subject"] for m in box.mails]
    assert len(subjects) == len(set(subjects)) == 12
    assert all(n.state == "sent" and n.attempts == 1 for n in rows(engine))


def test_only_those_who_may_see_the_dossier_see_its_mail(mailing: Any, moved: Any) -> None:
    from engine.errors import NotFound

    engine, box = mailing
    second_citizen(engine)
    j = Journey(engine)
    j.step("declaration", declaration())
    engine.send_due_notices()
    with engine.session() as s:
        (seen,) = engine.mail_notices(s, j.dossier_id, user(s, CITIZEN))
        assert (seen.about["vi"], seen.state, seen.sent_at) == ("Mới đăng ký", "sent", moved())
        assert len(engine.mail_notices(s, j.dossier_id, user(s, "motcua@demo.motcua.vn"))) == 1  # its agency's official
        with pytest.raises(NotFound):
            engine.mail_notices(s, j.dossier_id, user(s, "binh@example.vn"))
