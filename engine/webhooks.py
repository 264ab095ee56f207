"""Webhooks: the worker posts an agency's status changes to the systems that asked for them (an API client with a
``webhook_url``, engine.integration), so that they need not poll the feed.

What is posted is the feed's: the dossiers whose status changed after the client's cursor (``status_changed_at``,
dossier id), oldest first, :data:`BATCH` at a time, as JSON ``{"event": "dossier.status_changed", "items": [...]}``
with each item as ``GET /api/v1/ho-so/<code>`` gives it without its history. A batch delivered (any 2xx answer)
moves the cursor past it; a batch refused, or a system away, is posted again later (:data:`RETRY_AFTER`, then every
six hours, never given up: nothing is lost while the system is away), so a system may get a batch twice and should
keep what it got by dossier code and ``status_changed_at``. A dossier whose status changed twice between two runs
is sent once, with its latest status, as the feed shows it.

A change is posted once it is ``SETTLE`` old, as the feed lists it (engine.integration: transactions may commit
out of the order of their clocks, and the cursor must not pass a change that is not visible yet).

Each post is signed: header ``X-Motcua-Signature: t=<unix time>,v1=<hex>``, where the hex is the HMAC-SHA256, with
the client's webhook secret (shown once to the administrator) as key, of ``<unix time>.<body>``. The receiving
system recomputes it and refuses a post whose signature differs or whose time is far from its clock. Redirects are
not followed (a 3xx is a failure).

An administrator may send a test post (:func:`test`): ``{"event": "ping", "items": []}``, signed the same way, to
see that the system takes the posts and checks their signature; a system should answer 2xx to an event it does
not know. A test taken while deliveries wait to be retried makes them due at once.

No transaction is open while a post is on its way: the batch is read in one short transaction, posted, and the
outcome written in another, and only if the cursor has not moved meanwhile. Two workers do not post to one system
at once: the one delivering holds the client (``webhook_lease_until``, taken in one guarded UPDATE) for as long as
its posts may take; should it die, the hold runs out and another worker goes on from the cursor.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.orm import Session

from . import clock, integration
from .catalog import VersionCache
from .i18n import text
from .models import ApiClient, Dossier, Person

log = logging.getLogger("motcua.webhooks")

BATCH = 100
#: the waits after the 1st, 2nd, … failure in a row; then the last one, again and again
RETRY_AFTER = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2),
               dt.timedelta(hours=6))
TIMEOUT = 10  # seconds for a system to answer
TEST_TIMEOUT = 5  # … a test post, which an administrator's page waits for
#: batches posted to one system in one run (the rest, next run)
BATCHES_PER_RUN = 10
USER_AGENT = "motcua-webhooks/1"


@dataclass
class Delivered:
    batches: int = 0
    items: int = 0
    failed: int = 0


def signature(secret: str, moment: int, body: bytes) -> str:
    """The value of the ``X-Motcua-Signature`` header of ``body`` posted at ``moment`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None  # (urllib then raises HTTPError for the 3xx)


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, secret: str, body: bytes, timeout: float = TIMEOUT) -> str | None:
    """Post one batch: None when the system took it (2xx), otherwise why not."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "X-Motcua-Signature": signature(secret, int(time.time()), body)})
    try:
        with _opener.open(request, timeout=timeout) as answer:
            answer.read(64 * 1024)
            return None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return f"{type(exc).__name__}: {reason}"[:300]


DUE = select(ApiClient.id).where(ApiClient.webhook_url.is_not(None), ApiClient.revoked_at.is_(None))


def deliver_due(sessions: Callable[[], Session], cache: VersionCache,
                batches_per_run: int = BATCHES_PER_RUN) -> Delivered:
    """Post the changes owed to every system with a webhook that is due (not waiting to retry), up to
    ``batches_per_run`` batches each."""
    done = Delivered()
    now = clock.now()
    with sessions() as session:
        due = session.scalars(DUE.where(or_(ApiClient.expires_at.is_(None), ApiClient.expires_at > now),
                                        or_(ApiClient.webhook_retry_at.is_(None), ApiClient.webhook_retry_at <= now))
                              ).all()
    for client_id in due:
        lease = _lease(sessions, client_id, batches_per_run)
        if lease is None:
            continue  # another worker is delivering to it
        try:
            for _ in range(batches_per_run):
                sent = _deliver_batch(sessions, cache, client_id, done)
                if sent < BATCH:
                    break
        finally:
            _release(sessions, client_id, lease)
    return done


def _lease(sessions: Callable[[], Session], client_id: int, batches: int) -> dt.datetime | None:
    """Hold the client for as long as ``batches`` posts may take (each :data:`TIMEOUT` at most), unless another
    worker holds it: the time the hold ends (this worker's mark, to let go of it), or None."""
    now = clock.now()
    until = now + dt.timedelta(seconds=batches * (TIMEOUT + 5))
    with sessions() as session:
        taken = session.execute(
            update(ApiClient).where(ApiClient.id == client_id,
                                    or_(ApiClient.webhook_lease_until.is_(None), ApiClient.webhook_lease_until <= now))
            .values(webhook_lease_until=until)).rowcount
        session.commit()
    return until if taken else None


def _release(sessions: Callable[[], Session], client_id: int, lease: dt.datetime) -> None:
    with sessions() as session:
        session.execute(update(ApiClient).where(ApiClient.id == client_id, ApiClient.webhook_lease_until == lease)
                        .values(webhook_lease_until=None))
        session.commit()


def _deliver_batch(sessions: Callable[[], Session], cache: VersionCache, client_id: int, done: Delivered) -> int:
    """One batch to one system: how many changes it delivered (0 when there were none, or it failed)."""
    now = clock.now()
    with sessions() as session:
        client = session.get(ApiClient, client_id)
        if client is None or client.webhook_url is None or client.webhook_secret is None:
            return 0
        url, secret = client.webhook_url, client.webhook_secret
        cursor = (client.webhook_after_at or dt.datetime(1970, 1, 1), client.webhook_after_id)
        rows = session.scalars(
            select(Dossier).where(Dossier.agency_id == client.agency_id,
                                  Dossier.status_changed_at <= now - integration.SETTLE,
                                  tuple_(Dossier.status_changed_at, Dossier.id) > tuple_(*cursor))
            .order_by(Dossier.status_changed_at, Dossier.id).limit(BATCH)).all()
        if not rows:
            return 0
        items = [integration.brief(session, cache, d) for d in rows]
        last = (rows[-1].status_changed_at, rows[-1].id)
    body = json.dumps({"event": "dossier.status_changed", "items": items}, ensure_ascii=False).encode("utf-8")
    failure = post(url, secret, body)
    with sessions() as session:
        client = session.get(ApiClient, client_id)
        if client is None or (client.webhook_after_at or dt.datetime(1970, 1, 1), client.webhook_after_id) != cursor:
            return 0  # another worker delivered it meanwhile
        moment = clock.now()
        if failure is None:
            client.webhook_after_at, client.webhook_after_id = last
            client.webhook_failures, client.webhook_retry_at, client.webhook_error = 0, None, None
            client.webhook_delivered_at = moment
            done.batches, done.items = done.batches + 1, done.items + len(items)
        else:
            client.webhook_failures += 1
            client.webhook_retry_at = moment + RETRY_AFTER[min(client.webhook_failures, len(RETRY_AFTER)) - 1]
            client.webhook_error = failure
            done.failed += 1
            log.warning("webhook of API client %s failed (%s); retrying at %s", client_id, failure,
                        client.webhook_retry_at)
        session.commit()
    return len(items) if failure is None else 0


def test(sessions: Callable[[], Session], admin: Person, client_id: int) -> str | None:
    """Post a signed ping to the client's webhook now, for an administrator: None when the system took it (2xx),
    otherwise why not. A success makes deliveries waiting to be retried due at once (the worker's next run).
    Raises NotFound, Forbidden (a revoked client, not an administrator), EngineError (no webhook)."""
    from .dossiers import audit

    with sessions() as session:
        name, url, secret = integration.webhook_target(session, admin, client_id)
    body = json.dumps({"event": "ping", "items": []}).encode()
    failure = post(url, secret, body, TEST_TIMEOUT)
    with sessions() as session:
        client = session.get(ApiClient, client_id)
        if failure is None and client is not None and client.webhook_url == url:
            client.webhook_retry_at = None
        outcome = text("đã nhận", "taken") if failure is None else text(f"lỗi: {failure}", f"failed: {failure}")
        audit(session, None, admin, "admin.api_client", text(f"Gửi thử webhook của “{name}”: {outcome['vi']}",
                                                             f"Test post to the webhook of “{name}”: {outcome['en']}"))
        session.commit()
    return failure
