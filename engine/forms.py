"""Form definitions: a JSON Schema (the truth) plus a UI schema (labels vi/en, widgets, pages).

A form turns raw HTML input into typed data (:meth:`FormDefinition.coerce`), validates it with jsonschema
reporting every error at once in Vietnamese and English (:meth:`FormDefinition.errors`), and turns typed data
back into raw input for redisplay (:meth:`FormDefinition.to_raw`).
Besides JSON Schema's own keywords, a date may be bounded with ``notAfter`` and ``notBefore`` and a number with
``notAbove`` and ``notBelow`` (:mod:`engine.bounds`), and a field may apply only when another answer says so
(``ui:onlyWhen``).
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from . import bounds
from .db import number_from
from .i18n import Text, missing_languages, text, tr

WIDGETS = ("text", "textarea", "date", "radio", "select", "number", "checkbox", "email", "tel")
PROFILE_FIELDS = ("full_name", "birth_date", "id_number", "phone", "email", "address")
DATE_PARTS = ("day", "month", "year")
_VI_MARKS = str.maketrans({",": ".", ".": ","})  # 1,234.5 → 1.234,5


@dataclass(frozen=True)
class Field:
    """One input of a form, as the web layer renders it."""

    name: str
    type: str  # string | integer | number | boolean
    widget: str
    label: Text
    help: Text | None = None
    required: bool = False
    options: tuple[tuple[str, Text], ...] = ()
    autocomplete: str | None = None
    prefill: str | None = None
    max_length: int | None = None
    format: str | None = None
    #: (other field, the values of it under which this field applies): "ui:onlyWhen"; empty: always applies
    only_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def display(self, value: Any, lang: str = "vi") -> str:
        """Show a typed value to a person (check-answers page, dossier page)."""
        if value is None or value == "":
            return ""
        if self.type == "boolean":
            return tr(text("Có", "Yes") if value else text("Không", "No"), lang)
        for option, label in self.options:
            if option == value:
                return tr(label, lang)
        if self.format == "date" and isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
            except ValueError:
                return value
        if isinstance(value, float) and math.isfinite(value):
            value = int(value) if value.is_integer() else value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = f"{value:,}" if isinstance(value, int) else f"{value:,.6f}".rstrip("0").rstrip(".")
            return shown.translate(_VI_MARKS) if lang == "vi" else shown
        return str(value)


@dataclass(frozen=True)
class Page:
    id: str
    title: Text
    fields: tuple[str, ...]


@dataclass
class FormDefinition:
    key: str  # path of the schema file relative to forms/
    title: Text
    description: Text | None
    schema: dict[str, Any]
    fields: dict[str, Field]
    pages: list[Page]
    messages: dict[str, dict[str, Text]] = field(default_factory=dict)  # field → keyword → text
    #: (field, keyword, other field): a date bounded by another date of the form
    field_bounds: tuple[tuple[str, str, str], ...] = ()

    # -- input ---------------------------------------------------------------------------------------------
    def coerce(self, raw: Mapping[str, Any], only: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Turn raw form input (strings) into typed data; empty inputs are left out so ``required`` fires.

        Input that cannot be converted is kept as the string so that validation reports it.
        Dates come either as ``name`` (ISO) or as ``name-day``, ``name-month``, ``name-year``.
        """
        data: dict[str, Any] = {}
        for name in only or tuple(self.fields):
            f = self.fields[name]
            if f.widget == "date":
                value = _date_from_parts(raw, name)
            elif f.type == "boolean":
                value = _boolean(raw.get(name))
            else:
                value = raw.get(name)
                if isinstance(value, str):
                    value = value.strip()
                if value is None or value == "":
                    continue
                if f.type in ("integer", "number"):
                    value = _number(value, f.type)
                elif f.widget == "tel" and isinstance(value, str):
                    value = re.sub(r"[\s.\-()]", "", value)
                elif f.name.endswith("id_number") and isinstance(value, str):
                    value = re.sub(r"[\s.\-]", "", value)
            if value is not None and value != "":
                data[name] = value
        return data

    def to_raw(self, data: Mapping[str, Any]) -> dict[str, str]:
        """Typed data back to raw input strings, for prefilling inputs."""
        raw: dict[str, str] = {}
        for name, f in self.fields.items():
            if name not in data or data[name] is None:
                continue
            value = data[name]
            if f.widget == "date" and isinstance(value, str):
                try:
                    d = dt.date.fromisoformat(value)
                    raw.update({f"{name}-day": str(d.day), f"{name}-month": str(d.month), f"{name}-year": str(d.year)})
                except ValueError:
                    pass
                continue
            if f.type == "boolean":
                raw[name] = "true" if value else ""
                continue
            if f.type == "number" and isinstance(value, float) and math.isfinite(value):
                raw[name] = str(int(value)) if value.is_integer() else repr(value).replace(".", ",")
                continue
            raw[name] = str(value)
        return raw

    # -- validation ----------------------------------------------------------------------------------------
    def errors(self, data: Mapping[str, Any], only: tuple[str, ...] | None = None) -> dict[str, Text]:
        """Every problem with ``data``, as field name → bilingual message (first message per field).

        With ``only``, problems of other fields are ignored (a page of a multi-page form).
        """
        found: dict[str, Text] = {}
        for err in _leaves(self._validator.iter_errors(dict(data))):
            for name in _fields_of(err):
                if name in found or (only is not None and name not in only):
                    continue
                if name not in self.fields:
                    name = "_form"
                found[name] = self._message(name, err)
        for name, keyword, other in self.field_bounds:  # both answers at hand, each valid: compare them
            if name in found or other in found or (only is not None and name not in only):
                continue
            answer, limit = bounds.comparable(keyword, data.get(name)), bounds.comparable(keyword, data.get(other))
            if answer is not None and limit is not None and bounds.broken(keyword, answer, limit):
                found[name] = self.messages.get(name, {}).get(keyword) or bounds.field_message(
                    keyword, self.fields[name].label, self.fields[other].label)
        # keep the form's field order
        order = {n: i for i, n in enumerate(self.fields)}
        return dict(sorted(found.items(), key=lambda kv: order.get(kv[0], -1)))

    @cached_property
    def _validator(self) -> Draft202012Validator:
        """Built once per form (a version's forms never change); validating with it keeps no state."""
        return bounds.Validator(self.schema, format_checker=FormatChecker())

    def clean(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Only the fields this form declares (a submission may not write other task data)."""
        return {k: v for k, v in data.items() if k in self.fields}

    def unused(self, data: Mapping[str, Any], whole: bool = True) -> list[str]:
        """Fields that do not apply to ``data`` by their ``ui:onlyWhen`` (a father's name when the father is not
        known): their answers are dropped, not validated, shown or kept. With ``whole`` False (one page of a
        form), a field whose condition is on another page is left alone."""
        out = []
        for name, f in self.fields.items():
            for other, values in f.only_when:
                if (other in data or whole) and data.get(other) not in values:
                    out.append(name)
                    break
        return out

    def without_unused(self, data: Mapping[str, Any], whole: bool = True,
                       unused: list[str] | None = None) -> dict[str, Any]:
        """``data`` without the answers that do not apply (``unused``, when the caller has them already)."""
        dropped = set(self.unused(data, whole) if unused is None else unused)
        return {k: v for k, v in data.items() if k not in dropped}

    def _message(self, name: str, err: Any) -> Text:
        keyword = err.validator
        if name in self.messages and keyword in self.messages[name]:
            return self.messages[name][keyword]
        if name == "_form":
            return text("Dữ liệu không hợp lệ.", "The data is not valid.")
        f = self.fields[name]
        vi_label, en_label = tr(f.label, "vi"), tr(f.label, "en")
        value = err.validator_value
        if keyword == "required":
            if f.widget in ("radio", "select", "checkbox"):
                return text(f"Chọn {vi_label.lower()}", f"Select {en_label.lower()}")
            return text(f"Nhập {vi_label.lower()}", f"Enter {en_label.lower()}")
        if keyword == "type":
            if f.type == "integer":
                return text(f"{vi_label} phải là một số nguyên", f"{en_label} must be a whole number")
            if f.type == "number":
                return text(f"{vi_label} phải là một số", f"{en_label} must be a number")
            return text(f"{vi_label} không hợp lệ", f"{en_label} is not valid")
        if keyword == "format" and value == "date":
            return text(f"{vi_label} phải là một ngày có thật", f"{en_label} must be a real date")
        if keyword == "format" and value == "email":
            return text(
                f"Nhập {vi_label.lower()} đúng định dạng, ví dụ ten@example.com",
                f"Enter {en_label.lower()} in the correct format, like name@example.com",
            )
        if keyword in bounds.KEYWORDS or keyword in bounds.NUMBER_KEYWORDS:
            return bounds.message(keyword, value, vi_label, en_label)
        if keyword == "maxLength":
            return text(f"{vi_label} không được quá {value} ký tự", f"{en_label} must be {value} characters or fewer")
        if keyword == "minLength":
            return text(f"Nhập {vi_label.lower()}", f"Enter {en_label.lower()}")
        if keyword in ("minimum", "exclusiveMinimum"):
            return text(f"{vi_label} phải từ {value} trở lên", f"{en_label} must be {value} or more")
        if keyword in ("maximum", "exclusiveMaximum"):
            return text(f"{vi_label} không được lớn hơn {value}", f"{en_label} must be {value} or less")
        if keyword in ("enum", "const") and f.options:
            return text(f"Chọn {vi_label.lower()}", f"Select {en_label.lower()}")
        if keyword == "const" and f.type == "boolean":
            return text(f"Bạn cần xác nhận: {vi_label.lower()}", f"You must confirm: {en_label.lower()}")
        return text(f"{vi_label} không hợp lệ", f"{en_label} is not valid")


# -- loading -------------------------------------------------------------------------------------------------

class FormProblem(Exception):
    """A form definition is broken; the message says where."""


def load_form(key: str, schema_text: str, ui_text: str | None) -> FormDefinition:
    """Build a form from the text of its schema and UI schema files; raise :class:`FormProblem` if broken."""
    try:
        schema = json.loads(schema_text)
    except json.JSONDecodeError as exc:
        raise FormProblem(f"{key}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    try:
        ui = json.loads(ui_text) if ui_text else {}
    except json.JSONDecodeError as exc:
        raise FormProblem(f"{key}: UI schema is not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        raise FormProblem(f"{key}: the schema and the UI schema must be JSON objects")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise FormProblem(f"{key}: invalid JSON Schema at {where}: {exc.message}") from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise FormProblem(f"{key}: the schema must be an object with properties")

    problems: list[str] = list(bounds.schema_problems(schema))
    field_bounds: list[tuple[str, str, str]] = []
    required = set(schema.get("required", []))
    fields: dict[str, Field] = {}
    messages: dict[str, dict[str, Text]] = {}
    order = ui.get("ui:order") or list(schema["properties"])
    names = [n for n in order if n in schema["properties"]] + [n for n in schema["properties"] if n not in order]
    for name in names:
        prop = schema["properties"][name]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problems.append(f"field '{name}': names must be snake_case letters and digits")
        opts = ui.get(name, {})
        ftype = prop.get("type", "string")
        if ftype not in ("string", "integer", "number", "boolean"):
            problems.append(f"field '{name}': type '{ftype}' is not supported (string, integer, number, boolean)")
        widget = opts.get("ui:widget") or _default_widget(prop, ftype)
        if widget not in WIDGETS:
            problems.append(f"field '{name}': unknown widget '{widget}'")
        label = opts.get("ui:label") or {"vi": prop.get("title", name), "en": prop.get("title", name)}
        for what, value in (("ui:label", label), ("ui:help", opts.get("ui:help"))):
            if value is not None and missing_languages(value):
                problems.append(f"field '{name}': {what} lacks {', '.join(missing_languages(value))}")
        enum = prop.get("enum") or []
        enum_labels = opts.get("ui:enumLabels", {})
        options = []
        for value in enum:
            lbl = enum_labels.get(str(value)) or {"vi": str(value), "en": str(value)}
            if missing_languages(lbl):
                problems.append(f"field '{name}': enum label of '{value}' lacks {', '.join(missing_languages(lbl))}")
            options.append((value, lbl))
        only_when = []
        for other, values in (opts.get("ui:onlyWhen") or {}).items():
            values = tuple(values) if isinstance(values, list) else (values,)
            other_prop = schema["properties"].get(other)
            if other == name or not isinstance(other_prop, dict):
                problems.append(f"field '{name}': ui:onlyWhen names '{other}', which is not another field of the form")
            elif other_prop.get("enum") and any(v not in other_prop["enum"] for v in values):
                problems.append(f"field '{name}': ui:onlyWhen gives '{other}' a value it cannot take: {list(values)}")
            elif name in schema.get("required", []):
                problems.append(f"field '{name}': ui:onlyWhen on a field that is always required")
            only_when.append((other, values))
        prefill = opts.get("ui:prefill")
        if prefill is not None and prefill not in PROFILE_FIELDS:
            problems.append(f"field '{name}': ui:prefill '{prefill}' is not a profile field {PROFILE_FIELDS}")
        for keyword, msg in opts.get("ui:errors", {}).items():
            if missing_languages(msg):
                problems.append(f"field '{name}': ui:errors.{keyword} lacks {', '.join(missing_languages(msg))}")
            messages.setdefault(name, {})[keyword] = msg
        refs, bound_problems = bounds.field_bounds(name, prop, ftype)
        field_bounds.extend(refs)
        problems.extend(bound_problems)
        fields[name] = Field(
            name=name, type=ftype, widget=widget, label=label, help=opts.get("ui:help"), required=name in required,
            options=tuple(options), autocomplete=opts.get("ui:autocomplete"), prefill=prefill,
            max_length=prop.get("maxLength"), format=prop.get("format"), only_when=tuple(only_when),
        )

    for name, keyword, other in field_bounds:
        target = fields.get(other)
        if other == name or target is None or not bounds.fits(keyword, target.type, target.format):
            kind = "number" if keyword in bounds.NUMBER_KEYWORDS else "date"
            problems.append(f"field '{name}': {keyword} names '{other}', which is not another {kind} field of the form")

    pages: list[Page] = []
    seen: dict[str, str] = {}
    for i, page in enumerate(ui.get("ui:pages") or []):
        pid = page.get("id") or f"page{i + 1}"
        for name in page.get("fields", []):
            if name not in fields:
                problems.append(f"page '{pid}': unknown field '{name}'")
            elif name in seen:
                problems.append(f"page '{pid}': field '{name}' is already on page '{seen[name]}'")
            seen[name] = pid
        if missing_languages(page.get("title")):
            problems.append(f"page '{pid}': title lacks {', '.join(missing_languages(page.get('title')))}")
        pages.append(Page(pid, page.get("title") or {}, tuple(n for n in page.get("fields", []) if n in fields)))
    if pages:
        unplaced = [n for n in fields if n not in seen]
        if unplaced:
            problems.append(f"fields on no page: {', '.join(unplaced)}")
    else:
        pages = [Page("main", ui.get("ui:title") or {}, tuple(fields))]
    title = ui.get("ui:title") or {"vi": schema.get("title", key), "en": schema.get("title", key)}
    if missing_languages(title):
        problems.append(f"ui:title lacks {', '.join(missing_languages(title))}")
    if problems:
        raise FormProblem(f"{key}: " + "; ".join(problems))
    return FormDefinition(key, title, ui.get("ui:description"), schema, fields, pages, messages, tuple(field_bounds))


# -- helpers -------------------------------------------------------------------------------------------------

def _default_widget(prop: Mapping[str, Any], ftype: str) -> str:
    if ftype == "boolean":
        return "checkbox"
    if ftype in ("integer", "number"):
        return "number"
    if prop.get("enum"):
        return "radio" if len(prop["enum"]) <= 5 else "select"
    return {"date": "date", "email": "email"}.get(prop.get("format", ""), "text")


def _date_from_parts(raw: Mapping[str, Any], name: str) -> str | None:
    parts = [str(raw.get(f"{name}-{p}", "") or "").strip() for p in DATE_PARTS]
    if not any(parts):
        value = raw.get(name)
        return value.strip() or None if isinstance(value, str) else None
    day, month, year = parts
    numbers = [number_from(p, digits=4) for p in (year, month, day)]
    if None in numbers or len(year) != 4:
        return f"{year}-{month}-{day}"  # not a date: validation reports it
    return "{:04d}-{:02d}-{:02d}".format(*numbers)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("true", "on", "1", "yes", "y")


_GROUPED_DOTS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+")  # 25.000, 1.000.000: thousands, as the pages show them
_GROUPED_COMMAS = re.compile(r"[+-]?\d{1,3}(,\d{3})+")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
#: the longest number a form reads (an area, an amount in đồng have far fewer digits): one longer is refused as not a
#: number, not converted (Python refuses to read an integer of over 4,300 digits; a float that long is infinite)
MAX_NUMBER_LENGTH = 40


def _number(value: Any, ftype: str) -> Any:
    """A number typed the Vietnamese way ("25.000" is twenty-five thousand, "12,5" twelve and a half), as the
    pages show numbers; "12.5" is also read as twelve and a half, and "1,000" as a thousand in a whole-number
    field. Anything else (letters, "nan", "inf", mixed-up separators) is kept as typed for validation to
    report."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if math.isfinite(value) else str(value)
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", str(value))
    if _GROUPED_DOTS.fullmatch(cleaned):
        cleaned = cleaned.replace(".", "")
    elif "," in cleaned and "." in cleaned:  # 1.234,5 (vi) or 1,234.5 (en): the last mark is the decimal one
        whole, mark, fraction = max(cleaned.rpartition(","), cleaned.rpartition("."), key=lambda p: len(p[0]))
        other = "." if mark == "," else ","
        if not (_GROUPED_DOTS if other == "." else _GROUPED_COMMAS).fullmatch(whole):
            return value
        cleaned = whole.replace(other, "") + "." + fraction
    elif _GROUPED_COMMAS.fullmatch(cleaned) and ftype == "integer":
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if len(cleaned) > MAX_NUMBER_LENGTH or not _PLAIN_NUMBER.fullmatch(cleaned):
        return value
    if ftype == "integer":
        return int(cleaned) if "." not in cleaned else value
    return float(cleaned)


def _leaves(errors: Any) -> Any:
    """Errors of combinators (anyOf, oneOf) carry the real ones in ``context``."""
    for err in errors:
        if err.context:
            yield from _leaves(err.context)
        else:
            yield err


def _fields_of(err: Any) -> list[str]:
    """The field(s) a jsonschema error is about (``required`` errors carry no path)."""
    if err.validator == "required" and not err.path:
        return [p for p in err.validator_value if p not in err.instance] if isinstance(err.instance, Mapping) else []
    path = list(err.absolute_path)
    if path:
        return [str(path[0])]
    return ["_form"]
