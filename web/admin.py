"""The administrators' pages: the agencies (code, names, level, the account fees are paid into) and the officials'
accounts (agency, roles, active; a new one gets a mailed link to set a password). Thin views over engine.api."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.administration import LEVELS
from engine.db import id_from
from engine.errors import FormInvalid
from engine.integration import DEFAULT_VALIDITY, VALIDITY_DAYS
from engine.mail import MailFailed
from engine.webhooks import TEST_TIMEOUT

from . import db, get_engine
from .access import kind_required
from .auth import _reset_link
from .ui import lang, t

bp = Blueprint("admin", __name__, url_prefix="/quan-tri")
admin_required = kind_required(lambda user: user.is_admin)
LOG_PAGE = 100
AGENCY_FIELDS = ("code", "name_vi", "name_en", "level", "bank_bin", "bank_account", "bank_account_name")


@bp.get("/")
@admin_required
def index():  # noqa: ANN201
    engine = get_engine()
    return render_template("admin/index.html", agencies=engine.agencies(db(), current_user),
                           officials=engine.officials(db(), current_user), roles=engine.roles(db()), levels=LEVELS,
                           api_clients=engine.api_clients(db(), current_user),
                           designers=engine.designers(db(), current_user))


@bp.get("/nhat-ky")
@admin_required
def log():  # noqa: ANN201
    """What administrators changed, newest first, a hundred at a time."""
    page = max(1, min(request.args.get("trang", 1, type=int) or 1, 10_000))
    rows = get_engine().admin_log(db(), current_user, limit=LOG_PAGE + 1, offset=(page - 1) * LOG_PAGE)
    return render_template("admin/log.html", events=rows[:LOG_PAGE], page=page, has_next=len(rows) > LOG_PAGE)


@bp.route("/co-quan/moi", methods=["GET", "POST"], defaults={"agency_id": None})
@bp.route("/co-quan/<int:agency_id>", methods=["GET", "POST"])
@admin_required
def agency(agency_id: int | None):  # noqa: ANN201
    engine = get_engine()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values: dict[str, Any] = {k: request.form.get(k, "") for k in AGENCY_FIELDS}
        try:
            saved = engine.save_agency(db(), current_user, agency_id, values)
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        else:
            flash(_("Đã lưu cơ quan %(code)s.", code=saved.code), "success")
            return redirect(url_for("admin.index") + "#co-quan", code=303)
    elif agency_id is not None:
        found = engine.agency(db(), current_user, agency_id)
        values = {k: getattr(found, k) or "" for k in AGENCY_FIELDS}
    else:
        values = {k: "" for k in AGENCY_FIELDS} | {"level": "commune"}
    return render_template("admin/agency.html", agency_id=agency_id, values=values, errors=errors,
                           levels=LEVELS, fields=AGENCY_FIELDS), (400 if errors else 200)


@bp.route("/co-quan/<int:agency_id>/lich", methods=["GET", "POST"])
@admin_required
def agency_days(agency_id: int):  # noqa: ANN201
    """The agency's own days off and make-up working days, which its due dates count with."""
    engine = get_engine()
    found = engine.agency(db(), current_user, agency_id)
    errors: dict[str, str] = {}
    values = {"day-day": "", "day-month": "", "day-year": "", "working": "0", "note": ""}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in values}
        parts = (values["day-year"], values["day-month"].zfill(2), values["day-day"].zfill(2))
        try:
            engine.set_agency_day(db(), current_user, agency_id, "-".join(parts) if all(parts) else "",
                                  values["working"] == "1", values["note"])
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        else:
            flash(_("Đã lưu ngày %(day)s.", day="/".join(reversed(parts))), "success")
            return redirect(url_for("admin.agency_days", agency_id=agency_id), code=303)
    return render_template("admin/agency_days.html", agency=found, values=values, errors=errors,
                           days=engine.agency_days(db(), current_user, agency_id)), (400 if errors else 200)


@bp.post("/co-quan/<int:agency_id>/lich/<day>/bo")
@admin_required
def remove_agency_day(agency_id: int, day: str):  # noqa: ANN201
    import datetime as dt

    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    get_engine().remove_agency_day(db(), current_user, agency_id, parsed)
    db().commit()
    flash(_("Đã bỏ ngày %(day)s khỏi lịch của cơ quan.", day=parsed.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("admin.agency_days", agency_id=agency_id), code=303)


@bp.route("/can-bo/moi", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/can-bo/<int:user_id>", methods=["GET", "POST"])
@admin_required
def official(user_id: int | None):  # noqa: ANN201
    engine = get_engine()
    errors: dict[str, str] = {}
    existing = engine.official(db(), current_user, user_id) if user_id is not None else None
    if request.method == "POST":
        values: dict[str, Any] = {
            "email": request.form.get("email", ""), "full_name": request.form.get("full_name", ""),
            "agency_id": id_from(request.form.get("agency_id")), "roles": request.form.getlist("roles"),
            "active": request.form.get("active") == "1" if existing else True,
            "reminders": request.form.get("reminders") == "1" if existing else True}
        done, errors = _save_account(lambda: engine.save_official(db(), current_user, user_id, values),
                                     existing is None, "#can-bo")
        if done:
            return done
    elif existing is not None:
        values = {"email": existing.email, "full_name": existing.full_name, "agency_id": existing.agency_id,
                  "roles": list(existing.roles), "active": existing.active, "reminders": existing.reminders}
    else:
        values = {"email": "", "full_name": "", "agency_id": None, "roles": [], "active": True, "reminders": True}
    return render_template("admin/official.html", existing=existing, values=values, errors=errors,
                           agencies=engine.agencies(db(), current_user), roles=engine.roles(db())), \
        (400 if errors else 200)


@bp.post("/tai-khoan/<int:user_id>/tat-hai-buoc")
@admin_required
def reset_two_step(user_id: int):  # noqa: ANN201
    """Turn two-step login off for a staff account whose phone and recovery codes are lost."""
    account = get_engine().reset_two_step(db(), current_user, user_id)
    db().commit()
    flash(_("Đã tắt xác thực hai bước của %(email)s. Người đó đăng nhập bằng mật khẩu, rồi nên bật lại.",
            email=account.email), "success")
    page = {"designer": "admin.designer", "official": "admin.official"}.get(account.kind)
    return redirect(url_for(page, user_id=user_id) if page else url_for("admin.index"), code=303)


@bp.route("/thiet-ke/moi", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/thiet-ke/<int:user_id>", methods=["GET", "POST"])
@admin_required
def designer(user_id: int | None):  # noqa: ANN201
    """A process designer's account (the designers' pages): new ones get the link that sets their password."""
    engine = get_engine()
    errors: dict[str, str] = {}
    existing = engine.designer(db(), current_user, user_id) if user_id is not None else None
    values: dict[str, Any] = {"email": "", "full_name": "", "active": True}
    if request.method == "POST":
        values = {"email": request.form.get("email", ""), "full_name": request.form.get("full_name", ""),
                  "active": request.form.get("active") == "1" if existing else True}
        done, errors = _save_account(lambda: engine.save_designer(db(), current_user, user_id, values),
                                     existing is None, "#thiet-ke")
        if done:
            return done
    elif existing is not None:
        values = {"email": existing.email, "full_name": existing.full_name, "active": existing.active}
    return render_template("admin/designer.html", existing=existing, values=values, errors=errors), \
        (400 if errors else 200)


def _save_account(save: Callable[[], Any], new: bool, anchor: str) -> tuple[Any, dict[str, str]]:
    """Save an account from its form and commit; a new one is mailed the link that sets its password. The answer
    (back to the list, said) or, the form being wrong, None and its errors."""
    try:
        saved = save()
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return None, {k: t(v) for k, v in exc.errors.items()}
    if new:
        _send_link(saved.email)
    flash(_("Đã lưu tài khoản của %(name)s.", name=saved.full_name), "success")
    return redirect(url_for("admin.index") + anchor, code=303), {}


def _send_link(email: str) -> None:
    """Mail a new official or designer the link that sets their password; say so, or why not."""
    try:
        sent = get_engine().send_password_reset(db(), email, _reset_link, lang())
        db().commit()
    except MailFailed:
        db().rollback()
        sent = False
    if sent:
        flash(_("Đã gửi thư đặt mật khẩu tới %(email)s.", email=email), "info")
    else:
        flash(_("Chưa gửi được thư đặt mật khẩu tới %(email)s (máy chủ thư chưa sẵn sàng). Cán bộ dùng “Quên mật "
                "khẩu” ở trang đăng nhập khi thư gửi được.", email=email), "error")


@bp.route("/api/moi", methods=["GET", "POST"])
@admin_required
def api_client():  # noqa: ANN201
    """A new integration API client of an agency: its token is shown once, on the page that answers the form."""
    engine = get_engine()
    errors: dict[str, str] = {}
    values = {"name": "", "agency_id": "", "valid_days": str(DEFAULT_VALIDITY), "webhook_url": ""}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in values}
        try:
            made = engine.create_api_client(db(), current_user, values["name"], values["agency_id"],
                                            values["valid_days"], values["webhook_url"])
            db().commit()
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        else:
            return render_template("admin/api_token.html", client=made.view, token=made.token,
                                   webhook_secret=made.webhook_secret)
    return render_template("admin/api_client.html", values=values, errors=errors, validity=VALIDITY_DAYS,
                           agencies=engine.agencies(db(), current_user)), (400 if errors else 200)


@bp.get("/api/<int:client_id>")
@admin_required
def api_client_page(client_id: int):  # noqa: ANN201
    """A client: its token's expiry and its webhook, with a new token and the webhook to set."""
    return _client_page(client_id, {}, {})


def _client_page(client_id: int, values: dict[str, str], errors: dict[str, str]):  # noqa: ANN202
    client = get_engine().api_client_view(db(), current_user, client_id)
    values = {"valid_days": str(DEFAULT_VALIDITY), "webhook_url": client.webhook_url or "", **values}
    return render_template("admin/api_client_page.html", client=client, values=values, errors=errors,
                           validity=VALIDITY_DAYS), (400 if errors else 200)


def _client_change(client_id: int, field: str, change: Callable[[str], Any]) -> tuple[Any, Any]:
    """Apply ``change`` to the form's ``field``: (what it made, None), or (None, the client's page with the
    errors) when the value is refused."""
    value = (request.form.get(field) or "").strip()
    try:
        made = change(value)
        db().commit()
    except FormInvalid as exc:
        db().rollback()
        return None, _client_page(client_id, {field: value}, {k: t(v) for k, v in exc.errors.items()})
    return made, None


@bp.post("/api/<int:client_id>/ma-moi")
@admin_required
def renew_api_token(client_id: int):  # noqa: ANN201
    made, refused = _client_change(client_id, "valid_days", lambda days: get_engine().renew_api_token(
        db(), current_user, client_id, days))
    if refused:
        return refused
    return render_template("admin/api_token.html", client=made.view, token=made.token, webhook_secret=None)


@bp.post("/api/<int:client_id>/webhook")
@admin_required
def set_api_webhook(client_id: int):  # noqa: ANN201
    made, refused = _client_change(client_id, "webhook_url", lambda url: get_engine().set_api_webhook(
        db(), current_user, client_id, url))
    if refused:
        return refused
    if made.webhook_secret:
        return render_template("admin/api_token.html", client=made.view, token=None,
                               webhook_secret=made.webhook_secret)
    flash(_("Đã bỏ webhook của “%(name)s”: không gửi thay đổi tới hệ thống đó nữa.", name=made.view.name), "success")
    return redirect(url_for("admin.api_client_page", client_id=client_id), code=303)


@bp.post("/api/<int:client_id>/gui-thu")
@admin_required
def test_api_webhook(client_id: int):  # noqa: ANN201
    """Post a test to the client's webhook and say how it went, on the client's page."""
    db().commit()  # (the request's transaction ends: none is held while the other system answers)
    failure = get_engine().test_webhook(current_user, client_id)
    if failure is None:
        flash(_("Hệ thống đã nhận bản gửi thử. Các thay đổi đang chờ (nếu có) được gửi ở lần chạy tới của tiến trình "
                "nền."), "success")
    else:
        flash(_("Gửi thử không được: %(reason)s. Hãy kiểm tra địa chỉ, và hệ thống có trả lời mã 2xx trong %(seconds)s "
                "giây không.", reason=failure, seconds=TEST_TIMEOUT), "error")
    return redirect(url_for("admin.api_client_page", client_id=client_id), code=303)


@bp.post("/api/<int:client_id>/thu-hoi")
@admin_required
def revoke_api_client(client_id: int):  # noqa: ANN201
    client = get_engine().revoke_api_client(db(), current_user, client_id)
    db().commit()
    flash(_("Đã thu hồi mã truy cập của “%(name)s”: hệ thống đó không đọc được hồ sơ nữa.", name=client.name), "success")
    return redirect(url_for("admin.index") + "#api", code=303)
