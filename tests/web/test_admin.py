"""The administrator keeps agencies and officials' accounts from the portal; nobody else reaches those pages."""
from __future__ import annotations

import re

from tests.web.test_journey import RECEPTION, register

ADMIN = "quantri@demo.motcua.vn"


def test_the_administrator_adds_an_agency_and_an_official(people) -> None:  # noqa: ANN001
    admin = people()
    page = admin.login(ADMIN)
    assert page.url == "/quan-tri/" and page.has("Quản trị", "000.31.27.H14", "Trần Văn Tiếp", "Cán bộ Bộ phận một cửa")
    page = admin.get("/quan-tri/co-quan/moi")
    page = admin.post("/quan-tri/co-quan/moi", {"code": "mau dong", "name_vi": "", "name_en": "Mau Dong",
                                                "level": "commune", "bank_bin": "97043"}, status=400)
    assert page.has("Có lỗi cần sửa", 'href="#code"', 'href="#name_vi"', 'href="#bank_bin"', 'href="#bank_account"',
                    'value="Mau Dong"')
    page = admin.post("/quan-tri/co-quan/moi", {"code": "000.32.27.H14", "name_vi": "UBND xã Mẫu Đông",
                                                "name_en": "Mau Dong Commune", "level": "commune", "bank_bin": "970436",
                                                "bank_account": "0011000270002",
                                                "bank_account_name": "UBND XA MAU DONG"})
    assert page.url == "/quan-tri/" and page.has("Đã lưu cơ quan 000.32.27.H14.", "970436 · 0011000270002")
    agency_id = re.search(r'href="/quan-tri/co-quan/(\d+)">000.32.27.H14', page.html).group(1)
    page = admin.get("/quan-tri/can-bo/moi")
    assert page.has("Công chức tư pháp - hộ tịch", "Chủ tịch / Phó Chủ tịch UBND xã")
    page = admin.post("/quan-tri/can-bo/moi", {"email": "moi@maudong.gov.vn", "full_name": "Ngô Văn Mới",
                                               "agency_id": agency_id, "roles": ["reception_officer",
                                                                                 "civil_status_officer"]})
    assert page.url == "/quan-tri/" and page.has("Đã lưu tài khoản của Ngô Văn Mới.", "moi@maudong.gov.vn")
    # without a mail server the link could not go: the administrator is told what the official can do
    assert page.has("Chưa gửi được thư đặt mật khẩu tới moi@maudong.gov.vn")
    official_id = re.search(r'href="/quan-tri/can-bo/(\d+)">Ngô Văn Mới', page.html).group(1)
    page = admin.get(f"/quan-tri/can-bo/{official_id}")
    assert page.has('value="reception_officer" checked', 'name="active"')
    assert page.has('name="reminders" type="checkbox" value="1" checked')  # reminders by default
    page = admin.post(f"/quan-tri/can-bo/{official_id}", {"full_name": "Ngô Văn Mới", "agency_id": agency_id,
                                                          "roles": ["reception_officer"]})
    assert page.has("Đã khoá")  # the box unticked: the account is locked
    page = admin.get(f"/quan-tri/can-bo/{official_id}")
    assert 'name="reminders" type="checkbox" value="1" checked' not in page.html  # and the reminders turned off


def test_nobody_else_reaches_the_administration(people) -> None:  # noqa: ANN001
    citizen = register(people)
    assert citizen.client.get("/quan-tri/").status_code == 403
    official = people()
    official.login(RECEPTION)
    assert official.client.get("/quan-tri/can-bo/moi").status_code == 403
    assert people().client.get("/quan-tri/").status_code == 302  # to log in


def test_the_administrator_keeps_an_agencys_days_off(people) -> None:  # noqa: ANN001
    admin = people()
    page = admin.login(ADMIN)
    agency_id = re.search(r'href="/quan-tri/co-quan/(\d+)">000.31.27.H14', page.html).group(1)
    page = admin.get(f"/quan-tri/co-quan/{agency_id}")
    assert page.has(f'href="/quan-tri/co-quan/{agency_id}/lich"')
    page = admin.get(f"/quan-tri/co-quan/{agency_id}/lich")
    assert page.has("Cơ quan theo đúng lịch của cả nước.")
    page = admin.post(f"/quan-tri/co-quan/{agency_id}/lich", {"day-day": "31", "day-month": "2", "day-year": "2026",
                                                              "working": "0"}, status=400)
    assert page.has('href="#day-day"', "Nhập một ngày có thật", 'value="31"')
    page = admin.post(f"/quan-tri/co-quan/{agency_id}/lich", {"day-day": "5", "day-month": "12", "day-year": "2026",
                                                              "working": "1", "note": "Làm bù ngày 2/1"})
    assert page.has("Đã lưu ngày 05/12/2026.", "Ngày làm bù", "Làm bù ngày 2/1")
    page = admin.post(f"/quan-tri/co-quan/{agency_id}/lich/2026-12-05/bo")
    assert page.has("Đã bỏ ngày 05/12/2026", "Cơ quan theo đúng lịch của cả nước.")
    page = admin.get("/quan-tri/nhat-ky")  # the change is in the administrators' log, with who made it
    assert page.has("Nhật ký quản trị", "000.31.27.H14: 2026-12-05 là ngày làm việc bù", "Quản trị viên")
    assert people().client.get("/quan-tri/nhat-ky").status_code == 302


def test_the_administrator_adds_and_locks_a_process_designer(people) -> None:  # noqa: ANN001
    admin = people()
    page = admin.login(ADMIN)
    assert page.has("Người thiết kế quy trình", "Ngô Thị Thiết")  # the demo designer
    admin.get("/quan-tri/thiet-ke/moi")
    page = admin.post("/quan-tri/thiet-ke/moi", {"email": "khong-phai-email", "full_name": ""}, status=400)
    assert page.has("Có lỗi cần sửa", 'href="#email"', 'href="#full_name"', 'value="khong-phai-email"')
    page = admin.post("/quan-tri/thiet-ke/moi", {"email": "thietke@demo.motcua.vn", "full_name": "Trùng Email"},
                      status=400)
    assert page.has("Đã có tài khoản với email này")
    page = admin.post("/quan-tri/thiet-ke/moi", {"email": "Ve@Tinh.gov.vn", "full_name": "Lý Thị Vẽ"})
    assert page.url == "/quan-tri/" and page.has("Đã lưu tài khoản của Lý Thị Vẽ.", "ve@tinh.gov.vn")
    assert page.has("Chưa gửi được thư đặt mật khẩu tới ve@tinh.gov.vn")  # (no mail server in the tests)
    user_id = re.search(r'href="/quan-tri/thiet-ke/(\d+)">Lý Thị Vẽ', page.html).group(1)
    page = admin.get(f"/quan-tri/thiet-ke/{user_id}")
    assert page.has('name="active"', "checked")
    page = admin.post(f"/quan-tri/thiet-ke/{user_id}", {"full_name": "Lý Thị Vẽ"})  # the box unticked: locked
    assert re.search(r"Lý Thị Vẽ<span[^>]*>[^<]*</span></a> · ve@tinh.gov.vn · Đã khoá", page.html)
    assert "Lưu tài khoản người thiết kế quy trình ve@tinh.gov.vn" in admin.get("/quan-tri/nhat-ky").html
    # a designer is not an official: the official's page does not open it, nor the other way round
    admin.get(f"/quan-tri/can-bo/{user_id}", status=404)
    official_id = re.search(r'href="/quan-tri/can-bo/(\d+)">Trần Văn Tiếp', admin.get("/quan-tri/").html).group(1)
    admin.get(f"/quan-tri/thiet-ke/{official_id}", status=404)
    designer = people()
    designer.login("thietke@demo.motcua.vn")
    assert designer.client.get("/quan-tri/thiet-ke/moi").status_code == 403
