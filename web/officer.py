"""The officials' back office: the queue of their roles, their own tasks, claiming and completing tasks."""
from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from engine.attachments import RESULT, key, result_needed
from engine.db import number_from
from engine.errors import AlreadyClaimed, Forbidden, FormInvalid, StaleDossier, TaskNotOpen
from engine.procedures import SUPERVISOR_ROLE
from engine.tasks import may_assign

from . import db, get_engine
from .access import official_required
from .citizen import NO_FILE_CHOSEN
from .dossier_pages import (diagram_response, document_response, documents, dossier_page, slip_response,
                            too_large_response)
from .forms import error_list
from .ui import FIRST_YEAR, month_names, period_asked, period_name, t

RESULT_KEY = key(RESULT)
bp = Blueprint("officer", __name__, url_prefix="/can-bo")


#: tasks of the group queue per page (oldest first)
QUEUE_PAGE = 50


#: how the lists of tasks may be ordered (``?sap-xep=``): the engine's orders (engine.tasks.ORDERS) by their
#: Vietnamese names in addresses; none: the oldest first
ORDERS = {"han": "due"}


def _order(asked: Any) -> str | None:
    return ORDERS.get(asked.get("sap-xep") or "")


@bp.get("/")
@official_required
def queue():  # noqa: ANN201
    engine = get_engine()
    order = _order(request.args)
    asked = request.args.get("trang", 1, type=int) or 1
    if asked <= 1:  # the usual page: counted only when the queue goes on past it
        page, rows = 1, engine.queue(db(), current_user, limit=QUEUE_PAGE + 1, offset=0, order=order)
        size = len(rows) if len(rows) <= QUEUE_PAGE else engine.queue_size(db(), current_user)
    else:  # a later page: past the end, the last one (and a number too large for an offset, never sent)
        size = engine.queue_size(db(), current_user)
        page = min(asked, max(1, -(-size // QUEUE_PAGE)))
        rows = engine.queue(db(), current_user, limit=QUEUE_PAGE + 1, offset=(page - 1) * QUEUE_PAGE, order=order)
    return render_template("officer/queue.html", queue=rows[:QUEUE_PAGE], page=page, has_next=len(rows) > QUEUE_PAGE,
                           first=(page - 1) * QUEUE_PAGE + 1, queue_size=size, order=request.args.get("sap-xep")
                           if order else "", mine=engine.my_tasks(db(), current_user, order=order))


def _render_task(task_id: int, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                 status: int = 200, assign_error: str | None = None):  # noqa: ANN202
    engine = get_engine()
    task = engine.task(db(), task_id, current_user)
    if task.is_applicant_task:
        abort(404)
    form = engine.form(db(), task_id, current_user)
    assignees = engine.assignees(db(), task, current_user) if may_assign(task, current_user) else None
    dossier = engine.dossier(db(), task.dossier_id, current_user)
    if values is None:
        values = form.to_raw(engine.prefill(db(), task_id, current_user))
    errors = errors or {}
    groups, results = documents(task.dossier_id)
    error_items = error_list(form, errors)
    if assign_error:
        error_items.append({"text": assign_error, "href": "#assignee"})
    return render_template(
        "officer/task.html", task=task, form=form, dossier=dossier, values=values, errors=errors,
        error_items=error_items, assignees=assignees, assign_error=assign_error,
        timeline=engine.timeline(db(), task.dossier_id, current_user),
        mine=task.claimed_by_id == current_user.id, may_act=task.role in current_user.roles,
        document_groups=groups, result_files=results,
        result_required=result_needed(task.result_file, dossier),
        fee=engine.fee(db(), task.dossier_id, current_user) if task.state == "open" else None,
    ), status


@bp.get("/ho-so")
@official_required
def dossiers():  # noqa: ANN201
    """The agency's dossiers, newest first, by status, procedure, overdue or the applicant (their personal ID
    number, email or phone, as a person at the desk gives them); a code goes straight to its dossier."""
    from engine.errors import NotFound
    from engine.statuses import STATUSES

    engine = get_engine()
    code = (request.args.get("ma") or "").strip().upper()[:40]
    error = None
    if code:
        try:
            return redirect(url_for("officer.dossier", dossier_id=engine.dossier_by_code(db(), code, current_user).id))
        except NotFound:
            error = _("Không có hồ sơ mã %(code)s trong các hồ sơ của cơ quan.", code=code)
    status = request.args.get("trang-thai") or None
    procedure = request.args.get("thu-tuc") or None
    overdue = request.args.get("qua-han") == "1"
    statuses = {k: v for k, v in STATUSES.items() if k != "draft"}
    procedures = {p.code: p.name for p in engine.procedures(db())}
    if (status and status not in statuses) or (procedure and procedure not in procedures):
        abort(404)
    applicant = (request.args.get("nguoi-nop") or "").strip()[:254]
    page = max(1, min(request.args.get("trang", 1, type=int) or 1, 10_000))
    applicant_error = None
    try:
        rows = engine.dossiers_of_agency(db(), current_user, status, procedure, overdue, limit=QUEUE_PAGE + 1,
                                         offset=(page - 1) * QUEUE_PAGE, applicant=applicant or None)
    except FormInvalid as exc:
        rows, applicant_error = [], t(exc.errors["applicant"])
    filters = {k: v for k, v in (("trang-thai", status), ("thu-tuc", procedure), ("qua-han", "1" if overdue else None),
                                 ("nguoi-nop", applicant)) if v}
    return render_template("officer/dossiers.html", dossiers=rows[:QUEUE_PAGE], page=page,
                           has_next=len(rows) > QUEUE_PAGE, statuses=statuses, procedures=procedures,
                           status=status, procedure=procedure, overdue=overdue, code=code, error=error,
                           applicant=applicant, applicant_error=applicant_error, filters=filters), \
        (404 if error else 400 if applicant_error else 200)


@bp.get("/cong-viec/<int:task_id>")
@official_required
def task(task_id: int):  # noqa: ANN201
    return _render_task(task_id)


@bp.post("/cong-viec/<int:task_id>/nhan")
@official_required
def claim(task_id: int):  # noqa: ANN201
    try:
        get_engine().claim(db(), task_id, current_user)
        db().commit()
    except (AlreadyClaimed, TaskNotOpen, StaleDossier) as exc:
        db().rollback()
        flash(t(exc.message), "error")
        return redirect(url_for("officer.queue"))
    return redirect(url_for("officer.task", task_id=task_id))


@bp.post("/cong-viec/<int:task_id>/tra-lai")
@official_required
def release(task_id: int):  # noqa: ANN201
    seen = request.form.get("seen") or ""
    try:
        get_engine().release(db(), task_id, current_user, _seen())
        db().commit()
    except TaskNotOpen as exc:  # finished or cancelled meanwhile (another tab, a withdrawal): nothing to put back
        db().rollback()
        flash(t(exc.message), "error")
        return redirect(url_for("officer.queue"))
    except AlreadyClaimed as exc:  # (a head of office's page showed another holder)
        db().rollback()
        flash(t(exc.message), "error")
        return redirect(url_for("officer.task", task_id=task_id))
    flash(_("Đã trả công việc về hàng đợi chung."), "info")
    return redirect(url_for("officer.assigning" if seen else "officer.queue"))


def _seen() -> int | None:
    """Who held the task on the page the form was sent from (its hidden field ``seen``; empty: nobody)."""
    return number_from(request.form.get("seen") or "")


@bp.post("/cong-viec/<int:task_id>/giao")
@official_required
def assign(task_id: int):  # noqa: ANN201
    """Give the task to an official: a head of office assigning it, or the official holding it handing it over.
    ``seen`` is who held it on the page (empty: nobody): if that changed meanwhile, nothing is done and the page
    says so."""
    engine = get_engine()
    try:
        given = engine.assign(db(), task_id, current_user, request.form.get("assignee") or "", _seen())
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return _render_task(task_id, status=400, assign_error=t(exc.errors["assignee"]))
    except (AlreadyClaimed, TaskNotOpen) as exc:
        db().rollback()
        flash(t(exc.message), "error")
        return redirect(url_for("officer.task", task_id=task_id))
    flash(_("Đã giao “%(title)s” của hồ sơ %(code)s cho %(name)s.", title=t(given.title), code=given.dossier_code or "",
            name=given.claimed_by_name), "success")
    return redirect(url_for("officer.assigning" if SUPERVISOR_ROLE in current_user.roles else "officer.queue"))


@bp.get("/phan-cong")
@official_required
def assigning():  # noqa: ANN201
    """A head of office's page: every open task of the agency with who holds it, and each official's load; tasks
    chosen on it are given to one official at once (:func:`assign_many`)."""
    return _render_assigning(request.args)


def _render_assigning(asked: Any, errors: dict[str, str] | None = None, chosen: frozenset[str] = frozenset(),
                      assignee: str = "", status: int = 200):  # noqa: ANN202
    engine = get_engine()
    page = max(1, min(number_from(asked.get("trang") or "1", digits=5) or 1, 10_000))
    unclaimed = asked.get("chua-nhan") == "1"
    order = _order(asked)
    rows, size = engine.agency_tasks(db(), current_user, limit=QUEUE_PAGE + 1, offset=(page - 1) * QUEUE_PAGE,
                                     unclaimed=unclaimed, order=order)
    return render_template("officer/assigning.html", tasks=rows[:QUEUE_PAGE], size=size, page=page,
                           has_next=len(rows) > QUEUE_PAGE, first=(page - 1) * QUEUE_PAGE + 1, unclaimed=unclaimed,
                           order=asked.get("sap-xep") if order else "",
                           workloads=engine.workloads(db(), current_user), errors=errors or {}, chosen=chosen,
                           assignee=assignee), status


@bp.post("/phan-cong")
@official_required
def assign_many():  # noqa: ANN201
    """Give the tasks chosen on "Phân công" (``viec``: each "task id:holder the page showed") to one official
    (``assignee``). Those that cannot be given are listed with why; the others are given all the same."""
    chosen = request.form.getlist("viec")
    assignee = request.form.get("assignee") or ""
    pairs = [(value.partition(":")[0], value.partition(":")[2]) for value in chosen]
    try:
        handing = get_engine().assign_many(db(), pairs, current_user, assignee)
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return _render_assigning(request.form, {field: t(message) for field, message in exc.errors.items()},
                                 frozenset(chosen), assignee, status=400)
    if handing.given and handing.assignee:
        flash(ngettext("Đã giao %(num)d công việc cho %(name)s.", "Đã giao %(num)d công việc cho %(name)s.",
                       len(handing.given), name=handing.assignee), "success")
    elif handing.given:  # spread: how many each official was given
        shares = Counter(task.claimed_by_name for task in handing.given)
        flash(ngettext("Đã chia %(num)d công việc: %(shares)s.", "Đã chia %(num)d công việc: %(shares)s.",
                       len(handing.given), shares=", ".join(f"{name} {count}" for name, count in shares.items())),
              "success")
    if handing.not_given:  # (a heading and a list: base.html)
        flash({"heading": ngettext("Không giao được %(num)d công việc:", "Không giao được %(num)d công việc:",
                                   len(handing.not_given)),
               "items": [f"{n.dossier_code} – {t(n.title)}: {t(n.reason)}" if n.dossier_code else t(n.reason)
                         for n in handing.not_given]}, "error")
    back = {key: request.form[key] for key in ("chua-nhan", "sap-xep", "trang") if request.form.get(key)}
    return redirect(url_for("officer.assigning", **back))


@bp.post("/cong-viec/<int:task_id>")
@official_required
def complete(task_id: int):  # noqa: ANN201
    engine = get_engine()
    try:
        completion = engine.complete(db(), task_id, current_user, request.form)
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return _render_task(task_id, request.form.to_dict(), {k: t(v) for k, v in exc.errors.items()}, 400)
    except (AlreadyClaimed, TaskNotOpen, StaleDossier) as exc:
        db().rollback()
        flash(t(exc.message), "error")
        return redirect(url_for("officer.queue"))
    flash(_("Đã hoàn thành “%(title)s” cho hồ sơ %(code)s. Trạng thái hồ sơ: %(status)s.",
            title=t(engine.task(db(), task_id, current_user).title), code=completion.dossier.code or "",
            status=t(completion.dossier.status_label)), "success")
    return redirect(url_for("officer.queue"))


@bp.get("/ho-so/<int:dossier_id>")
@official_required
def dossier(dossier_id: int):  # noqa: ANN201
    return dossier_page(dossier_id, "officer")


@bp.post("/cong-viec/<int:task_id>/ket-qua")
@official_required
def upload_result(task_id: int):  # noqa: ANN201
    """The official holding the task attaches the electronic result, given to the applicant when it completes."""
    engine = get_engine()
    sent = request.files.get("file")
    try:
        if sent is None or not sent.filename:
            raise FormInvalid({RESULT_KEY: NO_FILE_CHOSEN})
        view = engine.attach_result(db(), task_id, current_user, sent.filename, sent.read())
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return _render_task(task_id, errors={k: t(v) for k, v in exc.errors.items()}, status=400)
    except (TaskNotOpen, Forbidden) as exc:
        db().rollback()
        flash(t(exc.message), "error")
        return redirect(url_for("officer.task", task_id=task_id), code=303)
    flash(_("Đã tải lên %(name)s.", name=view.filename), "success")
    return redirect(url_for("officer.task", task_id=task_id) + "#ket-qua", code=303)


@bp.post("/cong-viec/<int:task_id>/ket-qua/<int:attachment_id>/bo")
@official_required
def remove_result(task_id: int, attachment_id: int):  # noqa: ANN201
    name = get_engine().detach_result(db(), task_id, current_user, attachment_id)
    db().commit()
    flash(_("Đã bỏ %(name)s.", name=name), "success")
    return redirect(url_for("officer.task", task_id=task_id) + "#ket-qua", code=303)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc: RequestEntityTooLarge):  # noqa: ANN201
    return too_large_response("officer.upload_result", "officer.task")


@bp.get("/ho-so/<int:dossier_id>/giay-to/<int:attachment_id>")
@official_required
def document(dossier_id: int, attachment_id: int):  # noqa: ANN201
    return document_response(*get_engine().document(db(), dossier_id, current_user, attachment_id))


@bp.get("/ho-so/<int:dossier_id>/phieu/<kind>.pdf")
@official_required
def slip(dossier_id: int, kind: str):  # noqa: ANN201
    return slip_response(dossier_id, kind)


@bp.get("/ho-so/<int:dossier_id>/so-do.bpmn")
@official_required
def diagram(dossier_id: int):  # noqa: ANN201
    return diagram_response(get_engine().diagram(db(), dossier_id, current_user))


def _statistics_asked() -> tuple[Any, list[tuple[str, Any]], dict[str, Any], int, int | None, int]:
    """The report the page's period asks for (?nam=&thang=; this month by default), its rows by procedure name, the
    procedures' names, the year, the month (None: the year) and this year; 404 for a period out of range."""
    asked = period_asked(request.args, by_month=True)
    if asked is None:
        abort(404)
    year, month, this_year = asked
    engine = get_engine()
    report = engine.statistics(db(), current_user, year, month)
    names = {p.code: p.name for p in engine.procedures(db())}
    rows = sorted(report.by_procedure.items(), key=lambda item: t(names.get(item[0], {"vi": item[0]})))
    return report, rows, names, year, month, this_year


@bp.get("/thong-ke")
@official_required
def statistics():  # noqa: ANN201
    """The agency's figures for a month or a year: received, resolved early / on time / late, in progress."""
    report, rows, names, year, month, this_year = _statistics_asked()
    return render_template("officer/statistics.html", report=report, rows=rows, names=names, year=year, month=month,
                           years=range(this_year, FIRST_YEAR - 1, -1), month_names=month_names(),
                           period=period_name(year, month))


@bp.get("/thong-ke.csv")
@official_required
def statistics_csv():  # noqa: ANN201
    """The same figures as a spreadsheet (CSV in UTF-8 with a byte-order mark, which spreadsheet programs read as
    UTF-8): a row per procedure and one for the total, headed in the reader's language."""
    import csv
    import io

    from flask import Response

    report, rows, names, year, month, _this_year = _statistics_asked()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Mã thủ tục"), _("Thủ tục"), _("Nhận trong kỳ"), _("Giải quyết trước hạn"),
                     _("Giải quyết đúng hạn"), _("Giải quyết quá hạn"), _("Tỷ lệ đúng hạn (%)"),
                     _("Đang giải quyết trong hạn"), _("Đang giải quyết quá hạn"), _("Chờ bổ sung"),
                     _("Từ chối tiếp nhận"), _("Đã rút"), _("Số đánh giá"), _("Hài lòng (%)"),
                     _("Phí, lệ phí đã thu (đồng)")])
    for code, f in [*rows, ("", report.total)]:
        share, satisfied = ("" if v is None else f"{v * 100:.1f}" for v in (f.on_time_share, f.satisfied_share))
        writer.writerow([code, t(names[code]) if code in names else (code or _("Tổng cộng")), f.received, f.early,
                         f.on_time, f.late, share, f.open_within_time, f.open_overdue, f.open_waiting, f.denied,
                         f.withdrawn, f.ratings, satisfied, f.fees])
    period = f"{year}-{month:02d}" if month else str(year)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="thong-ke-{period}.csv"'})
