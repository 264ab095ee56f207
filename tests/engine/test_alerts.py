"""Account alerts go through an outbox: owed in the transaction of the change they tell of (none for a change refused
or rolled back), sent by the worker over a real SMTP conversation whether or not the person wants mail about their
dossiers, not to a closed account, retried while the server is away."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from engine import clock, outbox
from engine.api import Engine
from engine.demo import DEMO_PASSWORD
from engine.errors import FormInvalid
from engine.models import AccountAlert, User

CITIZEN = "congdan@demo.motcua.vn"
NEW = "mat-khau-moi-2026"


@pytest.fixture
def moved() -> Any:
    manual = clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))  # Monday 09:00 in Vietnam
    with clock.use(manual):
        yield manual


def alerts(engine: Engine) -> list[AccountAlert]:
    with engine.session() as s:
        found = list(s.scalars(select(AccountAlert).order_by(AccountAlert.id)))
        s.expunge_all()
    return found


def change_password(engine: Engine, current: str, new: str, keep: bool = True) -> None:
    with engine.session() as s:
        citizen = s.scalar(select(User).where(User.email == CITIZEN))
        try:
            engine.change_password(s, citizen, current, new, "198.51.100.7")
        finally:
            s.commit() if keep else s.rollback()


def test_an_alert_is_owed_with_the_change_and_only_then(engine: Engine, moved: Any) -> None:
    with pytest.raises(FormInvalid):
        change_password(engine, "sai-mat-khau", NEW)  # refused (the failure is kept, counted): nothing to tell
    change_password(engine, DEMO_PASSWORD, NEW, keep=False)  # made, then rolled back: nothing to tell
    assert alerts(engine) == []
    change_password(engine, DEMO_PASSWORD, NEW)
    (alert,) = alerts(engine)
    assert (alert.kind, alert.source, alert.state, alert.created_at) == ("password", "198.51.100.7", "pending",
                                                                         moved())


def test_it_goes_to_one_who_wants_no_dossier_mail_not_to_a_closed_account(engine: Engine, smtp: Any,
                                                                          moved: Any) -> None:
    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    with engine.session() as s:
        s.execute(update(User).where(User.email == CITIZEN).values(notify_by_mail=False, language="en"))
        s.commit()
    change_password(engine, DEMO_PASSWORD, NEW)
    moved.advance(dt.timedelta(minutes=10))  # the worker's run comes later: the mail says when the change was made
    assert engine.send_due_alerts().sent == 1
    (mail,) = box.mails
    assert mail["To"] == CITIZEN and mail["Subject"] == "Your account's password was changed – Online one-stop shop"
    assert "at 09:00 23/11/2026, Vietnam time (address 198.51.100.7)" in mail.get_content()
    assert alerts(engine)[0].state == "sent" and not engine.send_due_alerts()  # sent once

    change_password(engine, NEW, DEMO_PASSWORD)
    with engine.session() as s:
        s.execute(update(User).where(User.email == CITIZEN).values(active=False))
        s.commit()
    assert engine.send_due_alerts().skipped == 1 and len(box.mails) == 1
    assert alerts(engine)[-1].last_error == "the account is closed"


def test_a_server_away_delays_the_alert_and_none_configured_skips_it(engine: Engine, smtp: Any, moved: Any,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    box, url = smtp
    engine.settings = dataclasses.replace(engine.settings, smtp_url="smtp://127.0.0.1:9")
    change_password(engine, DEMO_PASSWORD, NEW)
    assert engine.send_due_alerts().retrying == 1
    engine.settings = dataclasses.replace(engine.settings, smtp_url=url)
    assert not engine.send_due_alerts()
    moved.advance(outbox.RETRY_AFTER[0])
    assert engine.send_due_alerts().sent == 1 and len(box.mails) == 1
    assert alerts(engine)[0].attempts == 2

    engine.settings = dataclasses.replace(engine.settings, smtp_url=None)
    change_password(engine, NEW, DEMO_PASSWORD)
    assert engine.send_due_alerts().skipped == 1
    assert alerts(engine)[-1].state == "skipped" and "no MOTCUA_SMTP_URL: 1 account alert(s) not sent" in caplog.text
