"""The integration API's description (web/openapi.json, served at /api/v1/openapi.json) is valid OpenAPI 3.1, names
every address the API has and no other, and says what the API answers: each real answer below (the catalog, a
dossier, the feed, the webhook's posts, the errors) is checked against the schema the description gives for it,
which allows no field it does not describe."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from engine import clock
from engine.integration import SETTLE
from engine.models import ApiClient
from tests.engine.test_integration import ADMIN, person, sent
from tests.engine.test_webhooks import START, Receiver, subscribe
from tests.web.test_api import new_token
from tests.web.test_journey import RECEPTION, official_completes, register, start_birth_registration, submit_declaration

DESCRIPTION = json.loads((Path(__file__).resolve().parents[2] / "web" / "openapi.json").read_text(encoding="utf-8"))
BASE = "urn:motcua:openapi"
REGISTRY = Registry().with_resource(BASE, Resource.from_contents(DESCRIPTION, default_specification=DRAFT202012))


def pointer(*parts: str) -> str:
    return BASE + "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def holds(answer: Any, path: str, status: int) -> dict[str, Any]:
    """The answer's JSON, once it is what the description says ``GET path`` answers with ``status`` (its headers
    named, its body as the schema says)."""
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    where = ("paths", path, "get", "responses", str(status))
    response = DESCRIPTION["paths"][path]["get"]["responses"][str(status)]
    if "$ref" in response:  # (one of the answers several addresses share)
        where = ("components", "responses", response["$ref"].rsplit("/", 1)[1])
        response = DESCRIPTION["components"]["responses"][where[-1]]
    assert answer.mimetype == "application/json"
    missing = [h for h in response.get("headers", {}) if h not in answer.headers]
    assert not missing, f"GET {path} {status}: without {missing}"
    body = answer.get_json()
    schema = {"$ref": pointer(*where, "content", "application/json", "schema")}
    errors = sorted(Draft202012Validator(schema, registry=REGISTRY).iter_errors(body), key=str)
    assert not errors, f"GET {path} {status}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return body


def conforms(body: Any, schema_name: str) -> None:
    found = list(Draft202012Validator({"$ref": pointer("components", "schemas", schema_name)}, registry=REGISTRY)
                 .iter_errors(body))
    assert not found, [f"{list(e.absolute_path)}: {e.message}" for e in found]


def test_the_description_is_valid_openapi_and_names_every_address(app) -> None:  # noqa: ANN001
    validate(DESCRIPTION)  # (raises, saying where, if it is not OpenAPI 3.1)
    prefix = DESCRIPTION["servers"][0]["url"]
    routes = {rule.rule.removeprefix(prefix).replace("<path:code>", "{code}")
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert routes == set(DESCRIPTION["paths"])
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == DESCRIPTION and "RateLimit-Remaining" in served.headers


def test_what_the_api_answers_is_what_the_description_says(people, app, engine) -> None:  # noqa: ANN001
    api = app.test_client()
    catalog = holds(api.get("/api/v1/thu-tuc"), "/thu-tuc", 200)
    assert len(catalog["items"]) == 6

    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    auth = {"Authorization": f"Bearer {new_token(engine)}"}
    dossier = holds(api.get(f"/api/v1/ho-so/{code}", headers=auth), "/ho-so/{code}", 200)
    assert [h["status"]["code"] for h in dossier["history"]] == ["receiving", "new", "processing"]
    with clock.use(clock.ManualClock(clock.now() + SETTLE)):
        page = holds(api.get("/api/v1/ho-so?tu=2026-01-01T00:00:00%2B07:00", headers=auth), "/ho-so", 200)
    assert [i["code"] for i in page["items"]] == [code] and page["next"] is None

    holds(api.get("/api/v1/ho-so?tu=hom-qua", headers=auth), "/ho-so", 400)
    holds(api.get("/api/v1/ho-so"), "/ho-so", 401)
    holds(api.get("/api/v1/ho-so/KHONG-CO", headers=auth), "/ho-so/{code}", 404)


def test_too_many_requests_are_answered_as_described(engine, limited_app) -> None:  # noqa: ANN001
    api = limited_app(api_public_rate_limit="1/minute").test_client()
    holds(api.get("/api/v1/thu-tuc"), "/thu-tuc", 200)
    holds(api.get("/api/v1/thu-tuc"), "/thu-tuc", 429)


def test_the_webhooks_posts_are_as_described(engine) -> None:  # noqa: ANN001
    receiver = Receiver()
    try:
        with clock.use(clock.ManualClock(START)):
            subscribe(engine, receiver.url)
        sent(engine, ("reception_check", "accept"))
        with clock.use(clock.ManualClock(START + SETTLE + SETTLE)):
            assert engine.deliver_webhooks().items == 1
        with engine.session() as s:
            admin, client_id = person(s, ADMIN), s.scalar(select(ApiClient.id))
        assert engine.test_webhook(admin, client_id) is None
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    assert [json.loads(body)["event"] for _, body in receiver.posts] == ["dossier.status_changed", "ping"]
    for headers, body in receiver.posts:
        conforms(json.loads(body), "WebhookPost")
        signature = DESCRIPTION["webhooks"]["dossier.status_changed"]["post"]["parameters"][0]
        assert Draft202012Validator(signature["schema"]).is_valid(headers[signature["name"]])
