"""The public catalog: every current procedure once, in the order of its Vietnamese name, found by words with or
without diacritics and by field; a newly deployed version replaces the one before in it."""
from __future__ import annotations

import shutil
from pathlib import Path

from engine.api import Engine
from engine.catalog import fold
from engine.config import DEFAULT_ROOT

SHIPPED = sorted(p.stem for p in (DEFAULT_ROOT / "workflows").glob("*.toml"))


def codes(engine: Engine, session, query: str | None = None, field: str | None = None) -> list[str]:  # noqa: ANN001
    return [p.code for p in engine.procedures(session, query, field)]


def test_every_current_procedure_once_in_the_order_of_its_name(engine: Engine, session) -> None:  # noqa: ANN001
    infos = engine.procedures(session)
    assert sorted(p.code for p in infos) == SHIPPED
    names = [fold(p.name["vi"]) for p in infos]
    assert names == sorted(names)
    assert codes(engine, session, "   ") == [p.code for p in infos]  # blank words are no filter


def test_words_match_with_or_without_diacritics_and_all_must_match(engine: Engine, session) -> None:  # noqa: ANN001
    found = codes(engine, session, "khai sinh")
    assert "birth_registration" in found
    assert codes(engine, session, "dang ky khai sinh") == codes(engine, session, "ĐĂNG KÝ KHAI SINH") == found
    english = codes(engine, session, "birth certificate")  # English names, summaries and keywords count too
    assert "birth_registration" in english and "housing_construction_permit" not in english
    assert "housing_construction_permit" in codes(engine, session, "xay dung")
    assert codes(engine, session, "khai sinh xay dung") == []  # no procedure holds both
    assert codes(engine, session, "không có thủ tục nào như vậy") == []


def test_a_field_keeps_its_procedures_only(engine: Engine, session) -> None:  # noqa: ANN001
    every = engine.procedures(session)
    civil = codes(engine, session, field="ho_tich")
    assert civil == [p.code for p in every if p.field_code == "ho_tich"]
    assert "birth_registration" in civil and "housing_construction_permit" not in civil
    assert codes(engine, session, "khai sinh", "ho_tich") == codes(engine, session, "khai sinh")
    assert codes(engine, session, "khai sinh", "xay_dung") == []
    assert codes(engine, session, field="no_such_field") == []


def test_a_new_version_replaces_the_one_before(engine: Engine, session, tmp_path: Path) -> None:  # noqa: ANN001
    assert codes(engine, session, "phien ban moi") == []  # the old version is cached and searched first
    root = tmp_path / "root"
    for part in ("bpmn", "forms", "workflows"):
        shutil.copytree(DEFAULT_ROOT / part, root / part)
    manifest = root / "workflows" / "birth_registration.toml"
    text = manifest.read_text()
    renamed = text.replace('name = { vi = "Đăng ký khai sinh"', 'name = { vi = "Đăng ký khai sinh (phiên bản mới)"', 1)
    manifest.write_text(renamed)
    assert manifest.read_text() != text
    engine.deploy(session, root)
    session.commit()
    infos = engine.procedures(session)
    assert sorted(p.code for p in infos) == SHIPPED  # still once each
    assert codes(engine, session, "phien ban moi") == ["birth_registration"]
    birth = next(p for p in infos if p.code == "birth_registration")
    assert birth.name["vi"] == "Đăng ký khai sinh (phiên bản mới)"
