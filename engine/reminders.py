"""Reminders to officials ("nhắc việc"): on each of their agency's working days, from :data:`SEND_FROM` in
Vietnam, every active official who takes mail gets one message listing the tasks waiting on them whose dossiers
are overdue or due by the close of the next working day: those they hold, and those of their roles in their
agency's queue that nobody holds yet. Nothing due, no mail.

``motcua worker`` asks for them at every run; a ``reminder`` row per official and day, written in the same
transaction as the sending, makes it once a day whatever the number of workers (a second one to try finds the
row, or fails to write it and gives up that official). A mail server that is away leaves the rest for the next
run; an address it refuses for good is not tried again that day.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import calendar, clock, mail
from .config import Settings
from .dossiers import work_calendar
from .models import Agency, Dossier, HumanTask, Reminder, User, UserRole
from .procedures import APPLICANT_ROLE

log = logging.getLogger(__name__)
#: the local time from which the day's reminders go (the office opens at 7:30)
SEND_FROM = dt.time(7, 30)

TODAYS = exists().where(Reminder.user_id == User.id, Reminder.day == bindparam("day"))
OFFICIALS = (select(User).where(User.kind == "official", User.active.is_(True), User.notify_by_mail.is_(True),
                                User.agency_id.is_not(None), ~TODAYS).order_by(User.id))
ROLES_OF = select(UserRole.role).where(UserRole.user_id == bindparam("user_id"))
DUE = (select(HumanTask.id, HumanTask.title_vi, HumanTask.title_en, HumanTask.claimed_by_id, Dossier.code,
              Dossier.appointment_at)
       .join(Dossier, Dossier.id == HumanTask.dossier_id)
       .where(HumanTask.state == "open", HumanTask.agency_id == bindparam("agency_id"),
              HumanTask.role != APPLICANT_ROLE, Dossier.appointment_at <= bindparam("horizon"),
              (HumanTask.claimed_by_id == bindparam("user_id"))
              | (HumanTask.claimed_by_id.is_(None) & HumanTask.role.in_(bindparam("roles", expanding=True))))
       .order_by(Dossier.appointment_at, HumanTask.id).limit(200))


@dataclass
class Reminded:
    sent: int = 0
    nothing_due: int = 0
    failed: int = 0


@dataclass(frozen=True)
class DueTask:
    id: int
    title: dict[str, str]
    code: str | None
    due: dt.datetime
    mine: bool


def send_due(sessions: Callable[[], Session], settings: Settings) -> Reminded:
    """Send today's reminders not sent yet, if it is time (see the module)."""
    done = Reminded()
    now = clock.now()
    local = calendar.to_local(now)
    if local.time() < SEND_FROM:
        return done
    day = local.date()
    with sessions() as session, mail.Conversation(settings) as server:
        calendars: dict[int, calendar.WorkCalendar] = {}
        for official in session.scalars(OFFICIALS, {"day": day}).all():
            if official.agency_id not in calendars:
                calendars[official.agency_id] = work_calendar(session, official.agency_id)
            cal = calendars[official.agency_id]
            if not cal.is_working_day(day):
                continue
            tasks = due_tasks(session, official, cal.working_days_later(now, 1))
            try:
                with session.begin_nested():  # (another worker wrote it first: that one sends)
                    session.add(Reminder(user_id=official.id, day=day, tasks=len(tasks)))
            except IntegrityError:
                continue
            if not tasks:
                done.nothing_due += 1
                session.commit()
                continue
            agency = session.get(Agency, official.agency_id)
            subject, body = compose(official, agency, tasks, now, settings.base_url)
            try:
                server.send(official.email, subject, body)
            except mail.MailFailed as exc:
                done.failed += 1
                if exc.permanent:  # the address refused: not tried again today
                    session.commit()
                    continue
                session.rollback()  # not sent: tried again at the next run
                if exc.server_away:
                    break
                continue
            session.commit()
            done.sent += 1
    return done


def due_tasks(session: Session, official: User, horizon: dt.datetime) -> list[DueTask]:
    """The official's tasks (held, or of their roles and unheld) whose dossiers are due by ``horizon``."""
    roles = sorted(session.scalars(ROLES_OF, {"user_id": official.id}))
    rows = session.execute(DUE, {"agency_id": official.agency_id, "horizon": horizon, "user_id": official.id,
                                 "roles": roles or [""]}).all()
    return [DueTask(r.id, {"vi": r.title_vi, "en": r.title_en}, r.code, r.appointment_at,
                    r.claimed_by_id == official.id) for r in rows]


def compose(official: User, agency: Agency | None, tasks: list[DueTask], now: dt.datetime,
            base_url: str | None) -> tuple[str, str]:
    """The reminder's subject and body, in the official's language."""
    en = official.language == "en"
    late = [t for t in tasks if t.due < now]
    soon = [t for t in tasks if t.due >= now]
    base = (base_url or "").rstrip("/")
    if en:
        subject = f"Reminder: {len(late)} overdue, {len(soon)} due by the next working day"
        lines = [f"Hello {official.full_name},", "",
                 f"These tasks at {agency.name_en if agency else 'your agency'} are waiting:"]
    else:
        subject = f"Nhắc việc: {len(late)} việc quá hạn, {len(soon)} việc đến hạn trong ngày làm việc tới"
        lines = [f"Xin chào {official.full_name},", "",
                 f"Các công việc sau tại {agency.name_vi if agency else 'cơ quan'} đang chờ xử lý:"]
    for heading, group in ((("Overdue", "Quá hạn"), late), (("Due by the next working day", "Đến hạn"), soon)):
        if not group:
            continue
        lines += ["", (heading[0] if en else heading[1]) + ":"]
        for t in group:
            due = calendar.to_local(t.due).strftime("%d/%m/%Y %H:%M")
            held = (("you hold it" if t.mine else "in the queue") if en
                    else ("bạn đang xử lý" if t.mine else "chưa ai nhận"))
            lines.append(f"- {t.code or '–'}: {t.title['en' if en else 'vi']} ({'due' if en else 'hạn'} {due}, {held})")
            if base:
                lines.append(f"  {base}/can-bo/cong-viec/{t.id}")
    lines += ["", ("Your tasks: " if en else "Công việc của bạn: ") + (f"{base}/can-bo/" if base else "/can-bo/"),
              "", ("This mail comes once a working day while tasks are due; an administrator can turn it off."
                   if en else "Thư này gửi mỗi ngày làm việc khi có việc đến hạn; quản trị viên có thể tắt thư.")]
    return subject, "\n".join(lines) + "\n"
