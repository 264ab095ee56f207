"""Mail to applicants when their dossier moves on or needs them: submitted, accepted, refused, a supplement asked
for, fees to pay, stopped, result ready, result returned.

A change of status writes a :class:`~engine.models.Notice` in the transaction of the step that made it (an
outbox): a mail is owed for every change that was stored and for none that was rolled back, and no request
waits for a mail server. ``motcua worker`` sends what is due (:func:`send_due`), composing each mail from the
dossier and the applicant as they are then, in the applicant's language, unless they chose not to get mail.

Sending is at least once: a sender first takes a notice for a few minutes (a lease, so that two workers never
send it both), then sends, then marks it sent; a sender stopped between the last two steps leaves it to be sent
again when the lease ends. A failure is tried again later (:data:`RETRY_AFTER`), then given up; a permanent
refusal (the server rejects the address) is given up at once.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from . import buffers, calendar, mail
from .catalog import VersionCache
from .config import Settings
from .i18n import text, tr
from .models import Agency, Dossier, Notice, User, utcnow
from .statuses import STATUSES
from .views import NoticeView

log = logging.getLogger("motcua.notices")

#: the statuses an applicant is told about (not "processing": nothing for them to do or know yet; not
#: "cancelled": they withdrew the dossier themselves)
NOTIFIED = frozenset({"receiving", "new", "denied", "waiting", "paying", "unresolved", "releasing", "done"})
#: the statuses whose step's written reason is the agency's word to the applicant (a refusal, a supplement asked
#: for, a stop); another step's text (the applicant's own supplement, an official's note) is not sent
WITH_REASON = frozenset({"denied", "waiting", "unresolved"})
#: how long a sender holds a notice it took before another may take it (a mail takes seconds at most)
LEASE = dt.timedelta(minutes=5)
#: the wait before each new try after a failure; after the last, the notice is given up ("failed")
RETRY_AFTER = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2),
               dt.timedelta(hours=6))
#: the path of a dossier's page on the portal (web/citizen.py: citizen.dossier), for the link in a mail
DOSSIER_PATH = "/ho-so/{id}"
PROFILE_PATH = "/tai-khoan"


def owed(session: Session, dossier: Dossier, status: str, previous: str, reason: str | None) -> None:
    """Owe the applicant a mail about the dossier's new status (a dossier with a code: not a draft). The row
    waits in the session and is written with the step's audit events (:mod:`engine.buffers`)."""
    if status not in NOTIFIED or dossier.code is None:
        return
    now = utcnow()
    buffers.add(session, Notice, {
        "dossier_id": dossier.id, "kind": "supplied" if status == "receiving" and previous == "waiting" else status,
        "reason": reason if status in WITH_REASON else None,
        "created_at": now, "state": "pending", "attempts": 0, "next_attempt_at": now,
    })


# -- sending -------------------------------------------------------------------------------------------------

# the due notices, oldest first, taken by moving their next attempt to the end of a lease: of two senders that
# take at once, each gets other notices (PostgreSQL checks the conditions again on a row another sender has just
# changed; SQLite has one writer at a time)
TAKE = (update(Notice)
        .where(Notice.id.in_(select(Notice.id).where(Notice.state == "pending", Notice.next_attempt_at <= bindparam("now"))
                             .order_by(Notice.next_attempt_at, Notice.id).limit(bindparam("limit"))),
               Notice.state == "pending", Notice.next_attempt_at <= bindparam("now"))
        .values(next_attempt_at=bindparam("until"), attempts=Notice.attempts + 1)
        .returning(Notice.id))
MAILS_OF = (select(Notice, Dossier, User, Agency)
            .join(Dossier, Dossier.id == Notice.dossier_id).join(User, User.id == Dossier.applicant_id)
            .join(Agency, Agency.id == Dossier.agency_id).where(Notice.id.in_(bindparam("ids", expanding=True)))
            .order_by(Notice.id))
NO_SERVER = "no mail server configured (MOTCUA_SMTP_URL)"
OPTED_OUT = "the applicant chose not to get mail"


@dataclass
class Sent:
    """What a sending run did: mails sent, notices with no mail (the person chose none, or no server is
    configured), failures to try again later, and notices given up."""

    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.skipped or self.retrying or self.failed)


def take(session: Session, limit: int) -> list[int]:
    """Take up to ``limit`` due notices for a lease (:data:`LEASE`), counting the attempt; the caller commits."""
    now = utcnow()
    return list(session.scalars(TAKE, {"now": now, "limit": limit, "until": now + LEASE}))


def send_due(sessions: Callable[[], Session], settings: Settings, cache: VersionCache, limit: int = 100) -> Sent:
    """Send the notices due by the engine's clock, oldest first, up to ``limit``, over one conversation with the
    mail server. They are taken in one short transaction; then each one's outcome is committed as soon as it is
    known, so that a sender stopped halfway sends again only the mail it was sending."""
    done = Sent()
    with sessions() as session:
        ids = take(session, limit)
        session.commit()
        if not ids:
            return done
        with mail.Conversation(settings) as server:
            if not server.configured and not mail.shown_in_console():
                session.execute(update(Notice).where(Notice.id.in_(ids)).values(state="skipped", last_error=NO_SERVER))
                session.commit()
                log.warning("no MOTCUA_SMTP_URL: %d notice(s) to applicants not sent", len(ids))
                done.skipped += len(ids)
                return done
            away: mail.MailFailed | None = None  # the server failed: the rest wait for the next try
            for notice, dossier, user, agency in session.execute(MAILS_OF, {"ids": ids}).all():
                if not user.notify_by_mail or not user.active:
                    notice.state, notice.last_error = "skipped", OPTED_OUT
                    done.skipped += 1
                elif away is not None:
                    _not_sent(notice, away, done)
                else:
                    subject, body = compose(notice, dossier, user, agency,
                                            cache.of(session, dossier.version_id).info.name, settings.base_url)
                    try:
                        sent = server.send(user.email, subject, body)
                    except mail.MailFailed as exc:
                        _not_sent(notice, exc, done)
                        away = exc if exc.server_away else None
                    else:
                        if sent:
                            notice.state, notice.sent_at = "sent", utcnow()
                            done.sent += 1
                        else:
                            notice.state, notice.last_error = "skipped", NO_SERVER
                            done.skipped += 1
                session.commit()
    return done


def _not_sent(notice: Notice, exc: mail.MailFailed, done: Sent) -> None:
    notice.last_error = str(exc)[:1000]
    if exc.permanent or notice.attempts > len(RETRY_AFTER):
        notice.state = "failed"
        done.failed += 1
    else:
        notice.next_attempt_at = utcnow() + RETRY_AFTER[notice.attempts - 1]
        done.retrying += 1


# -- showing ------------------------------------------------------------------------------------------------

OF_DOSSIER = select(Notice).where(Notice.dossier_id == bindparam("dossier_id")).order_by(Notice.id)
SUPPLIED = text("Đã nhận phần bổ sung", "Supplement received")


def of_dossier(session: Session, dossier: Dossier) -> list[NoticeView]:
    """The mail owed to the dossier's applicant, oldest first."""
    return [NoticeView(
        about=SUPPLIED if n.kind == "supplied" else STATUSES[n.kind].label, created_at=n.created_at, state=n.state,
        sent_at=n.sent_at, tried=n.state == "pending" and bool(n.last_error),
        why_not=("opted_out" if n.last_error == OPTED_OUT else "no_server" if n.last_error == NO_SERVER else None)
        if n.state == "skipped" else n.last_error if n.state == "failed" else None,
    ) for n in session.scalars(OF_DOSSIER, {"dossier_id": dossier.id})]


# -- composing -----------------------------------------------------------------------------------------------

def _what(kind: str, delivery: str | None, agency: Any) -> dict[str, str]:
    """The sentence that says what happened to the dossier, and what the applicant may do."""
    if kind == "releasing":
        fees = text(" Nếu hồ sơ có phí, lệ phí, trang hồ sơ ghi số tiền và mã QR để chuyển khoản.",
                    " If the application has fees, its page shows the amount and a QR code to pay by transfer.")
        if delivery == "online":
            said = text("đã có kết quả. Bản điện tử của kết quả có trên trang hồ sơ để tải về khi cơ quan trả kết "
                        "quả.", "has a result. Its electronic copy can be downloaded from the application's page "
                        "once the agency returns it.")
        elif delivery == "post":
            said = text("đã có kết quả. Kết quả sẽ được gửi qua bưu điện tới địa chỉ bạn đã đăng ký.",
                        "has a result. It will be sent by post to the address you gave.")
        else:
            said = text(f"đã có kết quả. Mời bạn đến nhận kết quả tại {agency.name_vi}.",
                        f"has a result. Please collect it at {agency.name_en}.")
        return {lang: said[lang] + fees[lang] for lang in said}
    return {
        "receiving": text("đã được nộp trực tuyến. Cơ quan giải quyết sẽ kiểm tra và tiếp nhận hồ sơ.",
                          "has been submitted online. The agency will check it and accept it."),
        "supplied": text("đã nhận phần bổ sung của bạn. Cơ quan giải quyết sẽ kiểm tra lại hồ sơ.",
                         "has received your supplement. The agency will check the dossier again."),
        "new": text("đã được tiếp nhận. Thời hạn giải quyết được tính từ ngày tiếp nhận.",
                    "has been accepted. The legal time limit counts from acceptance."),
        "denied": text("bị từ chối tiếp nhận.", "was refused at reception."),
        "waiting": text("cần được bổ sung. Hãy mở hồ sơ trên Cổng để bổ sung theo yêu cầu dưới đây. Thời hạn giải "
                        "quyết tạm dừng cho đến khi bạn bổ sung.",
                        "needs a supplement. Open the dossier on the portal to give what is asked for below. The "
                        "legal time limit is paused until you do."),
        "paying": text("đang chờ bạn nộp phí, lệ phí. Hãy mở hồ sơ trên Cổng để thanh toán.",
                       "is waiting for you to pay the fees. Open the dossier on the portal to pay."),
        "unresolved": text("đã dừng xử lý.", "has been stopped."),
        "done": text("đã được trả kết quả. Kết quả nhận trực tuyến có bản điện tử để tải về trên trang hồ sơ. Cảm "
                     "ơn bạn đã sử dụng dịch vụ công trực tuyến; bạn có thể đánh giá mức độ hài lòng trên trang hồ "
                     "sơ.",
                     "has been returned with its result. A result received online can be downloaded from the "
                     "application's page. Thank you for using the online public service; you can rate it on the "
                     "application's page."),
    }[kind]


def compose(notice: Notice, dossier: Dossier, user: User, agency: Agency, procedure: dict[str, str],
            base_url: str | None) -> tuple[str, str]:
    """The subject and body of a notice's mail, in the applicant's language."""
    lang = user.language if user.language in ("vi", "en") else "vi"
    label = STATUSES["receiving" if notice.kind == "supplied" else notice.kind].label
    en = lang == "en"
    subject = (f"Application {dossier.code}: {label['en']}" if en else f"Hồ sơ {dossier.code}: {label['vi']}")
    agency_name = agency.name_en if en else agency.name_vi
    lines = [f"Hello {user.full_name}," if en else f"Xin chào {user.full_name},", ""]
    lines.append((f"Your application {dossier.code} ({tr(procedure, 'en')}, {agency_name}) " if en else
                  f"Hồ sơ {dossier.code} ({tr(procedure, 'vi')}, {agency_name}) ")
                 + tr(_what(notice.kind, dossier.delivery_method, agency), lang))
    if notice.reason:
        lines += ["", ("Reason given by the agency:" if en else "Nội dung cơ quan giải quyết ghi:"),
                  *(f"  {line}" for line in notice.reason.splitlines())]
    if dossier.appointment_at and notice.kind in ("receiving", "new", "supplied", "waiting"):
        day = calendar.to_local(dossier.appointment_at).strftime("%d/%m/%Y")
        if notice.kind == "waiting":
            lines += ["", (f"Result date before the pause: {day}; it moves by the days the dossier waits for you."
                           if en else f"Ngày hẹn trả kết quả trước khi tạm dừng: {day}; ngày hẹn sẽ lùi theo số ngày "
                           "hồ sơ chờ bổ sung.")]
        else:
            lines += ["", f"Result date: {day}" if en else f"Ngày hẹn trả kết quả: {day}"]
    lines.append("")
    if base_url:
        base = base_url.rstrip("/")
        lines.append(("See the application: " if en else "Xem hồ sơ: ") + base + DOSSIER_PATH.format(id=dossier.id))
        footer_where = base + PROFILE_PATH
    else:
        lines.append('Sign in to the portal and open "My applications" to see it.' if en else
                     'Đăng nhập Cổng Một cửa trực tuyến, mục "Hồ sơ của tôi", để xem hồ sơ.')
        footer_where = "“Your details”" if en else "“Thông tin cá nhân”"
    lines += ["", "--",
              (f"You get this mail because email updates about your applications are on for your account. To "
               f"turn them off, untick them in {footer_where}." if en else
               f"Bạn nhận thư này vì tài khoản của bạn đang bật thông báo hồ sơ qua email. Để thôi nhận, bỏ chọn "
               f"tại {footer_where}.")]
    return subject, "\n".join(lines) + "\n"
