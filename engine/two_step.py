"""Two-step login ("xác thực hai bước"): after the password, a six-digit code from an authenticator app on the
person's phone, or one of their recovery codes.

The codes are TOTP (RFC 6238) as every authenticator app reads them from a QR code: 30-second steps, six digits,
HMAC-SHA-1. A code is taken for the current step or the one before or after (a phone's clock a little off), and
never for a step at or before the last one taken, so a code seen over someone's shoulder cannot be used again.
Wrong codes count as failed logins (engine.logins: the same waits), so six digits cannot be guessed.

Anyone turns it on for their own account with their password and a first code (proving the app has the secret);
they then get :data:`RECOVERY_CODES` recovery codes, shown once and kept as SHA-256 hashes, each good for one login
when the phone is lost. Turning it on or off changes the account's session stamp (models.password_stamp): every
other session of the account ends. An administrator turns it off for an official who lost their phone and their
codes. The secret is kept in the database sealed (engine.sealed), under a key kept apart from it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import alerts, clock, logins, sealed
from .accounts import password_right
from .config import Settings
from .dossiers import audit
from .errors import EngineError, Forbidden, FormInvalid, NotFound
from .i18n import Text, text
from .models import Person, User

log = logging.getLogger("motcua.two_step")

ISSUER = "Một cửa motcua"
RECOVERY_CODES = 10
STEP = 30
#: a secret as pyotp makes them: base32, 160 bits
SECRET = re.compile(r"[A-Z2-7]{32}")
#: a recovery code: ten characters of an alphabet without look-alikes, shown as two groups of five
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WRONG_PASSWORD = text("Mật khẩu không đúng", "The password is not right")
WRONG_CODE = text("Mã không đúng hoặc đã dùng. Nhập mã đang hiện trong ứng dụng xác thực, hoặc một mã dự phòng.",
                  "The code is wrong or was used already. Enter the code your authenticator app shows now, or a "
                  "recovery code.")


@dataclass(frozen=True)
class Setup:
    """A new secret for a person to add to their app: as text and as the ``otpauth://`` address a QR code carries."""

    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        """The secret in groups of four, for typing it into an app by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def setup_for(person: Person, secret: str | None = None) -> Setup:
    """A new secret for ``person`` (or ``secret`` again, while they set it up)."""
    import pyotp

    secret = secret if secret and SECRET.fullmatch(secret) else pyotp.random_base32()
    return Setup(secret, pyotp.TOTP(secret).provisioning_uri(name=person.email, issuer_name=ISSUER))


def _step_taken(secret: str, code: str, after: int | None) -> int | None:
    """The time step ``code`` is right for (now, or one step off), if it is after step ``after``; else None."""
    import pyotp

    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now().replace(tzinfo=dt.timezone.utc)
    for offset in (0, -1, 1):
        moment = now + dt.timedelta(seconds=offset * STEP)
        step = totp.timecode(moment)
        if (after is None or step > after) and hmac.compare_digest(totp.at(moment), code):
            return step
    return None


def _clean(code: Any) -> str:
    return re.sub(r"[\s-]", "", str(code or "")).lower()[:40]


def _hash(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _row(session: Session, person: Person, lock: bool = False) -> User:
    query = select(User).where(User.id == person.id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(text("Không tìm thấy tài khoản.", "Account not found."))
    return row


def enable(session: Session, settings: Settings, person: Person, secret: str, code: str, password: str,
           source: str | None = None) -> list[str]:
    """Turn two-step login on with ``secret`` (the one the person's app has, kept sealed: engine.sealed), given a
    code the app shows and the password; the recovery codes, to show once. Raises FormInvalid (``code``,
    ``password``), TooManyAttempts, EngineError when it is on already, and sealed.NoKey when the server has no key
    to keep the secret with (before anything is counted). The caller commits either way (a wrong password is
    counted)."""
    if not settings.data_keys:
        raise sealed.NoKey()
    logins.check(session, person.email, source)
    row = _row(session, person, lock=True)
    if row.totp_secret is not None:
        raise EngineError(text("Xác thực hai bước đã bật.", "Two-step login is on already."))
    if not SECRET.fullmatch(secret or ""):
        raise EngineError(text("Mã bí mật không hợp lệ: hãy bắt đầu lại.", "The secret is not valid: start again."))
    errors: dict[str, Text] = {}
    step = _step_taken(secret, _clean(code), None)
    if step is None:
        errors["code"] = text("Mã không đúng. Nhập mã 6 chữ số đang hiện trong ứng dụng.",
                              "The code is wrong. Enter the 6-digit code the app shows now.")
    if not password_right(session, row, password, source):
        errors["password"] = WRONG_PASSWORD
    if errors:
        raise FormInvalid(errors)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    row.totp_secret, row.totp_last_step = sealed.seal(settings, secret), step
    row.totp_recovery = [_hash(c) for c in codes]
    audit(session, None, row, "account.two_step", text("Bật xác thực hai bước", "Turned two-step login on"))
    alerts.owed(session, "two_step_on", row, source)
    session.flush()
    return codes


def disable(session: Session, person: Person, password: str, source: str | None = None) -> None:
    """Turn two-step login off, given the password (FormInvalid ``password``, counted; TooManyAttempts)."""
    logins.check(session, person.email, source)
    row = _row(session, person, lock=True)
    if not password_right(session, row, password, source):
        raise FormInvalid({"password": WRONG_PASSWORD})
    if row.totp_secret is not None:
        _off(row)
        audit(session, None, row, "account.two_step", text("Tắt xác thực hai bước", "Turned two-step login off"))
        alerts.owed(session, "two_step_off", row, source)
    session.flush()


def new_recovery_codes(session: Session, person: Person, password: str, source: str | None = None) -> list[str]:
    """Ten new recovery codes, given the password (FormInvalid ``password``, counted; TooManyAttempts); the old ones
    stop working. EngineError when two-step login is off."""
    logins.check(session, person.email, source)
    row = _row(session, person, lock=True)
    if row.totp_secret is None:
        raise EngineError(text("Xác thực hai bước đang tắt.", "Two-step login is off."))
    if not password_right(session, row, password, source):
        raise FormInvalid({"password": WRONG_PASSWORD})
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    row.totp_recovery = [_hash(c) for c in codes]
    audit(session, None, row, "account.two_step", text("Tạo mã dự phòng mới", "Made new recovery codes"))
    alerts.owed(session, "recovery_new", row, source)
    session.flush()
    return codes


def reset(session: Session, admin: Person, user_id: int) -> User:
    """An administrator turns two-step login off for a staff account whose phone and codes are lost (a citizen's,
    by the portal's operator: :func:`turn_off`, ``motcua two-step-off``)."""
    if not admin.is_admin:
        raise Forbidden(text("Chỉ quản trị viên mới làm được việc này.", "Only administrators can do this."))
    row = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if row is None or row.kind == "citizen":
        raise NotFound(text("Không tìm thấy tài khoản.", "Account not found."))
    return _turned_off(session, row, admin)


def turn_off(session: Session, email: str) -> User | None:
    """The portal's operator turns two-step login off for any account (one who proved who they are at the desk);
    the account, or None if there is none with that email."""
    row = session.scalar(select(User).where(User.email == (email or "").strip().lower()).with_for_update())
    return _turned_off(session, row, None) if row is not None else None


def _turned_off(session: Session, row: User, by: Person | None) -> User:
    if row.totp_secret is not None:
        _off(row)
        audit(session, None, by, "account.two_step",
              text(f"Tắt xác thực hai bước của {row.email}", f"Turned two-step login off for {row.email}"))
        alerts.owed(session, "two_step_reset", row)
    session.flush()
    return row


def _off(row: User) -> None:
    row.totp_secret, row.totp_last_step, row.totp_recovery = None, None, None


@dataclass(frozen=True)
class Verified:
    """A second step passed: the account, and the recovery codes left if one was used (None: the app's code)."""

    user: User
    recovery_left: int | None = None


def verify(session: Session, settings: Settings, user_id: int, code: str,
           source: str | None = None) -> Verified | None:
    """The login's second step: the active account whose password was just checked, if ``code`` is a code its app
    shows now (not one taken already) or one of its recovery codes (used up); otherwise None, counted as a failed
    login. Raises TooManyAttempts while the account's failures are at their limits, and sealed.Unreadable when the
    account's secret cannot be opened (the key changed; not counted: the person is not at fault) and the code is not
    one of its recovery codes. The caller commits."""
    row = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if row is None or not row.active or row.totp_secret is None:
        return None
    logins.check(session, row.email, source)
    cleaned = _clean(code)
    try:
        secret: str | None = sealed.opened(settings, row.totp_secret)
    except sealed.Unreadable:  # (the key changed or is missing: a recovery code still works)
        log.error("the two-step secret of account %s cannot be opened: check MOTCUA_DATA_KEY", row.id)
        secret = None
    step = _step_taken(secret, cleaned, row.totp_last_step) if secret is not None else None
    left = None
    if step is not None:
        row.totp_last_step = step
    elif cleaned and _hash(cleaned) in (row.totp_recovery or []):
        row.totp_recovery = [h for h in row.totp_recovery if h != _hash(cleaned)]
        left = len(row.totp_recovery)
        audit(session, None, row, "account.two_step", text(f"Đăng nhập bằng mã dự phòng (còn {left} mã)",
                                                           f"Logged in with a recovery code ({left} left)"))
        alerts.owed(session, "recovery_code", row, source, left)
    elif secret is None:
        raise sealed.Unreadable()
    else:
        logins.failed(session, row.email, source)
        return None
    logins.succeeded(session, row.email, source)
    logins.signed_in(session, row.id, source, "code" if left is None else "recovery")
    session.flush()
    return Verified(row, left)


def recovery_left(session: Session, person: Person) -> int:
    return len(_row(session, person).totp_recovery or [])


def reseal(session: Session, settings: Settings) -> tuple[int, list[int]]:
    """Seal every two-step secret again with the first key of MOTCUA_DATA_KEY (after adding a new key in front,
    or for secrets kept before sealing came in): (how many were sealed again, the accounts whose secret no key
    opens, left as they are). Those accounts' other sessions end (the stored value is part of the session stamp).
    Raises sealed.NoKey without a key. The caller commits."""
    if not settings.data_keys:
        raise sealed.NoKey()
    done, unreadable = 0, []
    for row in session.scalars(select(User).where(User.totp_secret.is_not(None)).order_by(User.id)
                               .with_for_update()):
        if sealed.sealed_with_first(settings, row.totp_secret):
            continue
        try:
            row.totp_secret = sealed.seal(settings, sealed.opened(settings, row.totp_secret))
        except sealed.Unreadable:
            unreadable.append(row.id)
            continue
        done += 1
    session.flush()
    return done, unreadable
