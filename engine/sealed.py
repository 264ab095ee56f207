"""Secrets the portal must keep readable but not in the clear: the authenticator secrets of two-step login
(engine.two_step). A copy of the database (a backup, a dump, a replica) without the key does not let anyone make a
person's codes.

They are sealed with Fernet (AES-128-CBC and HMAC-SHA-256, from ``cryptography``) under a key derived (HKDF-SHA-256)
from ``MOTCUA_DATA_KEY``: kept apart from the database, the same on every server. It may list several keys, comma
separated, to change them: the first seals, any opens; ``motcua reseal`` then seals everything again with the first,
after which the old one can go. Without a key (neither the variable nor, in development, ``instance/data_key``),
nothing new is sealed: two-step login cannot be turned on, and says why. A value stored before sealing came in
(no ``v1:`` prefix) is read as it is, until ``motcua reseal``.
"""
from __future__ import annotations

import base64
import dataclasses
from functools import lru_cache

from .config import Settings
from .errors import EngineError
from .i18n import text

PREFIX = "v1:"


class NoKey(EngineError):
    message = text("Máy chủ chưa có khóa để cất giữ mã bí mật (MOTCUA_DATA_KEY), nên chưa bật được xác thực hai "
                   "bước. Vui lòng báo quản trị viên của cổng.",
                   "The server has no key to keep secrets with (MOTCUA_DATA_KEY), so two-step login cannot be turned "
                   "on yet. Please tell the portal's administrator.")


class Unreadable(EngineError):
    message = text("Máy chủ không đọc được mã bí mật của tài khoản (khóa MOTCUA_DATA_KEY đã đổi?). Vui lòng báo quản "
                   "trị viên của cổng.",
                   "The server cannot read the account's secret (was MOTCUA_DATA_KEY changed?). Please tell the "
                   "portal's administrator.")


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]):  # noqa: ANN202
    from cryptography.fernet import Fernet, MultiFernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def derived(key: str) -> Fernet:
        raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"motcua sealed secrets v1").derive(
            key.encode())
        return Fernet(base64.urlsafe_b64encode(raw))

    return MultiFernet([derived(k) for k in keys])


def seal(settings: Settings, plain: str) -> str:
    """``plain`` sealed with the first key; NoKey when there is none."""
    if not settings.data_keys:
        raise NoKey()
    return PREFIX + _fernet(settings.data_keys).encrypt(plain.encode()).decode()


def opened(settings: Settings, stored: str) -> str:
    """The secret ``stored`` holds (a value from before sealing, as it is); Unreadable when no key opens it."""
    if not stored.startswith(PREFIX):
        return stored
    from cryptography.fernet import InvalidToken

    if not settings.data_keys:
        raise Unreadable()
    try:
        return _fernet(settings.data_keys).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise Unreadable() from None


def sealed_with_first(settings: Settings, stored: str) -> bool:
    """Whether ``stored`` is sealed with the first key already (nothing for ``motcua reseal`` to do)."""
    if not stored.startswith(PREFIX) or not settings.data_keys:
        return False
    try:
        opened(dataclasses.replace(settings, data_keys=settings.data_keys[:1]), stored)
    except Unreadable:
        return False
    return True
