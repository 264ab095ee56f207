"""Forms: raw input to typed data, every error at once per field in vi and en, broken definitions refused."""
from __future__ import annotations

import json

import pytest

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
