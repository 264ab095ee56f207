"""Forms: raw input to typed data, every error at once per field in vi and en, broken definitions refused."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from engine import clock
from engine.forms import FormProblem, load_form

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "full_name": {"type": "string", "minLength": 1, "maxLength": 20},
        "birth_date": {"type": "string", "format": "date"},
        "copies": {"type": "integer", "minimum": 0, "maximum": 20},
        "decision": {"type": "string", "enum": ["accept", "refuse"]},
        "reason": {"type": "string"},
        "confirm": {"type": "boolean", "const": True},
    },
    "required": ["full_name", "birth_date", "copies", "decision", "confirm"],
    "if": {"properties": {"decision": {"const": "refuse"}}, "required": ["decision"]},
    "then": {"required": ["reason"]},
}
UI = {
    "ui:title": {"vi": "Mẫu", "en": "Sample"},
    "full_name": {"ui:label": {"vi": "Họ và tên", "en": "Full name"},
                  "ui:errors": {"required": {"vi": "Nhập họ và tên của trẻ", "en": "Enter the child's full name"}}},
    "birth_date": {"ui:label": {"vi": "Ngày sinh", "en": "Date of birth"}},
    "copies": {"ui:label": {"vi": "Số bản sao", "en": "Number of copies"}},
    "decision": {"ui:label": {"vi": "Quyết định", "en": "Decision"},
                 "ui:enumLabels": {"accept": {"vi": "Tiếp nhận", "en": "Accept"}, "refuse": {"vi": "Từ chối", "en": "Refuse"}}},
    "reason": {"ui:label": {"vi": "Lý do", "en": "Reason"}, "ui:widget": "textarea"},
    "confirm": {"ui:label": {"vi": "Tôi cam đoan", "en": "I confirm"}},
}


@pytest.fixture
def form():
    return load_form("t/sample.schema.json", json.dumps(SCHEMA), json.dumps(UI))


def test_valid_input_is_typed(form) -> None:
    data = form.coerce({"full_name": " Lan ", "birth_date-day": "5", "birth_date-month": "1", "birth_date-year": "2026",
                        "copies": "2", "decision": "accept", "confirm": "true"})
    assert data == {"full_name": "Lan", "birth_date": "2026-01-05", "copies": 2, "decision": "accept", "confirm": True}
    assert form.errors(data) == {}


def test_every_error_at_once_in_both_languages(form) -> None:
    data = form.coerce({"birth_date-day": "31", "birth_date-month": "2", "birth_date-year": "2026",
                        "copies": "hai", "decision": "refuse"})
    errors = form.errors(data)
    assert set(errors) == {"full_name", "birth_date", "copies", "reason", "confirm"}
    assert errors["full_name"] == {"vi": "Nhập họ và tên của trẻ", "en": "Enter the child's full name"}
    assert errors["birth_date"]["en"] == "Date of birth must be a real date"
    assert errors["copies"]["vi"] == "Số bản sao phải là một số nguyên"
    assert errors["reason"]["en"] == "Enter reason"
    assert list(errors) == ["full_name", "birth_date", "copies", "reason", "confirm"]  # form order


def test_limits_and_choices(form) -> None:
    errors = form.errors({"full_name": "x" * 21, "birth_date": "2026-01-01", "copies": 99, "decision": "maybe",
                          "confirm": True})
    assert errors["full_name"]["en"] == "Full name must be 20 characters or fewer"
    assert errors["copies"]["vi"] == "Số bản sao không được lớn hơn 20"
    assert errors["decision"]["en"] == "Select decision"


def test_only_some_fields_for_a_page(form) -> None:
    assert set(form.errors({}, only=("full_name", "copies"))) == {"full_name", "copies"}


def test_round_trip_to_raw(form) -> None:
    data = {"full_name": "Lan", "birth_date": "2026-01-05", "copies": 2, "decision": "accept", "confirm": True}
    assert form.coerce(form.to_raw(data)) == data


@pytest.mark.parametrize("schema,ui,fragment", [
    ("{not json", "{}", "not valid JSON"),
    (json.dumps({"type": "object", "properties": {"a": {"type": "strin"}}}), "{}", "invalid JSON Schema"),
    (json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}),
     json.dumps({"a": {"ui:label": {"vi": "A"}}}), "lacks en"),
    (json.dumps({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}),
     json.dumps({"ui:title": {"vi": "x", "en": "x"}, "ui:pages": [{"id": "p", "title": {"vi": "P", "en": "P"}, "fields": ["a"]}]}),
     "fields on no page: b"),
])
def test_broken_definitions_are_refused_with_the_reason(schema: str, ui: str, fragment: str) -> None:
    with pytest.raises(FormProblem) as info:
        load_form("t/broken.schema.json", schema, ui)
    assert fragment in str(info.value)
    assert "t/broken.schema.json" in str(info.value)


# -- date bounds: notAfter / notBefore -------------------------------------------------------------------------

BOUNDED = {
    "type": "object",
    "properties": {
        "born": {"type": "string", "format": "date", "notBefore": "1900-01-01", "notAfter": "today"},
        "starts": {"type": "string", "format": "date", "notBefore": "today"},
        "closed": {"type": "string", "format": "date", "notAfter": "2026-06-30"},
        "moved": {"type": "string", "format": "date", "notAfter": "today"},
    },
}
BOUNDED_UI = {
    "born": {"ui:label": {"vi": "Ngày sinh", "en": "Date of birth"}},
    "starts": {"ui:label": {"vi": "Ngày bắt đầu", "en": "Start date"}},
    "closed": {"ui:label": {"vi": "Ngày đóng sổ", "en": "Closing date"}},
    "moved": {"ui:label": {"vi": "Ngày chuyển đến", "en": "Moved in"},
              "ui:errors": {"notAfter": {"vi": "Ngày chuyển đến chưa thể ở tương lai",
                                         "en": "The date you moved in cannot be in the future"}}},
}


@pytest.fixture
def bounded():
    return load_form("t/bounded.schema.json", json.dumps(BOUNDED), json.dumps(BOUNDED_UI))


def _on(moment_utc: dt.datetime):
    return clock.use(clock.ManualClock(moment_utc))


def test_today_is_the_day_in_vietnam_by_the_engines_clock(bounded) -> None:
    # 16:59 UTC on 27 November is 23:59 in Vietnam: the 28th is still tomorrow, and the 27th is allowed
    with _on(dt.datetime(2026, 11, 27, 16, 59)):
        assert bounded.errors({"born": "2026-11-27", "starts": "2026-11-27"}) == {}
        errors = bounded.errors({"born": "2026-11-28", "starts": "2026-11-26"})
    assert errors["born"] == {"vi": "Ngày sinh không được sau ngày hôm nay", "en": "Date of birth must be today or in the past"}
    assert errors["starts"] == {"vi": "Ngày bắt đầu không được trước ngày hôm nay",
                                "en": "Start date must be today or in the future"}
    # a minute past midnight in Vietnam, 17:01 UTC, the 28th is today
    with _on(dt.datetime(2026, 11, 27, 17, 1)):
        assert bounded.errors({"born": "2026-11-28"}) == {}
        assert set(bounded.errors({"born": "2026-11-29", "starts": "2026-11-27"})) == {"born", "starts"}


def test_fixed_bounds_and_the_designers_message(bounded) -> None:
    with _on(dt.datetime(2026, 11, 27, 3, 0)):
        assert bounded.errors({"born": "1900-01-01", "closed": "2026-06-30"}) == {}
        errors = bounded.errors({"born": "1899-12-31", "closed": "2026-07-01", "moved": "2026-12-01"})
    assert errors == {
        "born": {"vi": "Ngày sinh không được trước ngày 01/01/1900", "en": "Date of birth must be 01/01/1900 or later"},
        "closed": {"vi": "Ngày đóng sổ không được sau ngày 30/06/2026", "en": "Closing date must be 30/06/2026 or earlier"},
        "moved": BOUNDED_UI["moved"]["ui:errors"]["notAfter"],
    }


def test_a_date_that_is_not_real_is_reported_as_such_not_as_out_of_bounds(bounded) -> None:
    with _on(dt.datetime(2026, 11, 27, 3, 0)):
        errors = bounded.errors(bounded.coerce({"born-day": "31", "born-month": "2", "born-year": "2030"}))
    assert errors["born"]["en"] == "Date of birth must be a real date"


def test_a_step_refuses_a_future_date_and_keeps_what_was_typed(bounded) -> None:
    raw = {"born-day": "2", "born-month": "12", "born-year": "2026"}
    with _on(dt.datetime(2026, 11, 27, 3, 0)):
        data = bounded.coerce(raw)
        assert "born" in bounded.errors(data)
    assert bounded.to_raw(data) == raw  # shown again as typed, to be corrected


@pytest.mark.parametrize("prop,fragment", [
    ({"type": "string", "format": "date", "notAfter": "tomorrow"}, 'notAfter must be "today", a date'),
    ({"type": "string", "format": "date", "notBefore": "2026-02-30"}, 'notBefore must be "today", a date'),
    ({"type": "string", "format": "date", "notAfter": 20261231}, 'notAfter must be "today", a date'),
    ({"type": "string", "notAfter": "today"}, "notAfter applies only to a date"),
    ({"type": "integer", "format": "date", "notBefore": "today", "notAfter": "today"}, "notAfter and notBefore apply"),
    ({"type": "string", "format": "date", "notBefore": "2027-01-01", "notAfter": "2026-01-01"},
     "notBefore 2027-01-01 is after notAfter 2026-01-01"),
])
def test_broken_date_bounds_are_refused(prop: dict, fragment: str) -> None:
    schema = {"type": "object", "properties": {"d": prop}}
    with pytest.raises(FormProblem) as info:
        load_form("t/broken.schema.json", json.dumps(schema), None)
    assert fragment in str(info.value)


def test_a_bound_inside_a_condition_is_checked_too() -> None:
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}, "k": {"type": "boolean"}},
              "if": {"properties": {"k": {"const": True}}}, "then": {"properties": {"d": {"notAfter": "yesterday"}}}}
    with pytest.raises(FormProblem, match="/then/properties/d: notAfter"):
        load_form("t/broken.schema.json", json.dumps(schema), None)
    schema["then"]["properties"]["d"]["notAfter"] = "today"
    form = load_form("t/ok.schema.json", json.dumps(schema), None)
    with _on(dt.datetime(2026, 11, 27, 3, 0)):
        assert form.errors({"k": False, "d": "2027-01-01"}) == {}
        assert set(form.errors({"k": True, "d": "2027-01-01"})) == {"d"}


PERIOD = {
    "type": "object",
    "properties": {
        "place": {"type": "string"},
        "since": {"type": "string", "format": "date", "notAfter": "today"},
        "until": {"type": "string", "format": "date", "notAfter": "today", "notBefore": {"field": "since"}},
        "noticed": {"type": "string", "format": "date", "notAfter": {"field": "until"}},
    },
}
PERIOD_UI = {
    "ui:pages": [{"id": "p1", "title": {"vi": "Nơi ở", "en": "Place"}, "fields": ["place", "since"]},
                 {"id": "p2", "title": {"vi": "Thời gian", "en": "Dates"}, "fields": ["until", "noticed"]}],
    "since": {"ui:label": {"vi": "Từ ngày", "en": "From"}},
    "until": {"ui:label": {"vi": "Đến ngày", "en": "Until"},
              "ui:errors": {"notBefore": {"vi": "Ngày kết thúc phải từ ngày bắt đầu trở đi",
                                          "en": "The end must be on or after the start"}}},
    "noticed": {"ui:label": {"vi": "Ngày báo", "en": "Notice date"}},
}


def test_a_date_bounded_by_another_field_is_compared_when_both_are_given() -> None:
    form = load_form("t/period.schema.json", json.dumps(PERIOD), json.dumps(PERIOD_UI))
    with _on(dt.datetime(2026, 11, 27, 3, 0)):
        assert form.errors({"since": "2020-05-01", "until": "2020-05-01", "noticed": "2020-05-01"}) == {}
        assert form.errors({"until": "2020-04-30"}) == {}  # nothing to compare with
        errors = form.errors({"since": "2020-05-01", "until": "2020-04-30", "noticed": "2020-05-02"})
        assert errors == {"until": PERIOD_UI["until"]["ui:errors"]["notBefore"]}  # not compared with a wrong date
        errors = form.errors({"since": "2020-05-01", "until": "2020-05-01", "noticed": "2020-05-02"})
        assert errors == {"noticed": {"vi": "Ngày báo không được sau đến ngày", "en": "Notice date cannot be after until"}}
        # a page is checked alone: the start is on the page before, so the end is compared at the final check
        assert form.errors({"until": "2020-04-30", "noticed": "2020-04-01"}, only=("until", "noticed")) == {}
        # a bad date on either side is reported as such, and only as such
        errors = form.errors({"since": "2020-02-30", "until": "2020-01-01"})
        assert set(errors) == {"since"}
        errors = form.errors({"since": "2020-05-01", "until": "2027-01-01"})
        assert errors["until"]["en"] == "Until must be today or in the past"


@pytest.mark.parametrize("bound,fragment", [
    ({"field": "nowhere"}, "names 'nowhere', which is not another date field"),
    ({"field": "place"}, "names 'place', which is not another date field"),
    ({"field": "until"}, "names 'until', which is not another date field"),
    ({"field": "since", "days": 3}, "must be \"today\", a date"),
])
def test_a_bound_on_another_field_must_name_another_date_of_the_form(bound: dict, fragment: str) -> None:
    schema = json.loads(json.dumps(PERIOD))
    schema["properties"]["until"]["notBefore"] = bound
    with pytest.raises(FormProblem) as info:
        load_form("t/broken.schema.json", json.dumps(schema), json.dumps(PERIOD_UI))
    assert fragment in str(info.value)


def test_a_bound_on_another_field_is_refused_inside_a_condition() -> None:
    schema = json.loads(json.dumps(PERIOD))
    schema["if"] = {"properties": {"place": {"const": "x"}}}
    schema["then"] = {"properties": {"until": {"notBefore": {"field": "since"}}}}
    with pytest.raises(FormProblem, match="/then/properties/until: notBefore on another field is allowed only"):
        load_form("t/broken.schema.json", json.dumps(schema), json.dumps(PERIOD_UI))


PLOT = {"type": "object", "properties": {
    "land": {"type": "number", "minimum": 10},
    "built": {"type": "number", "minimum": 5, "notAbove": {"field": "land"}},
    "floors": {"type": "integer", "minimum": 1},
    "total": {"type": "number", "notBelow": [{"field": "built"}, {"field": "floors"}]},
}}
PLOT_UI = {
    "ui:pages": [{"id": "p1", "title": {"vi": "Lô đất", "en": "Plot"}, "fields": ["land"]},
                 {"id": "p2", "title": {"vi": "Nhà", "en": "House"}, "fields": ["built", "floors", "total"]}],
    "land": {"ui:label": {"vi": "Diện tích lô đất", "en": "Plot area"}},
    "built": {"ui:label": {"vi": "Diện tích xây dựng", "en": "Building area"},
              "ui:errors": {"notAbove": {"vi": "Không xây quá diện tích lô đất", "en": "Not more than the plot"}}},
    "floors": {"ui:label": {"vi": "Số tầng", "en": "Floors"}},
    "total": {"ui:label": {"vi": "Tổng diện tích sàn", "en": "Total floor area"}},
}


def test_a_number_bounded_by_another_field_is_compared_when_both_are_given() -> None:
    form = load_form("t/plot.schema.json", json.dumps(PLOT), json.dumps(PLOT_UI))
    assert form.field_bounds == (("built", "notAbove", "land"), ("total", "notBelow", "built"),
                                 ("total", "notBelow", "floors"))
    assert form.errors({"land": 80, "built": 80, "floors": 2, "total": 80}) == {}  # the other's value is allowed
    assert form.errors({"land": 80, "built": 80.5}) == {"built": PLOT_UI["built"]["ui:errors"]["notAbove"]}
    assert form.errors({"built": 90, "total": 89.9}) == {
        "total": {"vi": "Tổng diện tích sàn không được nhỏ hơn diện tích xây dựng",
                  "en": "Total floor area cannot be less than building area"}}
    assert form.errors({"built": 900}) == {}  # nothing to compare with: the plot's page compares at the check
    assert form.errors({"land": 80, "built": 90}, only=("built",)) == {"built": PLOT_UI["built"]["ui:errors"]["notAbove"]}
    # a value that is not a valid number is reported as such, and only as such
    assert set(form.errors({"land": 5, "built": 90})) == {"land"}
    assert set(form.errors({"land": 80, "built": "nhiều"})) == {"built"}


def test_a_year_may_not_be_after_this_year() -> None:
    schema = {"type": "object", "properties": {"year": {"type": "integer", "minimum": 1945, "notAbove": "thisYear"},
                                               "since": {"type": "integer", "notBelow": ["thisYear"]}}}
    ui = {"year": {"ui:label": {"vi": "Năm tốt nghiệp", "en": "Year of graduation"}},
          "since": {"ui:label": {"vi": "Năm bắt đầu", "en": "First year"}}}
    form = load_form("t/year.schema.json", json.dumps(schema), json.dumps(ui))
    with _on(dt.datetime(2026, 12, 31, 16, 59)):  # 23:59 on 31 December in Vietnam
        assert form.errors({"year": 2026, "since": 2026}) == {}
        assert form.errors({"year": 2027, "since": 2025}) == {
            "year": {"vi": "Năm tốt nghiệp không được sau năm nay (2026)",
                     "en": "Year of graduation cannot be after this year (2026)"},
            "since": {"vi": "Năm bắt đầu không được trước năm nay (2026)",
                      "en": "First year cannot be before this year (2026)"}}
    with _on(dt.datetime(2026, 12, 31, 17, 0)):  # already 2027 in Vietnam
        assert form.errors({"year": 2027, "since": 2027}) == {}


@pytest.mark.parametrize("change,fragment", [
    ({"notAbove": 100}, "notAbove must be \"thisYear\", {\"field\": <a number field>}"),
    ({"notBelow": "today"}, "notBelow must be \"thisYear\""),
    ({"notBelow": {"field": "nowhere"}}, "names 'nowhere', which is not another number field"),
    ({"notBelow": {"field": "built"}}, "names 'built', which is not another number field"),  # itself
    ({"type": "string", "notAbove": {"field": "land"}}, "notAbove applies only to a number"),
])
def test_a_number_bound_must_name_another_number_of_the_form(change: dict, fragment: str) -> None:
    schema = json.loads(json.dumps(PLOT))
    schema["properties"]["built"].update(change)
    with pytest.raises(FormProblem) as info:
        load_form("t/broken.schema.json", json.dumps(schema), json.dumps(PLOT_UI))
    assert fragment in str(info.value)


def test_a_number_bound_on_a_date_field_is_refused() -> None:
    schema = json.loads(json.dumps(PERIOD))
    schema["properties"]["until"]["notAbove"] = {"field": "since"}
    with pytest.raises(FormProblem, match="notAbove names 'since', which is not another number field"):
        load_form("t/broken.schema.json", json.dumps(schema), json.dumps(PERIOD_UI))


NUMBERS = {"type": "object", "properties": {"area": {"type": "number", "minimum": 10, "maximum": 10000},
                                            "count": {"type": "integer", "minimum": 0}}}
NUMBERS_UI = {"area": {"ui:label": {"vi": "Diện tích", "en": "Area"}},
              "count": {"ui:label": {"vi": "Số lượng", "en": "Count"}}}


@pytest.mark.parametrize("area,count,expected", [
    ("1.200", "1.000.000", {"area": 1200.0, "count": 1000000}),  # thousands as the pages show them
    ("25,5", "12", {"area": 25.5, "count": 12}),  # the Vietnamese decimal comma
    ("25.5", "1,000", {"area": 25.5, "count": 1000}),  # a decimal point; thousands the English way
    ("1.234,5", "-3", {"area": 1234.5, "count": -3}),
    ("1,234.5", " 7 ", {"area": 1234.5, "count": 7}),
    ("10 000", "0", {"area": 10000.0, "count": 0}),
])
def test_numbers_are_read_as_vietnamese_pages_write_them(area: str, count: str, expected: dict) -> None:
    form = load_form("t/n.schema.json", json.dumps(NUMBERS), json.dumps(NUMBERS_UI))
    data = form.coerce({"area": area, "count": count})
    assert data == expected and type(data["count"]) is int
    assert form.coerce(form.to_raw(data)) == data  # shown again, read back the same


@pytest.mark.parametrize("area", ["nan", "NaN", "inf", "-Infinity", "1e3", "1.2.3", "1,2,3", "12,50.3", "mười"])
def test_what_is_not_a_plain_number_is_refused_not_guessed(area: str) -> None:
    form = load_form("t/n.schema.json", json.dumps(NUMBERS), json.dumps(NUMBERS_UI))
    data = form.coerce({"area": area, "count": "2.5"})
    assert form.errors(data) == {"area": {"vi": "Diện tích phải là một số", "en": "Area must be a number"},
                                 "count": {"vi": "Số lượng phải là một số nguyên", "en": "Count must be a whole number"}}


def test_numbers_are_shown_in_each_language() -> None:
    form = load_form("t/n.schema.json", json.dumps(NUMBERS), json.dumps(NUMBERS_UI))
    area, count = form.fields["area"], form.fields["count"]
    assert (area.display(25000.0, "vi"), area.display(25000.0, "en")) == ("25.000", "25,000")
    assert (area.display(1234.5, "vi"), area.display(1234.5, "en")) == ("1.234,5", "1,234.5")
    assert (count.display(1000000, "vi"), area.display(0.1 + 0.2, "vi")) == ("1.000.000", "0,3")


def test_a_list_of_bounds_must_all_hold_and_the_message_names_the_one_broken() -> None:
    schema = {"type": "object", "properties": {
        "child": {"type": "string", "format": "date"},
        "mother": {"type": "string", "format": "date", "notAfter": ["today", {"field": "child"}],
                   "notBefore": ["1900-01-01"]}}}
    ui = {"mother": {"ui:label": {"vi": "Ngày sinh của mẹ", "en": "Mother's date of birth"}},
          "child": {"ui:label": {"vi": "Ngày sinh của trẻ", "en": "Child's date of birth"}}}
    form = load_form("t/list.schema.json", json.dumps(schema), json.dumps(ui))
    with _on(dt.datetime(2026, 11, 27, 3, 0)):
        assert form.errors({"child": "2026-11-02", "mother": "1995-04-12"}) == {}
        assert form.errors({"mother": "2026-11-28"})["mother"]["en"] == "Mother's date of birth must be today or in the past"
        assert form.errors({"child": "2026-11-02", "mother": "2026-11-03"})["mother"] == {
            "vi": "Ngày sinh của mẹ không được sau ngày sinh của trẻ",
            "en": "Mother's date of birth cannot be after child's date of birth"}
        assert form.errors({"mother": "1899-01-01"})["mother"]["en"] == "Mother's date of birth must be 01/01/1900 or later"
    for bad in (["today", "tomorrow"], [], [{"field": "nobody"}]):
        schema["properties"]["mother"]["notAfter"] = bad
        with pytest.raises(FormProblem):
            load_form("t/list.schema.json", json.dumps(schema), json.dumps(ui))


def test_only_when_drops_what_no_longer_applies_and_refuses_a_broken_condition() -> None:
    schema = {"type": "object", "properties": {
        "known": {"type": "string", "enum": ["yes", "no"]}, "name": {"type": "string", "minLength": 2},
        "how": {"type": "string", "enum": ["post", "online", "desk"]}, "address": {"type": "string"}},
        "required": ["known"]}
    ui = {"ui:pages": [{"id": "a", "title": {"vi": "A", "en": "A"}, "fields": ["known", "name"]},
                       {"id": "b", "title": {"vi": "B", "en": "B"}, "fields": ["how", "address"]}],
          "name": {"ui:onlyWhen": {"known": "yes"}}, "address": {"ui:onlyWhen": {"how": ["post", "desk"]}}}
    form = load_form("t/when.schema.json", json.dumps(schema), json.dumps(ui))
    data = {"known": "no", "name": "x", "how": "online", "address": "Xóm"}
    assert form.unused(data) == ["name", "address"]
    assert form.without_unused(data) == {"known": "no", "how": "online"}
    assert form.errors(form.without_unused(data)) == {}  # "x" is too short, but no longer asked for
    assert form.unused({"known": "yes", "name": "An", "how": "desk", "address": "Xóm"}) == []
    assert form.unused({"known": "yes"}) == ["address"]  # its condition unanswered: it does not apply
    assert form.unused({"known": "no", "name": "x"}, whole=False) == ["name"]  # one page: only what it can tell
    assert form.unused({"how": "online", "address": "Xóm"}, whole=False) == ["address"]
    assert form.unused({"name": "x"}, whole=False) == []
    for when, fragment in (({"nobody": "yes"}, "names 'nobody'"), ({"name": "yes"}, "names 'name'"),
                           ({"known": "maybe"}, "a value it cannot take")):
        broken = {**ui, "name": {"ui:onlyWhen": when}}
        with pytest.raises(FormProblem, match=fragment):
            load_form("t/when.schema.json", json.dumps(schema), json.dumps(broken))
    with pytest.raises(FormProblem, match="always required"):
        load_form("t/when.schema.json", json.dumps(schema), json.dumps({**ui, "known": {"ui:onlyWhen": {"how": "post"}}}))


@pytest.mark.parametrize("digit", ["²", "٣", "５"])  # a superscript (a "digit" int() refuses), Arabic-Indic, full width
def test_digits_of_other_scripts_in_a_date_never_break_the_form(form, digit: str) -> None:
    data = form.coerce({"full_name": "Lan", "birth_date-day": digit, "birth_date-month": "1",
                        "birth_date-year": "2026", "copies": "1", "decision": "accept", "confirm": "true"})
    errors = form.errors(data)
    assert set(errors) <= {"birth_date"}  # a date, or the box's error: never an exception


@pytest.mark.parametrize("typed", ["9" * 5000, "9" * 400, "9" * 400 + ",5"])
def test_a_number_too_long_to_read_is_refused_not_a_crash(form, typed: str) -> None:
    data = form.coerce({"copies": typed})
    assert form.errors(data)["copies"]["vi"] == "Số bản sao phải là một số nguyên"


def test_a_date_part_of_thousands_of_digits_is_refused_not_a_crash(form) -> None:
    data = form.coerce({"birth_date-day": "9" * 5000, "birth_date-month": "1", "birth_date-year": "2026"})
    assert form.errors(data)["birth_date"]["en"] == "Date of birth must be a real date"
