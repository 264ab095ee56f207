"""Officials are reminded once a working day, from 7:30, of the tasks waiting on them whose dossiers are overdue or
due by the next working day: the ones they hold and their roles' unheld ones, over a real SMTP conversation."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from engine.api import Engine
from engine.models import User
from tests.engine.test_birth_registration import ROLE_EMAIL, Journey, declaration, user
from tests.engine.test_notices import BASE, body, mailing, moved  # noqa: F401 - fixtures

RECEPTION, OFFICER = ROLE_EMAIL["reception_officer"], ROLE_EMAIL["civil_status_officer"]


@pytest.fixture
def reminding(mailing: tuple[Engine, Any]) -> tuple[Engine, Any]:
    """An engine with a mail server, whose reception and civil-status officers take mail (the demo's take none)."""
    engine, box = mailing
    with engine.session() as s:
        s.execute(update(User).where(User.email.in_([RECEPTION, OFFICER])).values(notify_by_mail=True))
        s.commit()
    return engine, box


def test_an_official_is_reminded_once_a_working_day_of_what_is_due(reminding: Any, moved: Any) -> None:
    engine, box = reminding
    j = Journey(engine)
    j.step("declaration", declaration())  # same-day procedure: due today at 17:00
    assert engine.send_reminders().sent == 1  # the reception officer; the civil-status officer has nothing due
    (mail,) = box.mails
    assert mail["To"] == RECEPTION
    assert mail["Subject"] == "Nhắc việc: 0 việc quá hạn, 1 việc đến hạn trong ngày làm việc tới"
    task = j.open_task()
    text = body(mail)
    assert f"- {j.view().code}: Tiếp nhận, kiểm tra hồ sơ (hạn 23/11/2026 17:00, chưa ai nhận)" in text
    assert f"{BASE}/can-bo/cong-viec/{task.id}" in text and "Đến hạn:" in text and "Quá hạn:" not in text
    assert not engine.send_reminders().sent  # once a day
    with engine.session() as s:
        engine.claim(s, task.id, user(s, RECEPTION))
        s.commit()
    moved.move_to(dt.datetime(2026, 11, 24, 3, 0))  # Tuesday, Vietnam Cultural Day: a holiday, no reminders
    assert not engine.send_reminders().sent
    moved.move_to(dt.datetime(2026, 11, 25, 0, 0))  # Wednesday 07:00: too early
    assert not engine.send_reminders().sent
    moved.move_to(dt.datetime(2026, 11, 25, 1, 0))  # 08:00
    assert engine.send_reminders().sent == 1
    text = body(box.mails[-1])
    assert box.mails[-1]["Subject"].startswith("Nhắc việc: 1 việc quá hạn, 0 việc")
    assert "Quá hạn:" in text and "bạn đang xử lý" in text
    moved.move_to(dt.datetime(2026, 11, 28, 2, 0))  # Saturday: no reminders
    assert not engine.send_reminders().sent and len(box.mails) == 2


def test_an_official_who_takes_no_mail_or_whose_address_is_refused(reminding: Any, moved: Any) -> None:
    engine, box = reminding
    j = Journey(engine)
    j.step("declaration", declaration())
    box.unknown.add(RECEPTION)
    done = engine.send_reminders()
    assert (done.sent, done.failed) == (0, 1) and box.mails == []
    assert engine.send_reminders().failed == 0  # refused for good: not tried again today
    with engine.session() as s:
        s.execute(update(User).where(User.email == RECEPTION).values(notify_by_mail=False, language="en"))
        s.commit()
    moved.move_to(dt.datetime(2026, 11, 25, 1, 0))  # (Tuesday the 24th is a holiday)
    box.unknown.clear()
    assert engine.send_reminders().sent == 0  # turned off
    with engine.session() as s:
        s.execute(update(User).where(User.email == RECEPTION).values(notify_by_mail=True))
        s.commit()
    assert engine.send_reminders().sent == 1
    assert box.mails[-1]["Subject"] == "Reminder: 1 overdue, 0 due by the next working day"
    assert "Receive and check the dossier (due 23/11/2026 17:00, in the queue)" in body(box.mails[-1])
