"""Officials list their agency's dossiers, newest first, by status, procedure or overdue, and go to one by code."""
from __future__ import annotations

import re

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
