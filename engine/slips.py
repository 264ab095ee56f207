"""The one-stop shop's standard slips (Circular 01/2018/TT-VPCP) of a dossier, as PDF on A5 paper, drawn from what
the dossier's audit trail recorded:

* Mẫu 01, Giấy tiếp nhận hồ sơ và hẹn trả kết quả: once the dossier was accepted at reception;
* Mẫu 02, Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: when the agency asked for a supplement (the latest request);
* Mẫu 03, Phiếu từ chối tiếp nhận giải quyết hồ sơ: when the dossier was refused, with the reason;
* Mẫu 04, Phiếu xin lỗi và hẹn lại ngày trả kết quả: when the agency extended the due date, with the reason and
  the new date (the latest extension);
* Mẫu 05, Phiếu kiểm soát quá trình giải quyết hồ sơ: every hand-off so far, for the agency's officials only.

A slip is made again each time it is asked for, from the stored facts: the same dossier gives the same text.
Texts are in Vietnamese, as the law writes them. The fonts are DejaVu Serif (installed by ``make install`` from
npm, or the system's), which has the Vietnamese letters.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import calendar
from .errors import EngineError, NotFound
from .i18n import Text, text
from .views import Component, DossierView, TimelineEntry

#: where the fonts are looked for, in order (the first folder that has them all)
FONT_DIRS = ("node_modules/dejavu-fonts-ttf/ttf", "/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSerif.ttf", "B": "DejaVuSerif-Bold.ttf", "I": "DejaVuSerif-Italic.ttf",
              "BI": "DejaVuSerif-BoldItalic.ttf"}
#: where a block of text leaves the cursor: at the left margin, on the next line
NEXT: dict[str, Any] = {"new_x": "LMARGIN", "new_y": "NEXT"}
#: the events of the audit trail that the control sheet lists
HAND_OFFS = ("status.changed", "task.claimed", "task.completed", "documents.sent", "deadline.paused",
             "deadline.resumed", "deadline.extended", "dossier.withdrawn")
NO_SLIP = text("Hồ sơ này chưa có phiếu đó.", "This application has no such slip yet.")
DELIVERY = {"online": "Trực tuyến (bản điện tử trên Cổng dịch vụ công)", "post": "Qua dịch vụ bưu chính",
            "desk": "Tại Bộ phận tiếp nhận và trả kết quả"}


class FontsMissing(EngineError):
    message = text("Không tạo được phiếu: thiếu phông chữ (chạy make install).",
                   "The slip cannot be made: its fonts are missing (run make install).")


@dataclass(frozen=True)
class SlipKind:
    code: str  # receipt | supplement | refusal | control
    form: str  # the form's number in Circular 01/2018/TT-VPCP
    title: Text
    file_stem: str  # what a saved copy is called, before the dossier's code


RECEIPT = SlipKind("receipt", "Mẫu 01", text("Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
                                             "Receipt and appointment for the result"), "giay-tiep-nhan")
SUPPLEMENT = SlipKind("supplement", "Mẫu 02", text("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
                                                   "Request to complete the application"), "phieu-yeu-cau-bo-sung")
REFUSAL = SlipKind("refusal", "Mẫu 03", text("Phiếu từ chối tiếp nhận giải quyết hồ sơ",
                                             "Refusal of the application"), "phieu-tu-choi")
APOLOGY = SlipKind("apology", "Mẫu 04", text("Phiếu xin lỗi và hẹn lại ngày trả kết quả",
                                             "Apology and new date for the result"), "phieu-xin-loi")
CONTROL = SlipKind("control", "Mẫu 05", text("Phiếu kiểm soát quá trình giải quyết hồ sơ",
                                             "Processing control sheet"), "phieu-kiem-soat")
KINDS = {k.code: k for k in (RECEIPT, SUPPLEMENT, REFUSAL, APOLOGY, CONTROL)}


@dataclass(frozen=True)
class Facts:
    """What a slip shows: the dossier, its audit trail, and what its procedure and applicant say."""

    dossier: DossierView
    timeline: list[TimelineEntry]
    components: tuple[Component, ...]
    files: dict[str, list[str]]  # component code → names of the files sent
    time_limit: Text
    applicant: dict[str, str]  # address, phone, email


def _status_events(facts: Facts, to: str) -> list[TimelineEntry]:
    return [e for e in facts.timeline if e.action == "status.changed" and e.detail.get("to") == to]


def available(timeline: list[TimelineEntry], for_official: bool) -> list[SlipKind]:
    """The slips a dossier with this audit trail has now, in the order they are issued (the control sheet, once
    it was submitted, for its agency's officials)."""
    reached = {e.detail.get("to") for e in timeline if e.action == "status.changed"}
    found = [slip for slip, status in ((RECEIPT, "new"), (SUPPLEMENT, "waiting"), (REFUSAL, "denied"))
             if status in reached]
    if any(e.action == "deadline.extended" for e in timeline):
        found.append(APOLOGY)
    if for_official and reached:
        found.append(CONTROL)
    return found


def render(kind: str, facts: Facts, for_official: bool, root: Path) -> bytes:
    """The slip as PDF. Raises NotFound when the dossier has no such slip (yet), or not for this reader."""
    slip = KINDS.get(kind)
    if slip is None or slip not in available(facts.timeline, for_official):
        raise NotFound(NO_SLIP)
    pdf = _Paper(fonts(root), slip, facts)
    BUILDERS[kind](pdf, facts)
    return bytes(pdf.output())


def fonts(root: Path) -> Path:
    for folder in FONT_DIRS:
        path = root / folder
        if all((path / name).is_file() for name in FONT_FILES.values()):
            return path
    raise FontsMissing()


# -- the paper --------------------------------------------------------------------------------------------------

def when(moment: dt.datetime | None, with_time: bool = True) -> str:
    """A stored UTC time as the forms write it, in Vietnam's time: "09 giờ 30 phút, ngày 23/11/2026"."""
    if moment is None:
        return "…"
    local = calendar.to_local(moment)
    day = local.strftime("%d/%m/%Y")
    return f"{local:%H} giờ {local:%M} phút, ngày {day}" if with_time else day


class _Paper:
    """An A5 page with the header every slip has: the agency and the national motto, the number and the date."""

    LEFT = 10  # mm
    WIDTH = 148 - 2 * LEFT  # A5 less the margins

    def __init__(self, font_dir: Path, slip: SlipKind, facts: Facts) -> None:
        from fpdf import FPDF

        self.pdf = pdf = FPDF(format=(148, 210), unit="mm")  # A5
        for style, name in FONT_FILES.items():
            pdf.add_font("serif", style, str(font_dir / name))
        pdf.set_margins(self.LEFT, 10, self.LEFT)
        pdf.set_auto_page_break(True, 12)
        d = facts.dossier
        pdf.set_title(f"{slip.title['vi']} – {d.code or ''}")
        pdf.set_author(d.agency_name["vi"])
        pdf.set_creator("motcua")
        pdf.set_lang("vi")
        pdf.add_page()
        half = self.WIDTH * 0.47  # (the motto, on the right, is the longer line)
        top = pdf.get_y()
        pdf.set_font("serif", "", 7.5)
        pdf.multi_cell(half, 3.6, d.agency_name["vi"].upper(), align="C", **NEXT)
        pdf.set_font("serif", "B", 7)
        pdf.multi_cell(half, 3.6, "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", align="C", **NEXT)
        pdf.set_font("serif", "B", 7.5)
        left_bottom = pdf.get_y()
        pdf.set_xy(self.LEFT + half, top)
        pdf.multi_cell(self.WIDTH - half, 3.6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", **NEXT)
        pdf.set_x(self.LEFT + half)
        pdf.set_font("serif", "BU", 7.5)
        pdf.multi_cell(self.WIDTH - half, 3.6, "Độc lập - Tự do - Hạnh phúc", align="C", **NEXT)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 2)
        pdf.set_font("serif", "", 7.5)
        issued = _issued_at(slip, facts)
        row = pdf.get_y()
        pdf.multi_cell(half, 3.6, f"Số: {d.code or '…'}", align="C", **NEXT)
        pdf.set_xy(self.LEFT + half, row)
        pdf.set_font("serif", "I", 7.5)
        local = calendar.to_local(issued) if issued else None
        dated = (f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}" if local
                 else "ngày … tháng … năm …")
        pdf.multi_cell(self.WIDTH - half, 3.6, dated, align="C", **NEXT)
        pdf.ln(4)
        pdf.set_font("serif", "B", 11)
        pdf.multi_cell(self.WIDTH, 5.5, slip.title["vi"].upper(), align="C", **NEXT)
        pdf.set_font("serif", "", 8)
        pdf.multi_cell(self.WIDTH, 4, f"({slip.form} – Thông tư 01/2018/TT-VPCP)", align="C", **NEXT)
        pdf.ln(2)

    def line(self, label: str, value: str = "", bold_value: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font("serif", "", 9)
        if not value:
            pdf.multi_cell(self.WIDTH, 4.6, label, **NEXT)
            return
        pdf.write(4.6, f"{label}: ")
        pdf.set_font("serif", "B" if bold_value else "", 9)
        pdf.write(4.6, value)
        pdf.ln(4.6)

    def para(self, body: str, style: str = "", indent: float = 0) -> None:
        pdf = self.pdf
        pdf.set_font("serif", style, 9)
        pdf.set_x(self.LEFT + indent)
        pdf.multi_cell(self.WIDTH - indent, 4.6, body, **NEXT)

    def signatures(self, left: tuple[str, str] | None, right: tuple[str, str]) -> None:
        pdf = self.pdf
        pdf.ln(4)
        half = self.WIDTH / 2
        top = pdf.get_y()
        for i, signer in enumerate((left, right)):
            if signer is None:
                continue
            pdf.set_xy(self.LEFT + i * half, top)
            pdf.set_font("serif", "B", 8.5)
            pdf.multi_cell(half, 4.2, signer[0].upper(), align="C", **NEXT)
            pdf.set_x(self.LEFT + i * half)
            pdf.set_font("serif", "I", 7.5)
            pdf.multi_cell(half, 4, "(Ký và ghi rõ họ tên)", align="C", **NEXT)
            pdf.set_xy(self.LEFT + i * half, top + 22)
            pdf.set_font("serif", "B", 8.5)
            pdf.multi_cell(half, 4.2, signer[1], align="C", **NEXT)

    def output(self) -> bytearray:
        return self.pdf.output()


def _issued_at(slip: SlipKind, facts: Facts) -> dt.datetime | None:
    if slip is RECEIPT:
        return _status_events(facts, "new")[0].at
    if slip is SUPPLEMENT:
        return _status_events(facts, "waiting")[-1].at
    if slip is REFUSAL:
        return _status_events(facts, "denied")[-1].at
    if slip is APOLOGY:
        return _extensions(facts)[-1].at
    return facts.timeline[-1].at if facts.timeline else None


def _applicant(pdf: _Paper, facts: Facts, label: str) -> None:
    d = facts.dossier
    pdf.line(label, d.applicant_name, bold_value=True)
    pdf.line("Địa chỉ", facts.applicant.get("address") or "…")
    pdf.line("Số điện thoại", facts.applicant.get("phone") or "…")
    pdf.line("Email", facts.applicant.get("email") or "…")
    pdf.line("Nội dung yêu cầu giải quyết", d.procedure_name["vi"], bold_value=True)


def _receipt(pdf: _Paper, facts: Facts) -> None:
    d = facts.dossier
    accepted = _status_events(facts, "new")[0]
    pdf.line("Mã hồ sơ", d.code or "…", bold_value=True)
    pdf.para(f"{d.agency_name['vi']} – Bộ phận tiếp nhận và trả kết quả.")
    _applicant(pdf, facts, "Tiếp nhận hồ sơ của")
    pdf.line("1. Thành phần hồ sơ nộp gồm")
    listed = [c for c in facts.components if facts.files.get(c.code)]
    for number, c in enumerate(listed, 1):
        names = ", ".join(facts.files[c.code])
        pdf.para(f"{number}) {c.name['vi']} – bản điện tử: {names}", indent=4)
    if not listed:
        pdf.para("(hồ sơ nộp trực tuyến, không kèm tệp giấy tờ)", "I", indent=4)
    pdf.line("2. Số lượng hồ sơ", "01 bộ")
    pdf.line("3. Thời gian giải quyết hồ sơ theo quy định", facts.time_limit["vi"])
    pdf.line("4. Thời gian nhận hồ sơ", when(accepted.at))
    pdf.line("5. Thời gian trả kết quả giải quyết hồ sơ", when(d.appointment_at), bold_value=True)
    pdf.line("6. Đăng ký nhận kết quả tại", DELIVERY.get(d.delivery_method or "", "…"))
    pdf.para(f"Nộp trực tuyến lúc {when(d.submitted_at)}. Tra cứu tiến độ trên Cổng dịch vụ công bằng mã hồ sơ.",
             "I")
    pdf.signatures(("Người nộp hồ sơ", d.applicant_name), ("Người tiếp nhận hồ sơ", accepted.actor_name))


def _written_reason(status: str, lead: str, closing: str, signer: str) -> Callable[[_Paper, Facts], None]:
    """A slip that tells the applicant the reason an official wrote when the dossier took ``status``."""

    def build(pdf: _Paper, facts: Facts) -> None:
        d = facts.dossier
        event = _status_events(facts, status)[-1]
        pdf.line("Mã hồ sơ", d.code or "…", bold_value=True)
        _applicant(pdf, facts, "Gửi")
        pdf.para(f"Ngày {when(d.submitted_at, with_time=False)}, {d.agency_name['vi']} nhận được hồ sơ của Ông/Bà. "
                 + lead)
        pdf.para(event.detail.get("reason") or "…", "B", indent=4)
        pdf.para(closing)
        pdf.signatures(None, (signer, event.actor_name))

    return build


_supplement = _written_reason(
    "waiting", "Sau khi xem xét, hồ sơ cần được bổ sung, hoàn thiện như sau:",
    "Ông/Bà bổ sung, hoàn thiện hồ sơ trên Cổng dịch vụ công (mục Hồ sơ của tôi). Thời gian chờ bổ sung không tính "
    "vào thời hạn giải quyết. Lý do trên là toàn bộ yêu cầu bổ sung của cơ quan đối với hồ sơ này; mọi thắc mắc xin "
    "liên hệ Bộ phận tiếp nhận và trả kết quả.", "Người hướng dẫn")
_refusal = _written_reason(
    "denied", "Căn cứ quy định hiện hành, cơ quan từ chối tiếp nhận, giải quyết hồ sơ này với lý do:",
    "Xin thông báo để Ông/Bà được biết và thực hiện.", "Cán bộ")


def _extensions(facts: Facts) -> list[TimelineEntry]:
    return [e for e in facts.timeline if e.action == "deadline.extended"]


def _apology(pdf: _Paper, facts: Facts) -> None:
    """Mẫu 04: the dossier will be late; why, and the new date (the latest extension)."""
    d = facts.dossier
    extended = _extensions(facts)[-1]
    new_date = dt.datetime.fromisoformat(extended.detail["appointment"]) if extended.detail.get("appointment") else None
    pdf.line("Mã hồ sơ", d.code or "…", bold_value=True)
    _applicant(pdf, facts, "Gửi")
    pdf.para(f"Ngày {when(d.submitted_at, with_time=False)}, {d.agency_name['vi']} tiếp nhận hồ sơ của Ông/Bà. Hồ sơ "
             "chưa giải quyết được đúng hạn đã hẹn vì lý do:")
    pdf.para(extended.detail.get("reason") or "…", "B", indent=4)
    pdf.para(f"Cơ quan xin lỗi Ông/Bà vì sự chậm trễ này và hẹn lại thời gian trả kết quả "
             f"(gia hạn {extended.detail.get('days', '…')} ngày làm việc):")
    pdf.para(when(new_date), "B", indent=4)
    pdf.para("Mong Ông/Bà thông cảm.")
    pdf.signatures(None, ("Cán bộ", extended.actor_name))


def _control(pdf: _Paper, facts: Facts) -> None:
    d = facts.dossier
    pdf.line("Mã hồ sơ", d.code or "…", bold_value=True)
    pdf.line("Thủ tục", d.procedure_name["vi"])
    pdf.line("Người nộp", d.applicant_name)
    pdf.line("Ngày hẹn trả kết quả", when(d.appointment_at))
    pdf.line("Trạng thái", d.status_label["vi"])
    pdf.pdf.ln(1)
    rows = [e for e in facts.timeline if e.action in HAND_OFFS]
    with pdf.pdf.table(col_widths=(30, 60, 34), line_height=4, text_align="LEFT",
                       headings_style=_heading_style()) as table:
        pdf.pdf.set_font("serif", "", 7.5)
        head = table.row()
        for title in ("Thời gian", "Nội dung", "Người thực hiện"):
            head.cell(title)
        for e in rows:
            row = table.row()
            row.cell(when(e.at).replace(" giờ ", ":").replace(" phút, ngày ", " "))
            row.cell(e.label["vi"] + (f" – {e.detail['reason']}" if e.detail.get("reason") else ""))
            row.cell(e.actor_name or "Hệ thống")


def _heading_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD")


BUILDERS: dict[str, Callable[[_Paper, Facts], None]] = {
    "receipt": _receipt, "supplement": _supplement, "refusal": _refusal, "apology": _apology, "control": _control,
}
