"""Accounts: a citizen registers once; everyone logs in with email and password (argon2 hashes)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.errors import FormInvalid, ResetLinkInvalid, TooManyAttempts
from engine.mail import MailFailed
from engine.procedures import SUPERVISOR_ROLE
from engine.sealed import NoKey, Unreadable
from engine.two_step import WRONG_CODE

from . import db, get_engine
from .errors import page
from .ui import lang, t

bp = Blueprint("auth", __name__)
PROFILE = ("phone", "id_number", "address")


def _home_for(user) -> str:  # noqa: ANN001
    if user.is_official:  # (a head of office with no task role of their own: their page is the agency's tasks)
        return url_for("officer.assigning" if set(user.roles) == {SUPERVISOR_ROLE} else "officer.queue")
    if user.is_admin:
        return url_for("admin.index")
    if user.is_designer:
        return url_for("designer.index")
    return url_for("citizen.dossiers") if user.is_citizen else url_for("public.index")


def _safe_next(target: str | None) -> str | None:
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _start_session(user) -> None:  # noqa: ANN001
    lang = session.get("lang")
    session.clear()  # a fresh session on login: no fixation
    if lang:
        session["lang"] = lang
    login_user(user)


@bp.route("/dang-ky", methods=["GET", "POST"])
def register():  # noqa: ANN201
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    headers: dict[str, str] = {}
    status = 400
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("full_name", "email", *PROFILE)}
        password = request.form.get("password") or ""
        try:
            user = get_engine().register_citizen(db(), values["email"], password, values["full_name"],
                                                 request.remote_addr, **{k: values[k] for k in PROFILE},
                                                 language=lang())
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        except TooManyAttempts as exc:
            db().rollback()
            errors["email"] = t(exc.message)
            headers["Retry-After"] = str(exc.retry_after)
            status = 429
        else:
            db().commit()
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("public.index"))
    return render_template("auth/register.html", values=values, errors=errors), (status if errors else 200), headers


@bp.route("/dang-nhap", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_home_for(current_user))
    errors: dict[str, str] = {}
    headers: dict[str, str] = {}
    status = 400
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        password = request.form.get("password") or ""
        if not email:
            errors["email"] = _("Nhập địa chỉ email")
        if not password:
            errors["password"] = _("Nhập mật khẩu")
        if not errors:
            try:
                user = get_engine().authenticate(db(), email, password, request.remote_addr)
            except TooManyAttempts as exc:
                errors["email"] = t(exc.message)
                headers["Retry-After"] = str(exc.retry_after)
                status = 429
            else:
                db().commit()  # a rehashed password is kept, a failure counted
                if user is None:
                    errors["email"] = _("Email hoặc mật khẩu không đúng")
                elif user.two_step:  # the password is right: the code comes next, and only then the session
                    _start_pending(user, _safe_next(request.args.get("next")))
                    return redirect(url_for("auth.second_step"))
                else:
                    _start_session(user)
                    return redirect(_safe_next(request.args.get("next")) or _home_for(user))
    return render_template("auth/login.html", email=email, errors=errors,
                           needs_login=bool(request.args.get("next"))), (status if errors else 200), headers


#: how long the login's second step waits for the code after the password
PENDING_FOR = 300
PENDING = "two_step_pending"


def _start_pending(user, next_url: str | None) -> None:  # noqa: ANN001
    """The password was right: a fresh session that is not signed in, holding whose code is awaited until when."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[PENDING] = {"id": user.id, "stamp": user.password_stamp, "until": int(time.time()) + PENDING_FOR,
                        "next": next_url}


@bp.route("/dang-nhap/ma-xac-thuc", methods=["GET", "POST"])
def second_step():  # noqa: ANN201
    """The login's second step: the code of the person's authenticator app, or a recovery code."""
    pending = session.get(PENDING)
    if not pending or pending.get("until", 0) < time.time():
        session.pop(PENDING, None)
        flash(_("Đã quá thời gian nhập mã. Hãy đăng nhập lại."), "info")
        return redirect(url_for("auth.login"))
    errors: dict[str, str] = {}
    headers: dict[str, str] = {}
    status = 400
    if request.method == "POST":
        code = request.form.get("code") or ""
        if not code.strip():
            errors["code"] = _("Nhập mã xác thực")
        else:
            try:
                verified = get_engine().verify_two_step(db(), pending["id"], code, request.remote_addr)
            except TooManyAttempts as exc:
                errors["code"] = t(exc.message)
                headers["Retry-After"] = str(exc.retry_after)
                status = 429
            except Unreadable as exc:  # the server's key is wrong: nothing the person can do but tell
                db().rollback()
                errors["code"] = t(exc.message)
                status = 503
            else:
                db().commit()  # the step taken, a recovery code used up, or the failure counted
                if verified is None:
                    errors["code"] = t(WRONG_CODE)
                elif verified.user.password_stamp != pending["stamp"]:  # the password changed meanwhile
                    session.pop(PENDING, None)
                    return redirect(url_for("auth.login"))
                else:
                    _start_session(verified.user)
                    return redirect(pending.get("next") or _home_for(verified.user))
    return render_template("auth/second_step.html", errors=errors), (status if errors else 200), headers


@bp.post("/dang-xuat")
@login_required
def logout():  # noqa: ANN201
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("public.index"))


#: addresses a development or test server is reached at: the only ones a reset link may be built from when
#: MOTCUA_BASE_URL is not set (in production the Host header is the sender's to choose: a link built from it could
#: send the secret to someone else's site)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _reset_link(token: str) -> str:
    base = get_engine().settings.base_url
    if not base:
        if request.host.rsplit(":", 1)[0] not in _LOCAL_HOSTS:
            current_app.logger.error("MOTCUA_BASE_URL is not set: no link to the portal can be written in a mail")
            raise MailFailed("MOTCUA_BASE_URL is not set")
        base = request.host_url
    return base.rstrip("/") + url_for("auth.reset_password", token=token)


@bp.route("/quen-mat-khau", methods=["GET", "POST"])
def forgot_password():  # noqa: ANN201
    errors: dict[str, str] = {}
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        if not email:
            errors["email"] = _("Nhập địa chỉ email")
        else:
            try:
                get_engine().send_password_reset(db(), email, _reset_link, lang())
            except MailFailed:  # (logged where it failed)
                db().rollback()
                return page(503, _("Chưa gửi được thư"),
                            _("Hệ thống chưa gửi được thư lúc này. Vui lòng thử lại sau ít phút."))
            db().commit()
            # the same page whether or not the email has an account
            return render_template("auth/forgot_sent.html", email=email)
    return render_template("auth/forgot.html", email=email, errors=errors), (400 if errors else 200)


@bp.route("/dat-lai-mat-khau/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # noqa: ANN201
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            get_engine().reset_password(db(), token, request.form.get("password") or "", request.remote_addr)
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        except ResetLinkInvalid as exc:
            db().rollback()
            return _no_referrer(page(400, _("Đường dẫn không dùng được"), t(exc.message)))
        else:
            db().commit()
            flash(_("Đã đặt mật khẩu mới. Hãy đăng nhập bằng mật khẩu mới."), "success")
            return redirect(url_for("auth.login"))
    elif not get_engine().reset_link_works(db(), token):
        return _no_referrer(page(400, _("Đường dẫn không dùng được"), t(ResetLinkInvalid.message)))
    return _no_referrer(render_template("auth/reset.html", errors=errors, token=token)), (400 if errors else 200)


def _no_referrer(response):  # noqa: ANN001, ANN202
    """The page's address holds the link's secret: its requests (styles, scripts) must not send it along."""
    response = make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _password_checked(change: Callable[[], Any], field: str) -> tuple[Any, dict[str, str], dict[str, str], int]:
    """Run ``change``, an account change that checks the person's password (a wrong one counted as a failed login,
    engine.logins): (what it returned, {}, {}, 200), or (None, the form's errors, headers, status) when it was
    refused, the failure committed so that it counts."""
    try:
        return change(), {}, {}, 200
    except FormInvalid as exc:
        db().commit()
        return None, {k: t(v) for k, v in exc.errors.items()}, {}, 400
    except TooManyAttempts as exc:
        return None, {field: t(exc.message)}, {"Retry-After": str(exc.retry_after)}, 429


@bp.route("/doi-mat-khau", methods=["GET", "POST"])
@login_required
def change_password():  # noqa: ANN201
    errors: dict[str, str] = {}
    headers: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        user, errors, headers, status = _password_checked(lambda: get_engine().change_password(
            db(), current_user, request.form.get("current_password") or "", request.form.get("password") or "",
            request.remote_addr), "current_password")
        if not errors:
            db().commit()
            _start_session(user)  # this session goes on; those elsewhere end (engine.models.Person.get_id)
            flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản đã được đăng xuất."), "success")
            return redirect(_home_for(user))
    return render_template("auth/change_password.html", errors=errors), status, headers


SETUP = "two_step_setup"


@bp.get("/bao-mat")
@login_required
def security():  # noqa: ANN201
    """The account's security: the password, and two-step login (on or off, the recovery codes left)."""
    return _security_page({}, 200, {})


def _security_page(errors: dict[str, str], status: int, headers: dict[str, str]):  # noqa: ANN202
    engine = get_engine()
    left = engine.recovery_codes_left(db(), current_user) if current_user.two_step else None
    return render_template("auth/security.html", recovery_left=left, errors=errors,
                           sign_ins=engine.recent_sign_ins(db(), current_user)), status, headers


@bp.route("/bao-mat/hai-buoc", methods=["GET", "POST"])
@login_required
def two_step_on():  # noqa: ANN201
    """Turn two-step login on: the secret as a QR code and as text, then a first code and the password; the
    recovery codes are shown once, on the page that answers. The secret waits in the session meanwhile."""
    engine = get_engine()
    if current_user.two_step:
        return redirect(url_for("auth.security"))
    if not engine.settings.data_keys:  # (nothing to keep the secret with: engine.sealed)
        return page(503, _("Chưa bật được xác thực hai bước"), t(NoKey.message))
    setup = engine.two_step_setup(current_user, session.get(SETUP))
    session[SETUP] = setup.secret
    errors: dict[str, str] = {}
    headers: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        codes, errors, headers, status = _password_checked(lambda: engine.enable_two_step(
            db(), current_user, setup.secret, request.form.get("code") or "", request.form.get("password") or "",
            request.remote_addr), "password")
        if not errors:
            db().commit()
            _start_session(engine.user(db(), current_user.id))  # this session goes on; those elsewhere end
            return _recovery_codes_page(codes, turned_on=True)
    required = engine.settings.staff_two_step_required and current_user.kind != "citizen"
    return render_template("auth/two_step_on.html", setup=setup, errors=errors, required=required), status, headers


def _security_form(change: Callable[[str], Any], field: str) -> tuple[Any, Any]:
    """A form of the security page: ``change(password)`` with the password in its box ``field``. (What it made,
    None), the change kept (and the person's alert owed with it); or (None, the page again with the box's error)."""
    made, errors, headers, status = _password_checked(lambda: change(request.form.get(field) or ""), field)
    if errors:  # (the page has a password box per form: the error goes to this form's)
        return None, _security_page({field: next(iter(errors.values()))}, status, headers)
    db().commit()
    return made, None


@bp.post("/bao-mat/hai-buoc/ma-du-phong")
@login_required
def new_recovery_codes():  # noqa: ANN201
    """Ten new recovery codes, shown once (the old ones stop working), given the password."""
    codes, refused = _security_form(lambda password: get_engine().new_recovery_codes(
        db(), current_user, password, request.remote_addr), "codes_password")
    return refused or _recovery_codes_page(codes, turned_on=False)


def _recovery_codes_page(codes: list[str], turned_on: bool):  # noqa: ANN202
    """The recovery codes, shown this once: two-step login just turned on, or new codes made."""
    response = make_response(render_template("auth/recovery_codes.html", codes=codes, turned_on=turned_on))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/bao-mat/hai-buoc/tat")
@login_required
def two_step_off():  # noqa: ANN201
    _done, refused = _security_form(lambda password: get_engine().disable_two_step(
        db(), current_user, password, request.remote_addr), "password")
    if refused:
        return refused
    _start_session(get_engine().user(db(), current_user.id))
    flash(_("Đã tắt xác thực hai bước. Các phiên đăng nhập khác của tài khoản đã được đăng xuất."), "success")
    return redirect(url_for("auth.security"))
