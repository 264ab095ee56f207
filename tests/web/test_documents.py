"""Documents in the portal: the check page asks for each one the procedure requires, takes PDF, JPEG and PNG files
under the limit, tells the citizen plainly what is wrong with any other, lets them take a file back before it is
sent, and serves each file only to its applicant and, once sent, to the agency's officials."""
from __future__ import annotations

import dataclasses
import re

from engine.api import Engine
from engine.scenarios import placeholder_pdf
from tests.web.test_journey import (PAGES, RECEPTION, REQUIRED, as_inputs, attach, declaration, register, signed,
                                    start_birth_registration, submit_declaration)


def filled(citizen, task_id: int) -> None:  # noqa: ANN001
    values = declaration()
    for page_id, names in PAGES.items():
        page = citizen.post(f"/cong-viec/{task_id}/trang/{page_id}", as_inputs({n: values[n] for n in names}))
    assert page.url == f"/cong-viec/{task_id}/kiem-tra"


def test_the_check_page_asks_for_each_required_document_before_sending(people) -> None:  # noqa: ANN001
    citizen = register(people)
    assert citizen.get("/thu-tuc/birth_registration").has("bạn tải lên bản chụp hoặc bản quét của từng giấy tờ")
    task_id = start_birth_registration(citizen)
    filled(citizen, task_id)
    page = citizen.get(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("Giấy tờ kèm theo", "Giấy chứng sinh", "Văn bản ủy quyền (nếu có)", "nhỏ hơn 10 MB",
                    'enctype="multipart/form-data"', 'for="doc-birth_notice"', 'id="doc-birth_notice"',
                    'accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"')
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra", status=400)
    assert page.has("Có lỗi cần sửa", 'href="#doc-birth_notice"', "Đính kèm Giấy chứng sinh",
                    'href="#doc-requester_id"', 'aria-describedby="doc-birth_notice-error"')
    assert citizen.get("/ho-so").has("Đang soạn")  # nothing sent
    attach(citizen, task_id, *REQUIRED)
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("Đã nộp hồ sơ")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    page = citizen.get(dossier_url)
    assert page.has("Giấy tờ kèm theo", ">birth_notice.pdf</a>", ">requester_id.pdf</a>", "Không có tệp")


def test_a_wrong_file_is_refused_with_the_reason_next_to_its_field(people, engine: Engine) -> None:  # noqa: ANN001
    citizen = register(people)
    task_id = start_birth_registration(citizen)
    filled(citizen, task_id)
    url = f"/cong-viec/{task_id}/giay-to"
    citizen.get(f"/cong-viec/{task_id}/kiem-tra")
    page = citizen.upload(url, {"component": "birth_notice"}, b"MZ\x90\x00" + bytes(300), "giay-chung-sinh.pdf",
                          status=400)
    assert page.has('href="#doc-birth_notice"', 'id="doc-birth_notice-error"',
                    "Tệp phải là PDF, JPG hoặc PNG. Tệp đã chọn không phải là một trong các loại này.",
                    "govuk-file-upload--error")
    active = placeholder_pdf("x").replace(b"/Pages 2 0 R >>",
                                          b"/Pages 2 0 R /OpenAction << /S /JavaScript /JS (1) >> >>")
    page = citizen.upload(url, {"component": "birth_notice"}, active, "giay-chung-sinh.pdf", status=400)
    assert page.has('id="doc-birth_notice-error"', "Tệp PDF có chứa mã chạy (JavaScript)")
    assert ">giay-chung-sinh.pdf<" not in page.html
    page = citizen.upload(url, {"component": "birth_notice"}, b"", "", status=400)  # sent without choosing
    assert page.has("Chọn một tệp để tải lên")
    # over the limit: refused before the body is read, and the citizen is back on the page with the reason
    engine.settings = dataclasses.replace(engine.settings, upload_max_bytes=100 * 1024)
    page = citizen.upload(url, {"component": "birth_notice"}, placeholder_pdf("x") + bytes(300 * 1024), "lon.pdf")
    assert page.url == f"/cong-viec/{task_id}/kiem-tra"
    assert page.has("Tệp phải nhỏ hơn 0.0976562 MB", "nhỏ hơn 0.0976562 MB")
    assert ">lon.pdf<" not in page.html
    # without the form's token nothing is kept
    response = citizen.client.post(url, data={"component": "birth_notice", "file": (__import__("io").BytesIO(
        placeholder_pdf("x")), "x.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400 and ">x.pdf<" not in citizen.get(f"/cong-viec/{task_id}/kiem-tra").html


def test_a_file_is_taken_back_before_sending_and_downloaded_only_by_those_who_may(people) -> None:  # noqa: ANN001
    citizen = register(people)
    task_id = start_birth_registration(citizen)
    filled(citizen, task_id)
    attach(citizen, task_id, "birth_notice", "requester_id", "authorisation")
    page = citizen.get(f"/cong-viec/{task_id}/kiem-tra")
    remove = re.search(rf'action="(/cong-viec/{task_id}/giay-to/(\d+)/bo)"', page.html.split("authorisation.pdf")[1])
    download = re.search(r'href="(/ho-so/(\d+)/giay-to/\d+)">birth_notice.pdf<', page.html)
    page = citizen.post(remove.group(1))
    assert page.has("Đã bỏ authorisation.pdf.") and ">authorisation.pdf<" not in page.html
    response = citizen.client.get(download.group(1))
    assert response.status_code == 200 and response.data == placeholder_pdf("birth_notice")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=birth_notice.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    stranger = register(people, "nguoila@example.com")
    assert stranger.client.get(download.group(1)).status_code == 404
    official = people()
    official.login(RECEPTION)
    assert official.client.get(f"/can-bo{download.group(1)}").status_code == 404  # a draft is the citizen's own
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("Đã nộp hồ sơ")
    response = official.client.get(f"/can-bo{download.group(1)}")
    assert response.status_code == 200 and response.data == placeholder_pdf("birth_notice")
    page = official.get(f"/can-bo/ho-so/{download.group(2)}")
    assert page.has("Giấy tờ kèm theo", f'href="/can-bo{download.group(1)}"', "requester_id.pdf")
    assert "authorisation.pdf" not in page.html
    # sent: the remove buttons are gone, and a removal sent anyway is refused with the reason
    page = citizen.get(f"/ho-so/{download.group(2)}")
    assert "/bo\"" not in page.html
    birth_notice_id = download.group(1).rsplit("/", 1)[1]
    page = citizen.post(f"/cong-viec/{task_id}/giay-to/{birth_notice_id}/bo", status=403)
    assert page.has("Chỉ thêm hoặc bỏ giấy tờ được khi hồ sơ chưa nộp")
    assert citizen.client.get(download.group(1)).status_code == 200


def test_the_official_returning_the_result_online_attaches_it_and_the_citizen_downloads_it(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen), delivery_method="online")
    signed(people, code)
    official = people()
    page = official.login(RECEPTION)
    task_id = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"', page.html).group(1)
    page = official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    assert page.has("Kết quả giải quyết (bản điện tử)", "Bắt buộc: người nộp nhận kết quả trực tuyến",
                    'id="doc-result"', f'action="/can-bo/cong-viec/{task_id}/ket-qua"')
    page = official.post(f"/can-bo/cong-viec/{task_id}", {"result_returned": "true"}, status=400)
    assert page.has('href="#doc-result"', "Đính kèm bản điện tử của kết quả giải quyết")
    page = official.upload(f"/can-bo/cong-viec/{task_id}/ket-qua", {}, b"GIF89a" + bytes(40), "ket-qua.gif", status=400)
    assert page.has("Tệp phải là PDF, JPG hoặc PNG", 'aria-describedby="doc-result-error"')
    page = official.upload(f"/can-bo/cong-viec/{task_id}/ket-qua", {}, placeholder_pdf("kq"), "giay-khai-sinh.pdf")
    assert page.url == f"/can-bo/cong-viec/{task_id}" and page.has("Đã tải lên giay-khai-sinh.pdf.")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    assert "giay-khai-sinh.pdf" not in citizen.get(dossier_url).html  # not given yet
    page = official.post(f"/can-bo/cong-viec/{task_id}", {"result_returned": "true", "payment_method": "cash"})
    assert page.has("Đã trả kết quả")
    page = citizen.get(dossier_url)
    link = re.search(r'href="(/ho-so/\d+/giay-to/\d+)">giay-khai-sinh.pdf<', page.html)
    assert page.has("Kết quả giải quyết (bản điện tử)") and link
    response = citizen.client.get(link.group(1))
    assert response.status_code == 200 and response.data == placeholder_pdf("kq")
