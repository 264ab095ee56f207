"""Fees in the portal: the dossier page shows what is due with a VietQR code and the agency's account, the citizen
says they transferred, the official returning the result sees it and records how the fees came."""
from __future__ import annotations

import re

from tests.web.test_journey import RECEPTION, register, signed, start_birth_registration, submit_declaration


def test_the_citizen_pays_by_transfer_and_the_official_records_it(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))  # 2 copies: 16.000 đồng, by post
    dossier_url = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    assert "Phí, lệ phí" not in citizen.get(dossier_url).html  # not due yet
    signed(people, code)
    page = citizen.get(dossier_url)
    content = "HS" + code.replace(".", "").replace("-", "")
    assert page.has("Phí, lệ phí", "Số tiền phải nộp trước khi nhận kết quả", "<strong>16.000 đồng</strong>",
                    '<svg role="img"', "<title>Mã VietQR để chuyển khoản 16.000 đồng</title>", "VietinBank",
                    "113000270001", "UBND XA MAU SON", content, "Tôi đã chuyển khoản")
    page = citizen.post(f"{dossier_url}/da-chuyen-khoan")
    assert page.url == dossier_url and page.has("Đã ghi nhận bạn đã chuyển khoản", "Đã báo chuyển khoản lúc")
    assert "Tôi đã chuyển khoản</button>" not in page.html
    english = citizen.get(f"/ngon-ngu/en?next={dossier_url}")
    assert english.has("VND 16,000", "Transfer reference")
    citizen.get(f"/ngon-ngu/vi?next={dossier_url}")

    official = people()
    page = official.login(RECEPTION)
    task_id = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"', page.html).group(1)
    page = official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    assert page.has("Lệ phí phải thu", "16.000 đồng", content, "Người nộp báo đã chuyển khoản lúc",
                    "Lệ phí đã thu bằng", 'value="transfer"')
    page = official.post(f"/can-bo/cong-viec/{task_id}", {"result_returned": "true"}, status=400)
    assert page.has('href="#payment_method"', "Chọn cách người nộp đã nộp lệ phí 16.000 đồng")
    page = official.post(f"/can-bo/cong-viec/{task_id}", {"result_returned": "true", "payment_method": "transfer",
                                                         "payment_reference": "FT26327123456"})
    assert page.has("Đã trả kết quả")
    page = citizen.get(dossier_url)
    assert page.has("Đã nộp 16.000 đồng (chuyển khoản)", "FT26327123456", "Đã thu lệ phí 16.000 đồng (chuyển khoản)")
    assert "<svg role=\"img\"" not in page.html
    # and the agency's statistics count them
    assert official.get("/can-bo/thong-ke").has("Phí, lệ phí đã thu", "16.000 đồng")
