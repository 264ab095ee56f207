"""Where we write govuk-frontend's markup directly instead of calling govuk-frontend-jinja's macros (for speed):
the form fields (web/templates/macros/fields.html) and the components of web/templates/macros/govuk.html (the
page's skip link, header and service navigation, summary lists, buttons, tags). Each must give what the library's
components give (tests/web/templates/govuk_fields.html; LIBRARY below, the library's components in place of
ours): every field of every shipped form, empty and filled with an error, and the layout for every kind of visitor,
in both languages."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
from flask import Flask
from flask_login import login_user
from jinja2 import TemplateRuntimeError
from markupsafe import Markup

from engine.accounts import Actor, AgencyName
from engine.api import Engine
from engine.config import DEFAULT_ROOT, Settings
from engine.forms import Field, FormDefinition, load_form
from engine.two_step import Setup
from web import create_app

REFERENCE = (Path(__file__).parent / "templates" / "govuk_fields.html").read_text()
#: macros/govuk.html as govuk-frontend-jinja's own components, each under our macro's name: the reference for ours
LIBRARY = "".join(
    f'{{%- macro {name}(params) -%}}{{%- from "govuk_frontend_jinja/components/{component}/macro.html" '
    f'import {name} as component -%}}{{{{ component(params) }}}}{{%- endmacro %}}'
    for name, component in (("govukSummaryList", "summary-list"), ("govukButton", "button"), ("govukTag", "tag"),
                            ("govukSkipLink", "skip-link"), ("govukGenericHeader", "generic-header"),
                            ("govukServiceNavigation", "service-navigation"), ("govukInput", "input"),
                            ("govukSelect", "select"), ("govukTextarea", "textarea"),
                            ("govukPasswordInput", "password-input")))


def with_library(app: Flask) -> jinja2.Environment:
    """The app's template environment with govuk-frontend-jinja's components as macros/govuk.html."""
    return app.jinja_env.overlay(loader=jinja2.ChoiceLoader(
        [jinja2.DictLoader({"macros/govuk.html": LIBRARY}), app.jinja_loader]))
CALL = "{{ render_field(f, values, errors) }}"
INLINE = frozenset({"a", "abbr", "b", "code", "em", "i", "small", "span", "strong", "time"})
REPLACED = frozenset({"img", "input", "svg"})  # inline, and content themselves


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[Any, ...]] = []
        self.in_textarea = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("<", tag, tuple(sorted(attrs))))
        self.in_textarea = tag == "textarea"

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("/", tag))
        self.in_textarea = False

    def handle_data(self, data: str) -> None:
        if self.in_textarea:  # a text box's value, every character of it (a browser drops one leading newline)
            value = data if self.tokens[-1][0] == "value" else data.removeprefix("\n")
            if value:
                self.tokens.append(("value", value))
        else:
            self.tokens.append(("text", re.sub(r"\s+", " ", data)))


def rendered(html: str) -> list[tuple[Any, ...]]:
    """What a browser makes of the markup: elements with their attributes (in any order) and texts, where
    white space counts only as far as it shows: one space between words or inline elements, none at the start
    or end of a block (an inline element's tags between the text and the block's edge do not change that)."""
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    raw, out = parser.tokens, []

    def at_block_edge(i: int, step: int) -> bool:
        i += step
        while 0 <= i < len(raw):
            kind, tag = raw[i][0], raw[i][1]
            if kind == "text":
                return not tag.strip() and at_block_edge(i, step)
            if tag in REPLACED:
                return False
            if tag not in INLINE:
                return True
            i += step
        return True

    for i, token in enumerate(raw):
        if token[0] == "value":
            if out[-1][0] == "value":
                out[-1] = ("value", out[-1][1] + token[1])
            else:
                out.append(token)
            continue
        if token[0] != "text":
            out.append(token)
            continue
        text = token[1]
        if at_block_edge(i, -1):
            text = text.lstrip()
        if at_block_edge(i, +1):
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
                    where = (form.key, f.name, state)
                    assert rendered(ours.render(**args)) == rendered(reference.render(**args)), where
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


@pytest.mark.parametrize("items", [
    [],
    [{"text": "Nhập họ <tên>", "href": "#child_full_name"}, {"text": "Ngày sinh", "href": "#child_birth_date-day"}],
    [{"text": "Sai & thiếu"}],
])
def test_the_error_summary_has_govuk_frontends_markup(app: Flask, items: list[dict[str, str]]) -> None:
    ours = app.jinja_env.from_string('{% from "macros/fields.html" import error_summary %}{{ error_summary(items) }}')
    reference = app.jinja_env.from_string(REFERENCE + "{{ error_summary(items) }}")
    with app.test_request_context("/"):
        assert rendered(ours.render(items=items)) == rendered(reference.render(items=items))


def _person(kind: str) -> Actor:
    """A person signed in: a citizen, an official, a head of office ("supervisor", an official), …"""
    official = kind in ("official", "supervisor")
    roles = {"official": {"reception"}, "supervisor": {"reception", "supervisor"}}.get(kind, set())
    return Actor(id=7, email=f"{kind}@example.vn", full_name="Lê Thị <Hoa>", kind="official" if official else kind,
                 active=True, agency_id=3 if official else None, phone=None, id_number=None, birth_date=None,
                 address=None, roles=frozenset(roles),
                 agency=AgencyName(3, "UBND xã", "Commune") if official else None, password_stamp="0" * 16)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize(("who", "path"), [
    (None, "/"), (None, "/dang-nhap"), (None, "/dang-ky"), (None, "/thu-tuc/birth_registration"),
    ("citizen", "/ho-so"), ("citizen", "/tra-cuu"), ("citizen", "/tai-khoan"), ("citizen", "/cong-viec/5"),
    ("official", "/can-bo/"), ("official", "/can-bo/cong-viec/5"), ("supervisor", "/can-bo/phan-cong"),
])
def test_the_layout_has_govuk_frontends_markup(app: Flask, who: str | None, path: str, lang: str) -> None:
    """The whole page around the content (head, skip link, header, navigation with the active item, language
    switch, sign-out, footer) for a visitor, a citizen and an official on their pages."""
    with app.test_request_context(path, headers={"Accept-Language": lang}):
        if who:
            login_user(_person(who))
        context: dict[str, Any] = {}
        app.update_template_context(context)
        ours = app.jinja_env.get_template("base.html").render(context)
        reference = with_library(app).get_template("base.html").render(context)
    assert rendered(ours) == rendered(reference)
    assert ("Đăng xuất" in ours or "Sign out" in ours) == (who is not None)


WITHDRAWN = {"id": 5, "code": "000.31.27.H14-261125-0001", "procedure_name": {"vi": "Khai sinh", "en": "Birth"}}
FILLED = {"full_name": "Nguyễn <An>", "email": "an@example.vn", "phone": "0987 & 654", "id_number": "001195000111",
          "address": "Xóm Tây", "birth_date-day": "2", "birth_date-month": "11", "birth_date-year": "1990"}
ERRORS = {"full_name": "Nhập họ <tên>", "email": "Nhập email & đúng", "password": "Ít nhất 10 ký tự",
          "phone": "Số điện thoại sai", "id_number": "12 chữ số", "birth_date": "Ngày sinh sai", "address": "Quá dài"}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize(("who", "template", "context"), [
    (None, "public/index.html", {"procedures": [], "q": "", "field": None, "fields": []}),
    (None, "public/index.html", {"procedures": [], "q": "khai <sinh>", "field": "ho_tich",
                                 "fields": [("ho_tich", "Hộ tịch", "Civil status"), ("xay_dung", "Xây <dựng>", "Build")]}),
    (None, "auth/login.html", {"email": "", "errors": {}, "needs_login": False}),
    (None, "auth/login.html", {"email": "an@<example>.vn", "errors": {"email": ERRORS["email"],
                                                                  "password": ERRORS["password"]}, "needs_login": True}),
    (None, "auth/register.html", {"values": {}, "errors": {}}),
    (None, "auth/forgot.html", {"email": "", "errors": {}}),
    (None, "auth/forgot.html", {"email": "an@<example>", "errors": {"email": ERRORS["email"]}}),
    (None, "auth/reset.html", {"token": "abc", "errors": {}}),
    (None, "auth/reset.html", {"token": "abc", "errors": {"password": ERRORS["password"]}}),
    ("citizen", "auth/change_password.html", {"errors": {}}),
    ("citizen", "auth/change_password.html", {"errors": {"current_password": ERRORS["password"],
                                                         "password": ERRORS["password"]}}),
    (None, "auth/register.html", {"values": FILLED, "errors": ERRORS}),
    (None, "auth/second_step.html", {"errors": {}}),
    (None, "auth/second_step.html", {"errors": {"code": "Mã <không> đúng"}}),
    ("citizen", "auth/two_step_on.html", {"setup": Setup("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "otpauth://totp/x"),
                                          "errors": {"code": "Mã <sai>", "password": ERRORS["password"]}}),
    ("citizen", "citizen/profile.html", {"values": {}, "errors": {}}),
    ("citizen", "citizen/profile.html", {"values": FILLED, "errors": ERRORS}),
    ("citizen", "citizen/lookup.html", {"code": "", "error": None}),
    ("citizen", "citizen/lookup.html", {"code": "000.31 <x>", "error": "Không tìm thấy hồ sơ"}),
    ("citizen", "citizen/withdraw.html", {"dossier": WITHDRAWN, "reason": "", "error": None}),
    ("citizen", "citizen/withdraw.html", {"dossier": WITHDRAWN, "reason": "Nộp <nhầm>\n  thủ tục",
                                          "error": "Lý do quá dài"}),
])
def test_pages_with_inputs_have_govuk_frontends_markup(app: Flask, who: str | None, template: str,
                                                      context: dict[str, Any], lang: str) -> None:
    """The pages that use our form fields (search, sign-in, registration, a forgotten password, profile, lookup,
    withdrawal), empty and filled with an error on every field, give the markup the library's components give on
    the same page."""
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        if who:
            login_user(_person(who))
        full = dict(context)
        app.update_template_context(full)
        ours = app.jinja_env.get_template(template).render(full)
        reference = with_library(app).get_template(template).render(full)
    assert rendered(ours) == rendered(reference)
    assert 'class="govuk-form-group' in ours


def test_kept_layout_fragments_follow_the_visitor_and_request_on_one_page(app: Flask) -> None:
    """On one page, in turn: a visitor, two citizens with other names and addresses, an official, an
    administrator, in both languages. The layout rendered with the fragments this app keeps (web.ui.fragment) is
    the layout rendered afresh, by an environment that keeps nothing."""
    cases = [(None, "", ""), ("citizen", "An <Nguyễn>", "?q=1"), ("citizen", "Bình & Chi", "?q=2&x=<y>"),
             ("official", "Lê Hoa", ""), ("supervisor", "Lê Hoa", ""), ("admin", "Quản trị", "?a=b")]
    seen = set()
    for lang in ("vi", "en", "vi"):
        for who, name, query in cases:
            with app.test_request_context("/" + query, headers={"Accept-Language": lang}):
                if who:
                    login_user(dataclasses.replace(_person(who), full_name=name))
                context: dict[str, Any] = {}
                app.update_template_context(context)
                kept = app.jinja_env.get_template("base.html").render(context)
                fresh = app.jinja_env.overlay(auto_reload=True, cache_size=0).get_template("base.html").render(context)
            assert kept == fresh, (who, lang)
            # what differs between the cases, without what differs between any two requests
            seen.add(re.sub(r'nonce="[^"]*"|name="csrf_token" value="[^"]*"', "", kept))
    assert len(seen) == 2 * len(cases)  # each case and language its own layout (the third round repeats the first)


def test_the_comparison_sees_a_difference(app: Flask) -> None:
    """The normalisation above keeps what shows: a changed attribute, a lost space between inline text, a
    missing element are all differences."""
    assert rendered('<p id="a"> x </p>') == rendered('<p id="a">x</p>')
    assert rendered('<p id="a">x</p>') != rendered('<p id="b">x</p>')
    assert rendered('<p><span>Lỗi:</span> x</p>') != rendered('<p><span>Lỗi:</span>x</p>')
    assert rendered('<div><p>x</p></div>') != rendered('<div>x</div>')
    assert rendered('<div><a href="/"> x </a></div>') == rendered('<div><a href="/">x</a></div>')
    assert rendered('<p>a <a href="/">x</a> b</p>') != rendered('<p>a<a href="/">x</a>b</p>')
    assert rendered('<button>Go <svg></svg></button>') != rendered('<button>Go<svg></svg></button>')
    assert rendered('<textarea>\nA  b</textarea>') == rendered('<textarea>A  b</textarea>')
    assert rendered('<textarea>A  b</textarea>') != rendered('<textarea>A b</textarea>')
    assert rendered('<textarea>\n\nA</textarea>') != rendered('<textarea>\nA</textarea>')


COMPONENT_CALLS = [  # the shapes of parameters our pages pass
    'govukSummaryList({"rows": [{"key": {"text": "Họ <tên>"}, "value": {"text": "An & Bình"}, "actions": {"items": ['
    '{"href": "/cong-viec/1/trang/a?tu=kiem-tra#x", "text": "Thay đổi", "visuallyHiddenText": "Họ <tên>"}]}},'
    '{"key": {"text": "Phí"}, "value": {"html": html}}], "classes": "govuk-!-margin-bottom-9"})',
    'govukSummaryList({"rows": [{"key": {"text": "Người nộp"}, "value": {"text": "–"}}, '
    '{"key": {"text": "Ngày hẹn"}, "value": {"html": html}}]})',
    'govukSummaryList({"rows": []})',
    'govukSummaryList({"rows": [{"key": {"text": "K"}, "value": {"text": "V"}, "actions": {"items": ['
    '{"href": "/a", "text": "A"}, {"href": "/b?c=1&d=2", "text": "B", "visuallyHiddenText": "<k>"}]}}, '
    '{"key": {"text": "K2"}, "value": {"text": "V2"}, "actions": {"items": []}}]})',
    'govukSummaryList({"rows": [{"key": {"text": "K"}, "value": {"text": "V"}, "actions": {"items": []}}]})',
    'govukButton({"text": "Gửi", "preventDoubleClick": false})',
    'govukButton({"text": "Tiếp tục"})',
    'govukButton({"text": "Gửi <hồ sơ>", "preventDoubleClick": true})',
    'govukButton({"text": "Rút hồ sơ", "classes": "govuk-button--warning", "preventDoubleClick": true})',
    'govukButton({"text": "Bắt đầu", "isStartButton": true})',
    'govukButton({"text": "Đăng nhập để nộp", "href": "/dang-nhap?next=/thu-tuc/a&x=1", "isStartButton": true})',
    'govukButton({"text": "Tiếp tục khai", "href": "/cong-viec/3"})',
    'govukTag({"text": "Đúng <hạn>", "classes": "govuk-tag--green"})',
    'govukTag({"text": "Nháp", "classes": ""})',
    # the search, sign-in, registration, profile and lookup pages' inputs
    'govukInput({"id": "q", "name": "q", "type": "search", "value": "khai <sinh>", "label": {"text": "Tìm thủ tục", '
    '"classes": "govuk-label--m"}, "hint": {"text": "Gõ có dấu hoặc không dấu"}, "spellcheck": false})',
    'govukInput({"id": "q", "name": "q", "type": "search", "value": "", "label": {"text": "Tìm"}, "spellcheck": true})',
    'govukInput({"id": "email", "name": "email", "type": "email", "autocomplete": "username", "spellcheck": false, '
    '"value": none, "label": {"text": "Địa chỉ email", "classes": "govuk-label--s"}, "errorMessage": none})',
    'govukInput({"id": "email", "name": "email", "type": "email", "autocomplete": "email", "spellcheck": false, '
    '"value": "a@b", "label": {"text": "Email", "classes": "govuk-label--s"}, "hint": {"text": "Dùng để <đăng nhập>"}, '
    '"errorMessage": {"text": "Nhập địa chỉ email & đúng", "visuallyHiddenText": "Lỗi"}})',
    'govukInput({"id": "phone", "name": "phone", "type": "tel", "autocomplete": "tel", "value": "09", '
    '"classes": "govuk-input--width-20", "label": {"text": "Số điện thoại"}, "errorMessage": {"text": "Sai"}})',
    'govukInput({"id": "id_number", "name": "id_number", "inputmode": "numeric", "value": "0011", '
    '"classes": "govuk-input--width-20", "label": {"text": "Số định danh", "classes": "govuk-label--s"}, '
    '"hint": {"text": "12 chữ số"}, "errorMessage": {"text": "12 chữ số", "visuallyHiddenText": "Error"}})',
    'govukInput({"id": "ma", "name": "ma", "value": "000.31", "spellcheck": false, "classes": "govuk-input--width-20", '
    '"label": {"text": "Tra cứu hồ sơ", "classes": "govuk-label--l", "isPageHeading": true}, '
    '"hint": {"text": "Nhập mã hồ sơ"}, "errorMessage": {"text": "Không thấy", "visuallyHiddenText": ""}})',
    'govukInput({"name": "full_name", "label": {"text": "Họ và tên"}})',
    'govukSelect({"id": "linh-vuc", "name": "linh-vuc", "label": {"text": "Lĩnh vực", "classes": "govuk-label--m"}, '
    '"items": [{"value": "", "text": "Tất cả lĩnh vực"}, {"value": "ho_tich", "text": "Hộ <tịch>", "selected": true}, '
    '{"value": "xay_dung", "text": "Xây dựng", "selected": false}]})',
    'govukSelect({"id": "linh-vuc", "name": "linh-vuc", "label": {"text": "Lĩnh vực"}, "items": []})',
    'govukTextarea({"id": "address", "name": "address", "autocomplete": "street-address", "value": "Xóm <Tây>\\n  số 2", '
    '"rows": 2, "label": {"text": "Nơi cư trú", "classes": "govuk-label--s"}})',
    'govukTextarea({"id": "reason", "name": "reason", "value": "", "rows": 3, "label": {"text": "Lý do"}, '
    '"errorMessage": {"text": "Nhập lý do", "visuallyHiddenText": "Lỗi"}})',
    'govukTextarea({"name": "reason", "label": {"text": "Lý do"}, "hint": {"text": "Vài dòng"}, "errorMessage": none})',
    'govukPasswordInput({"id": "password", "name": "password", "autocomplete": "new-password", '
    '"label": {"text": "Mật khẩu", "classes": "govuk-label--s"}, "hint": {"text": "Ít nhất 10 ký tự"}, '
    '"showPasswordText": "Hiện", "hidePasswordText": "Ẩn", "showPasswordAriaLabelText": "Hiện <mật khẩu>", '
    '"hidePasswordAriaLabelText": "Ẩn mật khẩu", "passwordShownAnnouncementText": "Mật khẩu \\"đang\\" hiện", '
    '"passwordHiddenAnnouncementText": "Mật khẩu đã ẩn", "errorMessage": {"text": "Sai & thiếu", "visuallyHiddenText": "Lỗi"}})',
    'govukPasswordInput({"id": "password", "name": "password", "autocomplete": "current-password", '
    '"label": {"text": "Mật khẩu"}, "errorMessage": none})',
    'govukPasswordInput({"name": "pw", "label": {"text": "Password"}})',
]


@pytest.mark.parametrize("call", COMPONENT_CALLS)
def test_our_components_have_govuk_frontends_markup(app: Flask, call: str) -> None:
    source = f'{{% from "macros/govuk.html" import {call.split("(")[0]} %}}{{{{ {call} }}}}'
    ours, reference = app.jinja_env.from_string(source), with_library(app).from_string(source)
    html = Markup('<ul class="govuk-list"><li>Lệ phí: <strong>8.000</strong> đồng</li></ul>')
    with app.test_request_context("/"):
        assert rendered(ours.render(html=html)) == rendered(reference.render(html=html))


@pytest.mark.parametrize(("call", "refused"), [
    ('govukButton({"text": "x", "attributes": {"id": "y"}})', r"govukButton.*\['attributes'\]"),
    ('govukSummaryList({"rows": [{"key": {"html": "<b>k</b>"}, "value": {"text": "v"}}]})', r"key.*\['html'\]"),
    ('govukSummaryList({"rows": [{"key": {"text": "k"}, "value": {"text": "v", "classes": "c"}}]})',
     r"value.*\['classes'\]"),
    ('govukSummaryList({"rows": [{"key": {"text": "k"}, "value": {"text": "v"}, '
     '"actions": {"items": [], "classes": "c"}}]})', r"actions.*\['classes'\]"),
    ('govukSummaryList({"rows": [{"key": {"text": "k"}, "value": {"text": "v"}}, {"key": {"text": "k"}, '
     '"value": {"text": "v"}, "actions": {"items": [{"href": "/a", "text": "A", "classes": "c"}]}}]})',
     r"an action of govukSummaryList.*\['classes'\]"),
    ('govukInput({"name": "x", "label": {"text": "X"}, "prefix": {"text": "£"}})', r"govukInput.*\['prefix'\]"),
    ('govukInput({"name": "x", "label": {"text": "X", "html": "<b>X</b>"}})', r"label.*\['html'\]"),
    ('govukInput({"name": "x", "label": {"text": "X"}, "errorMessage": {"html": "<b>e</b>"}})',
     r"error message.*\['html'\]"),
    ('govukSelect({"name": "x", "label": {"text": "X"}, "value": "a", "items": []})', r"govukSelect.*\['value'\]"),
    ('govukPasswordInput({"name": "x", "label": {"text": "X"}, "value": "secret"})',
     r"govukPasswordInput.*\['value'\]"),
    ('govukTextarea({"name": "x", "label": {"text": "X"}, "maxlength": 10})', r"govukTextarea.*\['maxlength'\]"),
    ('govukSelect({"name": "x", "label": {"text": "X"}, "items": [{"value": "a", "text": "A", "disabled": true}]})',
     r"an item of govukSelect.*\['disabled'\]"),
])
def test_a_parameter_our_components_do_not_write_stops_the_page(app: Flask, call: str, refused: str) -> None:
    name = call.split("(")[0]
    template = app.jinja_env.from_string(f'{{% from "macros/govuk.html" import {name} %}}{{{{ {call} }}}}')
    with app.test_request_context("/"), pytest.raises(TemplateRuntimeError, match=refused):
        template.render()
