"""Turning a request into form data and back, for the templates (the rules themselves live in engine.forms)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.forms import FormDefinition, Page

from .ui import t


def page_of(form: FormDefinition, page_id: str | None) -> tuple[int, Page] | None:
    for i, page in enumerate(form.pages):
        if page.id == page_id or (page_id is None and i == 0):
            return i, page
    return None


def read(form: FormDefinition, raw: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values of ``fields`` from a POST, and their problems in the reader's language.

    Fields left empty are returned as None so that a saved draft forgets what the person removed.
    """
    data = form.without_unused(form.coerce(raw, only=fields), whole=False)  # (an answer that no longer applies)
    errors = {name: t(msg) for name, msg in form.errors(data, only=fields).items()}
    return {name: data.get(name) for name in fields}, errors


def error_list(form: FormDefinition, errors: Mapping[str, str], href: Any = None) -> list[dict[str, str]]:
    """Items of the error summary; each links to its field (the first box of a date). ``href(name, anchor)``,
    when given, makes the link (to the field on another page)."""
    items = []
    for name, message in errors.items():
        f = form.fields.get(name)
        anchor = f"#{name}"
        if f is not None and f.widget == "date":
            anchor = f"#{name}-day"
        elif f is not None and f.widget == "radio" and f.options:
            anchor = f"#{name}"  # the first radio carries the field's id
        items.append({"text": message, "href": href(name, anchor) if href else anchor})
    return items


def summary(form: FormDefinition, values: Mapping[str, Any], lang: str) -> list[tuple[Page, list[tuple[str, str, str]]]]:
    """(page, [(field name, label, shown value)]) for a check-answers page."""
    out = []
    unused = set(form.unused(values))
    for page in form.pages:
        rows = []
        for name in page.fields:
            if name in unused:
                continue
            f = form.fields[name]
            rows.append((name, t(f.label), f.display(values.get(name), lang)))
        out.append((page, rows))
    return out
