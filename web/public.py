"""Public pages: the catalog of procedures (search by keyword, field and agency), a procedure's page, language; and
the health checks a load balancer or an orchestrator asks (``/healthz``: the process answers; ``/readyz``: it can
serve, its database answering with this code's schema; 503 otherwise, with the reason)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from engine.db import id_from
from engine.errors import FormInvalid, NotFound, TooManyAttempts

from . import LANGUAGES, db, get_engine
from .ui import FIRST_YEAR, lang, month_names, period_asked, period_name, t

bp = Blueprint("public", __name__)


@bp.route("/tra-cuu-ho-so", methods=["GET", "POST"])
def lookup():  # noqa: ANN201
    """Anyone looks up where a dossier stands by its code and its applicant's personal ID number (sent by POST:
    an ID number does not belong in an address, a server's log or a browser's history; a wrong pair is counted)."""
    values = {"ma": request.values.get("ma", "")[:64], "so-dinh-danh": request.form.get("so-dinh-danh", "")[:32]}
    errors: dict[str, str] = {}
    found, status, headers = None, 200, {"Cache-Control": "no-store"}
    if request.method == "POST":
        try:
            found = get_engine().look_up(db(), values["ma"], values["so-dinh-danh"], request.remote_addr)
        except FormInvalid as exc:
            errors, status = {field: t(message) for field, message in exc.errors.items()}, 400
        except TooManyAttempts as exc:
            errors, status = {"ma": t(exc.message)}, 429
            headers["Retry-After"] = str(exc.retry_after)
        except NotFound as exc:
            db().commit()  # (the wrong pair is counted)
            errors, status = {"ma": t(exc.message)}, 404
    return render_template("public/lookup.html", values=values, errors=errors, found=found), status, headers


@bp.get("/thong-ke")
def statistics():  # noqa: ANN201
    """How every agency resolves its dossiers, for anyone: a year (by default this one) or a month of it."""
    asked = period_asked(request.args, by_month=False)
    if asked is None:
        abort(404)
    year, month, this_year = asked
    engine = get_engine()
    report = engine.public_statistics(db(), year, month)
    agencies = [(agency_id, name_vi if lang() == "vi" else name_en, report.by_agency[agency_id])
                for agency_id, name_vi, name_en, _level in engine.catalog_agencies(db())
                if agency_id in report.by_agency]
    return render_template("public/statistics.html", report=report, agencies=agencies, year=year, month=month,
                           years=range(this_year, FIRST_YEAR - 1, -1), month_names=month_names(),
                           period=period_name(year, month))


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
