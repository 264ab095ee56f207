"""The process designers' pages: each procedure's versions and the dossiers running on each, a version's diagram
and what changed since, the procedures on disk checked and deployed, running dossiers moved onto the current
version. Thin views over engine.api."""
from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.db import id_from
from engine.errors import NotRunnable, ProcedureError, StaleDossier
from engine.importer import ImportRefused
from engine.moves import NotMovable

from . import db, get_engine
from .access import kind_required
from .ui import t

bp = Blueprint("designer", __name__, url_prefix="/thiet-ke")
designer_required = kind_required(lambda user: user.is_designer)
#: dossiers a request looks at when moving them (3 ms each for the five-step test procedure on SQLite, more for a
#: larger diagram): a long list is moved over several requests
MOVES_PER_REQUEST = 300


@bp.get("/")
@designer_required
def index():  # noqa: ANN201
    engine = get_engine()
    return render_template("designer/index.html", procedures=engine.designs(db(), current_user),
                           log=engine.design_log(db(), current_user))


@bp.get("/<code>")
@designer_required
def procedure(code: str):  # noqa: ANN201
    found = get_engine().design(db(), current_user, code)
    return render_template("designer/procedure.html", procedure=found)


@bp.get("/<code>/phien-ban/<int:number>.bpmn")
@designer_required
def bpmn(code: str, number: int):  # noqa: ANN201
    """A version's diagram as deployed (drawn by the pages; saved as a file by their download links)."""
    _name, xml = get_engine().version_bpmn(db(), current_user, code, number)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600",
                                                              "X-Content-Type-Options": "nosniff"})


@bp.get("/<code>/phien-ban/<int:number>/so-sanh")
@designer_required
def compare(code: str, number: int):  # noqa: ANN201
    """What changed from this version to another (``?voi=``, default the current one), drawn on the newer one."""
    engine = get_engine()
    other = id_from(request.args.get("voi"))
    diff = engine.compare_versions(db(), current_user, code, number, other)
    return render_template("designer/compare.html", procedure=engine.design(db(), current_user, code), diff=diff)


@bp.route("/<code>/phien-ban/<int:number>/chuyen-ho-so", methods=["GET", "POST"])
@designer_required
def migrate(code: str, number: int):  # noqa: ANN201
    engine = get_engine()
    if request.method == "POST":
        db().commit()  # (nothing to keep: the request's transaction ends, as the move runs one per dossier)
        after = id_from(request.form.get("sau")) or 0
        report = engine.move_dossiers(current_user, code, number, limit=MOVES_PER_REQUEST, after=after)
        flash(_("Đã chuyển %(moved)d hồ sơ sang phiên bản hiện hành; %(blocked)d hồ sơ không chuyển được và ở lại "
                "phiên bản cũ; %(failed)d hồ sơ lỗi hoặc vừa bị thay đổi (thử lại sau).", moved=report.moved,
                blocked=report.blocked, failed=report.failed), "success" if not report.failed else "error")
        if report.resume_after is not None:
            flash(_("Còn hồ sơ chưa xem: bấm nút chuyển lần nữa để tiếp tục."), "info")
            return redirect(url_for("designer.migrate", code=code, number=number, sau=report.resume_after), code=303)
        return redirect(url_for("designer.procedure", code=code), code=303)
    plan = engine.migration_plan(db(), current_user, code, number)
    return render_template("designer/migrate.html", procedure=engine.design(db(), current_user, code), plan=plan,
                           resume_after=id_from(request.args.get("sau")) or 0)


@bp.post("/ho-so/<int:dossier_id>/chuyen")
@designer_required
def migrate_one(dossier_id: int):  # noqa: ANN201
    """Move one dossier onto its procedure's current version (from the list of a version's running dossiers)."""
    engine = get_engine()
    back = request.form.get("back", "")
    try:
        engine.move_dossier(db(), current_user, dossier_id)
        db().commit()
    except NotMovable as exc:
        db().rollback()
        flash(_("Hồ sơ này không chuyển được: phiên bản hiện hành không còn %(names)s.",
                names=", ".join(exc.names) or "–"), "error")
    except (StaleDossier, NotRunnable) as exc:
        db().rollback()
        flash(t(exc.message), "error")
    else:
        flash(_("Đã chuyển hồ sơ sang phiên bản hiện hành."), "success")
    return redirect(back if back.startswith("/thiet-ke/") else url_for("designer.index"), code=303)


@bp.route("/trien-khai", methods=["GET", "POST"])
@designer_required
def deploy():  # noqa: ANN201
    """The procedures on disk checked against what is deployed; deploy them when every check passes."""
    engine = get_engine()
    if request.method == "POST":
        try:
            deployed = engine.deploy_from_disk(db(), current_user)
            db().commit()
        except ProcedureError:
            db().rollback()
            flash(_("Chưa triển khai: các quy trình còn lỗi (xem danh sách bên dưới)."), "error")
        else:
            new = [d.code for d in deployed if d.new]
            if new:
                flash(_("Đã triển khai phiên bản mới của: %(codes)s. Hồ sơ mới chạy theo phiên bản này; hồ sơ đang "
                        "xử lý vẫn ở phiên bản cũ cho đến khi được chuyển.", codes=", ".join(new)), "success")
            else:
                flash(_("Không có gì thay đổi: các quy trình trên máy chủ giống hệt phiên bản hiện hành."), "success")
            return redirect(url_for("designer.index"), code=303)
    return render_template("designer/deploy.html", disk=engine.procedures_on_disk(db(), current_user))


@bp.route("/nhap", methods=["GET", "POST"])
@designer_required
def import_model():  # noqa: ANN201
    """A spiff-arena process model, sent as a ZIP archive, imported as a new procedure when it is valid."""
    error, code = None, (request.form.get("code") or "").strip()
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload is not None else b""
        if not data:
            error = _("Chọn tệp ZIP của mô hình quy trình.")
        else:
            try:
                result = get_engine().import_model(db(), current_user, data, code or None)
                db().commit()
            except ImportRefused as exc:
                db().rollback()
                error = _("Không nhập được: %(why)s.", why=str(exc))
            else:
                return render_template("designer/imported.html", result=result), (200 if not result.problems
                                                                                     else 422)
    return render_template("designer/import.html", error=error, code=code), (400 if error else 200)


@bp.get("/<code>/so-do")
@designer_required
def modeler(code: str):  # noqa: ANN201
    """The procedure's diagram file in bpmn-js's modeler, with its elements' properties, to check and save."""
    name, _xml = get_engine().diagram_on_disk(current_user, code)
    return render_template("designer/modeler.html", code=code, file_name=name)


@bp.get("/<code>/so-do.bpmn")
@designer_required
def diagram_file(code: str):  # noqa: ANN201
    _name, xml = get_engine().diagram_on_disk(current_user, code)
    return Response(xml, mimetype="application/xml", headers={"X-Content-Type-Options": "nosniff"})


def _problems(found: list) -> list[dict[str, str | None]]:
    return [{"file": p.file, "element": p.element, "message": p.message} for p in found]


@bp.post("/<code>/so-do/kiem-tra")
@designer_required
def check_diagram(code: str):  # noqa: ANN201
    problems = get_engine().check_diagram(current_user, code, request.get_data(as_text=True))
    return jsonify({"problems": _problems(problems)})


@bp.post("/<code>/so-do")
@designer_required
def save_diagram(code: str):  # noqa: ANN201
    try:
        problems = get_engine().save_diagram(db(), current_user, code, request.get_data(as_text=True))
        db().commit()
    except OSError as exc:
        db().rollback()
        return jsonify({"saved": False, "problems": [], "error": _("Máy chủ không ghi được tệp sơ đồ (%(why)s). Tải sơ "
                                                                   "đồ về và sửa trong mã nguồn.", why=exc.strerror or exc)}), 500
    return jsonify({"saved": not problems, "problems": _problems(problems)}), (200 if not problems else 422)
