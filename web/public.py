"""Public pages: the catalog of procedures (search by keyword, field and agency), a procedure's page, language; and
the health checks a load balancer or an orchestrator asks (``/healthz``: the process answers; ``/readyz``: it can
serve, its database answering with this code's schema; 503 otherwise, with the reason)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from engine.db import id_from

from . import LANGUAGES, db, get_engine

bp = Blueprint("public", __name__)


@bp.get("/")
def index():  # noqa: ANN201
    q = (request.args.get("q") or "").strip()[:200]
    field = (request.args.get("linh-vuc") or "").strip()[:80] or None
    agency = id_from(request.args.get("co-quan"))
    engine = get_engine()
    every = engine.procedures(db())  # the field list always offers every field
    procedures = engine.procedures(db(), q or None, field, agency) if q or field or agency else every
    fields = {(p.field_code, p.field["vi"], p.field["en"]) for p in every}
    return render_template("public/index.html", procedures=procedures, q=q, field=field, agency=agency,
                           fields=sorted(fields, key=lambda f: f[1]), agencies=engine.catalog_agencies(db()))


@bp.get("/thu-tuc/<code>")
def procedure(code: str):  # noqa: ANN201
    engine = get_engine()
    info = engine.procedure(db(), code)  # NotFound → 404
    # a citizen who began this procedure and has not sent it is pointed to that draft before starting another
    drafts = ([t for t in engine.my_tasks(db(), current_user) if t.procedure_code == code and t.dossier_status == "draft"]
              if current_user.is_authenticated and current_user.is_citizen else [])
    return render_template("public/procedure.html", p=info, agencies=engine.agencies_for(db(), code, info.agency_level),
                           drafts=drafts, chosen=id_from(request.args.get("co-quan")))


@bp.get("/ngon-ngu/<lang>")
def set_language(lang: str):  # noqa: ANN201
    if lang not in LANGUAGES:
        abort(404)
    session["lang"] = lang
    target = request.args.get("next") or url_for("public.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):  # never redirect off-site
        target = url_for("public.index")
    return redirect(target)


@bp.get("/healthz")
def alive() -> Response:
    return _health({"status": "ok"}, 200)


@bp.get("/readyz")
def ready() -> Response:
    problem = get_engine().not_ready()
    return _health({"status": "ok"} if problem is None else {"status": "unavailable", "reason": problem},
                   200 if problem is None else 503)


def _health(body: dict[str, str], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
