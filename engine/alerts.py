"""Mail to a person when how their account is protected changed: the password, two-step login turned on or off (by
them, or by an administrator or the operator), a recovery code used to log in. Someone who did not do it learns of
it and can act (change the password, call the desk).

The mail goes once the change is kept, not in its transaction: a mail that cannot be sent is logged and the change
stands (it was made by the person, an administrator or the desk). Without a mail server, nothing is sent
(engine.mail). It says what, when (Vietnam's time) and from which address, in the person's language.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from . import clock, mail
from .calendar import to_local
from .config import Settings

log = logging.getLogger("motcua.alerts")

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


def compose(kind: str, person: Any, source: str | None = None, left: int | None = None) -> Alert:
    """The mail about ``kind`` to ``person`` (their email, name and mail language), from address ``source``;
    ``left``: the recovery codes left."""
    lang = "en" if getattr(person, "language", "vi") == "en" else "vi"
    words, what = WORDS[lang], KINDS[kind][lang == "en"]
    when = to_local(clock.now()).strftime("%H:%M %d/%m/%Y")
    where = words["where"].format(source=source) if source else ""
    lines = [words["hello"].format(name=person.full_name), "",
             words["what"].format(what=what, email=person.email, when=when, where=where)]
    if left is not None:
        lines.append(words["left"].format(left=left))
    lines += ["", words["advice"]]
    return Alert(person.email, f"{what} – {words['site']}", "\n".join(lines) + "\n")


def send(settings: Settings, kind: str, person: Any, source: str | None = None, left: int | None = None) -> bool:
    """Mail the alert; True if a server took it. A failure is logged, never raised: the change it tells of stands."""
    alert = compose(kind, person, source, left)
    try:
        return mail.send(settings, alert.to, alert.subject, alert.body)
    except mail.MailFailed as exc:
        log.warning("could not mail the %s alert to account %s: %s", kind, getattr(person, "id", "?"), exc)
        return False
