"""Mail to applicants when their dossier moves on or needs them: submitted, accepted, refused, a supplement asked
for, fees to pay, stopped, result ready, result returned.

A change of status writes a :class:`~engine.models.Notice` in the transaction of the step that made it (an
outbox, :mod:`engine.outbox`: owed for every change stored, for none rolled back, sent at least once and retried).
``motcua worker`` sends what is due (:func:`send_due`), composing each mail from the dossier and the applicant as
they are then, in the applicant's language, unless they chose not to get mail.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from . import buffers, calendar, outbox
from .catalog import VersionCache
from .config import Settings
from .i18n import text, tr
from .models import Agency, Dossier, Notice, User
from .outbox import NO_SERVER, Sent
from .statuses import STATUSES
from .views import NoticeView

#: the statuses an applicant is told about (not "processing": nothing for them to do or know yet; not
#: "cancelled": they withdrew the dossier themselves)
NOTIFIED = frozenset({"receiving", "new", "denied", "waiting", "paying", "unresolved", "releasing", "done"})
#: the statuses whose step's written reason is the agency's word to the applicant (a refusal, a supplement asked
#: for, a stop); another step's text (the applicant's own supplement, an official's note) is not sent
WITH_REASON = frozenset({"denied", "waiting", "unresolved"})
#: the path of a dossier's page on the portal (web/citizen.py: citizen.dossier), for the link in a mail
DOSSIER_PATH = "/ho-so/{id}"
PROFILE_PATH = "/tai-khoan"


def owed(session: Session, dossier: Dossier, status: str, previous: str, reason: str | None) -> None:
    """Owe the applicant a mail about the dossier's new status (a dossier with a code: not a draft). The row
    waits in the session and is written with the step's audit events (:mod:`engine.buffers`)."""
    if status not in NOTIFIED or dossier.code is None:
        return
    buffers.add(session, Notice, outbox.pending({
        "dossier_id": dossier.id, "kind": "supplied" if status == "receiving" and previous == "waiting" else status,
        "reason": reason if status in WITH_REASON else None,
    }))


# -- sending -------------------------------------------------------------------------------------------------

TAKE = outbox.taking(Notice)
MAILS_OF = (select(Notice, Dossier, User, Agency)
            .join(Dossier, Dossier.id == Notice.dossier_id).join(User, User.id == Dossier.applicant_id)
            .join(Agency, Agency.id == Dossier.agency_id).where(Notice.id.in_(bindparam("ids", expanding=True)))
            .order_by(Notice.id))
OPTED_OUT = "the applicant chose not to get mail"


def take(session: Session, limit: int) -> list[int]:
    """Take up to ``limit`` due notices for a lease (:data:`engine.outbox.LEASE`), counting the attempt; the
    caller commits."""
    return outbox.take(session, TAKE, limit)


def send_due(sessions: Callable[[], Session], settings: Settings, cache: VersionCache, limit: int = 100) -> Sent:
    """Send the notices due by the engine's clock, oldest first, up to ``limit`` (:func:`engine.outbox.send_due`)."""
    def load(session: Session, ids: list[int]) -> Iterator[tuple[Notice, outbox.Mail]]:
        for notice, dossier, user, agency in session.execute(MAILS_OF, {"ids": ids}).all():
            if not user.notify_by_mail or not user.active:
                yield notice, OPTED_OUT
            else:
                yield notice, lambda n=notice, d=dossier, u=user, a=agency: (u.email, *compose(
                    n, d, u, a, cache.of(session, d.version_id).info.name, settings.base_url))

    return outbox.send_due(sessions, settings, Notice, TAKE, load, "notice(s) to applicants", limit)


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
