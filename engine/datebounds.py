"""Date bounds: motcua's ``notAfter`` and ``notBefore`` keywords of a form's JSON Schema.

A bound is ``"today"`` (the day in Vietnam by the engine's clock, so a date of birth cannot be tomorrow and a
scenario replayed at its own times sees its own today), an ISO date (``"1900-01-01"``) or, on a field of the form
itself, another date field of the form (``{"field": "residence_1_from"}``: compared when both are given), or a
list of these that must all hold. The bound itself is allowed: ``notAfter: "today"`` accepts today.

Fixed bounds and "today" are checked by jsonschema (:data:`Validator`); a bound on another field needs both
answers, so :class:`engine.forms.FormDefinition` compares those (:func:`broken`). The messages are written here,
in Vietnamese and English.
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

KEYWORDS = ("notAfter", "notBefore")
TODAY = "today"
#: whether a day breaks a bound of the keyword
OUTSIDE: dict[str, Callable[[dt.date, dt.date], bool]] = {"notAfter": operator.gt, "notBefore": operator.lt}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_date(value: Any) -> dt.date | None:
    """An ISO date string as a date; None for anything else (``format`` reports what is not a date)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def listed(value: Any) -> list[Any]:
    """A bound, or a list of bounds that must all hold, as a list."""
    return value if isinstance(value, list) and value else [value]


def broken(keyword: str, day: dt.date, limit: dt.date) -> bool:
    return OUTSIDE[keyword](day, limit)


def _day_of(bound: str) -> dt.date:
    return calendar.today() if bound == TODAY else dt.date.fromisoformat(bound)


def _is_bound(value: Any) -> bool:
    return value == TODAY or as_date(value) is not None


def _keyword(keyword: str) -> Any:
    """The jsonschema keyword: the first fixed bound (or today) the date breaks, as the error's value."""

    def check(validator: Any, bounds: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        day = as_date(instance)
        if day is None:
            return  # not a date: ``format`` says so
        for bound in listed(bounds):
            if isinstance(bound, dict):
                continue  # another field: compared by the form, which sees both answers
            if broken(keyword, day, _day_of(bound)):
                yield ValidationError(f"{instance} is not allowed by {keyword} {bound}", validator_value=bound)
                return

    return check


#: JSON Schema 2020-12 with the two keywords
Validator = validators.extend(Draft202012Validator, {k: _keyword(k) for k in KEYWORDS})


# -- a form definition's bounds --------------------------------------------------------------------------------

def schema_problems(node: Any, where: str = "") -> Iterator[str]:
    """Every bound anywhere in a schema that holds neither "today", an ISO date nor, on a field of the form itself
    (``/properties/<name>``), ``{"field": <name>}``; and a fixed ``notBefore`` after a fixed ``notAfter``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in KEYWORDS:
                if key != "enum" and key != "const":
                    yield from schema_problems(value, f"{where}/{key}")
                continue
            for bound in listed(value):
                if isinstance(bound, dict) and list(bound) == ["field"] and isinstance(bound["field"], str):
                    if not re.fullmatch(r"/properties/[^/]+", where):
                        yield f"{where or '(root)'}: {key} on another field is allowed only on a field of the form"
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
    keywords = [k for k in KEYWORDS if k in prop]
    refs = [(name, k, b["field"]) for k in keywords for b in listed(prop[k]) if isinstance(b, dict)]
    problems = []
    if keywords and (prop.get("format") != "date" or ftype != "string"):
        verb = "applies" if len(keywords) == 1 else "apply"
        problems.append(f"field '{name}': {' and '.join(keywords)} {verb} only to a date (type string, format date)")
    return refs, problems


# -- messages --------------------------------------------------------------------------------------------------

def message(keyword: str, bound: str, vi_label: str, en_label: str) -> Text:
    """A date past a fixed bound or today."""
    if bound == TODAY:
        if keyword == "notAfter":
            return text(f"{vi_label} không được sau ngày hôm nay", f"{en_label} must be today or in the past")
        return text(f"{vi_label} không được trước ngày hôm nay", f"{en_label} must be today or in the future")
    shown = dt.date.fromisoformat(bound).strftime("%d/%m/%Y")
    if keyword == "notAfter":
        return text(f"{vi_label} không được sau ngày {shown}", f"{en_label} must be {shown} or earlier")
    return text(f"{vi_label} không được trước ngày {shown}", f"{en_label} must be {shown} or later")


def field_message(keyword: str, label: Text, other_label: Text) -> Text:
    """A date past another date of the form."""
    vi, en = tr(label, "vi"), tr(label, "en")
    other_vi, other_en = tr(other_label, "vi").lower(), tr(other_label, "en").lower()
    if keyword == "notAfter":
        return text(f"{vi} không được sau {other_vi}", f"{en} cannot be after {other_en}")
    return text(f"{vi} không được trước {other_vi}", f"{en} cannot be before {other_en}")


def error(day: dt.date, label: Text, not_before: str | None = None, not_after: str | None = None) -> Text | None:
    """The message for ``day`` outside the bounds (as a schema's ``notBefore``/``notAfter``), or None: for a date
    that is not in a form (a profile's date of birth)."""
    for keyword, bound in (("notAfter", not_after), ("notBefore", not_before)):
        if bound is not None and broken(keyword, day, _day_of(bound)):
            return message(keyword, bound, tr(label, "vi"), tr(label, "en"))
    return None
