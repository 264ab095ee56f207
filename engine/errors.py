"""Errors the engine raises to its callers; each carries a message fit for the person who caused it."""
from __future__ import annotations

from .i18n import Text, text


class EngineError(Exception):
    """Base class; ``message`` is bilingual."""

    message: Text = text("Đã có lỗi xảy ra.", "Something went wrong.")

    def __init__(self, message: Text | None = None):
        if message is not None:
            self.message = message
        super().__init__(self.message.get("en", ""))


class NotFound(EngineError):
    message = text("Không tìm thấy.", "Not found.")


class Forbidden(EngineError):
    message = text("Bạn không có quyền thực hiện việc này.", "You are not allowed to do this.")


class AlreadyClaimed(EngineError):
    message = text("Công việc này đã được cán bộ khác nhận xử lý.", "Another official has already claimed this task.")


class TaskNotOpen(EngineError):
    message = text("Công việc này đã được xử lý xong.", "This task has already been completed.")
    CANCELLED = text("Công việc này đã bị huỷ: người nộp đã rút hồ sơ hoặc quy trình đã dừng. Không cần xử lý nữa.",
                     "This task was cancelled: the applicant withdrew the dossier or the process stopped. "
                     "Nothing more needs doing.")

    @classmethod
    def of(cls, state: str) -> TaskNotOpen:
        """The refusal for a task in ``state``: completed, or cancelled (a withdrawn dossier)."""
        return cls(cls.CANCELLED if state == "cancelled" else None)


class StaleDossier(EngineError):
    message = text(
        "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại trang và thử lại.",
        "The dossier was changed by someone else meanwhile. Reload the page and try again.",
    )


class NotRunnable(EngineError):
    """The dossier's process cannot go on from what is stored: a dossier bulk-seeded without a process state
    (engine.seed), or a stored state that cannot be restored. Nothing is changed."""

    message = text("Hồ sơ này chưa xử lý được.", "This dossier cannot be processed.")


class TooManyAttempts(EngineError):
    """Too many failed logins lately (:mod:`engine.logins`); ``retry_after`` is the seconds to wait."""

    WAIT = ("Đã có quá nhiều lần đăng nhập sai. Để bảo vệ tài khoản, vui lòng thử lại sau {minutes} phút.",
            "There have been too many failed logins. To protect the account, try again in {minutes} {unit}.")

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        vi, en = self.WAIT
        super().__init__(text(vi.format(minutes=minutes),
                              en.format(minutes=minutes, unit="minute" if minutes == 1 else "minutes")))


class TooManyRegistrations(TooManyAttempts):
    """Too many accounts created from one address lately (:func:`engine.logins.check_registration`)."""

    WAIT = ("Đã có nhiều tài khoản được tạo từ địa chỉ mạng này. Vui lòng thử lại sau {minutes} phút.",
            "Many accounts have been created from this network address. Try again in {minutes} {unit}.")


class ResetLinkInvalid(EngineError):
    """A password-reset link that is unknown, used already or expired."""

    message = text("Đường dẫn đặt lại mật khẩu không đúng, đã được dùng hoặc đã hết hạn. Hãy yêu cầu một đường dẫn mới.",
                   "This password reset link is wrong, has been used or has expired. Ask for a new one.")


class FormInvalid(EngineError):
    """Submitted data does not satisfy the task's form; ``errors`` maps field name → bilingual message."""

    message = text("Dữ liệu chưa hợp lệ.", "The data is not valid.")

    def __init__(self, errors: dict[str, Text]):
        self.errors = errors
        super().__init__()


class ScriptFailed(EngineError):
    """A BPMN script or condition was refused or failed; names the element."""

    def __init__(self, element: str, reason: str):
        self.element = element
        self.reason = reason
        super().__init__(text(f"Lỗi kịch bản tại phần tử '{element}': {reason}", f"Script error in element '{element}': {reason}"))


class ProcedureError(EngineError):
    """A procedure's files are broken or it is not deployed."""
