"""Fees: due while the task that collects them is open, paid by a VietQR transfer (said so by the applicant) or in
cash, and recorded by the official who completes that task; not without saying how they came."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from engine import clock, payments
from engine.api import Engine
from engine.errors import Forbidden, FormInvalid, NotFound
from engine.models import Agency
from tests.engine.test_attachments import signed
from tests.engine.test_birth_registration import CITIZEN, ROLE_EMAIL, Journey, declaration, user

RECEPTION = ROLE_EMAIL["reception_officer"]


@pytest.fixture(autouse=True)
def monday() -> Any:
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):
        yield


def fields(payload: str) -> dict[str, str]:
    """An EMVCo payload's top-level fields (tag → value)."""
    out, i = {}, 0
    while i < len(payload):
        tag, size = payload[i:i + 2], int(payload[i + 2:i + 4])
        out[tag] = payload[i + 4:i + 4 + size]
        i += 4 + size
    return out


def test_a_vietqr_payload_is_what_napas_specifies() -> None:
    assert payments.crc16(b"123456789") == 0x29B1  # the check value of CRC-16/CCITT-FALSE
    payload = payments.vietqr("970415", "113000270001", 16000, "HS0003127H142611230001")
    top = fields(payload)
    assert (top["00"], top["01"], top["53"], top["54"], top["58"]) == ("01", "12", "704", "16000", "VN")
    merchant = fields(top["38"])
    assert (merchant["00"], merchant["02"]) == ("A000000727", "QRIBFTTA")
    assert fields(merchant["01"]) == {"00": "970415", "01": "113000270001"}
    assert fields(top["62"]) == {"08": "HS0003127H142611230001"}
    assert payload[-8:-4] == "6304" and int(top["63"], 16) == payments.crc16(payload[:-4].encode())


def test_fees_due_are_paid_by_transfer_and_recorded_when_the_result_is_returned(engine: Engine) -> None:
    j = Journey(engine)  # 2 copies of the extract: 16.000 đồng
    j.step("declaration", declaration(delivery_method="post"))
    j.decide("reception_check", "accept")
    with engine.session() as s:
        assert engine.fee(s, j.dossier_id, user(s, CITIZEN)) is None  # nothing collects them yet
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    code = j.view().code
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        fee = engine.fee(s, j.dossier_id, citizen)
        assert (fee.amount, fee.status, fee.bank_name, fee.account) == (16000, "due", "VietinBank", "113000270001")
        assert fee.content == "HS" + code.replace(".", "").replace("-", "")
        assert fields(fee.qr)["54"] == "16000" and fields(fields(fee.qr)["62"])["08"] == fee.content
        engine.declare_transfer(s, j.dossier_id, citizen)
        engine.declare_transfer(s, j.dossier_id, citizen)  # said twice: still one declaration
        s.commit()
        engine.register_citizen(s, "khac@example.vn", "mat-khau-rat-dai", "Người Khác")
        s.commit()
        with pytest.raises(NotFound):
            engine.declare_transfer(s, j.dossier_id, user(s, "khac@example.vn"))
    with engine.session() as s:
        reception = user(s, RECEPTION)
        assert engine.fee(s, j.dossier_id, reception).status == "declared"
        (task,) = engine.dossier(s, j.dossier_id, reception).open_tasks
        engine.claim(s, task.id, reception)
        s.commit()
        with pytest.raises(FormInvalid) as refused:
            engine.complete(s, task.id, reception, {"result_returned": "true"})
        assert refused.value.errors == {"payment_method": {
            "vi": "Chọn cách người nộp đã nộp lệ phí 16.000 đồng",
            "en": "Choose how the applicant paid the fees of VND 16,000"}}
        s.rollback()
        engine.complete(s, task.id, reception, {"result_returned": "true", "payment_method": "transfer",
                                                "payment_reference": " FT26327123456 "})
        s.commit()
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        paid = engine.fee(s, j.dossier_id, citizen)
        assert (paid.amount, paid.status, paid.method["vi"], paid.reference) == (16000, "paid", "Chuyển khoản",
                                                                                 "FT26327123456")
        labels = [e.label["vi"] for e in engine.timeline(s, j.dossier_id, citizen)]
        assert "Người nộp báo đã chuyển khoản 16.000 đồng" in labels
        assert "Đã thu lệ phí 16.000 đồng (chuyển khoản)" in labels
        with pytest.raises(Forbidden):  # nothing due any more
            engine.declare_transfer(s, j.dossier_id, citizen)


def test_without_fees_there_is_nothing_to_pay_or_say(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration(copies_requested="0", delivery_method="post"))
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    with engine.session() as s:
        assert engine.fee(s, j.dossier_id, user(s, CITIZEN)) is None
        with pytest.raises(Forbidden):
            engine.declare_transfer(s, j.dossier_id, user(s, CITIZEN))
    j.decide("return_result", "returned")  # (which says "cash": no fees, nothing recorded)
    with engine.session() as s:
        assert engine.fee(s, j.dossier_id, user(s, CITIZEN)) is None


def test_an_agency_without_an_account_takes_fees_in_cash(engine: Engine) -> None:
    j = signed(engine, "post")
    with engine.session() as s:
        s.execute(update(Agency).values(bank_bin=None, bank_account=None))
        s.commit()
        fee = engine.fee(s, j.dossier_id, user(s, CITIZEN))
        assert (fee.amount, fee.qr, fee.account) == (16000, None, None)
