"""The integration API over HTTP: the public catalog; an administrator makes a client and sees its token once; the
client reads its agency's dossiers by bearer token, as JSON, and follows the feed; without a valid token, with bad
parameters, at an unknown address, every answer is JSON with its status; a revoked token stops working."""
from __future__ import annotations

import re

from tests.web.test_journey import RECEPTION, official_completes, register, start_birth_registration, submit_declaration

ADMIN = "quantri@demo.motcua.vn"


def token_for(people, agency_code: str, name: str = "Đồng bộ DVCQG") -> str:  # noqa: ANN001
    admin = people()
    admin.login(ADMIN)
    page = admin.get("/quan-tri/api/moi")
    page = admin.post("/quan-tri/api/moi", {"name": "", "agency_id": ""}, status=400)
    assert page.has("Có lỗi cần sửa", 'href="#name"', 'href="#agency_id"')
    agency_id = re.search(rf'<option value="(\d+)">{re.escape(agency_code)} ', page.html).group(1)
    page = admin.post("/quan-tri/api/moi", {"name": name, "agency_id": agency_id})
    assert page.has("chỉ hiện một lần")
    token = re.search(r'id="token" type="text" value="(mc_[^"]+)"', page.html).group(1)
    page = admin.get("/quan-tri/")
    assert page.has(name, token[:10]) and token not in page.html  # listed, never shown again
    return token


def test_a_client_follows_its_agencys_dossiers(people, app) -> None:  # noqa: ANN001
    api = app.test_client()
    catalog = api.get("/api/v1/thu-tuc")
    assert catalog.status_code == 200 and catalog.mimetype == "application/json"
    assert "birth_registration" in [p["code"] for p in catalog.get_json()["items"]]

    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    token = token_for(people, "000.31.27.H14")
    other = token_for(people, "000.00.27.H14", "Văn bản tỉnh")  # the province's
    auth = {"Authorization": f"Bearer {token}"}

    found = api.get(f"/api/v1/ho-so/{code}", headers=auth)
    assert found.status_code == 200 and found.get_json()["status"]["code"] == "receiving"
    assert "Trần Thị An" not in found.get_data(as_text=True)
    assert api.get(f"/api/v1/ho-so/{code}", headers={"Authorization": f"Bearer {other}"}).status_code == 404

    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    changes = api.get("/api/v1/ho-so?tu=2026-01-01T00:00:00%2B07:00", headers=auth).get_json()
    assert [(i["code"], i["status"]["code"]) for i in changes["items"]] == [(code, "processing")]
    assert changes["next"] is None

    bad = api.get("/api/v1/ho-so?tu=hom-qua", headers=auth)
    assert bad.status_code == 400 and "tu" in bad.get_json()["error"]["fields"]
    assert api.get("/api/v1/khong-co", headers=auth).get_json()["error"]["status"] == 404
    assert api.post("/api/v1/ho-so", headers=auth).status_code == 405

    admin = people()
    page = admin.login(ADMIN)
    client_id = re.search(rf'{re.escape(token[:10])}…</td>.*?action="/quan-tri/api/(\d+)/thu-hoi"', page.html, re.S).group(1)
    page = admin.post(f"/quan-tri/api/{client_id}/thu-hoi")
    assert page.has("Đã thu hồi mã truy cập")
    refused = api.get(f"/api/v1/ho-so/{code}", headers=auth)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_without_a_valid_token_nothing_is_read(people, app) -> None:  # noqa: ANN001
    api = app.test_client()
    for headers in ({}, {"Authorization": "Bearer mc_wrong"}, {"Authorization": "Basic bWM6eA=="}):
        answer = api.get("/api/v1/ho-so", headers=headers)
        assert answer.status_code == 401 and answer.mimetype == "application/json"
        assert answer.get_json()["error"]["message"]["en"].startswith("A valid API token")
    # a signed-in official's cookie is no token
    official = people()
    official.login(RECEPTION)
    assert official.client.get("/api/v1/ho-so").status_code == 401
    # nor can anyone but an administrator make one
    assert official.client.get("/quan-tri/api/moi").status_code == 403
