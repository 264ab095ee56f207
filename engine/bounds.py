"""Bounds of a form's answers: motcua's keywords of a form's JSON Schema.

Dates, ``notAfter`` and ``notBefore``: a bound is ``"today"`` (the day in Vietnam by the engine's clock, so a date
of birth cannot be tomorrow and a scenario replayed at its own times sees its own today), an ISO date
(``"1900-01-01"``) or, on a field of the form itself, another date field of the form (``{"field":
"residence_1_from"}``: compared when both are given), or a list of these that must all hold. The bound itself is
allowed: ``notAfter: "today"`` accepts today.

Numbers, ``notAbove`` and ``notBelow``: ``"thisYear"`` (the year in Vietnam by the engine's clock: a year of
graduation cannot be next year), another number field of the form (``{"field": "land_area"}``), or a list of
these; other fixed limits are JSON Schema's own ``maximum`` and ``minimum``. The bound itself is allowed.

Fixed bounds, "today" and "thisYear" are checked by jsonschema (:data:`Validator`); a bound on another field needs
both answers, so :class:`engine.forms.FormDefinition` compares those (:func:`comparable`, :func:`broken`). The
messages are written here, in Vietnamese and English.
"""
from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from . import calendar
from .i18n import Text, text, tr

KEYWORDS = ("notAfter", "notBefore")  # dates
NUMBER_KEYWORDS = ("notAbove", "notBelow")  # numbers: this year or another field
TODAY = "today"
THIS_YEAR = "thisYear"
#: whether a value breaks a bound of the keyword
OUTSIDE: dict[str, Callable[[Any, Any], bool]] = {"notAfter": operator.gt, "notBefore": operator.lt,
                                                  "notAbove": operator.gt, "notBelow": operator.lt}
NUMBER_TYPES = ("number", "integer")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_date(value: Any) -> dt.date | None:
    """An ISO date string as a date; None for anything else (``format`` reports what is not a date)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def as_number(value: Any) -> float | None:
    """A number (not a boolean); None for anything else (``type`` reports what is not a number)."""
    return None if isinstance(value, bool) or not isinstance(value, int | float) else value


def comparable(keyword: str, answer: Any) -> Any:
    """An answer as the keyword compares it (a date or a number), or None when it is not one."""
    return as_number(answer) if keyword in NUMBER_KEYWORDS else as_date(answer)


def listed(value: Any) -> list[Any]:
    """A bound, or a list of bounds that must all hold, as a list."""
    return value if isinstance(value, list) and value else [value]


def broken(keyword: str, answer: Any, limit: Any) -> bool:
    return OUTSIDE[keyword](answer, limit)


def _day_of(bound: str) -> dt.date:
    return calendar.today() if bound == TODAY else dt.date.fromisoformat(bound)


def _limit_of(keyword: str, bound: str) -> Any:
    return calendar.today().year if keyword in NUMBER_KEYWORDS else _day_of(bound)


def _is_bound(value: Any) -> bool:
    return value == TODAY or as_date(value) is not None


def _keyword(keyword: str) -> Any:
    """The jsonschema keyword: the first fixed bound (today, a date, this year) the answer breaks, as the error's
    value."""

    def check(validator: Any, bounds: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        answer = comparable(keyword, instance)
        if answer is None:
            return  # not a date or a number: ``format`` or ``type`` says so
        for bound in listed(bounds):
            if isinstance(bound, dict):
                continue  # another field: compared by the form, which sees both answers
            if broken(keyword, answer, _limit_of(keyword, bound)):
                yield ValidationError(f"{instance} is not allowed by {keyword} {bound}", validator_value=bound)
                return

    return check


#: JSON Schema 2020-12 with the four keywords
Validator = validators.extend(Draft202012Validator, {k: _keyword(k) for k in (*KEYWORDS, *NUMBER_KEYWORDS)})


# -- a form definition's bounds --------------------------------------------------------------------------------

def schema_problems(node: Any, where: str = "") -> Iterator[str]:
    """Every bound anywhere in a schema that holds neither "today" or an ISO date (dates), "thisYear" (numbers) nor,
    on a field of the form itself (``/properties/<name>``), ``{"field": <name>}``; and a fixed ``notBefore`` after a
    fixed ``notAfter``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in KEYWORDS and key not in NUMBER_KEYWORDS:
                if key != "enum" and key != "const":
                    yield from schema_problems(value, f"{where}/{key}")
                continue
            for bound in listed(value):
                if isinstance(bound, dict) and list(bound) == ["field"] and isinstance(bound["field"], str):
                    if not re.fullmatch(r"/properties/[^/]+", where):
                        yield f"{where or '(root)'}: {key} on another field is allowed only on a field of the form"
                elif key in NUMBER_KEYWORDS:
                    if bound != THIS_YEAR:
                        yield (f"{where or '(root)'}: {key} must be \"thisYear\", {{\"field\": <a number field>}} or "
                               f"a list of them (other fixed limits are maximum and minimum), not {bound!r}")
                elif not _is_bound(bound):
                    yield (f"{where or '(root)'}: {key} must be \"today\", a date like \"1900-01-01\", "
                           f"{{\"field\": <a date field>}} or a list of them, not {bound!r}")
        fixed = all(k in node and isinstance(node[k], str) and _is_bound(node[k]) and node[k] != TODAY for k in KEYWORDS)
        if fixed and node["notBefore"] > node["notAfter"]:
            yield f"{where or '(root)'}: notBefore {node['notBefore']} is after notAfter {node['notAfter']}"
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from schema_problems(item, f"{where}/{i}")


def field_bounds(name: str, prop: dict[str, Any], ftype: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """A field's bounds on other fields, as (field, keyword, other field), and what is wrong with its bounds."""
    refs, problems = [], []
    for group, suits, what in ((KEYWORDS, prop.get("format") == "date" and ftype == "string",
                               "a date (type string, format date)"),
                              (NUMBER_KEYWORDS, ftype in NUMBER_TYPES, "a number (type number or integer)")):
        keywords = [k for k in group if k in prop]
        refs.extend((name, k, b["field"]) for k in keywords for b in listed(prop[k]) if isinstance(b, dict))
        if keywords and not suits:
            verb = "applies" if len(keywords) == 1 else "apply"
            problems.append(f"field '{name}': {' and '.join(keywords)} {verb} only to {what}")
    return refs, problems


def fits(keyword: str, ftype: str, fformat: str | None) -> bool:
    """Whether a field of this type can be the other field of ``keyword``."""
    return ftype in NUMBER_TYPES if keyword in NUMBER_KEYWORDS else fformat == "date"


# -- messages --------------------------------------------------------------------------------------------------

def message(keyword: str, bound: str, vi_label: str, en_label: str) -> Text:
    """A date past a fixed bound or today; a year past this year."""
    if keyword in NUMBER_KEYWORDS:
        year = calendar.today().year
        if keyword == "notAbove":
            return text(f"{vi_label} không được sau năm nay ({year})", f"{en_label} cannot be after this year ({year})")
        return text(f"{vi_label} không được trước năm nay ({year})", f"{en_label} cannot be before this year ({year})")
    if bound == TODAY:
        if keyword == "notAfter":
            return text(f"{vi_label} không được sau ngày hôm nay", f"{en_label} must be today or in the past")
        return text(f"{vi_label} không được trước ngày hôm nay", f"{en_label} must be today or in the future")
    shown = dt.date.fromisoformat(bound).strftime("%d/%m/%Y")
    if keyword == "notAfter":
        return text(f"{vi_label} không được sau ngày {shown}", f"{en_label} must be {shown} or earlier")
    return text(f"{vi_label} không được trước ngày {shown}", f"{en_label} must be {shown} or later")


def field_message(keyword: str, label: Text, other_label: Text) -> Text:
    """A date or a number past another field of the form."""
    vi, en = tr(label, "vi"), tr(label, "en")
    other_vi, other_en = tr(other_label, "vi").lower(), tr(other_label, "en").lower()
    words = {"notAfter": ("sau", "after"), "notBefore": ("trước", "before"),
             "notAbove": ("lớn hơn", "more than"), "notBelow": ("nhỏ hơn", "less than")}[keyword]
    return text(f"{vi} không được {words[0]} {other_vi}", f"{en} cannot be {words[1]} {other_en}")


def error(day: dt.date, label: Text, not_before: str | None = None, not_after: str | None = None) -> Text | None:
    """The message for ``day`` outside the bounds (as a schema's ``notBefore``/``notAfter``), or None: for a date
    that is not in a form (a profile's date of birth)."""
    for keyword, bound in (("notAfter", not_after), ("notBefore", not_before)):
        if bound is not None and broken(keyword, day, _day_of(bound)):
            return message(keyword, bound, tr(label, "vi"), tr(label, "en"))
    return None
