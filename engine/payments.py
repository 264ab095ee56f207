"""Fees ("phí, lệ phí"), paid online by bank transfer with a VietQR code, or in cash at the desk.

A diagram says which official's task collects the fees and where their amount is: the property
``collectsFee="fee_total"`` names the dossier's variable that a script computed. While such a task is open and
the amount is above zero, the applicant's dossier page shows the amount, the agency's account and a VietQR code
(NAPAS's EMVCo QR for a transfer to an account, with the amount and the dossier's code as the transfer's
content) that any Vietnamese banking app pays, and the applicant may say they have transferred it. The official
who completes the task records how the fees came (transfer or cash, with the transaction's or receipt's number):
the task cannot be completed without it. An agency without an account configured takes fees in cash only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .dossiers import audit
from .errors import Forbidden
from .i18n import Text, text
from .models import Agency, Dossier, HumanTask, Payment, Person, utcnow

#: how fees may come, as the collecting task's form field ``payment_method`` says
METHODS: dict[str, Text] = {"transfer": text("Chuyển khoản", "Bank transfer"), "cash": text("Tiền mặt", "Cash")}
#: NAPAS codes (BIN) of banks, for their names on the page; another bank shows its code
BANKS = {"970415": "VietinBank", "970436": "Vietcombank", "970418": "BIDV", "970405": "Agribank",
         "970422": "MB", "970407": "Techcombank", "970416": "ACB", "970432": "VPBank", "970403": "Sacombank"}
NAPAS_GUID = "A000000727"
TRANSFER_TO_ACCOUNT = "QRIBFTTA"

OF_DOSSIER = select(Payment).where(Payment.dossier_id == bindparam("dossier_id"))
OPEN_TASKS = select(HumanTask.bpmn_id).where(HumanTask.dossier_id == bindparam("dossier_id"),
                                              HumanTask.state == "open")


@dataclass(frozen=True)
class FeeView:
    """A dossier's fees as its pages show them."""

    amount: int
    status: str  # due | declared (the applicant said they transferred) | paid
    content: str  # what a transfer should say: the dossier's code
    bank_name: str | None = None
    account: str | None = None
    account_name: str | None = None
    qr: str | None = None  # the VietQR payload; None when the agency takes no transfers
    declared_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    method: Text | None = None
    reference: str | None = None


def amount_of(data: dict[str, Any], variable: str | None) -> int:
    """The fees a dossier's data says are due (its ``variable``), 0 when none or not a whole number of đồng."""
    value = data.get(variable or "")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def state(session: Session, fee_tasks: dict[str, str], dossier: Dossier) -> FeeView | None:
    """The dossier's fees: paid, or due while a task that collects them is open; None when neither."""
    if not fee_tasks:  # (a procedure without fees: nothing to read)
        return None
    row = session.scalar(OF_DOSSIER, {"dossier_id": dossier.id})
    code = dossier.code or ""
    if row is not None and row.status == "paid":
        return FeeView(row.amount, "paid", code, paid_at=row.paid_at, method=METHODS.get(row.method or ""),
                       reference=row.reference)
    amount = due(session, fee_tasks, dossier)
    if not amount:
        return None
    agency = session.get(Agency, dossier.agency_id)
    payee: dict[str, Any] = {}
    if agency is not None and agency.bank_bin and agency.bank_account:
        payee = {"bank_name": BANKS.get(agency.bank_bin, agency.bank_bin), "account": agency.bank_account,
                 "account_name": agency.bank_account_name,
                 "qr": vietqr(agency.bank_bin, agency.bank_account, amount, transfer_content(code))}
    declared = row is not None and row.status == "declared"
    return FeeView(amount, "declared" if declared else "due", transfer_content(code),
                   declared_at=row.declared_at if declared and row else None, **payee)


def due(session: Session, fee_tasks: dict[str, str], dossier: Dossier) -> int:
    """The fees due now: those a collecting task that is open names (0 when none)."""
    if not fee_tasks:
        return 0
    open_ids = session.scalars(OPEN_TASKS, {"dossier_id": dossier.id}).all()
    return max((amount_of(dossier.data, fee_tasks[b]) for b in open_ids if b in fee_tasks), default=0)


def declare(session: Session, fee_tasks: dict[str, str], dossier: Dossier, applicant: Person) -> None:
    """The applicant says they have transferred the fees due (the official still checks the account)."""
    if not (applicant.is_citizen and dossier.applicant_id == applicant.id):
        raise Forbidden()
    amount = due(session, fee_tasks, dossier)
    if not amount:
        raise Forbidden(text("Hồ sơ này không có lệ phí phải nộp lúc này.",
                             "No fees are due for this application now."))
    row = session.scalar(OF_DOSSIER, {"dossier_id": dossier.id})
    if row is None:
        try:
            with session.begin_nested():  # (the button pressed twice at once: one row)
                session.add(Payment(dossier_id=dossier.id, amount=amount, status="declared", declared_at=utcnow()))
        except IntegrityError:
            return
    elif row.status == "declared":
        row.amount, row.declared_at = amount, utcnow()
    else:
        return
    audit(session, dossier, applicant, "fee.declared",
          text(f"Người nộp báo đã chuyển khoản {money(amount, 'vi')}",
               f"The applicant says they transferred {money(amount, 'en')}"), detail={"amount": amount})


def missing(data: dict[str, Any], amount: int) -> dict[str, Text]:
    """The form errors of a collecting step that does not say how fees that are due came."""
    if amount and data.get("payment_method") not in METHODS:
        return {"payment_method": text(f"Chọn cách người nộp đã nộp lệ phí {money(amount, 'vi')}",
                                       f"Choose how the applicant paid the fees of {money(amount, 'en')}")}
    return {}


def record(session: Session, dossier: Dossier, official: Person, amount: int, data: dict[str, Any]) -> None:
    """The fees received, as the collecting step's form says (``payment_method``, ``payment_reference``)."""
    method = str(data["payment_method"])
    reference = str(data.get("payment_reference") or "").strip()[:60] or None
    row = session.scalar(OF_DOSSIER, {"dossier_id": dossier.id})
    if row is None:
        row = Payment(dossier_id=dossier.id)
        session.add(row)
    row.amount, row.status, row.method, row.reference = amount, "paid", method, reference
    row.paid_at, row.confirmed_by_id = utcnow(), official.id
    how = METHODS[method]
    audit(session, dossier, official, "fee.paid",
          text(f"Đã thu lệ phí {money(amount, 'vi')} ({how['vi'].lower()})",
               f"Fees of {money(amount, 'en')} received ({how['en'].lower()})"),
          detail={"amount": amount, "method": method, **({"reference": reference} if reference else {})})


def money(amount: int, lang: str) -> str:
    """An amount of đồng as people write it: 16.000 đồng, VND 16,000."""
    return f"{amount:,}".replace(",", ".") + " đồng" if lang == "vi" else f"VND {amount:,}"


def transfer_content(code: str) -> str:
    """What a transfer says, for the agency to match it: "HS" and the dossier's code in letters and digits only
    (banks drop or change other characters; 22 characters, within the 25 a VietQR code carries)."""
    return "HS" + "".join(ch for ch in code if ch.isascii() and ch.isalnum())


# -- VietQR -----------------------------------------------------------------------------------------------------

def vietqr(bank_bin: str, account: str, amount: int, content: str) -> str:
    """The payload of a VietQR code (EMVCo merchant-presented QR as NAPAS specifies it) for a transfer of
    ``amount`` đồng to ``account`` at the bank ``bank_bin``, saying ``content``."""
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", TRANSFER_TO_ACCOUNT)
    body = (_tlv("00", "01") + _tlv("01", "12") + _tlv("38", merchant) + _tlv("53", "704") + _tlv("54", str(amount))
            + _tlv("58", "VN") + _tlv("62", _tlv("08", content[:25])) + "6304")
    return body + f"{crc16(body.encode()):04X}"


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"an EMVCo field holds 99 characters at most: {tag}")
    return f"{tag}{len(value):02d}{value}"


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, from 0xFFFF), which EMVCo codes end with."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
