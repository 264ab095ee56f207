"""Accounts: a citizen registers once; everyone logs in with email and password (argon2 hashes)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.errors import FormInvalid, TooManyAttempts

from . import db, get_engine
from .ui import t

bp = Blueprint("auth", __name__)
PROFILE = ("phone", "id_number", "address")


def _home_for(user) -> str:  # noqa: ANN001
    if user.is_official:
        return url_for("officer.queue")
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
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("full_name", "email", *PROFILE)}
        password = request.form.get("password") or ""
        try:
            user = get_engine().register_citizen(db(), values["email"], password, values["full_name"],
                                                 **{k: values[k] for k in PROFILE})
        except FormInvalid as exc:
            db().rollback()
            errors = {k: t(v) for k, v in exc.errors.items()}
        else:
            db().commit()
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("public.index"))
    return render_template("auth/register.html", values=values, errors=errors), (400 if errors else 200)


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
                else:
                    _start_session(user)
                    return redirect(_safe_next(request.args.get("next")) or _home_for(user))
    return render_template("auth/login.html", email=email, errors=errors,
                           needs_login=bool(request.args.get("next"))), (status if errors else 200), headers


@bp.post("/dang-xuat")
@login_required
def logout():  # noqa: ANN201
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("public.index"))
