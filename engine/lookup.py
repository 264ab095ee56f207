"""Anyone looks up a dossier ("Tra cứu hồ sơ", without logging in): by its code and its applicant's personal ID
number, as provincial portals offer it to someone holding the receipt (a relative, or the applicant away from their
account). The answer is where the dossier stands, never what it holds: its procedure and agency, its status, the
steps of its process open now, when it was sent, its appointment and end, and its statuses over time; no answers,
documents, names or officials.

The code alone is not enough: codes follow a daily sequence and can be guessed. A wrong pair is answered as an
unknown one (nothing tells which half was wrong), and counted against the client's address with the failed logins
(:mod:`engine.logins`): after :data:`PER_SOURCE` wrong pairs in the window, that address waits.
"""
from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from . import clock, logins
from .catalog import VersionCache
from .errors import FormInvalid, NotFound, TooManyAttempts
from .i18n import Text, text
from .models import AuditEvent, Dossier, HumanTask, LoginFailure
from .statuses import STATUSES
from .views import TimelineEntry

#: how the failed lookups are kept among the failed logins (no email can be this)
KEY = "#tra-cuu"
#: wrong pairs from one address in :data:`engine.logins.WINDOW` before it waits
PER_SOURCE = 10
NO_DOSSIER = text("Không tìm thấy hồ sơ có mã và số định danh này. Kiểm tra lại mã trên giấy tiếp nhận và số định "
                  "danh cá nhân của người nộp.",
                  "No dossier has this code and personal ID number. Check the code on the receipt and the "
                  "applicant's personal ID number.")
NO_CODE = text("Nhập mã hồ sơ", "Enter the dossier code")
NO_ID = text("Nhập số định danh cá nhân của người nộp, gồm 12 chữ số",
             "Enter the applicant's personal ID number, 12 digits")


class TooManyLookups(TooManyAttempts):
    """Too many wrong lookups from one address lately."""

    WAIT = ("Đã có quá nhiều lần tra cứu không đúng từ địa chỉ mạng này. Vui lòng thử lại sau {minutes} phút.",
            "There have been too many wrong lookups from this network address. Try again in {minutes} {unit}.")


@dataclass(frozen=True)
class PublicDossier:
    """What anyone holding a dossier's code and its applicant's ID number is told of it."""

    code: str
    procedure_name: Text
    agency_name: Text
    status: str
    status_label: Text
    submitted_at: dt.datetime | None
    appointment_at: dt.datetime | None
    finished_at: dt.datetime | None
    history: list[TimelineEntry]
    steps: list[Text]  # where it stands in its process: the steps open now (none once it has ended)


BY_CODE = (select(Dossier).where(Dossier.code == bindparam("code"), Dossier.submitted_at.is_not(None))
           .options(joinedload(Dossier.applicant), joinedload(Dossier.agency)))
OPEN_STEPS = (select(HumanTask.title_vi, HumanTask.title_en)
              .where(HumanTask.dossier_id == bindparam("dossier_id"), HumanTask.state == "open")
              .order_by(HumanTask.created_at, HumanTask.id))
STATUSES_OF = (select(AuditEvent.at, AuditEvent.detail)
               .where(AuditEvent.dossier_id == bindparam("dossier_id"), AuditEvent.action == "status.changed")
               .order_by(AuditEvent.at, AuditEvent.id))


def look_up(session: Session, cache: VersionCache, code: str, id_number: str, source: str | None) -> PublicDossier:
    """The dossier with this ``code`` whose applicant's personal ID number is ``id_number`` (spaces and dots
    allowed), looked up from the address ``source``. FormInvalid (``ma``, ``so-dinh-danh``) for a missing code or
    an ID that is not 12 digits (not counted); TooManyLookups while the address must wait; NotFound for a wrong
    pair (counted: the caller commits it)."""
    code = (code or "").strip().upper()
    digits = re.sub(r"[\s.\-]", "", id_number or "")
    errors: dict[str, Text] = {}
    if not code:
        errors["ma"] = NO_CODE
    if not re.fullmatch(r"[0-9]{12}", digits):
        errors["so-dinh-danh"] = NO_ID
    if errors:
        raise FormInvalid(errors)
    _check(session, source)
    dossier = session.scalar(BY_CODE, {"code": code}) if len(code) <= 64 else None
    if dossier is None or not hmac.compare_digest(dossier.applicant.id_number or "", digits):
        logins.failed(session, KEY, source)
        raise NotFound(NO_DOSSIER)
    history = [TimelineEntry(at, "", "status.changed", _label(str((detail or {}).get("to", ""))))
               for at, detail in session.execute(STATUSES_OF, {"dossier_id": dossier.id})]
    return PublicDossier(
        code=dossier.code or code, procedure_name=cache.of(session, dossier.version_id).info.name,
        agency_name=text(dossier.agency.name_vi, dossier.agency.name_en), status=dossier.status,
        status_label=_label(dossier.status), submitted_at=dossier.submitted_at,
        appointment_at=dossier.appointment_at, finished_at=dossier.finished_at, history=history,
        steps=[text(vi, en) for vi, en in session.execute(OPEN_STEPS, {"dossier_id": dossier.id})])


def _label(slug: str) -> Text:
    found = STATUSES.get(slug)
    return found.label if found else text(slug, slug)


def _check(session: Session, source: str | None) -> None:
    now = clock.now()
    times = list(session.scalars(select(LoginFailure.at).where(
        LoginFailure.email == KEY, LoginFailure.source == logins.source_of(source),
        LoginFailure.at > now - logins.WINDOW)))
    if len(times) >= PER_SOURCE:
        raise TooManyLookups(logins.wait(times, PER_SOURCE, now))
