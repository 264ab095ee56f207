"""A citizen's personal data, as one document they download (the data subject's right to obtain their data, Decree
13/2023/NĐ-CP on the protection of personal data, art. 9 and 14): the account's profile and preferences, and each
dossier they filed with what they answered, the files they attached (names and sizes; each file is downloaded from
the dossier's page), its statuses over time, its fees and their rating; and the logins kept (when, from which
address, how).

Deleting an account is not offered here: dossiers are administrative records that the agencies must keep
(their archiving periods), whatever becomes of the account.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import attachments, dossiers, logins, payments, ratings
from .catalog import VersionCache
from .errors import Forbidden
from .i18n import text
from .integration import iso_utc
from .models import Dossier, Person, User, utcnow

FORMAT = "motcua.personal-data/1"
PAGE = 200


def export(session: Session, cache: VersionCache, user: Person) -> dict[str, Any]:
    """Everything the portal keeps about the citizen ``user``, as JSON-able data."""
    if not user.is_citizen:
        raise Forbidden(text("Chỉ tài khoản công dân tải được dữ liệu cá nhân ở đây.",
                             "Only citizens' accounts download their personal data here."))
    account = session.get(User, user.id)  # (the caller's may be a web request's copy of it)
    assert account is not None
    out: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": iso_utc(utcnow()),
        "account": {
            "email": account.email, "full_name": account.full_name, "phone": account.phone,
            "id_number": account.id_number, "address": account.address,
            "birth_date": account.birth_date.isoformat() if account.birth_date else None,
            "created_at": iso_utc(account.created_at), "language": account.language,
            "notify_by_mail": account.notify_by_mail,
        },
        "dossiers": [],
        "sign_ins": [{"at": iso_utc(s.at), "address": s.source, "method": s.method}
                     for s in logins.recent(session, account.id, limit=1000)],
    }
    total = session.scalar(select(func.count()).select_from(Dossier).where(Dossier.applicant_id == user.id)) or 0
    for offset in range(0, total, PAGE):
        for brief in dossiers.of_applicant(session, cache, user, PAGE, offset):
            out["dossiers"].append(_dossier(session, cache, user, brief.id))
    return out


def _dossier(session: Session, cache: VersionCache, user: Person, dossier_id: int) -> dict[str, Any]:
    dossier = dossiers.get_for(session, dossier_id, user)
    view = dossiers.view(session, cache, dossier, user)
    given = ratings.state(session, dossier, user).given
    fee = payments.state(session, cache.of(session, dossier.version_id).fee_tasks, dossier)
    return {
        "code": view.code, "procedure": {"code": view.procedure_code, "name": view.procedure_name["vi"]},
        "agency": view.agency_name["vi"], "status": view.status_label["vi"],
        "created_at": iso_utc(view.created_at), "submitted_at": iso_utc(view.submitted_at),
        "appointment_at": iso_utc(view.appointment_at), "finished_at": iso_utc(view.finished_at),
        "delivery_method": view.delivery_method,
        "answers": [{"form": form["vi"], "fields": {label["vi"]: value["vi"] for label, value in fields}}
                    for form, fields in view.answers],
        "documents": [{"document": f.component, "file": f.filename, "type": f.content_type, "bytes": f.size,
                       "attached_at": iso_utc(f.uploaded_at), "sent": f.sent}
                      for f in attachments.of_dossier(session, dossier, user)],
        "history": [{"at": iso_utc(e.at), "what": e.label["vi"], "by": e.actor_name}
                    for e in dossiers.timeline(session, dossier)],
        "fee": {"amount": fee.amount, "status": fee.status} if fee else None,
        "rating": {"score": given.score, "label": given.label["vi"], "comment": given.comment,
                   "at": iso_utc(given.at)} if given else None,
    }
