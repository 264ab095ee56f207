"""What every template needs: the current language, bilingual texts, local times, status tags, headers."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, request
from flask_babel import get_locale

from engine.i18n import tr
from engine.models import utcnow

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
STATUS_TAG = {
    "draft": "govuk-tag--grey", "receiving": "govuk-tag--blue", "new": "govuk-tag--light-blue",
    "denied": "govuk-tag--red", "processing": "govuk-tag--purple", "waiting": "govuk-tag--yellow",
    "paying": "govuk-tag--orange", "cancelled": "govuk-tag--grey", "unresolved": "govuk-tag--pink",
    "releasing": "govuk-tag--turquoise", "done": "govuk-tag--green",
}


CLASSIFICATION = {
    "early": {"vi": "Trước hạn", "en": "Early"}, "on_time": {"vi": "Đúng hạn", "en": "On time"},
    "late": {"vi": "Quá hạn", "en": "Late"}, "within_time": {"vi": "Trong hạn", "en": "Within time"},
}


def lang() -> str:
    return str(get_locale() or "vi")


def t(value: Any) -> str:
    """A bilingual text in the reader's language."""
    return tr(value, lang())


def local_time(value: dt.datetime | None, with_time: bool = True) -> str:
    """A stored UTC time shown in Vietnam's time zone, dd/mm/yyyy HH:MM."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    local = value.astimezone(LOCAL)
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def security_headers(response: Response) -> Response:
    nonce = g.get("csp_nonce", "")
    script = f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'"
    response.headers.setdefault("Content-Security-Policy", (
        f"default-src 'self'; {script}; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint and request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"  # pages carry personal data
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.filters["t"] = t
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = lambda v: local_time(v, with_time=False)
    app.jinja_env.globals.update(now_utc=utcnow, lang=lang, csp_nonce=csp_nonce, STATUS_TAG=STATUS_TAG, CLASSIFICATION=CLASSIFICATION)
    app.after_request(security_headers)
