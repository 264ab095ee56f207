"""The Flask app: citizen portal, officers' back office. Thin views over :mod:`engine.api`.

Nothing here imports SpiffWorkflow; every rule about procedures, dossiers and tasks lives in the engine.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, redirect, request, session, url_for
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from engine.api import Engine
from engine.config import Settings
from engine.db import MAX_ID

from .templating import Environment

LANGUAGES = ("vi", "en")
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def _secret_key(instance: Path) -> str:
    """MOTCUA_SECRET_KEY; in development (MOTCUA_DEV=1) a random key kept under instance/."""
    key = os.environ.get("MOTCUA_SECRET_KEY")
    if key:
        return key
    if os.environ.get("MOTCUA_DEV") != "1":
        raise RuntimeError("Set MOTCUA_SECRET_KEY (or MOTCUA_DEV=1 for a development key kept under instance/).")
    path = instance / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def select_locale() -> str:
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(LANGUAGES, default="vi") if request else "vi"


class App(Flask):
    jinja_environment = Environment


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a whole number that could be a row's id (1 to engine.db.MAX_ID); a larger one,
    typed into an address by hand, is a page not found, never a number too large for the database."""

    def __init__(self, url_map: Any, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(settings: Settings | None = None, engine: Engine | None = None, **config: Any) -> Flask:
    app = App(__name__)
    app.url_map.converters["int"] = IdConverter
    app.jinja_loader = ChoiceLoader([
        PackageLoader("web"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    engine = engine or Engine(settings or Settings.from_env())
    app.config.update(
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # forms; a file upload's limit is the engine's (_upload_limit)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("MOTCUA_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a long form never expires mid-way
        # reverse proxies in front of the app (MOTCUA_PROXIES): the client's address, which failed logins are
        # counted by, is then read from the X-Forwarded-For header they add
        PROXIES=int(os.environ.get("MOTCUA_PROXIES") or 0),
    )
    app.config.update(config)
    if app.config["PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXIES"], x_proto=app.config["PROXIES"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(engine.settings.root / "instance")
    app.extensions["motcua"] = engine

    app.before_request(_upload_limit)  # before anything reads the request's body
    app.before_request(_refuse_control_characters)  # before CSRF's check, which reads the form too
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why on its own
    if engine.settings.staff_two_step_required:
        if not engine.settings.data_keys:  # (staff could not turn it on, and could open no other page)
            raise RuntimeError("MOTCUA_STAFF_TWO_STEP=required needs MOTCUA_DATA_KEY, the key two-step login's "
                               "secrets are sealed with (engine.sealed)")
        app.before_request(_staff_two_step)

    @login_manager.user_loader
    def load_user(user_id: str) -> Any:
        """The signed-in user, read afresh at every request; an account deactivated, or whose password changed, since
        its login is signed out (Flask-Login's ``login_required`` checks only that someone is signed in)."""
        number, _, stamp = user_id.partition(".")
        try:
            user = engine.user(db(), int(number))
        except ValueError:
            return None
        # a session from before the password changed (reset or changed elsewhere) ends here
        return user if user is not None and user.is_active and user.password_stamp == stamp else None

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        s = g.pop("db", None)
        if s is not None:
            s.close()

    from . import admin, api, auth, citizen, designer, errors, officer, public, ui

    ui.init_app(app)
    errors.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(citizen.bp)
    app.register_blueprint(officer.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(designer.bp)
    app.register_blueprint(api.bp)
    return app


#: endpoints that take a file, and what their request may hold besides it (the multipart framing, the token)
UPLOADS = ("citizen.upload", "officer.upload_result", "designer.import_model")
UPLOAD_OVERHEAD = 64 * 1024


def _upload_limit() -> None:
    if request.endpoint in UPLOADS:
        request.max_content_length = get_engine().settings.upload_max_bytes + UPLOAD_OVERHEAD


#: characters no field may hold (tab, line feed and carriage return are allowed): PostgreSQL refuses NUL in text,
#: and none of them is ever typed
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse_control_characters() -> Any:
    """A request whose address, query or form holds a control character gets a 400 page saying so."""
    values = [request.path, *(v for _, vs in request.args.lists() for v in vs)]
    if request.method not in READING:
        values.extend(v for _, vs in request.form.lists() for v in vs)
    if not _CONTROL.search("\n".join(values)):
        return None
    from flask_babel import gettext as _

    from .errors import page

    return page(400, _("Dữ liệu gửi lên có ký tự không hợp lệ"),
                _("Một ô bạn điền, hoặc địa chỉ trang, có ký tự điều khiển không in được (ví dụ ký tự NUL), thường do "
                  "dán từ một tệp khác. Quay lại, xoá ký tự đó rồi gửi lại."))


def get_engine() -> Engine:
    from flask import current_app

    return current_app.extensions["motcua"]


_LOADED = "motcua.loaded"
#: requests that only read: their session cannot write (engine.db.Database.read_session)
READING = frozenset({"GET", "HEAD"})
_READING = "motcua.reading"


@event.listens_for(Session, "loaded_as_persistent")
def _keep_loaded(session: Session, instance: Any) -> None:
    kept = session.info.get(_LOADED)  # only a request's session (see db()) keeps its rows
    if kept is not None:
        kept.append(instance)


#: what a staff account without two-step login may still open when it is required (MOTCUA_STAFF_TWO_STEP)
TWO_STEP_FREE = frozenset({"auth.two_step_on", "auth.security", "auth.logout", "auth.change_password",
                           "public.set_language", "public.healthz", "public.readyz", "static"})


def _staff_two_step() -> Any:
    """Staff must turn two-step login on first: any other page of theirs sends them to its set-up."""
    from flask_login import current_user

    if request.endpoint in TWO_STEP_FREE or request.blueprint == "api" or request.endpoint is None:
        return None
    if current_user.is_authenticated and current_user.kind != "citizen" and not current_user.two_step:
        return redirect(url_for("auth.two_step_on"))
    return None


def db() -> Any:
    """The request's database session (one per request, closed at its end; views commit).

    The session holds every row it loads until the request ends. SQLAlchemy's identity map only references
    rows weakly, and the engine's facade returns plain views, so without this a view that asks the facade
    several things about one task (its view, form, prefill, dossier) would read the same rows again each time;
    with it the later calls find them in the identity map, as they would within one facade call.

    A GET or HEAD only reads: its session is a read session, through which the database refuses any write
    (:meth:`engine.db.Database.read_session`). Outside a request (a script in an app context) it is an
    ordinary session.
    """
    reading = has_request_context() and request.method in READING
    session = g.get("db")
    if session is not None and session.info.get(_READING) and not reading:
        # an app context kept open over several requests (a script, a test) holds a GET's session: a request
        # that may write gets its own
        session.close()
        session = None
    if session is None:
        db_ = get_engine().db
        session = db_.read_session() if reading else db_.session()
        session.info[_LOADED] = []
        session.info[_READING] = reading
        g.db = session
    return session
