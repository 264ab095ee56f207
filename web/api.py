"""The integration API (``/api/v1``): JSON for other systems (the national portal's synchronisation, an agency's own
document system). The catalog is public; an agency's dossiers are read with its client's bearer token
(``Authorization: Bearer mc_…``, made by an administrator). Read-only, no cookies, no CSRF: a request is
authenticated by its token alone. Errors are JSON too: ``{"error": {"status": 404, "message": {"vi": …, "en": …}}}``.
``/api/v1/openapi.json`` describes it all (web/openapi.json, OpenAPI 3.1; tests hold the answers to it).

Requests are counted over a moving window, per client and, without a valid token, per address (limits set in
engine.config; counts in memory, or in Redis to be shared by every worker): each answer says the limit, what is
left and in how many seconds (``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``), and one over it
is a 429 with ``Retry-After``. Should the store of counts be away, the API answers uncounted (and logs it) rather
than fail. Thin views over engine.api."""
from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from engine.config import Settings
from engine.errors import FormInvalid, NotFound

from . import csrf, db, get_engine

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
log = logging.getLogger("motcua.api")
UNAUTHORIZED = {"vi": "Cần mã truy cập API hợp lệ, chưa thu hồi và còn hạn (Authorization: Bearer …).",
                "en": "A valid API token, neither revoked nor expired, is needed (Authorization: Bearer …)."}
#: what anyone may read without a token (counted per address)
PUBLIC = ("api.procedures", "api.openapi")
TOO_MANY = {"vi": "Quá nhiều yêu cầu: hãy chờ số giây trong tiêu đề Retry-After rồi gửi lại.",
            "en": "Too many requests: wait the seconds in the Retry-After header, then try again."}


@dataclass
class RateLimits:
    limiter: Any  # limits' MovingWindowRateLimiter
    per_client: Any  # limits' RateLimitItem
    per_address: Any
    store_away_logged_at: float = 0.0


def _rate_limits(settings: Settings) -> RateLimits:
    from limits import parse
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    try:
        per_client, per_address = parse(settings.api_rate_limit), parse(settings.api_public_rate_limit)
        store = storage_from_string(settings.rate_limit_storage)
    except (ValueError, ConfigurationError) as exc:  # (a limit or a store the limits library does not know)
        raise RuntimeError(f"MOTCUA_API_RATE_LIMIT, MOTCUA_API_PUBLIC_RATE_LIMIT or MOTCUA_RATE_LIMIT_STORAGE: {exc}"
                           ) from None
    return RateLimits(MovingWindowRateLimiter(store), per_client, per_address)


@bp.record_once
def _set_up_rate_limits(state: BlueprintSetupState) -> None:
    """Limits set by the environment are checked now, so that a wrong one stops the app at its start; the defaults
    are known good, and the limits library (some 13 MB a process) is then loaded by the API's first request."""
    settings = state.app.extensions["motcua"].settings
    defaults = (Settings.api_rate_limit, Settings.api_public_rate_limit, Settings.rate_limit_storage)
    if (settings.api_rate_limit, settings.api_public_rate_limit, settings.rate_limit_storage) != defaults:
        state.app.extensions["motcua.api_limits"] = _rate_limits(settings)


_making_limits = threading.Lock()


def _limits() -> RateLimits:
    found = current_app.extensions.get("motcua.api_limits")
    if found is None:
        with _making_limits:  # (one store of counts per app, though a worker's threads ask at once)
            found = current_app.extensions.get("motcua.api_limits")
            if found is None:
                found = current_app.extensions["motcua.api_limits"] = _rate_limits(get_engine().settings)
    return found


def _count(limit: Any, *key: str) -> Response | None:
    """Count this request against ``limit`` for ``key``: a 429 when it is over."""
    limits = _limits()
    try:
        allowed = limits.limiter.hit(limit, *key)
        stats = limits.limiter.get_window_stats(limit, *key)
    except Exception:  # noqa: BLE001  (the store away: answer uncounted, and say so in the log once a minute)
        if time.monotonic() - limits.store_away_logged_at > 60:
            limits.store_away_logged_at = time.monotonic()
            log.exception("the rate limits' store cannot be reached: API requests are not counted")
        return None
    reset = max(0, math.ceil(stats.reset_time - time.time()))
    g.rate_headers = {"RateLimit-Limit": str(limit.amount), "RateLimit-Remaining": str(stats.remaining),
                      "RateLimit-Reset": str(reset)}
    if allowed:
        return None
    response = error(429, TOO_MANY)
    response.headers["Retry-After"] = str(max(1, reset))
    return response


def error(status: int, message: dict[str, str], **extra: Any) -> Response:
    response = jsonify({"error": {"status": status, "message": message, **extra}})
    response.status_code = status
    return response


def _json(data: Any) -> Response:
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def _client() -> Any:
    """The API client of this request's bearer token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return get_engine().api_client(db(), token.strip()) if scheme.lower() == "bearer" else None


@bp.before_request
def authenticate() -> Response | None:
    limits = _limits()
    address = request.remote_addr or "-"
    if request.endpoint in PUBLIC:
        return _count(limits.per_address, "address", address)
    g.api_client = _client()
    if g.api_client is None:
        refused = _count(limits.per_address, "address", address)
        if refused is not None:
            return refused
        response = error(401, UNAUTHORIZED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="motcua"'
        return response
    return _count(limits.per_client, "client", str(g.api_client.id))


@bp.after_request
def rate_headers(response: Response) -> Response:
    response.headers.update(g.pop("rate_headers", {}))
    return response


@bp.get("/thu-tuc")
def procedures() -> Response:
    """The procedures offered: names, field, levels, time limit, fees, documents, legal basis."""
    return _json({"items": get_engine().api_catalog(db())})


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API described (OpenAPI 3.1): its paths, parameters, answers and the webhook's posts."""
    response = Response(_description(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@functools.cache
def _description() -> bytes:
    return (Path(__file__).parent / "openapi.json").read_bytes()


@bp.get("/ho-so/<path:code>")
def dossier(code: str) -> Response:
    """One of the agency's dossiers by its code, with its history of statuses."""
    return _json(get_engine().api_dossier(db(), g.api_client, code))


@bp.get("/ho-so")
def feed() -> Response:
    """The agency's dossiers by when their status last changed, oldest first, from ``tu`` (ISO 8601), a page at a
    time: ask again with ``sau`` = the page's ``next`` until it is null."""
    return _json(get_engine().api_feed(db(), g.api_client, request.args.get("tu"), request.args.get("sau")))


@bp.errorhandler(NotFound)
def not_found(exc: NotFound) -> Response:
    return error(404, dict(exc.message))


@bp.errorhandler(FormInvalid)
def invalid(exc: FormInvalid) -> Response:
    return error(400, {"vi": "Tham số không hợp lệ.", "en": "Invalid parameters."},
                 fields={name: dict(message) for name, message in exc.errors.items()})


def http_error(exc: HTTPException) -> Response:
    """Any other HTTP error of an API address (an unknown address, a method not allowed), as JSON."""
    status = exc.code or 500
    return error(status, {"vi": f"Lỗi {status}.", "en": exc.name or f"Error {status}"})
