"""The integration API over HTTP: the public catalog; an administrator makes a client and sees its token once; the
client reads its agency's dossiers by bearer token, as JSON, and follows the feed; without a valid token, with bad
parameters, at an unknown address, every answer is JSON with its status; a revoked token stops working."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from engine import clock
from engine.integration import SETTLE
from engine.models import User
from tests.web.test_journey import RECEPTION, official_completes, register, start_birth_registration, submit_declaration

ADMIN = "quantri@demo.motcua.vn"


def token_for(people, agency_code: str, name: str = "Đồng bộ DVCQG") -> str:  # noqa: ANN001
    admin = people()
    admin.login(ADMIN)
    page = admin.get("/quan-tri/api/moi")
    page = admin.post("/quan-tri/api/moi", {"name": "", "agency_id": ""}, status=400)
    assert page.has("Có lỗi cần sửa", 'href="#name"', 'href="#agency_id"')
    agency_id = re.search(rf'<option value="(\d+)">{re.escape(agency_code)} ', page.html).group(1)
    page = admin.post("/quan-tri/api/moi", {"name": name, "agency_id": agency_id, "valid_days": "365"})
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
    feed = "/api/v1/ho-so?tu=2026-01-01T00:00:00%2B07:00"
    assert api.get(feed, headers=auth).get_json()["items"] == []  # listed once settled
    with clock.use(clock.ManualClock(clock.now() + SETTLE)):
        changes = api.get(feed, headers=auth).get_json()
    assert [(i["code"], i["status"]["code"]) for i in changes["items"]] == [(code, "processing")]
    assert changes["next"] is None

    bad = api.get("/api/v1/ho-so?tu=hom-qua", headers=auth)
    assert bad.status_code == 400 and "tu" in bad.get_json()["error"]["fields"]
    assert api.get("/api/v1/khong-co", headers=auth).get_json()["error"]["status"] == 404
    assert api.post("/api/v1/ho-so", headers=auth).status_code == 405

    admin = people()
    page = admin.login(ADMIN)
    client_id = re.search(rf'{re.escape(token[:10])}…</td>.*?action="/quan-tri/api/(\d+)/thu-hoi"', page.html,
                          re.S).group(1)
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


def new_token(engine, name: str = "Đồng bộ DVCQG") -> str:  # noqa: ANN001
    from engine.models import Agency

    with engine.session() as s:
        admin = s.scalar(select(User).where(User.email == ADMIN))
        made = engine.create_api_client(s, admin, name, s.scalar(select(Agency.id).order_by(Agency.id).limit(1)))
        s.commit()
        return made.token


def test_requests_over_the_limit_wait(engine, limited_app) -> None:  # noqa: ANN001
    app = limited_app(api_rate_limit="3/minute", api_public_rate_limit="2/minute")
    api = app.test_client()
    first, second = ({"Authorization": f"Bearer {new_token(engine, n)}"} for n in ("Hệ thống một", "Hệ thống hai"))
    answers = [api.get("/api/v1/ho-so", headers=first) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    refused = answers[-1]
    assert refused.mimetype == "application/json" and refused.get_json()["error"]["status"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["error"]["message"]["en"].startswith("Too many requests")
    assert api.get("/api/v1/ho-so", headers=second).status_code == 200  # each client its own count

    # without a token, by address: the catalog and refused tokens share one count
    assert [api.get("/api/v1/thu-tuc").status_code for _ in range(2)] == [200, 200]
    assert api.get("/api/v1/thu-tuc").status_code == 429
    assert api.get("/api/v1/ho-so", headers={"Authorization": "Bearer mc_guess"}).status_code == 429
    other_address = api.get("/api/v1/thu-tuc", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other_address.status_code == 200 and other_address.headers["RateLimit-Remaining"] == "1"


def test_bad_limits_stop_the_app_at_start(limited_app) -> None:  # noqa: ANN001
    for settings in ({"api_rate_limit": "many"}, {"rate_limit_storage": "bogus://x"}):
        with pytest.raises(RuntimeError, match="MOTCUA_API_RATE_LIMIT"):
            limited_app(**settings)


REDIS = "redis://127.0.0.1:6379/15"


def test_workers_share_their_counts_in_redis(engine, limited_app) -> None:  # noqa: ANN001
    """Two web workers (two apps) with the counts in Redis: the limit holds across them. Skipped without Redis."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS).flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    workers = [limited_app(api_rate_limit="3/minute", rate_limit_storage=REDIS).test_client()
               for _ in range(2)]
    auth = {"Authorization": f"Bearer {new_token(engine)}"}
    codes = [workers[i % 2].get("/api/v1/ho-so", headers=auth).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_with_the_store_of_counts_away_the_api_still_answers(engine, limited_app) -> None:  # noqa: ANN001
    api = limited_app(api_rate_limit="1/minute", rate_limit_storage="redis://127.0.0.1:1/0").test_client()
    auth = {"Authorization": f"Bearer {new_token(engine)}"}
    answers = [api.get("/api/v1/ho-so", headers=auth) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and "RateLimit-Limit" not in answers[0].headers


def test_an_administrator_sets_a_webhook_and_sees_its_secret_once(people) -> None:  # noqa: ANN001
    admin = people()
    admin.login(ADMIN)
    admin.get("/quan-tri/api/moi")
    page = admin.post("/quan-tri/api/moi", {"name": "Văn bản xã", "agency_id": "1", "valid_days": "90",
                                            "webhook_url": "http://vanban.example.gov.vn/hook"}, status=400)
    assert page.has('href="#webhook_url"', "https://")
    assert 'value="http://vanban.example.gov.vn/hook"' in page.html and 'value="90" checked' in page.html  # kept
    page = admin.post("/quan-tri/api/moi", {"name": "Văn bản xã", "agency_id": "1", "valid_days": "90",
                                            "webhook_url": "https://vanban.example.gov.vn/hook"})
    secret = re.search(r'id="webhook_secret" type="text" value="(whsec_[^"]+)"', page.html).group(1)
    assert page.has("Hết hạn", "https://vanban.example.gov.vn/hook")
    page = admin.get("/quan-tri/")
    assert page.has("https://vanban.example.gov.vn/hook", "Chưa gửi lần nào") and secret not in page.html


def test_an_administrator_renews_a_token_and_changes_the_webhook(people) -> None:  # noqa: ANN001
    token = token_for(people, "000.31.27.H14")
    admin = people()
    page = admin.login(ADMIN)
    client_url = re.search(r'href="(/quan-tri/api/\d+)">Đồng bộ DVCQG</a>', page.html).group(1)
    page = admin.get(client_url)
    assert page.has("Cấp mã truy cập mới", token[:10] + "…", "Đang dùng")
    page = admin.post(f"{client_url}/ma-moi", {"valid_days": "5"}, status=400)
    assert page.has('href="#valid_days"')
    page = admin.post(f"{client_url}/ma-moi", {"valid_days": "90"})
    renewed = re.search(r'id="token" type="text" value="(mc_[^"]+)"', page.html).group(1)
    api = people().client
    assert api.get("/api/v1/ho-so", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/v1/ho-so", headers={"Authorization": f"Bearer {renewed}"}).status_code == 200

    admin.get(client_url)
    page = admin.post(f"{client_url}/webhook", {"webhook_url": "ftp://x"}, status=400)
    assert page.has('href="#webhook_url"', 'value="ftp://x"')
    page = admin.post(f"{client_url}/webhook", {"webhook_url": "https://vanban.example.gov.vn/hook"})
    assert page.has("Webhook của “Đồng bộ DVCQG”") and re.search(r'id="webhook_secret" [^>]*value="whsec_', page.html)
    assert 'id="token"' not in page.html
    admin.get(client_url)
    page = admin.post(f"{client_url}/webhook", {"webhook_url": ""})
    assert page.has("Đã bỏ webhook của “Đồng bộ DVCQG”")


def test_an_administrator_sends_a_test_to_the_webhook(people) -> None:  # noqa: ANN001
    from tests.engine.test_webhooks import Receiver

    receiver = Receiver()
    try:
        token_for(people, "000.31.27.H14")
        admin = people()
        page = admin.login(ADMIN)
        client_url = re.search(r'href="(/quan-tri/api/\d+)">Đồng bộ DVCQG</a>', page.html).group(1)
        assert "Gửi thử" not in admin.get(client_url).html  # no webhook yet
        admin.post(f"{client_url}/webhook", {"webhook_url": receiver.url})
        page = admin.get(client_url)
        assert page.has("Gửi thử", "Lần gửi được gần nhất", "Chưa có")
        page = admin.post(f"{client_url}/gui-thu")
        assert page.url == client_url and page.has("Hệ thống đã nhận bản gửi thử")
        assert [json.loads(body)["event"] for _, body in receiver.posts] == ["ping"]
        receiver.answers = [(404, {})]
        page = admin.post(f"{client_url}/gui-thu")
        assert page.has("Gửi thử không được: HTTP 404")
        receiver.server.shutdown()
        receiver.server.server_close()
        page = admin.post(f"{client_url}/gui-thu")
        assert page.has("Gửi thử không được: URLError") and len(receiver.posts) == 2  # the system away: said why
        page = admin.post(f"{client_url}/gui-thu", csrf=False, status=400)  # (a form like any other: CSRF)
        citizen = people()
        citizen.login("congdan@demo.motcua.vn")
        citizen.get("/")
        citizen.post(f"{client_url}/gui-thu", status=403)
        assert len(receiver.posts) == 2
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
