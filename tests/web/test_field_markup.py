"""Our form fields are written in govuk-frontend's markup directly (web/templates/macros/fields.html, for speed);
they must give what govuk-frontend-jinja's own components give for the same field (tests/web/templates/
govuk_fields.html), for every field of every shipped form, empty and filled with an error, in both languages."""
from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.api import Engine
from engine.config import DEFAULT_ROOT, Settings
from engine.forms import Field, FormDefinition, load_form
from web import create_app

REFERENCE = (Path(__file__).parent / "templates" / "govuk_fields.html").read_text()
CALL = "{{ render_field(f, values, errors) }}"
INLINE = frozenset({"a", "abbr", "b", "code", "em", "i", "small", "span", "strong", "time"})


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("<", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("/", tag))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", re.sub(r"\s+", " ", data)))


def rendered(html: str) -> list[tuple[Any, ...]]:
    """What a browser makes of the markup: elements with their attributes (in any order) and texts, where
    white space counts only as far as it shows (one space; none at the edge of a block-level element)."""
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    raw, out = parser.tokens, []
    for i, token in enumerate(raw):
        if token[0] != "text":
            out.append(token)
            continue
        text = token[1]
        before, after = raw[i - 1] if i else None, raw[i + 1] if i + 1 < len(raw) else None
        if before is None or (before[0] != "text" and before[1] not in INLINE):
            text = text.lstrip()
        if after is None or (after[0] != "text" and after[1] not in INLINE):
            text = text.rstrip()
        if text:
            out.append(("text", text))
    return out


def shipped_forms() -> list[FormDefinition]:
    forms = []
    for schema in sorted((DEFAULT_ROOT / "forms").glob("*/*.schema.json")):
        ui = schema.with_name(schema.name.replace(".schema.json", ".uischema.json"))
        forms.append(load_form(str(schema.relative_to(DEFAULT_ROOT)), schema.read_text(),
                               ui.read_text() if ui.exists() else None))
    return forms


def states(f: Field) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    yield "empty", {}, {}
    if f.options:
        value: Any = str(f.options[-1][0])
    elif f.widget == "checkbox":
        value = "true"
    elif f.widget == "number":
        value = 12
    else:
        value = 'A "quoted" <b>answer</b> & more'
    parts = {f"{f.name}-day": "7", f"{f.name}-month": "3", f"{f.name}-year": "2026"}
    yield "filled, with an error", {f.name: value, **parts}, {f.name: "Sai <b>định dạng</b> & thiếu"}
    yield "unset (none)", {f.name: None}, {}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    url = f"sqlite:///{tmp_path_factory.mktemp('markup') / 'unused.db'}"  # templates only: never opened
    return create_app(engine=Engine(Settings(database_url=url)), SECRET_KEY="markup-test-key", TESTING=True)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_field_has_govuk_frontends_markup(app: Flask, lang: str) -> None:
    ours = app.jinja_env.from_string('{% from "macros/fields.html" import render_field %}' + CALL)
    reference = app.jinja_env.from_string(REFERENCE + CALL)
    widgets, compared = set(), 0
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for form in shipped_forms():
            for f in form.fields.values():
                for state, values, errors in states(f):
                    if state == "unset (none)" and f.widget == "textarea":
                        continue  # govuk-frontend-jinja writes "None" into the box; ours leaves it empty
                    args = {"f": f, "values": values, "errors": errors}
                    assert rendered(ours.render(**args)) == rendered(reference.render(**args)), (form.key, f.name, state)
                    widgets.add(f.widget)
                    compared += 1
    assert widgets == {"text", "textarea", "date", "radio", "select", "number", "checkbox", "email", "tel"}
    assert compared > 500


def test_a_field_with_a_hint_and_an_error_is_described_by_both(app: Flask) -> None:
    """The forms above have no checkbox or radio group with a hint; the markup of both is checked here."""
    ours = app.jinja_env.from_string('{% from "macros/fields.html" import render_field %}' + CALL)
    reference = app.jinja_env.from_string(REFERENCE + CALL)
    hint = {"vi": "Gợi ý", "en": "Hint"}
    fields = [
        Field(name="agree", type="boolean", widget="checkbox", label={"vi": "Đồng ý", "en": "Agree"}, help=hint),
        Field(name="pick", type="string", widget="radio", label={"vi": "Chọn", "en": "Pick"}, help=hint,
              options=(("a", {"vi": "A", "en": "A"}), ("b", {"vi": "B", "en": "B"}), ("c", {"vi": "C", "en": "C"}))),
        Field(name="born", type="string", widget="date", label={"vi": "Ngày sinh", "en": "Born"}, help=hint,
              autocomplete="bday"),
    ]
    with app.test_request_context("/"):
        for f in fields:
            args = {"f": f, "values": {f.name: "b"}, "errors": {f.name: "Sai"}}
            html = ours.render(**args)
            assert rendered(html) == rendered(reference.render(**args)), f.name
            assert f'aria-describedby="{f.name}-hint {f.name}-error"' in html
        born = ours.render(f=fields[2], values={}, errors={})
    assert all(f'autocomplete="bday-{part}"' in born for part in ("day", "month", "year"))  # WCAG 1.3.5


def test_the_comparison_sees_a_difference(app: Flask) -> None:
    """The normalisation above keeps what shows: a changed attribute, a lost space between inline text, a
    missing element are all differences."""
    assert rendered('<p id="a"> x </p>') == rendered('<p id="a">x</p>')
    assert rendered('<p id="a">x</p>') != rendered('<p id="b">x</p>')
    assert rendered('<p><span>Lỗi:</span> x</p>') != rendered('<p><span>Lỗi:</span>x</p>')
    assert rendered('<div><p>x</p></div>') != rendered('<div>x</div>')
