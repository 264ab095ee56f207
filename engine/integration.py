"""The integration API's engine side: the systems of an agency that read its dossiers (an API client, by bearer
token), what they read, and the catalog anyone may read.

A token is made once, shown once, and kept only as its SHA-256 (like the password-reset links); an administrator
creates and revokes clients, and a token expires (90 days, a year or two, as the administrator chose). A client sees
its agency's dossiers and nothing else: a dossier code of another agency is "not found", as for an official. What
it reads is the state the national portal and an agency's own systems follow, with no personal data: the
procedure, the status (with the national portal's number), the dates (submitted, appointment, finished, last status
change) and the history of statuses.

The feed lists the agency's dossiers by when their status last changed, oldest first, from a point in time and
after a cursor, so that a system polls it and never misses or repeats a change (``ix_dossier_agency_status_changed``).
It lists a change once it is :data:`SETTLE` old: transactions may commit out of the order of the times they wrote
(two officials' steps on PostgreSQL), and a cursor must not pass a change that is not visible yet. A client may
also have its agency's changes posted to it, the same way (engine.webhooks).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, or_, select, tuple_
from sqlalchemy.orm import Session, joinedload

from .catalog import VersionCache, search
from .db import number_from, possible_id
from .errors import EngineError, Forbidden, FormInvalid, NotFound
from .i18n import Text, text
from .models import Agency, ApiClient, AuditEvent, Dossier, Person, utcnow
from .statuses import STATUSES

TOKEN_PREFIX = "mc_"
#: how old a status change is before the feed and the webhooks list it (longer than any transaction that writes one)
SETTLE = dt.timedelta(seconds=30)
WEBHOOK_SECRET_PREFIX = "whsec_"
#: the hosts a webhook may be posted to over plain http (a system on the portal's machine, a test)
LOOPBACK = ("localhost", "127.0.0.1", "::1")
FEED_PAGE = 100
NO_DOSSIER = text("Không tìm thấy hồ sơ.", "Dossier not found.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_admin(admin: Person) -> None:
    if not admin.is_admin:
        raise Forbidden(text("Chỉ quản trị viên mới quản lý được kết nối API.",
                             "Only administrators manage API clients."))


# -- clients -----------------------------------------------------------------------------------------------------

#: how long a new token is valid, in days (the administrator chooses; a year unless told otherwise)
VALIDITY_DAYS = (90, 365, 730)
DEFAULT_VALIDITY = 365


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
    expires_at: dt.datetime | None
    webhook_url: str | None
    webhook_delivered_at: dt.datetime | None
    webhook_error: str | None  # the last delivery's failure, while deliveries fail
    webhook_retry_at: dt.datetime | None

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()


@dataclass(frozen=True)
class NewClient:
    """A client just made, with what is shown this once: its token, and its webhook's signing secret if any."""

    view: ClientView
    token: str | None
    webhook_secret: str | None


def _view(c: ApiClient) -> ClientView:
    return ClientView(c.id, c.name, c.agency.code, text(c.agency.name_vi, c.agency.name_en), c.token_hint, c.created_at,
                      c.created_by, c.revoked_at, c.expires_at, c.webhook_url, c.webhook_delivered_at,
                      c.webhook_error if c.webhook_failures else None, c.webhook_retry_at)


def clients(session: Session, admin: Person) -> list[ClientView]:
    _check_admin(admin)
    rows = session.scalars(select(ApiClient).options(joinedload(ApiClient.agency)).order_by(ApiClient.id.desc()))
    return [_view(c) for c in rows]


def check_webhook_url(url: str) -> Text | None:
    """What is wrong with a webhook's address, or None: it is https (plain http only to this machine, for a
    system beside the portal or a test), has a host, no user or password, and at most 500 characters."""
    try:
        parts = urlsplit(url)
        port = parts.port  # (ValueError: not a port)
    except ValueError:
        parts, port = None, None
    if parts is None or len(url) > 500 or not parts.hostname or parts.username or parts.password or port == 0:
        return text("Nhập địa chỉ đầy đủ, ví dụ https://vanban.example.gov.vn/motcua (tối đa 500 ký tự)",
                    "Enter a full address, e.g. https://docs.example.gov.vn/motcua (at most 500 characters)")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return None
    return text("Địa chỉ phải bắt đầu bằng https:// (http:// chỉ cho máy này)",
                "The address must start with https:// (http:// only for this machine)")


def create_client(session: Session, admin: Person, name: str, agency_id: Any, valid_days: Any = DEFAULT_VALIDITY,
                  webhook_url: str = "") -> NewClient:
    """A new client of an agency, its token valid ``valid_days`` (one of :data:`VALIDITY_DAYS`) and, with a
    ``webhook_url``, the changes of its agency's dossiers posted there from now on (engine.webhooks). Raises
    FormInvalid (every problem at once)."""
    from .dossiers import audit

    _check_admin(admin)
    name, webhook_url = (name or "").strip(), (webhook_url or "").strip()
    errors: dict[str, Text] = {}
    if not 3 <= len(name) <= 200:
        errors["name"] = text("Nhập tên hệ thống kết nối (3 đến 200 ký tự)",
                              "Enter the connecting system's name (3 to 200 characters)")
    number = number_from(agency_id)
    agency = session.get(Agency, number) if number is not None and possible_id(number) else None
    if agency is None:
        errors["agency_id"] = text("Chọn cơ quan", "Choose an agency")
    days = _validity(valid_days, errors)
    _webhook_problem(webhook_url, errors)
    if errors:
        raise FormInvalid(errors)
    now = utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    secret = _new_secret() if webhook_url else None
    client = ApiClient(name=name, agency=agency, token_hash=_hash(token), token_hint=token[:10], created_at=now,
                       created_by=admin.full_name, expires_at=now + dt.timedelta(days=days),
                       webhook_url=webhook_url or None, webhook_secret=secret,
                       webhook_after_at=now if webhook_url else None, webhook_after_id=0, webhook_failures=0)
    session.add(client)
    session.flush()
    audit(session, None, admin, "admin.api_client",
          text(f"Tạo kết nối API “{name}” cho {agency.code}", f"Created the API client “{name}” for {agency.code}"))
    return NewClient(_view(client), token, secret)


def _validity(valid_days: Any, errors: dict[str, Text]) -> int:
    days = number_from(valid_days)
    if days not in VALIDITY_DAYS:
        errors["valid_days"] = text("Chọn thời hạn của mã", "Choose how long the token is valid")
    return days or DEFAULT_VALIDITY


def _webhook_problem(url: str, errors: dict[str, Text]) -> None:
    wrong = check_webhook_url(url) if url else None
    if wrong:
        errors["webhook_url"] = wrong


def _new_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)


def _client(session: Session, admin: Person, client_id: int, active: bool = False) -> ApiClient:
    _check_admin(admin)
    client = session.get(ApiClient, client_id) if possible_id(client_id) else None
    if client is None:
        raise NotFound(text("Không có kết nối API này.", "There is no such API client."))
    if active and client.revoked_at is not None:
        raise Forbidden(text("Kết nối này đã bị thu hồi: hãy tạo kết nối mới.",
                             "This client was revoked: make a new one."))
    return client


def webhook_target(session: Session, admin: Person, client_id: int) -> tuple[str, str, str]:
    """The client's name, webhook address and secret, for an administrator to post to it. Raises NotFound,
    Forbidden (a revoked client), EngineError (no webhook set)."""
    found = _client(session, admin, client_id, active=True)
    if found.webhook_url is None or found.webhook_secret is None:
        raise EngineError(text("Kết nối này chưa có địa chỉ webhook.", "This client has no webhook address."))
    return found.name, found.webhook_url, found.webhook_secret


def client(session: Session, admin: Person, client_id: int) -> ClientView:
    return _view(_client(session, admin, client_id))


def renew_token(session: Session, admin: Person, client_id: int, valid_days: Any) -> NewClient:
    """A new token for the client, valid ``valid_days`` from now; the old one stops working at once (a token
    about to expire, or one that may have leaked). Raises FormInvalid, Forbidden (a revoked client)."""
    from .dossiers import audit

    found = _client(session, admin, client_id, active=True)
    errors: dict[str, Text] = {}
    days = _validity(valid_days, errors)
    if errors:
        raise FormInvalid(errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    found.token_hash, found.token_hint = _hash(token), token[:10]
    found.expires_at = utcnow() + dt.timedelta(days=days)
    audit(session, None, admin, "admin.api_client",
          text(f"Cấp mã truy cập mới cho “{found.name}”", f"Issued a new token to “{found.name}”"))
    session.flush()
    return NewClient(_view(found), token, None)


def set_webhook(session: Session, admin: Person, client_id: int, url: str) -> NewClient:
    """Post the client's changes to ``url`` from now on, signed with a new secret (returned, shown once); an
    address changed goes on from the last change delivered; an empty one stops the posts. Raises FormInvalid,
    Forbidden (a revoked client)."""
    from .dossiers import audit

    found = _client(session, admin, client_id, active=True)
    url = (url or "").strip()
    errors: dict[str, Text] = {}
    _webhook_problem(url, errors)
    if errors:
        raise FormInvalid(errors)
    secret = _new_secret() if url else None
    if url and found.webhook_url is None:  # (a new webhook: the changes from now on)
        found.webhook_after_at, found.webhook_after_id = utcnow(), 0
    found.webhook_url, found.webhook_secret = url or None, secret
    found.webhook_failures, found.webhook_retry_at, found.webhook_error = 0, None, None
    audit(session, None, admin, "admin.api_client",
          text(f"Đặt webhook của “{found.name}”: {url or 'không'}",
               f"Set the webhook of “{found.name}”: {url or 'none'}"))
    session.flush()
    return NewClient(_view(found), None, secret)


def revoke_client(session: Session, admin: Person, client_id: int) -> ClientView:
    from .dossiers import audit

    found = _client(session, admin, client_id)
    if found.revoked_at is None:
        found.revoked_at = utcnow()
        audit(session, None, admin, "admin.api_client",
              text(f"Thu hồi kết nối API “{found.name}”", f"Revoked the API client “{found.name}”"))
    session.flush()
    return _view(found)


CLIENT_BY_TOKEN = select(ApiClient.id, ApiClient.agency_id, ApiClient.name).where(
    ApiClient.token_hash == bindparam("token_hash"), ApiClient.revoked_at.is_(None),
    or_(ApiClient.expires_at.is_(None), ApiClient.expires_at > bindparam("now")))


@dataclass(frozen=True)
class Client:
    """The system a request of the API comes from."""

    id: int
    agency_id: int
    name: str


def client_for(session: Session, token: str | None) -> Client | None:
    """The active client whose token this is (not revoked, not expired), or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(CLIENT_BY_TOKEN, {"token_hash": _hash(token), "now": utcnow()}).first()
    return Client(row.id, row.agency_id, row.name) if row else None


# -- what a client reads ---------------------------------------------------------------------------------------------

def iso_utc(moment: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its "Z", as the JSON the portal gives out writes times."""
    return moment.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _status(slug: str) -> dict[str, Any]:
    found = STATUSES.get(slug)
    return {"code": slug, "number": found.number if found else None,
            "name": dict(found.label) if found else {"vi": slug, "en": slug}}


def brief(session: Session, cache: VersionCache, d: Dossier) -> dict[str, Any]:
    name = cache.of(session, d.version_id).info.name  # (the dossier's own version: cached, read once per process)
    return {
        "code": d.code,
        "procedure": {"code": d.procedure_code, "name": dict(name)},
        "status": _status(d.status),
        "submitted_at": iso_utc(d.submitted_at), "appointment_at": iso_utc(d.appointment_at),
        "finished_at": iso_utc(d.finished_at), "status_changed_at": iso_utc(d.status_changed_at),
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
    out = brief(session, cache, found)
    out["history"] = [{"at": iso_utc(at), "status": _status(str((detail or {}).get("to", "")))}
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
    page's ``next``) and :data:`SETTLE` ago at least, oldest change first, a page at a time; ``next`` is None on the
    last page."""
    query = (select(Dossier).where(Dossier.agency_id == client.agency_id,
                                   Dossier.status_changed_at <= utcnow() - SETTLE)
             .order_by(Dossier.status_changed_at, Dossier.id).limit(limit + 1))
    if cursor:
        moment, after = _read_cursor(cursor)
        query = query.where(tuple_(Dossier.status_changed_at, Dossier.id) > tuple_(moment, after))
    else:
        query = query.where(Dossier.status_changed_at >= since)
    rows = session.scalars(query).all()
    page = rows[:limit]
    following = _cursor(page[-1].status_changed_at, page[-1].id) if len(rows) > limit else None
    return {"items": [brief(session, cache, d) for d in page], "next": following}


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
