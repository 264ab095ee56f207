"""The standard slips of a dossier (Circular 01/2018/TT-VPCP) as PDF: each once its fact is recorded, with the
dossier's own facts in Vietnam's time, the control sheet for the agency's officials only, nobody else's."""
from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from pypdf import PdfReader

from engine import clock, slips
from engine.api import Engine
from engine.errors import NotFound
from tests.engine.test_birth_registration import CITIZEN, ROLE_EMAIL, Journey, declaration, user

RECEPTION = ROLE_EMAIL["reception_officer"]


@pytest.fixture(autouse=True)
def monday() -> Any:
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):  # 09:00 in Vietnam
        yield


def read(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title and len(reader.pages) >= 1
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (148, 210)  # A5
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def kinds(engine: Engine, dossier_id: int, email: str) -> list[str]:
    with engine.session() as s:
        return [k.code for k in engine.slips(s, dossier_id, user(s, email))]


def slip(engine: Engine, dossier_id: int, email: str, kind: str) -> str:
    with engine.session() as s:
        return read(engine.slip(s, dossier_id, user(s, email), kind))


def test_the_receipt_comes_with_acceptance_and_says_what_was_received_and_when_it_is_due(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    assert kinds(engine, j.dossier_id, CITIZEN) == []  # submitted, not accepted yet
    assert kinds(engine, j.dossier_id, RECEPTION) == ["control"]
    with engine.session() as s, pytest.raises(NotFound):
        engine.slip(s, j.dossier_id, user(s, CITIZEN), "receipt")
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 3, 30))):  # accepted at 10:30
        j.decide("reception_check", "accept")
    assert kinds(engine, j.dossier_id, CITIZEN) == ["receipt"]
    text = slip(engine, j.dossier_id, CITIZEN, "receipt")
    view = j.view()
    for fragment in ("UBND XÃ MẪU SƠN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Mẫu 01", f"Mã hồ sơ: {view.code}",
                     "Tiếp nhận hồ sơ của: Nguyễn Thị Lan", "Nội dung yêu cầu giải quyết: Đăng ký khai sinh",
                     "Giấy chứng sinh – bản điện tử: birth_notice.pdf", "requester_id.pdf",
                     "Thời gian nhận hồ sơ: 10 giờ 30 phút, ngày 23/11/2026",
                     "Thời gian trả kết quả giải quyết hồ sơ: 17 giờ 00 phút, ngày 23/11/2026",
                     "Đăng ký nhận kết quả tại: Qua dịch vụ bưu chính", "ngày 23 tháng 11 năm 2026",
                     "NGƯỜI TIẾP NHẬN HỒ SƠ"):
        assert fragment in text, fragment
    with engine.session() as s:
        assert text.endswith(user(s, RECEPTION).full_name)  # the official who accepted it signs


def test_a_supplement_request_and_a_refusal_carry_their_reasons(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "supplement")
    assert kinds(engine, j.dossier_id, CITIZEN) == ["supplement"]
    text = slip(engine, j.dossier_id, CITIZEN, "supplement")
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and "Thiếu bản chụp giấy chứng sinh rõ nét." in text
    j.decide("provide_supplement", "answer")
    j.decide("reception_check", "refuse")
    assert kinds(engine, j.dossier_id, CITIZEN) == ["supplement", "refusal"]
    text = slip(engine, j.dossier_id, CITIZEN, "refusal")
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and "Không thuộc thẩm quyền của UBND xã này." in text


def test_the_control_sheet_lists_every_hand_off_for_officials_only(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    assert kinds(engine, j.dossier_id, RECEPTION) == ["receipt", "control"]
    text = slip(engine, j.dossier_id, RECEPTION, "control")
    with engine.session() as s:
        officer = user(s, ROLE_EMAIL["civil_status_officer"]).full_name
    for fragment in ("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Nộp kèm 2 tệp giấy tờ",
                     "Nhận xử lý: Tiếp nhận, kiểm tra hồ sơ", officer, "09:00 23/11/2026"):
        assert fragment in text, fragment
    with engine.session() as s, pytest.raises(NotFound):
        engine.slip(s, j.dossier_id, user(s, CITIZEN), "control")


def test_nobody_else_gets_a_slip_and_missing_fonts_are_said(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "accept")
    with engine.session() as s:
        engine.register_citizen(s, "khac@example.vn", "mat-khau-rat-dai", "Người Khác")
        s.commit()
        for kind in ("receipt", "nonsense"):
            with pytest.raises(NotFound):
                engine.slip(s, j.dossier_id, user(s, "khac@example.vn"), kind)
        with pytest.raises(NotFound):
            engine.slip(s, j.dossier_id, user(s, CITIZEN), "nonsense")
        monkeypatch.setattr(slips, "FONT_DIRS", ("no/such/folder",))
        with pytest.raises(slips.FontsMissing):
            engine.slip(s, j.dossier_id, user(s, CITIZEN), "receipt")


def test_an_extension_brings_the_apology_with_its_reason_and_new_date() -> None:
    """Mẫu 04, from a building permit whose appraisal was extended (the procedure's own scenario)."""
    from sqlalchemy import select

    from engine.config import DEFAULT_ROOT
    from engine.models import Dossier, User
    from engine.scenarios import Runner, scenario_files

    runner = Runner(DEFAULT_ROOT)
    try:
        path = next(p for p in scenario_files(DEFAULT_ROOT, "housing_construction_permit")
                    if p.stem == "extension_and_returned_by_chairman")
        assert runner.run_file("housing_construction_permit", path).passed
        engine = runner.engine
        with engine.session() as s:
            dossier = s.scalar(select(Dossier))
            applicant = s.get(User, dossier.applicant_id)
            assert "apology" in [k.code for k in engine.slips(s, dossier.id, applicant)]
            text = read(engine.slip(s, dossier.id, applicant, "apology"))
            extension = next(e for e in engine.timeline(s, dossier.id, applicant) if e.action == "deadline.extended")
        assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and "Mẫu 04" in text
        assert " ".join(extension.detail["reason"].split()) in text
        assert f"gia hạn {extension.detail['days']} ngày làm việc" in text
        due = slips.when(dt.datetime.fromisoformat(extension.detail["appointment"]))
        assert due in text
    finally:
        runner.close()
