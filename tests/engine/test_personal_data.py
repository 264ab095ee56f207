"""A citizen's personal data as one document: the profile, and each of their dossiers with what they answered,
the files they attached, its history, fees and rating; nobody else's dossiers; not for an official's account."""
from __future__ import annotations

import json

import pytest

from engine.api import Engine
from engine.errors import Forbidden
from tests.engine.test_birth_registration import CITIZEN, ROLE_EMAIL, user
from tests.engine.test_integration import sent


def test_a_citizen_gets_everything_kept_about_them(engine: Engine) -> None:
    code = sent(engine, ("reception_check", "accept"))
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        data = engine.personal_data(s, citizen)
    json.dumps(data)  # (it is JSON)
    assert data["format"] == "motcua.personal-data/1" and data["account"]["email"] == CITIZEN
    assert data["account"]["full_name"] == "Nguyễn Thị Lan"
    (dossier,) = data["dossiers"]
    assert dossier["code"] == code and dossier["procedure"]["code"] == "birth_registration"
    assert dossier["status"] == "Đang xử lý" and dossier["submitted_at"].endswith("Z")
    answers = {label: value for form in dossier["answers"] for label, value in form["fields"].items()}
    assert "Nguyễn Minh An" in answers.values() and "CS-2026-118" in answers.values()
    assert {d["file"] for d in dossier["documents"]} == {"birth_notice.pdf", "requester_id.pdf"}
    assert all(d["sent"] and d["bytes"] > 0 for d in dossier["documents"])
    assert [h["what"] for h in dossier["history"]][:1] and dossier["rating"] is None


def test_only_ones_own_and_only_a_citizens(engine: Engine) -> None:
    sent(engine)
    with engine.session() as s:
        other = engine.register_citizen(s, "khac@example.com", "mat-khau-rat-dai", "Lê Văn Khác")
        s.commit()
        assert engine.personal_data(s, other)["dossiers"] == []
        with pytest.raises(Forbidden):
            engine.personal_data(s, user(s, ROLE_EMAIL["reception_officer"]))
