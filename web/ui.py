"""What every template needs: the current language, bilingual texts, local times, status tags, headers."""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, request
from flask_babel import get_locale, get_translations
from jinja2 import Environment, TemplateRuntimeError, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

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


_I18N = "motcua_i18n"


def _i18n() -> tuple[str, Any]:
    """The request's language and its message catalog, looked up once per request.

    Flask-Babel settles both at the request's first lookup (it keeps the locale in ``g`` for the request and
    caches the catalog by locale), but each of its lookups reads several context locals and formats the locale
    again: about 5 µs for every ``_()`` of a page, and a page has dozens. Kept in ``g`` like Flask-Babel's.
    """
    found = g.get(_I18N)
    if found is None:
        found = (str(get_locale() or "vi"), get_translations())
        setattr(g, _I18N, found)
    return found


def lang() -> str:
    return _i18n()[0]


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


def filesize(size: int) -> str:
    """A file's size as people read it: 350 KB, 2,4 MB (in the reader's number format)."""
    from flask_babel import format_decimal

    if size < 1024 * 1024:
        return f"{format_decimal(max(1, round(size / 1024)))} KB"
    return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


def money(amount: int) -> str:
    """An amount of đồng in the reader's language (16.000 đồng, VND 16,000)."""
    from engine.payments import money as written

    return written(amount, lang())


def qr_svg(payload: str, label: str) -> Markup:
    """A QR code drawn as inline SVG (no script, no image request), named for screen readers by ``label``."""
    import segno

    svg = segno.make(payload, error="m").svg_inline(scale=4, border=4, title=label, svgclass="app-qr")
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


#: the first year the statistics pages offer
FIRST_YEAR = 2020


def period_asked(args: Mapping[str, str], by_month: bool) -> tuple[int, int | None, int] | None:
    """The period a statistics page's address asks for (``?nam=&thang=``; without them this month, or this year when
    not ``by_month``): (year, month or None for the year, this year); None for a period out of range."""
    from engine import calendar
    from engine.db import number_from

    today = calendar.to_local(utcnow()).date()
    year = number_from(args.get("nam") or str(today.year), digits=4)
    month_arg = args.get("thang", "" if "nam" in args or not by_month else str(today.month))
    month = number_from(month_arg, digits=2)
    if year is None or not FIRST_YEAR <= year <= today.year + 1 or (month is not None and not 1 <= month <= 12):
        return None
    return year, month, today.year


def month_names() -> dict[int, str]:
    """The months' names in the reader's language, by number."""
    from babel.dates import get_month_names
    from flask_babel import gettext

    if lang() == "en":
        return dict(get_month_names("wide", locale="en"))
    return {m: gettext("Tháng %(month)d", month=m) for m in range(1, 13)}


def period_name(year: int, month: int | None) -> str:
    """A statistics page's period as the reader says it: "Tháng 11/2026", "November 2026", "Năm 2026"."""
    from flask_babel import gettext

    if month is None:
        return gettext("Năm %(year)d", year=year)
    return f"{month_names()[month]} {year}" if lang() == "en" else gettext("Tháng %(month)d/%(year)d", month=month,
                                                                             year=year)


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


def lean_params(component: str, params: Any, *supported: str) -> str:
    """Stop a page that passes one of our govuk-frontend components (templates/macros/govuk.html) a parameter
    it does not write, instead of leaving it out unseen."""
    unsupported = sorted(set(params) - set(supported)) if isinstance(params, dict) else ["(not a mapping)"]
    if unsupported:
        raise TemplateRuntimeError(f"{component}: unsupported parameters {unsupported}; use govuk-frontend-jinja's "
                                   "macro or add them to templates/macros/govuk.html")
    return ""


def lean_rows(rows: Any) -> str:
    """lean_params for every row of a govukSummaryList at once (one call from the template instead of four or more
    per row): a row, its key, its value, its actions or an action with a parameter our component does not write
    stops the page, before any row is written."""
    for row in rows:
        lean_params("a row of govukSummaryList", row, "key", "value", "actions")
        lean_params("a row's key in govukSummaryList", row.get("key"), "text")
        lean_params("a row's value in govukSummaryList", row.get("value"), "text", "html")
        if row.get("actions"):
            lean_params("a row's actions in govukSummaryList", row["actions"], "items")
            for action in row["actions"].get("items") or ():
                lean_params("an action of govukSummaryList", action, "href", "text", "visuallyHiddenText")
    return ""


def answer_rows(rows: Any, reader: str) -> list[dict[str, Any]]:
    """A form's answers (label, value in each language) as govukSummaryList rows in the reader's language; an
    answer without a text in either language shows a dash."""
    return [{"key": {"text": tr(label, reader)},
             "value": {"text": (value.get(reader) or value.get("vi") if isinstance(value, Mapping) else None) or "–"}}
            for label, value in rows]


#: rendered fragments by template environment
_FRAGMENTS: WeakKeyDictionary[Environment, dict[tuple[Any, ...], tuple[Markup, ...]]] = WeakKeyDictionary()
#: fragments kept per environment at most: their keys come from a small set (languages, kinds of visitor, the
#: app's endpoints); past this, something put an open-ended value in a key, and fragments are rendered each time
FRAGMENTS_KEPT = 512
#: where a kept fragment takes the markup of the request (``fill``); text that escaping leaves as it is
_FILL = "\u2063motcua-fill\u2063"


@pass_context
def fragment(context: Context, *key: Any, caller: Any, fill: Markup | None = None) -> Markup:
    """``{% call fragment(key…) %}…{% endcall %}``: the block's output, rendered once per template environment,
    template rendered (a page's, for the layout it extends) and ``key``, and then reused. Keys are best named
    after the block: two blocks with one key in one page would share the first's output. Only for markup that
    nothing outside the key changes: every value the block reads that may differ between requests (the
    language, the kind of visitor, the page's endpoint) must be in the key. With ``fill``, the block takes one
    argument, ``{% call(fill) fragment(key…, fill=markup) %}``, and writes it once where this request's
    ``markup`` goes (escaped, as ``{{ }}`` would write it).

    Nothing is kept while templates reload when their files change (``auto_reload``, as in debug mode): a kept
    fragment would not change with its file."""
    environment = context.environment
    kept = {} if environment.auto_reload else _FRAGMENTS.get(environment)
    if kept is None:
        kept = _FRAGMENTS.setdefault(environment, {})
    full_key = (context.name, fill is None, *key)
    parts = kept.get(full_key)
    if parts is None:
        if fill is None:
            parts = (Markup(caller()),)
        else:
            parts = tuple(Markup(part) for part in str(caller(Markup(_FILL))).split(_FILL))
            if len(parts) != 2:
                raise TemplateRuntimeError(f"fragment {key!r}: its fill is written {len(parts) - 1} times, not once")
        if len(kept) < FRAGMENTS_KEPT:
            kept[full_key] = parts
    if fill is None:
        return parts[0]
    return parts[0] + escape(fill) + parts[1]


def return_address() -> str | None:
    """Where the language switch comes back to: this page, or, after a form was sent (a page shown with its
    errors), the same address read afresh when it has a page of its own (what was typed and not saved is lost),
    else the home page."""
    if request.method in ("GET", "HEAD"):
        return request.full_path
    rule = request.url_rule
    return request.path if rule is not None and rule.methods and "GET" in rule.methods else None


def init_app(app: Flask) -> None:
    # the same callables as Flask-Babel's (installed by babel.init_app), reading the request's catalog once
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _i18n()[1].ugettext(s),
        ngettext=lambda s, p, n: _i18n()[1].ungettext(s, p, n),
        pgettext=lambda c, s: _i18n()[1].upgettext(c, s),
        npgettext=lambda c, s, p, n: _i18n()[1].unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["t"] = t
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = lambda v: local_time(v, with_time=False)
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["money"] = money
    app.jinja_env.globals["qr_svg"] = qr_svg
    app.jinja_env.globals.update(now_utc=utcnow, lang=lang, csp_nonce=csp_nonce, lean_params=lean_params,
                                 lean_rows=lean_rows, answer_rows=answer_rows, fragment=fragment, return_address=return_address,
                                 STATUS_TAG=STATUS_TAG, CLASSIFICATION=CLASSIFICATION)
    app.after_request(security_headers)
