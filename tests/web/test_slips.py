"""The dossier page offers the slips the dossier has, as PDF, to its applicant and its agency's officials."""
from __future__ import annotations

import re

from tests.web.test_journey import RECEPTION, official_completes, register, start_birth_registration, submit_declaration


def test_the_receipt_and_the_control_sheet_open_from_the_dossier_pages(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    page = citizen.get("/ho-so")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    assert "Phiếu của cơ quan" not in citizen.get(dossier_url).html  # not accepted yet
    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    page = citizen.get(dossier_url)
    assert page.has("Phiếu của cơ quan",
                    f'href="{dossier_url}/phieu/receipt.pdf">Giấy tiếp nhận hồ sơ và hẹn trả kết quả')
    assert "phieu/control.pdf" not in page.html
    response = citizen.client.get(f"{dossier_url}/phieu/receipt.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f"inline; filename=giay-tiep-nhan-{code}.pdf"
    assert citizen.client.get(f"{dossier_url}/phieu/control.pdf").status_code == 404
    assert register(people, "khac@example.com").client.get(f"{dossier_url}/phieu/receipt.pdf").status_code == 404
    official = people()
    official.login(RECEPTION)
    page = official.get(f"/can-bo{dossier_url}")
    assert page.has(f'href="/can-bo{dossier_url}/phieu/control.pdf"', "Phiếu kiểm soát quá trình giải quyết hồ sơ")
    response = official.client.get(f"/can-bo{dossier_url}/phieu/control.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")


def test_signed_slips_say_who_signed_them(people, engine, tmp_path) -> None:  # noqa: ANN001
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from engine import signing

    engine.signing_key = signing.load(signing.demo_key(tmp_path), None)
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    page = citizen.get(dossier_url)
    assert page.has(f"Các phiếu có chữ ký số của {signing.DEMO_NAME}")
    response = citizen.client.get(f"{dossier_url}/phieu/receipt.pdf")
    assert response.status_code == 200
    (signature,) = PdfFileReader(io.BytesIO(response.data)).embedded_signatures
    assert signature.field_name == "ChuKySo"
