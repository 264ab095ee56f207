"""Accounts: argon2id password hashes, citizens registering, officials created by an administrator."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import alerts, bounds, clock, logins
from .errors import FormInvalid, NotFound, ResetLinkInvalid
from .i18n import LANGUAGES, folded_name, text
from .models import Agency, LoginFailure, PasswordReset, Person, User, UserRole, password_stamp

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a login costs ~50 ms of one core and
# 19 MiB for a moment, instead of the library default's 64 MiB × 4 lanes, which dominated a web worker's memory
# peak and CPU. Hashes made with other parameters are upgraded at the next login.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TAKEN = text("Email này đã được dùng để đăng ký", "This email address is already registered")
PROFILE_KEYS = ("phone", "id_number", "birth_date", "address")
#: the profile prefills the forms, so it keeps to their limits: a name of at most 100 characters, an address of 300,
#: an email address of 200, a Vietnamese phone number
MAX_NAME, MAX_ADDRESS, MAX_EMAIL = 100, 300, 200
PHONE = re.compile(r"(\+84|0)\d{9,10}")
#: a person's date of birth: not in the future, and not before 1900 (a mistyped year, like 0990)
BIRTH_DATE_BOUNDS = {"not_before": "1900-01-01", "not_after": "today"}
#: a password-reset link works for an hour, once; an account gets at most 3 links in 15 minutes (no mail bombing)
RESET_VALID_FOR = dt.timedelta(hours=1)
RESET_LIMIT, RESET_WINDOW = 3, dt.timedelta(minutes=15)
# verifying against this keeps the time of a login for an unknown email like that of a known one
_DUMMY_HASH = HASHER.hash("not a real password")


@dataclass(frozen=True, slots=True)
class AgencyName:
    id: int
    name_vi: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Actor(Person):
    """The signed-in user of a request as a plain record, read in one query (:func:`actor`): what the engine's
    checks and the pages need, with none of an ORM object's loading and tracking. It changes nothing;
    :func:`update_profile` writes through the row."""

    id: int
    email: str
    full_name: str
    kind: str
    active: bool
    agency_id: int | None
    phone: str | None
    id_number: str | None
    birth_date: dt.date | None
    address: str | None
    roles: frozenset[str]
    agency: AgencyName | None
    password_stamp: str  # (models.password_stamp: the session keeps it, see Person.get_id)
    notify_by_mail: bool = True
    language: str = "vi"
    two_step: bool = False  # two-step login is on (engine.two_step)


# the user, their agency and one row per role (or one row with role NULL)
ACTOR = (select(User.id, User.email, User.full_name, User.kind, User.active, User.agency_id, User.phone,
                User.id_number, User.birth_date, User.address, User.password_hash, User.notify_by_mail, User.language,
                User.totp_secret, Agency.name_vi, Agency.name_en, UserRole.role)
         .outerjoin(Agency, Agency.id == User.agency_id).outerjoin(UserRole, UserRole.user_id == User.id)
         .where(User.id == bindparam("id")))


def actor(session: Session, user_id: int) -> Actor | None:
    """The user as an :class:`Actor`, or None. Read on the session's connection (a read of accounts needs no
    flush of the session's pending changes)."""
    rows = session.connection().execute(ACTOR, {"id": user_id}).all()
    if not rows:
        return None
    first = rows[0]
    return Actor(
        id=first.id, email=first.email, full_name=first.full_name, kind=first.kind, active=first.active,
        agency_id=first.agency_id, phone=first.phone, id_number=first.id_number, birth_date=first.birth_date,
        address=first.address, roles=frozenset(r.role for r in rows if r.role is not None),
        agency=AgencyName(first.agency_id, first.name_vi, first.name_en) if first.agency_id is not None else None,
        password_stamp=password_stamp(first.password_hash, first.totp_secret), notify_by_mail=first.notify_by_mail,
        language=first.language, two_step=first.totp_secret is not None,
    )


def _clean_profile(profile: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key in PROFILE_KEYS:
        value = profile.get(key)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            cleaned[key] = None
            continue
        if key == "id_number":
            value = re.sub(r"[\s.\-]", "", value)
            if not re.fullmatch(r"\d{12}", value):
                errors[key] = text("Số định danh cá nhân gồm 12 chữ số", "A personal ID number has 12 digits")
        elif key == "phone":
            value = re.sub(r"[\s.\-()]", "", value)
            if not PHONE.fullmatch(value):
                errors[key] = text("Nhập số điện thoại, ví dụ 0912345678", "Enter a phone number, like 0912345678")
        elif key == "address" and len(value) > MAX_ADDRESS:
            errors[key] = text(f"Địa chỉ không được quá {MAX_ADDRESS} ký tự",
                               f"Address must be {MAX_ADDRESS} characters or fewer")
        elif key == "birth_date" and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                errors[key] = text("Ngày sinh phải là một ngày có thật", "Date of birth must be a real date")
            else:
                problem = bounds.error(value, text("Ngày sinh", "Date of birth"), **BIRTH_DATE_BOUNDS)
                if problem is not None:
                    errors[key] = problem
        cleaned[key] = value
    return cleaned


def _clean_preferences(values: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """The person's choices about mail on their dossiers (:mod:`engine.notices`), those given."""
    cleaned: dict[str, Any] = {}
    if "notify_by_mail" in values:
        cleaned["notify_by_mail"] = bool(values["notify_by_mail"])
    if "language" in values:
        if values["language"] in LANGUAGES:
            cleaned["language"] = values["language"]
        else:
            errors["language"] = text("Chọn tiếng Việt hoặc tiếng Anh", "Choose Vietnamese or English")
    return cleaned


def _check_name(full_name: str, errors: dict[str, Any]) -> None:
    if not full_name:
        errors["full_name"] = text("Nhập họ và tên", "Enter your full name")
    elif len(full_name) > MAX_NAME:
        errors["full_name"] = text(f"Họ và tên không được quá {MAX_NAME} ký tự",
                                   f"Full name must be {MAX_NAME} characters or fewer")


def _check_password(password: str, errors: dict[str, Any]) -> bool:
    """Whether a new password is too short (the message is put in ``errors``)."""
    if len(password or "") >= MIN_PASSWORD:
        return False
    errors["password"] = text(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự",
                              f"Password must be at least {MIN_PASSWORD} characters")
    return True


def _set_password(session: Session, user: User, password: str, source: str | None) -> None:
    """A new password, from address ``source``: the account's reset links that are still open stop working, and
    the person is mailed (:mod:`engine.alerts`)."""
    user.password_hash = HASHER.hash(password)
    alerts.owed(session, "password", user, source)
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=clock.now()))


#: what an official may find an applicant by at the desk (the dossiers' list): an exact personal ID number, email
#: or phone number, as the profile keeps them, or their full name written with or without diacritics
NOT_AN_IDENTIFIER = text("Nhập số định danh cá nhân (12 chữ số), email, số điện thoại hoặc họ và tên của người nộp",
                         "Enter the applicant's personal ID number (12 digits), email, phone number or full name")
#: the most accounts one search names (one name may be many people's; an ID, email or phone is one or two's)
MOST_MATCHING = 200


def applicants_matching(session: Session, typed: str) -> list[int]:
    """The accounts whose personal ID number, email or phone number is ``typed`` (written as a person writes them:
    spaces, dots, a phone as 0… or +84…), or whose full name it is (with or without diacritics, any case, any
    spacing: :func:`~engine.i18n.folded_name`); FormInvalid (``applicant``) when it is none of these."""
    typed = (typed or "").strip()
    if "@" in typed:
        found = select(User.id).where(User.email == typed.lower())
    elif any(ch.isalpha() for ch in typed):
        found = select(User.id).where(User.name_folded == folded_name(typed)[:200], User.kind == "citizen")
    else:
        digits = re.sub(r"[\s.\-()]", "", typed)
        if re.fullmatch(r"\d{12}", digits):
            found = select(User.id).where(User.id_number == digits)
        elif PHONE.fullmatch(digits):
            national = digits[3:] if digits.startswith("+84") else digits[1:]
            found = select(User.id).where(User.phone.in_(["0" + national, "+84" + national]))
        else:
            raise FormInvalid({"applicant": NOT_AN_IDENTIFIER})
    return list(session.scalars(found.limit(MOST_MATCHING)))


def register_citizen(session: Session, email: str, password: str, full_name: str, source: str | None = None,
                     limit: int | None = None, hashed: str | None = None, **profile: Any) -> User:
    """A new citizen account. ``source`` is the client's address; with a ``limit``, an address that created that
    many accounts lately gets :class:`~engine.errors.TooManyRegistrations`, checked after the answers (a form with
    mistakes costs nothing and is not refused for this) and before the password is hashed. ``hashed``: the
    password's hash made already (the demo accounts share one)."""
    errors: dict[str, Any] = {}
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    if len(email) > MAX_EMAIL:
        errors["email"] = text(f"Địa chỉ email không được quá {MAX_EMAIL} ký tự",
                               f"Email address must be {MAX_EMAIL} characters or fewer")
    elif not EMAIL.match(email):
        errors["email"] = text("Nhập địa chỉ email đúng định dạng, ví dụ ten@example.com",
                               "Enter an email address in the correct format, like name@example.com")
    elif session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        errors["email"] = TAKEN
    _check_password(password, errors)
    _check_name(full_name, errors)
    cleaned = {**_clean_profile(profile, errors), **_clean_preferences(profile, errors)}
    if errors:
        raise FormInvalid(errors)
    if limit is not None:
        logins.check_registration(session, source, limit)
        logins.registered(session, source)
    user = User(email=email, password_hash=hashed or HASHER.hash(password), full_name=full_name, kind="citizen",
                **cleaned)
    try:
        with session.begin_nested():  # the same email sent twice at once (a double click): one account, one message
            session.add(user)
    except IntegrityError:
        raise FormInvalid({"email": TAKEN}) from None
    if source is not None:  # made from a request: the portal signs the new account in (the demo's are not)
        logins.signed_in(session, user.id, source, "register")
    return user


def update_profile(session: Session, person: Person, **profile: Any) -> None:
    errors: dict[str, Any] = {}
    if "full_name" in profile:
        _check_name(str(profile["full_name"] or "").strip(), errors)
    cleaned = {**_clean_profile(profile, errors), **_clean_preferences(profile, errors)}
    if errors:
        raise FormInvalid(errors)
    user = person if isinstance(person, User) else session.get(User, person.id)
    if user is None:
        raise NotFound(text("Không tìm thấy tài khoản.", "Account not found."))
    if "full_name" in profile:
        user.full_name = str(profile["full_name"]).strip()
    for key, value in cleaned.items():
        if key in profile:
            setattr(user, key, value)
    session.flush()


def create_official(session: Session, email: str, password: str, full_name: str, agency: Agency,
                    roles: list[str], kind: str = "official", hashed: str | None = None) -> User:
    user = User(email=email.lower(), password_hash=hashed or HASHER.hash(password), full_name=full_name, kind=kind,
                agency_id=agency.id if agency else None)
    user.role_rows = [UserRole(role=r) for r in roles]
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str, source: str | None = None) -> User | None:
    """The active account with this email and password, or None (the failure is counted). ``source`` is the
    client's address; :class:`~engine.errors.TooManyAttempts` is raised, before the password is checked, while
    failed logins from it or for this email are at their limits (:mod:`engine.logins`). The caller commits in both
    cases: a success may rehash the password, a failure is counted."""
    email = (email or "").strip().lower()
    earlier = logins.check(session, email, source)
    user = session.scalar(select(User).where(User.email == email))
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        logins.failed(session, email, source)
        return None
    if not user.two_step:  # (with two-step login, the login succeeds with its code: engine.two_step)
        if earlier:
            logins.succeeded(session, email, source)
        logins.signed_in(session, user.id, source, "password")
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


# -- a forgotten password --------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(session: Session, email: str) -> tuple[User, str] | None:
    """A new reset link's secret for the active account with this email, with the account; None when there is no
    such account or it was sent :data:`RESET_LIMIT` links lately (the caller says the same either way, so the
    page tells nothing about which emails have accounts). Only the secret's hash is stored."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.active:
        return None
    now = clock.now()
    recent = session.scalar(select(func.count()).select_from(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.created_at > now - RESET_WINDOW))
    if recent >= RESET_LIMIT:
        return None
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(user_id=user.id, token_hash=_token_hash(token), created_at=now,
                              expires_at=now + RESET_VALID_FOR))
    session.flush()
    return user, token


def _open_reset(session: Session, token: str) -> PasswordReset:
    row = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token or "")))
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise ResetLinkInvalid()
    return row


def reset_link_works(session: Session, token: str) -> bool:
    try:
        _open_reset(session, token)
    except ResetLinkInvalid:
        return False
    return True


def reset_password(session: Session, token: str, password: str, source: str | None = None) -> User:
    """Set a new password with a reset link's secret, from address ``source``: the link and every other link of
    the account stop working, and the account's failed logins are forgotten. Raises :class:`ResetLinkInvalid`, or
    :class:`FormInvalid` for a password too short."""
    row = _open_reset(session, token)
    errors: dict[str, Any] = {}
    if _check_password(password, errors):
        raise FormInvalid(errors)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise ResetLinkInvalid()
    _set_password(session, user, password, source)
    session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    session.flush()
    return user


def password_right(session: Session, user: User, password: str, source: str | None = None) -> bool:
    """Whether ``password`` is the signed-in person's own, asked again before a change to their account; a wrong
    one counts as a failed login from ``source`` (:mod:`engine.logins`)."""
    try:
        HASHER.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        logins.failed(session, user.email, source)
        return False
    return True


def change_password(session: Session, person: Person, current: str, new: str, source: str | None = None) -> User:
    """A signed-in person's new password, given their current one. A wrong current password counts as a failed
    login (:mod:`engine.logins`: the same limits, :class:`~engine.errors.TooManyAttempts`) and is reported as
    :class:`FormInvalid` (``current_password``), as is a new password too short (``password``); the caller commits
    either way, so that the failure is counted. Open reset links stop working."""
    logins.check(session, person.email, source)
    user = session.get(User, person.id)
    if user is None:
        raise NotFound(text("Không tìm thấy tài khoản.", "Account not found."))
    if not password_right(session, user, current, source):
        raise FormInvalid({"current_password": text("Mật khẩu hiện tại không đúng",
                                                     "The current password is not right")})
    errors: dict[str, Any] = {}
    if _check_password(new, errors):
        raise FormInvalid(errors)
    _set_password(session, user, new, source)
    session.flush()
    return user


def reset_mail(user: User, link: str, lang: str) -> tuple[str, str]:
    """The subject and body of the mail carrying a reset link, in the requester's language."""
    minutes = int(RESET_VALID_FOR.total_seconds() // 60)
    if lang == "en":
        body = (f"Hello {user.full_name},\n\n"
                f"We were asked to reset the password of the account {user.email} on the online one-stop shop.\n"
                f"To choose a new password, open this link within {minutes} minutes:\n\n{link}\n\n"
                "The link works once. If you did not ask for it, ignore this mail: your password has not changed.\n")
        return "Reset your password – Online one-stop shop", body
    body = (f"Xin chào {user.full_name},\n\n"
            f"Chúng tôi nhận được yêu cầu đặt lại mật khẩu của tài khoản {user.email} trên Cổng Một cửa trực tuyến.\n"
            f"Để đặt mật khẩu mới, hãy mở đường dẫn sau trong vòng {minutes} phút:\n\n{link}\n\n"
            "Đường dẫn chỉ dùng được một lần. Nếu bạn không yêu cầu, hãy bỏ qua thư này: mật khẩu của bạn không "
            "thay đổi.\n")
    return "Đặt lại mật khẩu – Một cửa trực tuyến", body
