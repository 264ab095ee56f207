"""The process designer's pages: a changed diagram on disk is checked and deployed as a new version, compared with
the one before, and a dossier running on the old version is moved onto it and goes on; broken files are refused
with their problems; nobody else reaches these pages."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from engine import demo
from engine.api import Engine
from engine.config import Settings
from tests.procedures import copy_procedures
from tests.web.test_journey import RECEPTION, official_completes, register, start_birth_registration, submit_declaration
from web import create_app

DESIGNER = "thietke@demo.motcua.vn"
OLD_NAME, NEW_NAME = "Tiếp nhận, kiểm tra hồ sơ", "Tiếp nhận và kiểm tra hồ sơ khai sinh"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the procedures, for the designer to change."""
    return copy_procedures(tmp_path / "procedures")


@pytest.fixture
def app(database_url: str, root: Path) -> Iterator[Flask]:
    eng = Engine(Settings(database_url=database_url, root=root))
    eng.upgrade_database()
    with eng.session() as s:
        eng.deploy(s)
        demo.seed(s)
        s.commit()
    yield create_app(engine=eng, SECRET_KEY="test-secret-key", TESTING=True)
    eng.db.dispose()


def test_a_changed_diagram_is_deployed_and_a_running_dossier_moved_onto_it(people, root: Path) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))  # waits at reception, on version 1

    designer = people()
    page = designer.login(DESIGNER)
    assert page.url == "/thiet-ke/" and page.has("Đăng ký khai sinh", "birth_registration", "Phiên bản 1")
    page = designer.get("/thiet-ke/trien-khai")
    assert page.has("Giống phiên bản hiện hành", "Không có gì để triển khai") and "Triển khai 1 thủ tục" not in page.html

    bpmn = root / "bpmn" / "birth_registration.bpmn"
    bpmn.write_text(bpmn.read_text().replace(f'name="{OLD_NAME}"', f'name="{NEW_NAME}"'))
    page = designer.get("/thiet-ke/trien-khai")
    assert page.has("Đã sửa, chưa triển khai", "Triển khai 1 thủ tục")
    page = designer.post("/thiet-ke/trien-khai")
    assert page.url == "/thiet-ke/" and page.has("Đã triển khai phiên bản mới của: birth_registration")
    assert page.has("Phiên bản 2", "Triển khai phiên bản mới của birth_registration")  # and the log says so

    page = designer.get("/thiet-ke/birth_registration")
    assert page.has("Phiên bản 2", "hiện hành", "So sánh với phiên bản hiện hành",
                    "Chuyển hồ sơ sang phiên bản hiện hành", 'data-diagram-url="/thiet-ke/birth_registration/phien-ban/2.bpmn"')
    xml = designer.client.get("/thiet-ke/birth_registration/phien-ban/1.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and OLD_NAME in xml.get_data(as_text=True)
    page = designer.get("/thiet-ke/birth_registration/phien-ban/1/so-sanh")
    assert page.has("Từ phiên bản 1 đến phiên bản 2", "bpmn/birth_registration.bpmn", NEW_NAME, "reception_check",
                    'data-changed="reception_check"')

    page = designer.get("/thiet-ke/birth_registration/phien-ban/1/chuyen-ho-so")
    assert page.has(code, OLD_NAME, "Được", "Chuyển các hồ sơ chuyển được sang phiên bản 2")
    page = designer.post("/thiet-ke/birth_registration/phien-ban/1/chuyen-ho-so")
    assert page.url == "/thiet-ke/birth_registration" and page.has("Đã chuyển 1 hồ sơ sang phiên bản hiện hành")
    assert designer.get("/thiet-ke/birth_registration/phien-ban/1/chuyen-ho-so").has(
        "Không còn hồ sơ nào đang xử lý ở phiên bản này")

    # the reception officer sees the step under its new name, and the dossier goes on
    official = people()
    page = official.login(RECEPTION)
    assert page.has(code, NEW_NAME)
    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    assert citizen.get("/ho-so").has(code, "Đang xử lý")


def test_broken_files_are_listed_and_not_deployed(people, root: Path) -> None:  # noqa: ANN001
    designer = people()
    designer.login(DESIGNER)
    bpmn = root / "bpmn" / "diploma_copy.bpmn"
    bpmn.write_text(bpmn.read_text()[:-200])  # cut short: not XML any more
    page = designer.get("/thiet-ke/trien-khai")
    assert page.has("Có lỗi cần sửa", "diploma_copy.bpmn") and "Triển khai 1 thủ tục" not in page.html
    page = designer.post("/thiet-ke/trien-khai")
    assert page.has("Chưa triển khai: các quy trình còn lỗi")
    assert "Phiên bản 2" not in designer.get("/thiet-ke/").html


def test_unknown_procedures_and_versions_are_not_found(people) -> None:  # noqa: ANN001
    designer = people()
    designer.login(DESIGNER)
    designer.get("/thiet-ke/khong_co", status=404)
    designer.get("/thiet-ke/birth_registration/phien-ban/7/so-sanh", status=404)
    designer.get("/thiet-ke/birth_registration/phien-ban/1/so-sanh", status=404)  # the current one: nothing to compare
    designer.get("/thiet-ke/birth_registration/phien-ban/1/chuyen-ho-so", status=404)
    designer.get("/thiet-ke/birth_registration/phien-ban/99999999999999.bpmn", status=404)
    designer.get("/thiet-ke/")
    page = designer.post("/thiet-ke/ho-so/123456/chuyen", {"back": "https://example.com/"}, status=404)
    assert "example.com" not in page.url


def test_nobody_else_reaches_the_designers_pages(people) -> None:  # noqa: ANN001
    citizen = register(people)
    assert citizen.client.get("/thiet-ke/").status_code == 403
    official = people()
    official.login(RECEPTION)
    assert official.client.get("/thiet-ke/trien-khai").status_code == 403
    admin = people()
    admin.login("quantri@demo.motcua.vn")
    assert admin.client.get("/thiet-ke/birth_registration/phien-ban/1.bpmn").status_code == 403
    assert people().client.get("/thiet-ke/").status_code == 302  # to log in
    # a designer's form without its CSRF token is refused
    designer = people()
    designer.login(DESIGNER)
    assert designer.client.post("/thiet-ke/trien-khai").status_code == 400
    assert re.search(r"Phiên bản 1", designer.get("/thiet-ke/").html)


def test_the_modelers_check_and_save_refuse_what_is_broken(people, root: Path) -> None:  # noqa: ANN001
    designer = people()
    designer.login(DESIGNER)
    page = designer.get("/thiet-ke/birth_registration/so-do")
    token = designer.token()
    headers = {"X-CSRFToken": token, "Content-Type": "application/xml"}
    bpmn = root / "bpmn" / "birth_registration.bpmn"
    before = bpmn.read_text(encoding="utf-8")
    assert page.has('data-diagram-url="/thiet-ke/birth_registration/so-do.bpmn"')
    assert designer.client.get("/thiet-ke/birth_registration/so-do.bpmn").get_data(as_text=True) == before

    ok = designer.client.post("/thiet-ke/birth_registration/so-do/kiem-tra", data=before.encode(), headers=headers)
    assert ok.status_code == 200 and ok.get_json() == {"problems": []}
    for broken, says in ((before[:-300], "not well-formed"),
                         (before.replace('targetRef="reception_check"', 'targetRef="nowhere"', 1), "refers to no element"),
                         ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "")):
        answer = designer.client.post("/thiet-ke/birth_registration/so-do", data=broken.encode(), headers=headers)
        assert answer.status_code == 422 and answer.get_json()["saved"] is False
        assert says in repr(answer.get_json()["problems"]) and "root:" not in answer.get_data(as_text=True)
    assert bpmn.read_text(encoding="utf-8") == before  # nothing written
    renamed = before.replace(f'name="{OLD_NAME}"', f'name="{NEW_NAME}"')
    saved = designer.client.post("/thiet-ke/birth_registration/so-do", data=renamed.encode(), headers=headers)
    assert saved.get_json() == {"saved": True, "problems": []} and bpmn.read_text(encoding="utf-8") == renamed
    assert designer.get("/thiet-ke/").has("Sửa sơ đồ bpmn/birth_registration.bpmn")  # in the designers' log
    # no token, an unknown procedure, a path for a code
    assert designer.client.post("/thiet-ke/birth_registration/so-do", data=renamed.encode(),
                                headers={"Content-Type": "application/xml"}).status_code == 400
    assert designer.client.post("/thiet-ke/khong_co/so-do/kiem-tra", data=b"<x/>", headers=headers).status_code == 404
    assert designer.client.get("/thiet-ke/..%2Fworkflows%2Fbirth_registration/so-do.bpmn").status_code == 404


def test_a_designer_imports_a_spiff_arena_model_from_the_page(people, root: Path) -> None:  # noqa: ANN001
    from tests.engine.test_importer import MODEL, zipped

    designer = people()
    designer.login(DESIGNER)
    page = designer.get("/thiet-ke/")
    assert page.has('href="/thiet-ke/nhap"')
    designer.get("/thiet-ke/nhap")
    page = designer.upload("/thiet-ke/nhap", {"code": ""}, b"not a zip", "mo-hinh.zip", status=400)
    assert page.has('href="#archive"', "Không nhập được: the file is not a ZIP archive.")
    page = designer.upload("/thiet-ke/nhap", {"code": "nghi_phep"}, zipped(MODEL), "leave-request.zip")
    assert page.has("Đã nhập thủ tục nghi_phep", "bpmn/nghi_phep.bpmn", "[import]", 'href="/thiet-ke/trien-khai"')
    assert (root / "workflows" / "nghi_phep.toml").is_file()
    page = designer.upload("/thiet-ke/nhap", {"code": "nghi_phep"}, zipped(MODEL), "leave-request.zip", status=400)
    assert page.has("exists already")  # the same code again
    page = designer.get("/thiet-ke/trien-khai")
    assert page.has("nghi_phep", "Thủ tục mới")

    citizen = register(people)
    assert citizen.client.get("/thiet-ke/nhap").status_code == 403
