"""Mail to an official given a task ("được giao việc"): by a head of office, or handed over by a colleague
(:func:`engine.tasks.assign`). It says which task of which dossier, who gave it, when it is due, with a link.

It is owed in the transaction of the giving (:func:`owed`, a :class:`~engine.models.TaskNotice` row) and sent by
``motcua worker`` through the outbox (:mod:`engine.outbox`): none for a giving rolled back, retried while the mail
server is away. It goes to officials who take the portal's work mail (as the daily reminders: ``notify_by_mail``),
and not when the task is no longer theirs by then (done, withdrawn, or given on to someone else). Tasks given at
once (a head of office choosing several on "Phân công") are told in one mail.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from . import calendar, outbox
from .catalog import VersionCache
from .config import Settings
from .i18n import tr
from .models import Dossier, HumanTask, TaskNotice, User

#: the path of a task's page in the back office (web/officer.py: officer.task), for the link in a mail
TASK_PATH = "/can-bo/cong-viec/{id}"
TAKE = outbox.taking(TaskNotice)
MAILS_OF = (select(TaskNotice, HumanTask, Dossier, User)
            .join(HumanTask, HumanTask.id == TaskNotice.task_id).join(Dossier, Dossier.id == HumanTask.dossier_id)
            .join(User, User.id == TaskNotice.user_id)
            .where(TaskNotice.id.in_(bindparam("ids", expanding=True))).order_by(TaskNotice.id))
NO_MAIL = "the official takes no work mail, or the account is closed"
NOT_THEIRS = "the task is no longer theirs"


def owed(session: Session, task: HumanTask, official_id: int, given_by: str) -> None:
    """Owe the official ``official_id`` a mail about ``task``, given them by ``given_by`` in this transaction."""
    session.add(TaskNotice(**outbox.pending({"task_id": task.id, "user_id": official_id, "given_by": given_by})))


def compose(task: HumanTask, dossier: Dossier, official: User, given_by: str, procedure: dict[str, str],
            base_url: str | None) -> tuple[str, str]:
    """The subject and body of the mail, in the official's language."""
    en = official.language == "en"
    title = task.title_en if en else task.title_vi
    subject = (f"Task given to you: {title} – application {dossier.code}" if en else
               f"Bạn được giao công việc: {title} – hồ sơ {dossier.code}")
    lines = [f"Hello {official.full_name}," if en else f"Xin chào {official.full_name},", "",
             (f"{given_by} gave you the task “{title}” of application {dossier.code} ({tr(procedure, 'en')})." if en
              else f"{given_by} đã giao cho bạn công việc “{title}” của hồ sơ {dossier.code} ({tr(procedure, 'vi')}).")]
    if task.due_at is not None:
        day = calendar.to_local(task.due_at).strftime("%H:%M %d/%m/%Y")
        lines.append(f"Due: {day}" if en else f"Hạn xử lý: {day}")
    lines.append("")
    if base_url:
        lines.append(("Open the task: " if en else "Mở công việc: ") + base_url.rstrip("/")
                     + TASK_PATH.format(id=task.id))
    else:
        lines.append('It is under "My tasks" in the back office.' if en else
                     'Công việc có trong mục "Việc của tôi" của trang cán bộ.')
    return subject, "\n".join(lines) + "\n"


def compose_many(given: list[tuple[HumanTask, Dossier, dict[str, str]]], official: User, given_by: str,
                 base_url: str | None) -> tuple[str, str]:
    """The subject and body of one mail telling of several tasks given at once (task, dossier, procedure's name)."""
    en = official.language == "en"
    subject = (f"{len(given)} tasks given to you by {given_by}" if en else
               f"Bạn được giao {len(given)} công việc: {given_by}")
    lines = [f"Hello {official.full_name}," if en else f"Xin chào {official.full_name},", "",
             f"{given_by} gave you {len(given)} tasks:" if en else
             f"{given_by} đã giao cho bạn {len(given)} công việc:", ""]
    for task, dossier, procedure in given:
        title, name = (task.title_en, tr(procedure, "en")) if en else (task.title_vi, tr(procedure, "vi"))
        lines.append(f"- {title} – {'application' if en else 'hồ sơ'} {dossier.code} ({name})")
        if task.due_at is not None:
            day = calendar.to_local(task.due_at).strftime("%H:%M %d/%m/%Y")
            lines.append(f"  {'Due' if en else 'Hạn xử lý'}: {day}")
        if base_url:
            lines.append("  " + base_url.rstrip("/") + TASK_PATH.format(id=task.id))
    lines.append("")
    lines.append('They are under "My tasks" in the back office.' if en else
                 'Các công việc có trong mục "Việc của tôi" của trang cán bộ.')
    return subject, "\n".join(lines) + "\n"


def send_due(sessions: Callable[[], Session], settings: Settings, cache: VersionCache,
             limit: int = 100) -> outbox.Sent:
    """Send the task notices due by the engine's clock, oldest first, up to ``limit`` (:func:`outbox.send_due`):
    the tasks one person gave one official at once, taken together, make one mail."""
    def load(session: Session, ids: list[int]) -> Iterator[tuple[Any, Any]]:
        together: dict[tuple[int, str], list[tuple[TaskNotice, HumanTask, Dossier, User]]] = {}
        for notice, task, dossier, official in session.execute(MAILS_OF, {"ids": ids}).all():
            if not official.active or not official.notify_by_mail:
                yield notice, NO_MAIL
            elif task.state != "open" or task.claimed_by_id != notice.user_id:
                yield notice, NOT_THEIRS
            else:
                together.setdefault((official.id, notice.given_by), []).append((notice, task, dossier, official))
        for (_official_id, given_by), told in together.items():
            official = told[0][3]
            if len(told) == 1:
                _notice, task, dossier, _official = told[0]
                yield told[0][0], lambda t=task, d=dossier, o=official, g=given_by: (o.email, *compose(
                    t, d, o, g, cache.of(session, d.version_id).info.name, settings.base_url))
            else:
                yield [n for n, *_rest in told], lambda told=told, o=official, g=given_by: (o.email, *compose_many(
                    [(t, d, cache.of(session, d.version_id).info.name) for _n, t, d, _o in told], o, g,
                    settings.base_url))

    return outbox.send_due(sessions, settings, TaskNotice, TAKE, load, "task notice(s) to officials", limit)
