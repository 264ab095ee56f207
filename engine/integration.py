"""The integration API's engine side: the systems of an agency that read its dossiers (an API client, by bearer
token), what they read, and the catalog anyone may read.

A token is made once, shown once, and kept only as its SHA-256 (like the password-reset links); an administrator
creates and revokes clients. A client sees its agency's dossiers and nothing else: a dossier code of another
agency is "not found", as for an official. What it reads is the state the national portal and an agency's own
systems follow, with no personal data: the procedure, the status (with the national portal's number), the dates
(submitted, appointment, finished, last status change) and the history of statuses. The feed lists the agency's
dossiers by when their status last changed, oldest first, from a point in time and after a cursor, so that a
system polls it and never misses or repeats a change (``ix_dossier_agency_status_changed``).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session, joinedload

from .catalog import VersionCache, search
from .db import possible_id
from .errors import Forbidden, FormInvalid, NotFound
from .i18n import Text, text
from .models import Agency, ApiClient, AuditEvent, Dossier, Person, utcnow
from .statuses import STATUSES

TOKEN_PREFIX = "mc_"
FEED_PAGE = 100
NO_DOSSIER = text("Không tìm thấy hồ sơ.", "Dossier not found.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_admin(admin: Person) -> None:
    if not admin.is_admin:
        raise Forbidden(text("Chỉ quản trị viên mới quản lý được kết nối API.",
                             "Only administrators manage API clients."))


# -- clients -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientView:
    id: int
    name: str
    agency_code: str
    agency_name: Text
    token_hint: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None


def _view(c: ApiClient) -> ClientView:
    return ClientView(c.id, c.name, c.agency.code, text(c.agency.name_vi, c.agency.name_en), c.token_hint, c.created_at,
                      c.created_by, c.revoked_at)


def clients(session: Session, admin: Person) -> list[ClientView]:
    _check_admin(admin)
    rows = session.scalars(select(ApiClient).options(joinedload(ApiClient.agency)).order_by(ApiClient.id.desc()))
    return [_view(c) for c in rows]


def create_client(session: Session, admin: Person, name: str, agency_id: Any) -> tuple[ClientView, str]:
    """A new client of an agency and its token (shown this once). Raises FormInvalid (every problem at once)."""
    from .dossiers import audit

    _check_admin(admin)
    name = (name or "").strip()
    errors: dict[str, Text] = {}
    if not 3 <= len(name) <= 200:
        errors["name"] = text("Nhập tên hệ thống kết nối (3 đến 200 ký tự)",
                              "Enter the connecting system's name (3 to 200 characters)")
    number = int(agency_id) if str(agency_id).isdigit() else None
    agency = session.get(Agency, number) if number is not None and possible_id(number) else None
    if agency is None:
        errors["agency_id"] = text("Chọn cơ quan", "Choose an agency")
    if errors:
        raise FormInvalid(errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, agency=agency, token_hash=_hash(token), token_hint=token[:10], created_at=utcnow(),
                       created_by=admin.full_name)
    session.add(client)
    session.flush()
    audit(session, None, admin, "admin.api_client",
          text(f"Tạo kết nối API “{name}” cho {agency.code}", f"Created the API client “{name}” for {agency.code}"))
    return _view(client), token


def revoke_client(session: Session, admin: Person, client_id: int) -> ClientView:
    from .dossiers import audit

    _check_admin(admin)
    client = session.get(ApiClient, client_id) if possible_id(client_id) else None
    if client is None:
        raise NotFound(text("Không có kết nối API này.", "There is no such API client."))
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit(session, None, admin, "admin.api_client",
              text(f"Thu hồi kết nối API “{client.name}”", f"Revoked the API client “{client.name}”"))
    session.flush()
    return _view(client)


CLIENT_BY_TOKEN = select(ApiClient.id, ApiClient.agency_id, ApiClient.name).where(
    ApiClient.token_hash == bindparam("token_hash"), ApiClient.revoked_at.is_(None))


@dataclass(frozen=True)
class Client:
    """The system a request of the API comes from."""

    id: int
    agency_id: int
    name: str


def client_for(session: Session, token: str | None) -> Client | None:
    """The active client whose token this is, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(CLIENT_BY_TOKEN, {"token_hash": _hash(token)}).first()
    return Client(row.id, row.agency_id, row.name) if row else None


# -- what a client reads ---------------------------------------------------------------------------------------------

def _at(moment: dt.datetime | None) -> str | None:
    return moment.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _status(slug: str) -> dict[str, Any]:
    found = STATUSES.get(slug)
    return {"code": slug, "number": found.number if found else None,
            "name": dict(found.label) if found else {"vi": slug, "en": slug}}


def _brief(session: Session, cache: VersionCache, d: Dossier) -> dict[str, Any]:
    name = cache.of(session, d.version_id).info.name  # (the dossier's own version: cached, read once per process)
    return {
        "code": d.code,
        "procedure": {"code": d.procedure_code, "name": dict(name)},
        "status": _status(d.status),
        "submitted_at": _at(d.submitted_at), "appointment_at": _at(d.appointment_at),
        "finished_at": _at(d.finished_at), "status_changed_at": _at(d.status_changed_at),
        "delivery_method": d.delivery_method,
    }


HISTORY = (select(AuditEvent.at, AuditEvent.detail).where(AuditEvent.dossier_id == bindparam("dossier_id"),
                                                          AuditEvent.action == "status.changed")
           .order_by(AuditEvent.at, AuditEvent.id))


def dossier(session: Session, cache: VersionCache, client: Client, code: str) -> dict[str, Any]:
    """A dossier of the client's agency by its code, with its history of statuses."""
    found = session.scalar(select(Dossier).where(Dossier.code == code)) if code and len(code) <= 64 else None
    if found is None or found.agency_id != client.agency_id:
        raise NotFound(NO_DOSSIER)
    out = _brief(session, cache, found)
    out["history"] = [{"at": _at(at), "status": _status(str((detail or {}).get("to", "")))}
                      for at, detail in session.execute(HISTORY, {"dossier_id": found.id})]
    return out


def _cursor(moment: dt.datetime, dossier_id: int) -> str:
    raw = f"{moment.isoformat()}|{dossier_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, dossier_id = raw.split("|")
        return dt.datetime.fromisoformat(moment), int(dossier_id)
    except (ValueError, UnicodeDecodeError):
        raise FormInvalid({"sau": text("Con trỏ trang không hợp lệ", "The page cursor is not valid")}) from None


def parse_since(value: str | None) -> dt.datetime:
    """An ISO 8601 time (with its offset; none means UTC) as naive UTC; FormInvalid if it is not one."""
    if not value:
        return dt.datetime(1970, 1, 1)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FormInvalid({"tu": text("Thời điểm phải theo ISO 8601, ví dụ 2026-11-27T08:00:00+07:00",
                                      "The time must be ISO 8601, e.g. 2026-11-27T08:00:00+07:00")}) from None
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def feed(session: Session, cache: VersionCache, client: Client, since: dt.datetime, cursor: str | None = None,
         limit: int = FEED_PAGE) -> dict[str, Any]:
    """The client's agency's dossiers whose status changed at or after ``since`` (or after ``cursor``, the last
    page's ``next``), oldest change first, a page at a time; ``next`` is None on the last page."""
    query = (select(Dossier).where(Dossier.agency_id == client.agency_id, Dossier.status_changed_at.is_not(None))
             .order_by(Dossier.status_changed_at, Dossier.id).limit(limit + 1))
    if cursor:
        moment, after = _read_cursor(cursor)
        query = query.where(tuple_(Dossier.status_changed_at, Dossier.id) > tuple_(moment, after))
    else:
        query = query.where(Dossier.status_changed_at >= since)
    rows = session.scalars(query).all()
    page = rows[:limit]
    following = _cursor(page[-1].status_changed_at, page[-1].id) if len(rows) > limit else None
    return {"items": [_brief(session, cache, d) for d in page], "next": following}


def catalog(session: Session, cache: VersionCache) -> list[dict[str, Any]]:
    """The procedures offered, as public data."""
    out = []
    for p in search(session, cache, None, None):
        out.append({
            "code": p.code, "name": dict(p.name), "summary": dict(p.summary),
            "field": {"code": p.field_code, "name": dict(p.field)}, "agency_level": p.agency_level,
            "service_level": p.service_level, "working_days": p.working_days, "time_limit": dict(p.time_limit),
            "fees": [{"name": dict(f.name), "amount": f.amount} for f in p.fees],
            "documents": [{"code": c.code, "name": dict(c.name), "required": c.required} for c in p.components],
            "legal_basis": list(p.legal_basis),
        })
    return out
