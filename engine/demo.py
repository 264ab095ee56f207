"""Demo data for `make run`: an agency, a citizen, one official per role of the shipped procedures, an admin."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import accounts
from .models import Agency, User

DEMO_PASSWORD = "matkhau-demo-2026"  # demo accounts only; printed by `make run` and in the README


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    kind: str
    roles: tuple[str, ...] = ()
    level: str = "commune"  # the agency an official works for


# (the accounts fees are paid into are made up: a transfer to them goes nowhere)
AGENCY = {"code": "000.31.27.H14", "name_vi": "UBND xã Mẫu Sơn", "name_en": "Mau Son Commune People's Committee",
          "level": "commune", "bank_bin": "970415", "bank_account": "113000270001",
          "bank_account_name": "UBND XA MAU SON"}
PROVINCE = {"code": "000.00.27.H14", "name_vi": "UBND tỉnh Mẫu", "name_en": "Mau Province People's Committee",
            "level": "province", "bank_bin": "970418", "bank_account": "21510000270000",
            "bank_account_name": "VAN PHONG UBND TINH MAU"}
ACCOUNTS = (
    DemoAccount("congdan@demo.motcua.vn", "Nguyễn Thị Lan", "citizen"),
    DemoAccount("motcua@demo.motcua.vn", "Trần Văn Tiếp", "official", ("reception_officer",)),
    DemoAccount("hotich@demo.motcua.vn", "Lê Thị Hộ", "official", ("civil_status_officer",)),
    DemoAccount("chutich@demo.motcua.vn", "Phạm Văn Chủ", "official", ("commune_chairman",)),
    DemoAccount("lanhdao@demo.motcua.vn", "Đinh Văn Đạo", "official", ("supervisor",)),
    DemoAccount("xaydung@demo.motcua.vn", "Hoàng Văn Dựng", "official", ("construction_officer",)),
    DemoAccount("motcua.tinh@demo.motcua.vn", "Vũ Thị Tiếp", "official", ("reception_officer",), "province"),
    DemoAccount("congthuong@demo.motcua.vn", "Đặng Văn Thương", "official", ("trade_officer",), "province"),
    DemoAccount("vanbang@demo.motcua.vn", "Bùi Thị Bằng", "official", ("register_officer",), "province"),
    DemoAccount("giamdoc@demo.motcua.vn", "Đỗ Văn Giám", "official", ("department_leader",), "province"),
    DemoAccount("quantri@demo.motcua.vn", "Quản trị viên", "admin"),
    DemoAccount("thietke@demo.motcua.vn", "Ngô Thị Thiết", "designer"),
)


@functools.lru_cache(maxsize=4)
def _hashed(password: str) -> str:
    """One argon2 hash of the demo password for every demo account (and every demo database a process makes: the
    tests make hundreds). The password is published in the README, so a salt of its own per account would protect
    nothing; each account's own password, once changed, gets its own salt."""
    return accounts.HASHER.hash(password)


def seed(session: Session, password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """Create the demo agencies and accounts that are missing; safe to run again."""
    agencies = {}
    for values in (AGENCY, PROVINCE):
        agency = session.scalar(select(Agency).where(Agency.code == values["code"]))
        if agency is None:
            agency = Agency(**values)
            session.add(agency)
            session.flush()
        elif agency.bank_account is None:  # (a demo database from before fees were paid by transfer)
            agency.bank_bin, agency.bank_account = values["bank_bin"], values["bank_account"]
            agency.bank_account_name = values["bank_account_name"]
        agencies[values["level"]] = agency
    created = []
    for acc in ACCOUNTS:
        if session.scalar(select(User).where(User.email == acc.email)) is not None:
            continue
        if acc.kind == "citizen":
            accounts.register_citizen(session, acc.email, password, acc.full_name, phone="0912345678",
                                      id_number="001190012345", address="Thôn Đông, xã Mẫu Sơn",
                                      hashed=_hashed(password))
        else:
            accounts.create_official(session, acc.email, password, acc.full_name,
                                     agencies[acc.level] if acc.kind == "official" else None, list(acc.roles),
                                     kind=acc.kind, hashed=_hashed(password))
        created.append(acc)
    session.flush()
    return created
