"""What the portal's administrators keep: the agencies (their e-ID code, names, level and the account fees are paid
into) and the officials' accounts (agency, roles, whether they may log in).

A new official gets no password: the caller mails them a link to set one (:mod:`engine.accounts`' reset link).
An official moved to another agency, given other roles or deactivated no longer holds the tasks they cannot do
any more: those go back to their group's queue, so that no dossier waits on someone who cannot act.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .accounts import HASHER, EMAIL
from .dossiers import audit
from .errors import Forbidden, FormInvalid, NotFound
from .i18n import Text, text
from .models import Agency, AgencyDay, AuditEvent, HumanTask, Person, User, UserRole

LEVELS: dict[str, Text] = {"commune": text("Cấp xã", "Commune"), "province": text("Cấp tỉnh", "Province")}
#: an agency's e-ID code (Decision 20/2020/QĐ-TTg), e.g. 000.31.27.H14
AGENCY_CODE = re.compile(r"[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3}")
BANK_BIN = re.compile(r"\d{6}")
BANK_ACCOUNT = re.compile(r"[0-9A-Za-z]{4,19}")
NOT_ADMIN = text("Chỉ quản trị viên làm được việc này.", "Only administrators can do this.")


@dataclass(frozen=True)
class AgencyView:
    id: int
    code: str
    name_vi: str
    name_en: str
    level: str
    bank_bin: str | None
    bank_account: str | None
    bank_account_name: str | None
    officials: int = 0


@dataclass(frozen=True)
class OfficialView:
    id: int
    email: str
    full_name: str
    agency_id: int | None
    agency_name: str | None
    roles: tuple[str, ...]
    active: bool
    reminders: bool = True  # the daily mail of tasks due (engine.reminders)
    two_step: bool = False  # two-step login on (engine.two_step)


def _check(admin: Person) -> None:
    if not admin.is_admin:
        raise Forbidden(NOT_ADMIN)


def _agency_view(a: Agency, officials: int = 0) -> AgencyView:
    return AgencyView(a.id, a.code, a.name_vi, a.name_en, a.level, a.bank_bin, a.bank_account, a.bank_account_name,
                      officials)


def agencies(session: Session, admin: Person) -> list[AgencyView]:
    _check(admin)
    per = dict(session.execute(select(User.agency_id, func.count()).where(User.kind == "official")
                               .group_by(User.agency_id)).all())
    rows = session.scalars(select(Agency).order_by(Agency.level, Agency.code))
    return [_agency_view(a, per.get(a.id, 0)) for a in rows]


def agency(session: Session, admin: Person, agency_id: int) -> AgencyView:
    _check(admin)
    found = session.get(Agency, agency_id)
    if found is None:
        raise NotFound(text("Không tìm thấy cơ quan.", "Agency not found."))
    return _agency_view(found)


def save_agency(session: Session, admin: Person, agency_id: int | None, values: dict[str, Any]) -> AgencyView:
    """Create (``agency_id`` None) or change an agency. Raises FormInvalid with every problem at once."""
    _check(admin)
    row = None if agency_id is None else session.get(Agency, agency_id)
    if agency_id is not None and row is None:
        raise NotFound(text("Không tìm thấy cơ quan.", "Agency not found."))
    v = {k: str(values.get(k) or "").strip() for k in ("code", "name_vi", "name_en", "level", "bank_bin",
                                                         "bank_account", "bank_account_name")}
    v["code"] = v["code"].upper()
    errors: dict[str, Text] = {}
    if not AGENCY_CODE.fullmatch(v["code"]):
        errors["code"] = text("Nhập mã định danh của cơ quan, dạng 000.31.27.H14",
                              "Enter the agency's e-ID code, like 000.31.27.H14")
    for name, label in (("name_vi", text("tên tiếng Việt", "the Vietnamese name")),
                        ("name_en", text("tên tiếng Anh", "the English name"))):
        if not v[name] or len(v[name]) > 200:
            errors[name] = text(f"Nhập {label['vi']} (tối đa 200 ký tự)",
                                f"Enter {label['en']} (200 characters at most)")
    if v["level"] not in LEVELS:
        errors["level"] = text("Chọn cấp của cơ quan", "Choose the agency's level")
    bank = (v["bank_bin"], v["bank_account"], v["bank_account_name"])
    if any(bank):
        if not BANK_BIN.fullmatch(v["bank_bin"]):
            errors["bank_bin"] = text("Mã ngân hàng (BIN của NAPAS) gồm 6 chữ số, ví dụ 970415",
                                      "The bank's NAPAS code (BIN) has 6 digits, like 970415")
        if not BANK_ACCOUNT.fullmatch(v["bank_account"]):
            errors["bank_account"] = text("Số tài khoản gồm 4 đến 19 chữ số hoặc chữ cái, không có dấu cách",
                                          "The account number has 4 to 19 digits or letters, without spaces")
        if not v["bank_account_name"] or len(v["bank_account_name"]) > 100:
            errors["bank_account_name"] = text("Nhập tên chủ tài khoản (tối đa 100 ký tự)",
                                               "Enter the account holder's name (100 characters at most)")
    if errors:
        raise FormInvalid(errors)
    if row is None:
        row = Agency(code=v["code"])
        session.add(row)
    row.code, row.name_vi, row.name_en, row.level = v["code"], v["name_vi"], v["name_en"], v["level"]
    row.bank_bin, row.bank_account, row.bank_account_name = (b or None for b in bank)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise FormInvalid({"code": text("Đã có cơ quan với mã này", "An agency with this code exists")}) from None
    audit(session, None, admin, "agency.saved", text(f"Lưu cơ quan {row.code}", f"Agency {row.code} saved"),
          detail={"agency": row.id})
    return _agency_view(row)


# -- officials ----------------------------------------------------------------------------------------------------

def _official_view(u: User) -> OfficialView:
    return OfficialView(u.id, u.email, u.full_name, u.agency_id, u.agency.name_vi if u.agency else None,
                        tuple(sorted(u.roles)), u.active, u.notify_by_mail, u.two_step)


def officials(session: Session, admin: Person) -> list[OfficialView]:
    _check(admin)
    rows = session.scalars(select(User).where(User.kind == "official").order_by(User.agency_id, User.full_name))
    return [_official_view(u) for u in rows]


def official(session: Session, admin: Person, user_id: int) -> OfficialView:
    _check(admin)
    return _official_view(_official_row(session, user_id))


def _official_row(session: Session, user_id: int) -> User:
    found = session.get(User, user_id)
    if found is None or found.kind != "official":
        raise NotFound(text("Không tìm thấy cán bộ.", "Official not found."))
    return found


def _identity_errors(new: bool, email: str, full_name: str) -> dict[str, Text]:
    """The problems of an account's email (a new account's only: it is not changed) and name."""
    errors: dict[str, Text] = {}
    if new and not EMAIL.fullmatch(email):
        errors["email"] = text("Nhập địa chỉ email, dạng ten@coquan.gov.vn",
                               "Enter an email address, like name@agency.gov.vn")
    if not full_name or len(full_name) > 200:
        errors["full_name"] = text("Nhập họ và tên (tối đa 200 ký tự)", "Enter the full name (200 characters at most)")
    return errors


def _add_account(session: Session, row: User) -> None:
    """Store a new account made by an administrator (with no usable password yet); FormInvalid if the email is
    taken."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise FormInvalid({"email": text("Đã có tài khoản với email này",
                                         "An account with this email exists")}) from None


def save_official(session: Session, admin: Person, user_id: int | None, values: dict[str, Any],
                  known_roles: set[str]) -> OfficialView:
    """Create (``user_id`` None, with no usable password) or change an official's account: email (new accounts
    only), name, agency, roles (of ``known_roles``), active, reminders (the daily mail of tasks due). Tasks they can
    no longer do go back to the queue."""
    _check(admin)
    row = None if user_id is None else _official_row(session, user_id)
    email = str(values.get("email") or "").strip().lower()
    full_name = str(values.get("full_name") or "").strip()
    roles = sorted({str(r) for r in values.get("roles") or ()})
    agency_id = values.get("agency_id")
    errors = _identity_errors(row is None, email, full_name)
    the_agency = session.get(Agency, agency_id) if isinstance(agency_id, int) else None
    if the_agency is None:
        errors["agency_id"] = text("Chọn cơ quan của cán bộ", "Choose the official's agency")
    if not roles or not set(roles) <= known_roles:
        errors["roles"] = text("Chọn ít nhất một vai trò", "Choose at least one role")
    if errors:
        raise FormInvalid(errors)
    assert the_agency is not None
    if row is None:
        row = User(email=email, password_hash=HASHER.hash(secrets.token_urlsafe(32)), full_name=full_name,
                   kind="official", agency_id=the_agency.id, active=True, notify_by_mail=True)
        row.role_rows = [UserRole(role=r) for r in roles]
        _add_account(session, row)
    else:
        row.full_name, row.agency_id = full_name, the_agency.id
        row.active = bool(values.get("active", True))
        row.notify_by_mail = bool(values.get("reminders", True))
        kept = {r.role: r for r in row.role_rows}
        row.role_rows = [kept.get(r) or UserRole(role=r) for r in roles]
        session.flush()
        _release_what_they_cannot_do(session, row)
    session.expire(row, ["agency"])
    audit(session, None, admin, "official.saved", text(f"Lưu tài khoản cán bộ {row.email}",
                                                        f"Official account {row.email} saved"),
          detail={"user": row.id, "agency": row.agency_id, "roles": roles, "active": row.active})
    return _official_view(row)


# -- process designers' accounts (the designers' pages, engine.designs) ------------------------------------------------

@dataclass(frozen=True)
class DesignerView:
    id: int
    email: str
    full_name: str
    active: bool
    two_step: bool = False


def designers(session: Session, admin: Person) -> list[DesignerView]:
    _check(admin)
    rows = session.scalars(select(User).where(User.kind == "designer").order_by(User.full_name))
    return [DesignerView(u.id, u.email, u.full_name, u.active, u.two_step) for u in rows]


def designer(session: Session, admin: Person, user_id: int) -> DesignerView:
    _check(admin)
    found = _designer_row(session, user_id)
    return DesignerView(found.id, found.email, found.full_name, found.active, found.two_step)


def _designer_row(session: Session, user_id: int) -> User:
    found = session.get(User, user_id)
    if found is None or found.kind != "designer":
        raise NotFound(text("Không tìm thấy người thiết kế quy trình.", "Process designer not found."))
    return found


def save_designer(session: Session, admin: Person, user_id: int | None, values: dict[str, Any]) -> DesignerView:
    """Create (``user_id`` None, with no usable password: the caller mails the link that sets it) or change a process
    designer's account: email (new accounts only), name, active."""
    _check(admin)
    row = None if user_id is None else _designer_row(session, user_id)
    email = str(values.get("email") or "").strip().lower()
    full_name = str(values.get("full_name") or "").strip()
    errors = _identity_errors(row is None, email, full_name)
    if errors:
        raise FormInvalid(errors)
    if row is None:
        row = User(email=email, password_hash=HASHER.hash(secrets.token_urlsafe(32)), full_name=full_name,
                   kind="designer", active=True, notify_by_mail=False)
        _add_account(session, row)
    else:
        row.full_name, row.active = full_name, bool(values.get("active", True))
        session.flush()
    audit(session, None, admin, "designer.saved", text(f"Lưu tài khoản người thiết kế quy trình {row.email}",
                                                        f"Process designer account {row.email} saved"),
          detail={"user": row.id, "active": row.active})
    return DesignerView(row.id, row.email, row.full_name, row.active)


def _release_what_they_cannot_do(session: Session, user: User) -> int:
    """Put back in the queue the open tasks the official holds but may no longer do."""
    mine = HumanTask.claimed_by_id == user.id
    cannot = ~HumanTask.role.in_(sorted(user.roles)) | (HumanTask.agency_id != user.agency_id)
    if not user.active:
        cannot = HumanTask.id.is_not(None)
    return session.execute(update(HumanTask).where(mine, HumanTask.state == "open", cannot)
                           .values(claimed_by_id=None, claimed_at=None)
                           .execution_options(synchronize_session=False)).rowcount


def make_admin(session: Session, email: str, full_name: str, password: str, kind: str = "admin") -> tuple[User, bool]:
    """An administrator's account (or with ``kind`` "designer", a process designer's) with this email, created or
    given this name and password (how the first one comes to be, from the command line); the account and whether
    it is new. Raises FormInvalid."""
    if kind not in ("admin", "designer"):
        raise ValueError(kind)
    from .accounts import _check_name, _check_password

    email = email.strip().lower()
    errors: dict[str, Any] = {}
    if not EMAIL.fullmatch(email):
        errors["email"] = text("Địa chỉ email không hợp lệ", "The email address is not valid")
    _check_name(full_name.strip(), errors)
    _check_password(password, errors)
    found = session.scalar(select(User).where(User.email == email))
    if found is not None and found.kind != kind:
        errors["email"] = text("Email này là của một tài khoản khác loại",
                               "This email belongs to another kind of account")
    if errors:
        raise FormInvalid(errors)
    if found is None:
        found = User(email=email, kind=kind, full_name=full_name.strip(), password_hash=HASHER.hash(password),
                     active=True, notify_by_mail=False)
        session.add(found)
        new = True
    else:
        found.full_name, found.password_hash, found.active, new = full_name.strip(), HASHER.hash(password), True, False
    session.flush()
    return found, new


# -- an agency's own days ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgencyDayView:
    day: dt.date
    working: bool  # a make-up working day (else an extra day off)
    note: str | None


def agency_days(session: Session, admin: Person, agency_id: int) -> list[AgencyDayView]:
    """The agency's exceptions to the national calendar, by date."""
    agency(session, admin, agency_id)
    rows = session.scalars(select(AgencyDay).where(AgencyDay.agency_id == agency_id).order_by(AgencyDay.day))
    return [AgencyDayView(r.day, r.working, r.note) for r in rows]


def set_agency_day(session: Session, admin: Person, agency_id: int, day: Any, working: bool, note: str) -> None:
    """An extra day off, or a make-up working day (a Saturday worked for a bridge day), of the agency; due dates
    computed from now on count with it (those already set stay). Raises FormInvalid."""
    found = agency(session, admin, agency_id)
    errors: dict[str, Text] = {}
    parsed = day if isinstance(day, dt.date) else None
    if parsed is None:
        try:
            parsed = dt.date.fromisoformat(str(day or ""))
        except ValueError:
            errors["day"] = text("Nhập một ngày có thật", "Enter a real date")
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = text("Ghi chú tối đa 200 ký tự", "The note must be 200 characters or fewer")
    if errors:
        raise FormInvalid(errors)
    assert parsed is not None
    row = session.get(AgencyDay, (agency_id, parsed)) or AgencyDay(agency_id=agency_id, day=parsed)
    row.working, row.note = working, note or None
    session.add(row)
    session.flush()
    audit(session, None, admin, "agency.day", text(
        f"{found.code}: {parsed.isoformat()} {'là ngày làm việc bù' if working else 'là ngày nghỉ'}",
        f"{found.code}: {parsed.isoformat()} {'is a make-up working day' if working else 'is a day off'}"),
        detail={"agency": agency_id, "day": parsed.isoformat(), "working": working})


def remove_agency_day(session: Session, admin: Person, agency_id: int, day: dt.date) -> None:
    agency(session, admin, agency_id)
    row = session.get(AgencyDay, (agency_id, day))
    if row is None:
        raise NotFound(text("Không có ngày này trong lịch của cơ quan.", "No such day in the agency's calendar."))
    session.delete(row)
    session.flush()


# -- what administrators did ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AdminEvent:
    at: dt.datetime
    actor_name: str
    action: str
    label: Text


def admin_log(session: Session, admin: Person, limit: int = 100, offset: int = 0) -> list[AdminEvent]:
    """The administrators' changes (agencies, accounts, calendars), newest first: the audit events of no dossier."""
    _check(admin)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.dossier_id.is_(None),
                                                    AuditEvent.action.not_like("design.%"))  # (designers' own log)
                           .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset))
    return [AdminEvent(e.at, e.actor_name, e.action, text(e.label_vi, e.label_en)) for e in rows]

