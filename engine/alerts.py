"""Mail to a person when how their account is protected changed: the password, two-step login turned on or off (by
them, or by an administrator or the operator), a recovery code used to log in. Someone who did not do it learns of
it and can act (change the password, call the desk).

An alert is owed in the change's transaction (:func:`owed`, an :class:`~engine.models.AccountAlert` row) and sent
by ``motcua worker`` (:func:`send_due`, :mod:`engine.outbox`): owed for every change kept and none rolled back,
retried while the mail server is away, and the change never waits for it or is undone by it. It goes whether or not
the person chose mail about their dossiers (it is about their account's safety), not to a closed account. It says
what, when (Vietnam's time) and from which address, in the person's language.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from . import outbox
from .calendar import to_local
from .config import Settings
from .models import AccountAlert, User

#: what happened, as the subject says it (vi, en)
KINDS: dict[str, tuple[str, str]] = {
    "password": ("Mật khẩu tài khoản đã được đổi", "Your account's password was changed"),
    "two_step_on": ("Đã bật xác thực hai bước", "Two-step login was turned on"),
    "two_step_off": ("Đã tắt xác thực hai bước", "Two-step login was turned off"),
    "two_step_reset": ("Quản trị viên đã tắt xác thực hai bước của tài khoản",
                       "An administrator turned two-step login off for your account"),
    "recovery_code": ("Một mã dự phòng vừa được dùng để đăng nhập", "A recovery code was used to log in"),
    "recovery_new": ("Đã tạo mã dự phòng mới (các mã cũ hết dùng được)",
                     "New recovery codes were made (the old ones no longer work)"),
}


@dataclasses.dataclass(frozen=True)
class Alert:
    to: str
    subject: str
    body: str


#: the mail's sentences, in each language
WORDS: dict[str, dict[str, str]] = {
    "vi": {"hello": "Xin chào {name},",
           "what": "{what} (tài khoản {email} trên Cổng Một cửa trực tuyến) lúc {when}{where}.",
           "where": " (địa chỉ {source})", "left": "Còn {left} mã dự phòng.",
           "advice": "Nếu đó là bạn, không cần làm gì. Nếu không phải, hãy đổi mật khẩu ngay và báo bộ phận một cửa "
                     "(cán bộ: báo quản trị viên của cổng).",
           "site": "Một cửa trực tuyến"},
    "en": {"hello": "Hello {name},",
           "what": "{what} (account {email} on the online one-stop shop) at {when}, Vietnam time{where}.",
           "where": " (address {source})", "left": "{left} recovery code(s) are left.",
           "advice": "If it was you, there is nothing to do. If it was not, change your password at once and tell "
                     "the one-stop desk (officials: the portal's administrator).",
           "site": "Online one-stop shop"},
}


def owed(session: Session, kind: str, user: User, source: str | None = None, left: int | None = None) -> None:
    """Owe ``user`` the alert ``kind`` (:data:`KINDS`) about a change made in this transaction, from address
    ``source``; ``left``: the recovery codes left."""
    session.add(AccountAlert(**outbox.pending({"user_id": user.id, "kind": kind, "source": source,
                                               "recovery_left": left})))


def compose(kind: str, person: Any, at: dt.datetime, source: str | None = None, left: int | None = None) -> Alert:
    """The mail about ``kind`` to ``person`` (their email, name and mail language), made at ``at`` (UTC) from
    address ``source``; ``left``: the recovery codes left."""
    lang = "en" if getattr(person, "language", "vi") == "en" else "vi"
    words, what = WORDS[lang], KINDS[kind][lang == "en"]
    when = to_local(at).strftime("%H:%M %d/%m/%Y")
    where = words["where"].format(source=source) if source else ""
    lines = [words["hello"].format(name=person.full_name), "",
             words["what"].format(what=what, email=person.email, when=when, where=where)]
    if left is not None:
        lines.append(words["left"].format(left=left))
    lines += ["", words["advice"]]
    return Alert(person.email, f"{what} – {words['site']}", "\n".join(lines) + "\n")


TAKE = outbox.taking(AccountAlert)
MAILS_OF = (select(AccountAlert, User).join(User, User.id == AccountAlert.user_id)
            .where(AccountAlert.id.in_(bindparam("ids", expanding=True))).order_by(AccountAlert.id))
CLOSED = "the account is closed"


def send_due(sessions: Callable[[], Session], settings: Settings, limit: int = 100) -> outbox.Sent:
    """Send the alerts due by the engine's clock, oldest first, up to ``limit`` (:func:`engine.outbox.send_due`)."""
    def load(session: Session, ids: list[int]) -> Iterator[tuple[AccountAlert, outbox.Mail]]:
        for alert, user in session.execute(MAILS_OF, {"ids": ids}).all():
            if not user.active:
                yield alert, CLOSED
            else:
                yield alert, lambda a=alert, u=user: dataclasses.astuple(
                    compose(a.kind, u, a.created_at, a.source, a.recovery_left))

    return outbox.send_due(sessions, settings, AccountAlert, TAKE, load, "account alert(s)", limit)
