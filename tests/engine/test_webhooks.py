"""Webhooks over a real HTTP conversation (a small server on loopback): the worker posts an agency's status changes,
signed, once they have settled, oldest first and in batches; a system that refuses or is away gets them again later
and nothing is lost; another agency's changes, a revoked or expired client's, are not posted; a redirect is not
followed."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine import clock, integration, webhooks
from engine.api import Engine
from engine.cli import main
from engine.errors import EngineError, Forbidden, NotFound
from engine.models import Agency, ApiClient, AuditEvent
from tests.engine.test_integration import ADMIN, person, sent

START = dt.datetime(2026, 11, 23, 2, 0)  # (when `sent` files its dossiers)


class Receiver:
    """An agency's system: records each post, and answers with the next of ``answers`` (then 204)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.received = threading.Event()  # set at each post
        self.hold: threading.Event | None = None  # when given, a post is answered once it is set
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                receiver.received.set()
                if receiver.hold is not None:
                    receiver.hold.wait(20)
                status, headers = receiver.answers.pop(0) if receiver.answers else (204, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/motcua/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def items(self) -> list[tuple[str, str]]:
        return [(i["code"], i["status"]["code"]) for _, body in self.posts for i in json.loads(body)["items"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def subscribe(engine: Engine, url: str, level: str = "commune", valid_days: int = 365) -> tuple[int, str]:
    with engine.session() as s:
        agency = s.scalar(select(Agency).where(Agency.level == level))
        made = engine.create_api_client(s, person(s, ADMIN), "Văn bản xã", agency.id, valid_days, url)
        s.commit()
        return made.view.id, made.webhook_secret


def test_changes_are_posted_signed_once_settled_and_only_once(engine: Engine, receiver: Receiver) -> None:
    pinned = clock.ManualClock(START - dt.timedelta(hours=1))
    with clock.use(pinned):
        client_id, secret = subscribe(engine, receiver.url)
        subscribe(engine, receiver.url + "/tinh", level="province")  # the province's system: nothing of the commune
    code = sent(engine, ("reception_check", "accept"))
    with clock.use(pinned):
        pinned.move_to(START + dt.timedelta(seconds=10))
        assert engine.deliver_webhooks().batches == 0 and receiver.posts == []  # not settled yet
        pinned.advance(integration.SETTLE)
        done = engine.deliver_webhooks()
    assert (done.batches, done.items, done.failed) == (1, 1, 0)
    (headers, body), = receiver.posts
    assert receiver.items() == [(code, "processing")]
    assert json.loads(body)["event"] == "dossier.status_changed" and "Nguyễn" not in body.decode()
    assert headers["Content-Type"].startswith("application/json")
    moment, digest = (part.split("=", 1)[1] for part in headers["X-Motcua-Signature"].split(","))
    assert digest == hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    with clock.use(pinned):
        assert engine.deliver_webhooks().batches == 0  # delivered: not again
    with engine.session() as s:
        view = next(c for c in engine.api_clients(s, person(s, ADMIN)) if c.id == client_id)
        assert view.webhook_delivered_at is not None and view.webhook_error is None


def test_a_system_away_gets_the_changes_later_and_nothing_is_lost(engine: Engine, receiver: Receiver) -> None:
    pinned = clock.ManualClock(START - dt.timedelta(hours=1))
    with clock.use(pinned):
        client_id, _ = subscribe(engine, receiver.url)
    codes = [sent(engine) for _ in range(3)]
    receiver.answers = [(503, {}), (302, {"Location": receiver.url + "/elsewhere"})]
    with clock.use(pinned):
        pinned.move_to(START + dt.timedelta(minutes=5))
        assert engine.deliver_webhooks().failed == 1  # 503
        with engine.session() as s:
            client = s.get(ApiClient, client_id)
            assert client.webhook_error == "HTTP 503" and client.webhook_failures == 1
            assert client.webhook_retry_at == pinned() + webhooks.RETRY_AFTER[0]
            view = next(c for c in engine.api_clients(s, person(s, ADMIN)) if c.id == client_id)
            assert view.webhook_error == "HTTP 503"
        assert engine.deliver_webhooks().batches == 0 and len(receiver.posts) == 1  # waiting to retry
        pinned.advance(webhooks.RETRY_AFTER[0])
        assert engine.deliver_webhooks().failed == 1  # the redirect is not followed
        assert [h.get("Host") for h, _ in receiver.posts] == [receiver.url.split("/")[2]] * 2
        with engine.session() as s:
            client = s.get(ApiClient, client_id)
            assert client.webhook_error == "HTTP 302" and client.webhook_failures == 2
        pinned.advance(webhooks.RETRY_AFTER[1])
        assert engine.deliver_webhooks().items == 3
    assert receiver.items()[-3:] == [(c, "receiving") for c in codes]  # the same batch, then taken
    with engine.session() as s:
        client = s.get(ApiClient, client_id)
        assert (client.webhook_failures, client.webhook_error, client.webhook_retry_at) == (0, None, None)


def test_batches_follow_each_other_oldest_first(engine: Engine, receiver: Receiver,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "BATCH", 2)
    pinned = clock.ManualClock(START - dt.timedelta(hours=1))
    with clock.use(pinned):
        subscribe(engine, receiver.url)
    codes = [sent(engine) for _ in range(5)]
    with clock.use(pinned):
        pinned.move_to(START + dt.timedelta(minutes=5))
        done = webhooks.deliver_due(engine.session, engine.versions, batches_per_run=2)
        assert (done.batches, done.items) == (2, 4)  # at most two batches a run
        assert engine.deliver_webhooks().items == 1
    assert [len(json.loads(body)["items"]) for _, body in receiver.posts] == [2, 2, 1]
    assert [c for c, _ in receiver.items()] == codes  # (sent one after another: changed in that order)


def test_revoked_and_expired_clients_are_not_posted_to(engine: Engine, receiver: Receiver) -> None:
    pinned = clock.ManualClock(START - dt.timedelta(days=100))
    with clock.use(pinned):
        subscribe(engine, receiver.url, valid_days=90)  # expired by the time the dossier is sent
        revoked, _ = subscribe(engine, receiver.url)
        with engine.session() as s:
            engine.revoke_api_client(s, person(s, ADMIN), revoked)
            s.commit()
    sent(engine)
    with clock.use(pinned):
        pinned.move_to(START + dt.timedelta(minutes=5))
        assert engine.deliver_webhooks().batches == 0
    assert receiver.posts == []


def test_the_worker_posts_them(engine: Engine, receiver: Receiver, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    with clock.use(clock.ManualClock(START - dt.timedelta(hours=1))):
        subscribe(engine, receiver.url)
    code = sent(engine)
    monkeypatch.setenv("MOTCUA_DATABASE_URL", engine.settings.database_url)
    monkeypatch.setenv("MOTCUA_ROOT", str(engine.settings.root))
    with clock.use(clock.ManualClock(START + dt.timedelta(minutes=5))):
        assert main(["worker", "--once"]) == 0
    assert "webhooks: 1 change(s) posted in 1 batch(es)" in capsys.readouterr().out
    assert receiver.items() == [(code, "receiving")]


def test_a_test_post_is_signed_and_makes_waiting_deliveries_due(engine: Engine, receiver: Receiver) -> None:
    pinned = clock.ManualClock(START - dt.timedelta(hours=1))
    with clock.use(pinned):
        client_id, secret = subscribe(engine, receiver.url)
    code = sent(engine)
    receiver.answers = [(503, {})]
    with clock.use(pinned), engine.session() as s:
        pinned.move_to(START + dt.timedelta(minutes=5))
        assert engine.deliver_webhooks().failed == 1  # the system is down: retried in a minute
        admin = person(s, ADMIN)
        s.commit()  # (the test holds no transaction while the post waits for its answer)
        assert engine.test_webhook(admin, client_id) is None  # the system is back
        headers, body = receiver.posts[-1]
        assert json.loads(body) == {"event": "ping", "items": []}
        moment, digest = (part.split("=", 1)[1] for part in headers["X-Motcua-Signature"].split(","))
        assert digest == hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
        assert engine.deliver_webhooks().items == 1  # due at once, not a minute later
        assert receiver.items()[-1] == (code, "receiving")
        receiver.answers = [(500, {})]
        assert engine.test_webhook(admin, client_id) == "HTTP 500"
        with engine.session() as other:
            client = other.get(ApiClient, client_id)
            assert client.webhook_retry_at is None and client.webhook_error is None  # deliveries untouched
            logged = other.scalars(select(AuditEvent.label_en).where(AuditEvent.action == "admin.api_client")
                                   .order_by(AuditEvent.id)).all()[-2:]
        assert logged == ["Test post to the webhook of “Văn bản xã”: taken",
                          "Test post to the webhook of “Văn bản xã”: failed: HTTP 500"]
        citizen = person(s, "congdan@demo.motcua.vn")
        s.commit()
        with pytest.raises(Forbidden):
            engine.test_webhook(citizen, client_id)  # not an administrator
        with pytest.raises(NotFound):
            engine.test_webhook(admin, 10**6)
        engine.set_api_webhook(s, admin, client_id, "")
        s.commit()
        with pytest.raises(EngineError, match="no webhook"):
            engine.test_webhook(admin, client_id)
        engine.revoke_api_client(s, admin, client_id)
        s.commit()
        with pytest.raises(Forbidden):
            engine.test_webhook(admin, client_id)
    assert len(receiver.posts) == 4


def test_two_workers_do_not_post_the_same_changes(engine: Engine, receiver: Receiver) -> None:
    pinned = clock.ManualClock(START - dt.timedelta(hours=1))
    with clock.use(pinned):
        client_id, _ = subscribe(engine, receiver.url)
    code = sent(engine)
    pinned.move_to(START + dt.timedelta(minutes=5))
    receiver.hold = threading.Event()
    first: list[webhooks.Delivered] = []

    def worker() -> None:
        with clock.use(pinned):
            first.append(engine.deliver_webhooks())

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert receiver.received.wait(20)  # the first worker's post is on its way
        with clock.use(pinned):
            assert engine.deliver_webhooks().batches == 0  # the second leaves that system alone meanwhile
    finally:
        receiver.hold.set()
        thread.join(20)
    assert first[0].items == 1 and receiver.items() == [(code, "receiving")]
    with engine.session() as s:
        assert s.get(ApiClient, client_id).webhook_lease_until is None  # let go of
    # a worker that died holding a system: once its hold runs out, another goes on from the cursor
    second = sent(engine)
    with engine.session() as s:
        s.get(ApiClient, client_id).webhook_lease_until = pinned() + dt.timedelta(minutes=2)
        s.commit()
    with clock.use(pinned):
        assert engine.deliver_webhooks().batches == 0
        pinned.advance(dt.timedelta(minutes=2))
        assert engine.deliver_webhooks().items == 1
    assert receiver.items()[-1] == (second, "receiving")
