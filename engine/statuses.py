"""Dossier statuses, with the national public-service portal's (DVCQG) numeric codes."""
from __future__ import annotations

from dataclasses import dataclass

from .i18n import Text, text


@dataclass(frozen=True)
class Status:
    slug: str
    number: int | None
    label: Text
    final: bool = False


STATUSES: dict[str, Status] = {s.slug: s for s in (
    Status("draft", None, text("Đang soạn", "Draft")),
    Status("receiving", 1, text("Mới đăng ký", "Submitted online")),
    Status("new", 2, text("Đã tiếp nhận", "Accepted")),
    Status("denied", 3, text("Từ chối tiếp nhận", "Refused at reception"), final=True),
    Status("processing", 4, text("Đang xử lý", "Processing")),
    Status("waiting", 5, text("Yêu cầu bổ sung", "Supplement requested")),
    Status("paying", 6, text("Chờ thanh toán", "Waiting for payment")),
    Status("cancelled", 7, text("Đã rút hồ sơ", "Withdrawn"), final=True),
    Status("unresolved", 8, text("Dừng xử lý", "Stopped"), final=True),
    Status("releasing", 9, text("Có kết quả", "Result ready")),
    Status("done", 10, text("Đã trả kết quả", "Result returned"), final=True),
)}
