"""The integration API's engine side: a client sees its agency's dossiers only, with no personal data; the feed of
status changes pages with a cursor and neither misses nor repeats a dossier; tokens are kept as hashes, revoked
ones refused; bad parameters are told."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine import clock
from engine.api import Engine
from engine.errors import Forbidden, FormInvalid, NotFound
from engine.integration import feed
from engine.models import Agency, ApiClient, User
from tests.documents import attach_required
from tests.engine.test_birth_registration import DECISIONS, ROLE_EMAIL, declaration

ADMIN = "quantri@demo.motcua.vn"


def person(s, email: str) -> User:  # noqa: ANN001
    return s.scalar(select(User).where(User.email == email))


def sent(engine: Engine, *steps: tuple[str, str]) -> str:
    """A birth registration of the demo citizen, sent and taken through ``steps``; its code."""
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))), engine.session() as s:
        citizen = person(s, "congdan@demo.motcua.vn")
        view = engine.start_dossier(s, "birth_registration", citizen)
        attach_required(engine, s, view.id, citizen)
        code = engine.complete(s, view.open_tasks[0].id, citizen, declaration()).dossier.code
        for bpmn_id, choice in steps:
            (task,) = engine.dossier(s, view.id, citizen).open_tasks
            official = person(s, ROLE_EMAIL[task.role])
            engine.claim(s, task.id, official)
            engine.complete(s, task.id, official, DECISIONS[bpmn_id][choice])
        s.commit()
    return code


def client_of(engine: Engine, level: str, **options: object) -> tuple[object, str]:
    with engine.session() as s:
        agency = s.scalar(select(Agency).where(Agency.level == level))
        made = engine.create_api_client(s, person(s, ADMIN), "Đồng bộ DVCQG", agency.id, **options)
        s.commit()
        return made.view, made.token


def test_a_client_reads_its_agencys_dossiers_without_personal_data(engine: Engine) -> None:
    accepted = sent(engine, ("reception_check", "accept"))
    view, token = client_of(engine, "commune")
    _, other_token = client_of(engine, "province")
    with engine.session() as s:
        assert s.scalar(select(ApiClient.token_hash).where(ApiClient.id == view.id)) != token  # only its hash kept
        client = engine.api_client(s, token)
        found = engine.api_dossier(s, client, accepted)
        assert found["code"] == accepted and found["procedure"]["code"] == "birth_registration"
        assert found["status"] == {"code": "processing", "number": 4, "name": {"vi": "Đang xử lý", "en": "Processing"}}
        assert [h["status"]["code"] for h in found["history"]] == ["receiving", "new", "processing"]
        assert found["submitted_at"].endswith("Z") and found["appointment_at"]
        assert "Nguyễn" not in repr(found) and "001190012345" not in repr(found)  # no applicant, no child
        with pytest.raises(NotFound):
            engine.api_dossier(s, engine.api_client(s, other_token), accepted)  # another agency's
        with pytest.raises(NotFound):
            engine.api_dossier(s, client, "000.31.27.H14-000000-0000")
        for wrong in (None, "", "mc_wrong", token + "x", "Bearer " + token):
            assert engine.api_client(s, wrong) is None


def test_the_feed_pages_through_status_changes_without_gaps_or_repeats(engine: Engine) -> None:
    codes = [sent(engine) for _ in range(3)] + [sent(engine, ("reception_check", "refuse"))]
    _, token = client_of(engine, "commune")
    with engine.session() as s:
        client = engine.api_client(s, token)
        seen, cursor = [], None
        for _ in range(10):
            page = feed(s, engine.versions, client, dt.datetime(2000, 1, 1), cursor, limit=3)
            seen += [item["code"] for item in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(codes) and len(seen) == len(set(seen))
        whole = engine.api_feed(s, client, "2000-01-01T00:00:00+07:00")
        assert [i["code"] for i in whole["items"]] == seen and whole["next"] is None
        assert whole["items"][-1]["status"]["code"] == "denied"  # the last changed comes last
        assert engine.api_feed(s, client, "2999-01-01T00:00:00Z")["items"] == []
        for since, after in (("yesterday", None), (None, "not-a-cursor")):
            with pytest.raises(FormInvalid):
                engine.api_feed(s, client, since, after)


def test_only_administrators_make_and_revoke_clients(engine: Engine) -> None:
    view, token = client_of(engine, "commune")
    with engine.session() as s:
        for email in ("congdan@demo.motcua.vn", "motcua@demo.motcua.vn", "thietke@demo.motcua.vn"):
            with pytest.raises(Forbidden):
                engine.create_api_client(s, person(s, email), "X hệ thống", 1)
            with pytest.raises(Forbidden):
                engine.revoke_api_client(s, person(s, email), view.id)
        with pytest.raises(FormInvalid) as info:
            engine.create_api_client(s, person(s, ADMIN), "", "không phải số", valid_days="9999",
                                     webhook_url="ftp://example.org/x")
        assert set(info.value.errors) == {"name", "agency_id", "valid_days", "webhook_url"}
        with pytest.raises(FormInvalid) as info:  # (a superscript is a "digit" int() refuses)
            engine.create_api_client(s, person(s, ADMIN), "Hệ thống", "²", valid_days="9" * 5000)
        assert set(info.value.errors) == {"agency_id", "valid_days"}
        engine.revoke_api_client(s, person(s, ADMIN), view.id)
        s.commit()
        assert engine.api_client(s, token) is None


def test_a_token_expires_after_the_validity_chosen(engine: Engine) -> None:
    start = dt.datetime(2026, 11, 27, 3, 0)
    pinned = clock.ManualClock(start)
    with clock.use(pinned):
        view, token = client_of(engine, "commune", valid_days=90)
        assert view.expires_at == start + dt.timedelta(days=90) and not view.expired
        with engine.session() as s:
            pinned.advance(dt.timedelta(days=89, hours=23))
            assert engine.api_client(s, token) is not None
            pinned.advance(dt.timedelta(hours=1))
            assert engine.api_client(s, token) is None
            assert [c.expired for c in engine.api_clients(s, person(s, ADMIN)) if c.id == view.id] == [True]


@pytest.mark.parametrize(("url", "good"), [
    ("https://vanban.example.gov.vn/motcua/hook", True),
    ("https://10.0.0.5:8443/hook", True),
    ("http://127.0.0.1:8080/hook", True),
    ("http://localhost/hook", True),
    ("http://vanban.example.gov.vn/hook", False),  # plain http off this machine
    ("https://user:secret@example.org/hook", False),
    ("https:///hook", False),
    ("https://example.org:99999/hook", False),
    ("javascript:alert(1)", False),
    ("https://example.org/" + "x" * 500, False),
])
def test_a_webhook_address_is_checked(url: str, good: bool) -> None:
    from engine.integration import check_webhook_url

    assert (check_webhook_url(url) is None) == good


def test_a_new_token_replaces_the_old_at_once_and_a_webhook_is_set_changed_and_removed(engine: Engine) -> None:
    view, old = client_of(engine, "commune")
    with engine.session() as s:
        admin = person(s, ADMIN)
        renewed = engine.renew_api_token(s, admin, view.id, 730)
        s.commit()
        assert engine.api_client(s, old) is None and engine.api_client(s, renewed.token).id == view.id
        assert renewed.view.token_hint == renewed.token[:10] and renewed.view.expires_at > view.expires_at
        with pytest.raises(FormInvalid):
            engine.renew_api_token(s, admin, view.id, "7")

        first = engine.set_api_webhook(s, admin, view.id, "https://vanban.example.gov.vn/hook")
        s.commit()
        row = s.get(ApiClient, view.id)
        start = row.webhook_after_at
        assert first.webhook_secret.startswith("whsec_") and row.webhook_secret == first.webhook_secret and start
        row.webhook_after_id, row.webhook_failures = 42, 3  # (delivered some, then failing)
        s.commit()
        moved = engine.set_api_webhook(s, admin, view.id, "https://vanban2.example.gov.vn/hook")
        s.commit()
        row = s.get(ApiClient, view.id)
        assert moved.webhook_secret != first.webhook_secret  # a new secret
        assert (row.webhook_after_at, row.webhook_after_id, row.webhook_failures) == (start, 42, 0)  # goes on
        with pytest.raises(FormInvalid):
            engine.set_api_webhook(s, admin, view.id, "http://vanban.example.gov.vn/hook")
        assert engine.set_api_webhook(s, admin, view.id, "").webhook_secret is None
        s.commit()
        assert (s.get(ApiClient, view.id).webhook_url, s.get(ApiClient, view.id).webhook_secret) == (None, None)

        engine.revoke_api_client(s, admin, view.id)
        s.commit()
        with pytest.raises(Forbidden):
            engine.renew_api_token(s, admin, view.id, 365)
        with pytest.raises(Forbidden):
            engine.set_api_webhook(s, person(s, "motcua@demo.motcua.vn"), view.id, "")
