"""The integration API (``/api/v1``): JSON for other systems (the national portal's synchronisation, an agency's own
document system). The catalog is public; an agency's dossiers are read with its client's bearer token
(``Authorization: Bearer mc_…``, made by an administrator). Read-only, no cookies, no CSRF: a request is
authenticated by its token alone. Errors are JSON too: ``{"error": {"status": 404, "message": {"vi": …, "en": …}}}``.
Thin views over engine.api."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.errors import FormInvalid, NotFound

from . import csrf, db, get_engine

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
UNAUTHORIZED = {"vi": "Cần mã truy cập API hợp lệ (Authorization: Bearer …).",
                "en": "A valid API token is needed (Authorization: Bearer …)."}


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
    if request.endpoint == "api.procedures":
        return None  # (public data)
    g.api_client = _client()
    if g.api_client is None:
        response = error(401, UNAUTHORIZED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="motcua"'
        return response
    return None


@bp.get("/thu-tuc")
def procedures() -> Response:
    """The procedures offered: names, field, levels, time limit, fees, documents, legal basis."""
    return _json({"items": get_engine().api_catalog(db())})


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
