"""Error pages: every failure gets a page in the reader's language and the right status code, never a trace."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, Forbidden, NotFound

log = logging.getLogger(__name__)


def page(status: int, title: str, message: str):  # noqa: ANN201
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def engine_not_found(exc: NotFound):  # noqa: ANN202
        from .ui import t

        return page(404, _("Không tìm thấy trang"), t(exc.message))

    @app.errorhandler(Forbidden)
    def engine_forbidden(exc: Forbidden):  # noqa: ANN202
        from .ui import t

        return page(403, _("Bạn không có quyền truy cập trang này"), t(exc.message))

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError):  # noqa: ANN202
        return page(400, _("Biểu mẫu đã hết hạn"),
                    _("Phiên làm việc của biểu mẫu không còn hợp lệ. Quay lại, tải lại trang và gửi lại."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # noqa: ANN202
        if request.path.startswith("/api/"):  # (an address the API does not have: JSON, not a page)
            from .api import http_error as api_error

            return api_error(exc)
        titles = {
            400: _("Yêu cầu không hợp lệ"), 403: _("Bạn không có quyền truy cập trang này"),
            404: _("Không tìm thấy trang"), 405: _("Yêu cầu không hợp lệ"),
            413: _("Dữ liệu gửi lên quá lớn"), 429: _("Quá nhiều yêu cầu"),
        }
        messages = {
            404: _("Nếu bạn gõ địa chỉ trang, hãy kiểm tra lại. Nếu bạn dán địa chỉ, hãy kiểm tra đã sao chép đủ."),
            403: _("Trang này dành cho người dùng khác hoặc vai trò khác."),
            413: _("Dữ liệu gửi lên vượt quá giới hạn cho phép."),
        }
        code = exc.code or 500
        return page(code, titles.get(code, _("Yêu cầu không hợp lệ")), messages.get(code, ""))

    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError):  # noqa: ANN202
        from .ui import t

        return page(409, _("Không thực hiện được"), t(exc.message))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # noqa: ANN202
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("unhandled error")
        if request.path.startswith("/api/"):
            from .api import error

            return error(500, {"vi": "Lỗi hệ thống.", "en": "Internal error."})
        return page(500, _("Hệ thống đang gặp sự cố"), _("Xin lỗi, đã có lỗi xảy ra. Dữ liệu bạn đã lưu không bị mất; vui lòng thử lại sau."))
