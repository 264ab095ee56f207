"""Officials list their agency's dossiers, newest first, by status, procedure, overdue or the applicant's personal
ID number, email or phone, and go to one by code."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from tests.web.test_journey import RECEPTION, official_completes, register, start_birth_registration, submit_declaration


def test_an_official_finds_the_agencys_dossiers(people) -> None:  # noqa: ANN001
    citizen = register(people)
    first = submit_declaration(citizen, start_birth_registration(citizen))
    second = submit_declaration(citizen, start_birth_registration(citizen))
    official_completes(people, RECEPTION, first, {"reception_decision": "accept"}, "Đang xử lý")
    official = people()
    official.login(RECEPTION)
    page = official.get("/can-bo/ho-so")
    assert page.has("Hồ sơ của cơ quan", 'aria-current="true"')
    assert re.findall(r'data-dossier-code="([^"]+)"', page.html) == [second, first]  # newest first
    page = official.get("/can-bo/ho-so?trang-thai=processing")
    assert re.findall(r'data-dossier-code="([^"]+)"', page.html) == [first]
    page = official.get("/can-bo/ho-so?thu-tuc=diploma_copy")
    assert page.has("Không có hồ sơ nào.")
    page = official.get(f"/can-bo/ho-so?ma={second.lower()}")
    assert page.url.startswith("/can-bo/ho-so/") and page.has(second)
    page = official.get("/can-bo/ho-so?ma=000.31.27.H14-000000-0000", status=404)
    assert page.has("Không có hồ sơ mã 000.31.27.H14-000000-0000")
    official.get("/can-bo/ho-so?trang-thai=bogus", status=404)
    # a citizen has no such page; another agency's official sees none of these
    assert citizen.client.get("/can-bo/ho-so").status_code == 403
    province = people()
    province.login("motcua.tinh@demo.motcua.vn")
    assert "data-dossier-code" not in province.get("/can-bo/ho-so").html


def test_an_official_finds_an_applicants_dossiers_as_the_person_at_the_desk_says_them(people) -> None:  # noqa: ANN001
    citizen = register(people)  # personal ID 001195000111, phone 0987654321
    code = submit_declaration(citizen, start_birth_registration(citizen))
    other = register(people, "binh@example.com")  # a second account given the same ID and phone
    other_code = submit_declaration(other, start_birth_registration(other))
    official = people()
    official.login(RECEPTION)
    for typed, found in (("001 195 000 111", [other_code, code]), ("001.195.000.111", [other_code, code]),
                         ("AN@Example.com", [code]), ("+84987654321", [other_code, code]),
                         ("0987 654 321", [other_code, code]), ("binh@example.com", [other_code])):
        page = official.get("/can-bo/ho-so?" + urlencode({"nguoi-nop": typed}))
        assert re.findall(r'data-dossier-code="([^"]+)"', page.html) == found, typed
        assert f'value="{typed}"' in page.html  # kept in its box
    page = official.get("/can-bo/ho-so?nguoi-nop=khong-ai%40example.com")
    assert page.has("Không có hồ sơ nào.")
    # by the full name, written with or without diacritics, any case or spacing (both accounts are "Trần Thị An")
    for typed in ("Trần Thị An", "tran  thi AN", "TRẦN THỊ AN"):
        page = official.get("/can-bo/ho-so?" + urlencode({"nguoi-nop": typed}))
        assert re.findall(r'data-dossier-code="([^"]+)"', page.html) == [other_code, code], typed
    assert official.get("/can-bo/ho-so?nguoi-nop=Tr%E1%BA%A7n+Th%E1%BB%8B").has("Không có hồ sơ nào.")  # whole names
    for typed in ("12345", "--"):  # neither an ID, a phone, an email nor a name
        page = official.get("/can-bo/ho-so?" + urlencode({"nguoi-nop": typed}), status=400)
        assert page.has('href="#nguoi-nop"',
                        "Nhập số định danh cá nhân (12 chữ số), email, số điện thoại hoặc họ và tên của người nộp")
        assert "data-dossier-code=" not in page.html
    # filters combine; another agency's official finds nothing of this agency's
    page = official.get("/can-bo/ho-so?" + urlencode({"nguoi-nop": "an@example.com", "trang-thai": "processing"}))
    assert page.has("Không có hồ sơ nào.")
    province = people()
    province.login("motcua.tinh@demo.motcua.vn")
    assert "data-dossier-code" not in province.get("/can-bo/ho-so?nguoi-nop=an%40example.com").html
