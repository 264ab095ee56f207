"""The citizen's side: start a procedure, fill in each page of a task, check answers, submit, follow dossiers."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from engine.attachments import key
from engine.db import id_from
from engine.errors import FormInvalid, NotFound, StaleDossier, TaskNotOpen
from engine.i18n import text

from . import db, get_engine
from .access import citizen_required
from .dossier_pages import (diagram_response, document_response, documents, dossier_page, slip_response,
                            too_large_response)
from .forms import error_list, page_of, read, summary
from .ui import lang, t

bp = Blueprint("citizen", __name__)
FROM_CHECK = "kiem-tra"
PAGE_SIZE = 50
NO_FILE_CHOSEN = text("Chọn một tệp để tải lên", "Choose a file to upload")


def _open_task(task_id: int) -> tuple[Any, Any]:
    """The applicant's own open task and its form; a finished one sends the citizen to the dossier."""
    engine = get_engine()
    task = engine.task(db(), task_id, current_user)  # NotFound for anyone else's
    if not task.is_applicant_task:
        abort(404)
    return task, engine.form(db(), task_id, current_user)


@bp.post("/thu-tuc/<code>/bat-dau")
@citizen_required
def start(code: str):  # noqa: ANN201
    engine = get_engine()
    agency_id = id_from(request.form.get("agency_id"))
    dossier = engine.start_dossier(db(), code, current_user, agency_id)
    db().commit()
    task = next((t_ for t_ in dossier.open_tasks if t_.is_applicant_task), None)
    if task is None:
        return redirect(url_for("citizen.dossier", dossier_id=dossier.id))
    return redirect(url_for("citizen.task_page", task_id=task.id))


@bp.route("/cong-viec/<int:task_id>", methods=["GET", "POST"], defaults={"page_id": None})
@bp.route("/cong-viec/<int:task_id>/trang/<page_id>", methods=["GET", "POST"])
@citizen_required
def task_page(task_id: int, page_id: str | None):  # noqa: ANN201
    task, form = _open_task(task_id)
    if task.state != "open":
        flash(_("Việc này đã bị huỷ vì hồ sơ đã được rút.") if task.state == "cancelled"
              else _("Việc này đã được hoàn thành."), "info")
        return redirect(url_for("citizen.dossier", dossier_id=task.dossier_id))
    found = page_of(form, page_id)
    if found is None:
        abort(404)
    index, page = found
    engine = get_engine()
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, errors = read(form, request.form, page.fields)
        if not errors:
            engine.save_draft(db(), task_id, current_user, data)
            db().commit()
            if request.args.get("tu") == FROM_CHECK or index + 1 == len(form.pages):
                return redirect(url_for("citizen.check", task_id=task_id))
            return redirect(url_for("citizen.task_page", task_id=task_id, page_id=form.pages[index + 1].id))
        values = request.form.to_dict()
    else:
        values = form.to_raw(engine.prefill(db(), task_id, current_user))
    back = (url_for("citizen.task_page", task_id=task_id, page_id=form.pages[index - 1].id) if index
            else url_for("citizen.dossier", dossier_id=task.dossier_id))
    if request.args.get("tu") == FROM_CHECK:
        back = url_for("citizen.check", task_id=task_id)
    request_entry = None
    if task.dossier_status == "waiting":  # show what the officials asked for, next to the answer
        asked = [e for e in engine.timeline(db(), task.dossier_id, current_user) if e.action == "task.completed" and e.detail]
        request_entry = asked[-1] if asked else None
    return render_template(
        "citizen/task_page.html", task=task, form=form, page=page, index=index, values=values, errors=errors,
        request_entry=request_entry,
        error_items=error_list(form, errors), back=back, from_check=request.args.get("tu") == FROM_CHECK,
    ), (400 if errors else 200)


@bp.route("/cong-viec/<int:task_id>/kiem-tra", methods=["GET", "POST"])
@citizen_required
def check(task_id: int):  # noqa: ANN201
    task, form = _open_task(task_id)
    engine = get_engine()
    if task.state != "open":
        if request.method == "POST":  # a second click, or another tab, got there first
            flash(_("Hồ sơ đã được gửi trước đó; không gửi lại lần nữa."), "info")
        else:
            flash(_("Việc này đã được hoàn thành."), "info")
        return redirect(url_for("citizen.dossier", dossier_id=task.dossier_id))
    values = engine.prefill(db(), task_id, current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            completion = engine.complete(db(), task_id, current_user, values)
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        except TaskNotOpen:  # a second click, or another tab, got there first
            db().rollback()
            flash(_("Hồ sơ đã được gửi trước đó; không gửi lại lần nữa."), "info")
            return redirect(url_for("citizen.dossier", dossier_id=task.dossier_id))
        except StaleDossier as exc:
            db().rollback()
            flash(t(exc.message), "error")
            return redirect(url_for("citizen.check", task_id=task_id))
        else:
            if completion.submitted:
                return redirect(url_for("citizen.submitted", dossier_id=task.dossier_id))
            if completion.dossier.status == "draft":  # the process sent the declaration back before submitting it
                following = next(iter(completion.next_tasks_for_actor), None)
                flash(_("Hồ sơ chưa được nộp. Xem lý do dưới đây, sửa lại rồi gửi."), "info")
                if following is not None:
                    return redirect(url_for("citizen.task_page", task_id=following.id))
                return redirect(url_for("citizen.dossier", dossier_id=task.dossier_id))
            flash(_("Đã gửi: %(title)s.", title=t(task.title)), "success")
            return redirect(url_for("citizen.dossier", dossier_id=task.dossier_id))

    return _check_page(task, form, values, errors)


def _check_page(task: Any, form: Any, values: dict[str, Any], errors: dict[str, str]):  # noqa: ANN202
    """The check-answers page of the applicant's task: the answers, the documents attached, the button that sends
    them; with ``errors`` (of the answers or of the documents) linked from its error summary."""
    engine = get_engine()

    def page_link(name: str, anchor: str) -> str:
        if name.startswith("doc-"):  # a document's error: its upload field, on this page
            return anchor
        page = next((p for p in form.pages if name in p.fields), form.pages[0])
        return url_for("citizen.task_page", task_id=task.id, page_id=page.id, tu=FROM_CHECK) + anchor

    dossier = engine.dossier(db(), task.dossier_id, current_user)
    groups, _results = documents(task.dossier_id)
    return render_template(
        "citizen/check.html", task=task, form=form, dossier=dossier, sections=summary(form, values, lang()),
        errors=errors, error_items=error_list(form, errors, href=page_link), from_check=FROM_CHECK,
        first_submission=dossier.status == "draft", document_groups=groups,
        max_mb=f"{engine.settings.upload_max_bytes / (1024 * 1024):g}",
    ), (400 if errors else 200)


@bp.post("/cong-viec/<int:task_id>/giay-to")
@citizen_required
def upload(task_id: int):  # noqa: ANN201
    """Attach a file to the dossier of the applicant's open task, for one of the procedure's documents."""
    task, form = _open_task(task_id)
    engine = get_engine()
    component = request.form.get("component") or ""
    sent = request.files.get("file")
    try:
        if sent is None or not sent.filename:
            raise FormInvalid({key(component): NO_FILE_CHOSEN})
        view = engine.attach(db(), task.dossier_id, current_user, component, sent.filename, sent.read())
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return _check_page(task, form, engine.prefill(db(), task_id, current_user),
                           {k: t(v) for k, v in exc.errors.items()})
    flash(_("Đã tải lên %(name)s.", name=view.filename), "success")
    return redirect(url_for("citizen.check", task_id=task_id) + f"#{key(component)}", code=303)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc: RequestEntityTooLarge):  # noqa: ANN201
    return too_large_response("citizen.upload", "citizen.check")


@bp.post("/cong-viec/<int:task_id>/giay-to/<int:attachment_id>/bo")
@citizen_required
def remove_document(task_id: int, attachment_id: int):  # noqa: ANN201
    """Take back a file not sent yet."""
    task, _form = _open_task(task_id)
    name = get_engine().detach(db(), task.dossier_id, current_user, attachment_id)
    db().commit()
    flash(_("Đã bỏ %(name)s.", name=name), "success")
    return redirect(url_for("citizen.check", task_id=task_id) + "#giay-to", code=303)


@bp.get("/ho-so/<int:dossier_id>/giay-to/<int:attachment_id>")
@citizen_required
def document(dossier_id: int, attachment_id: int):  # noqa: ANN201
    return document_response(*get_engine().document(db(), dossier_id, current_user, attachment_id))


@bp.post("/ho-so/<int:dossier_id>/da-chuyen-khoan")
@citizen_required
def declare_transfer(dossier_id: int):  # noqa: ANN201
    """The applicant says they have transferred the fees due."""
    get_engine().declare_transfer(db(), dossier_id, current_user)
    db().commit()
    flash(_("Đã ghi nhận bạn đã chuyển khoản. Cán bộ sẽ đối chiếu với tài khoản của cơ quan khi trả kết quả."),
          "success")
    return redirect(url_for("citizen.dossier", dossier_id=dossier_id) + "#le-phi", code=303)


@bp.get("/ho-so/<int:dossier_id>/phieu/<kind>.pdf")
@citizen_required
def slip(dossier_id: int, kind: str):  # noqa: ANN201
    return slip_response(dossier_id, kind)


@bp.get("/ho-so/<int:dossier_id>/so-do.bpmn")
@citizen_required
def diagram(dossier_id: int):  # noqa: ANN201
    return diagram_response(get_engine().diagram(db(), dossier_id, current_user))


@bp.get("/ho-so/<int:dossier_id>/da-nop")
@citizen_required
def submitted(dossier_id: int):  # noqa: ANN201
    dossier = get_engine().dossier(db(), dossier_id, current_user)
    if not dossier.code:
        return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
    p = get_engine().procedure(db(), dossier.procedure_code)
    return render_template("citizen/submitted.html", dossier=dossier, p=p)


@bp.get("/ho-so")
@citizen_required
def dossiers():  # noqa: ANN201
    engine = get_engine()
    page = max(1, min(request.args.get("trang", 1, type=int) or 1, 10_000))
    rows = engine.dossiers_of(db(), current_user, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template("citizen/dossiers.html", dossiers=rows[:PAGE_SIZE], page=page,
                           has_next=len(rows) > PAGE_SIZE, tasks=engine.my_tasks(db(), current_user))


@bp.get("/ho-so/<int:dossier_id>")
@citizen_required
def dossier(dossier_id: int):  # noqa: ANN201
    return dossier_page(dossier_id, "citizen")


@bp.route("/ho-so/<int:dossier_id>/rut", methods=["GET", "POST"])
@citizen_required
def withdraw(dossier_id: int):  # noqa: ANN201
    engine = get_engine()
    view = engine.dossier(db(), dossier_id, current_user)
    error = None
    reason = ""
    if not view.withdrawable:
        flash(_("Hồ sơ này không còn rút được."), "error")
        return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
    if request.method == "POST":
        reason = (request.form.get("reason") or "").strip()
        try:
            engine.withdraw(db(), dossier_id, current_user, reason)
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            error = t(exc.errors["reason"])
        except StaleDossier as exc:
            db().rollback()
            flash(t(exc.message), "error")
            return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
        else:
            flash(_("Đã rút hồ sơ %(code)s.", code=view.code) if view.code else _("Đã rút hồ sơ đang soạn."), "success")
            return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
    return render_template("citizen/withdraw.html", dossier=view, error=error, reason=reason), (400 if error else 200)


@bp.route("/ho-so/<int:dossier_id>/danh-gia", methods=["GET", "POST"])
@citizen_required
def rate(dossier_id: int):  # noqa: ANN201
    """The applicant rates the service of a decided dossier, once."""
    from engine.errors import Forbidden
    from engine.ratings import SCORES

    engine = get_engine()
    view = engine.dossier(db(), dossier_id, current_user)
    if not engine.rating(db(), dossier_id, current_user).may_rate:
        flash(_("Hồ sơ này không đánh giá được nữa hoặc chưa đánh giá được."), "error")
        return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
    errors: dict[str, str] = {}
    values = {"score": "", "comment": ""}
    if request.method == "POST":
        values = {"score": request.form.get("score") or "", "comment": request.form.get("comment") or ""}
        try:
            engine.rate(db(), dossier_id, current_user, values["score"], values["comment"])
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        except Forbidden as exc:
            db().rollback()
            flash(t(exc.message), "error")
            return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
        else:
            flash(_("Cảm ơn bạn đã đánh giá."), "success")
            return redirect(url_for("citizen.dossier", dossier_id=dossier_id))
    return render_template("citizen/rate.html", dossier=view, scores=list(SCORES.items()), values=values,
                           errors=errors), (400 if errors else 200)


@bp.route("/tai-khoan", methods=["GET", "POST"])
@citizen_required
def profile():  # noqa: ANN201
    """The personal data given once and reused to prefill every form."""
    user = current_user
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("full_name", "phone", "id_number", "address")}
        parts = [(request.form.get(f"birth_date-{p}") or "").strip() for p in ("day", "month", "year")]
        birth = None
        if any(parts):
            day, month, year = parts
            birth = f"{year}-{month.zfill(2)}-{day.zfill(2)}" if all(x.isdecimal() for x in parts) else "không hợp lệ"
        preferences = {"notify_by_mail": request.form.get("notify_by_mail") == "1",
                       "language": request.form.get("language") or "vi"}
        try:
            get_engine().update_profile(db(), user, **values, birth_date=birth, **preferences)
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        else:
            flash(_("Đã lưu thông tin cá nhân. Các tờ khai sau sẽ được điền sẵn theo thông tin này."), "success")
            return redirect(url_for("citizen.profile"))
        raw = {**request.form.to_dict(), **preferences}
    else:
        raw = {"full_name": user.full_name, "phone": user.phone or "", "id_number": user.id_number or "",
               "address": user.address or "", "notify_by_mail": user.notify_by_mail, "language": user.language}
        if user.birth_date:
            raw.update({"birth_date-day": str(user.birth_date.day), "birth_date-month": str(user.birth_date.month),
                        "birth_date-year": str(user.birth_date.year)})
    return render_template("citizen/profile.html", values=raw, errors=errors), (400 if errors else 200)


@bp.get("/tai-khoan/du-lieu.json")
@citizen_required
def personal_data():  # noqa: ANN201
    """Everything the portal keeps about the citizen, as one JSON file to download."""
    body = json.dumps(get_engine().personal_data(db(), current_user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers.set("Content-Disposition", "attachment", filename="du-lieu-ca-nhan-motcua.json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/tra-cuu")
@citizen_required
def lookup():  # noqa: ANN201
    code = (request.args.get("ma") or "").strip().upper()[:40]
    error = None
    if code:
        try:
            view = get_engine().dossier_by_code(db(), code, current_user)
        except NotFound:
            error = _("Không tìm thấy hồ sơ có mã %(code)s trong các hồ sơ của bạn.", code=code)
        else:
            return redirect(url_for("citizen.dossier", dossier_id=view.id))
    elif "ma" in request.args:
        error = _("Nhập mã hồ sơ")
    return render_template("citizen/lookup.html", code=code, error=error), (404 if error and code else 400 if error else 200)
