"""A citizen submits a birth registration in a real browser, on a phone-sized screen."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine.scenarios import placeholder_pdf

pytestmark = pytest.mark.browser


def fill_date(page, label: str, iso: str) -> None:  # noqa: ANN001
    year, month, day = iso.split("-")
    group = page.get_by_role("group", name=label)
    group.get_by_label("Ngày").fill(str(int(day)))
    group.get_by_label("Tháng").fill(str(int(month)))
    group.get_by_label("Năm").fill(year)


@pytest.mark.inject_scripts  # (axe checks the page with the documents' errors)
def test_citizen_submits_a_birth_registration(server: str, page, output_dir: Path) -> None:  # noqa: ANN001
    page.goto(server + "/dang-nhap")
    page.get_by_label("Địa chỉ email").fill("congdan@demo.motcua.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Hồ sơ của tôi")).to_be_visible()

    page.goto(server + "/?q=dang+ky+khai+sinh")
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    page.get_by_role("button", name="Bắt đầu nộp hồ sơ").click()

    # page 1: send it empty first: the error summary takes the focus and names every problem
    page.get_by_role("button", name="Tiếp tục").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Lỗi:"))
    expect(summary.get_by_role("link", name="Nhập họ, chữ đệm và tên của trẻ")).to_be_visible()
    page.screenshot(path=str(output_dir / "1-errors.png"), full_page=True)
    summary.get_by_role("link", name="Nhập họ, chữ đệm và tên của trẻ").click()
    assert page.evaluate("document.activeElement.id") == "child_full_name"

    page.get_by_label("Họ, chữ đệm và tên của trẻ").fill("Nguyễn Minh An")
    page.get_by_label("Nam", exact=True).check()
    fill_date(page, "Ngày, tháng, năm sinh", "2026-11-02")
    page.get_by_label("Nơi sinh").fill("Trạm y tế xã Mẫu Sơn")
    page.get_by_label("Dân tộc", exact=True).fill("Kinh")
    page.get_by_label("Quốc tịch", exact=True).fill("Việt Nam")
    page.get_by_role("button", name="Tiếp tục").click()

    page.get_by_label("Họ, chữ đệm và tên của mẹ").fill("Nguyễn Thị Lan")
    fill_date(page, "Ngày sinh của mẹ", "1995-04-12")
    page.get_by_label("Dân tộc của mẹ").fill("Kinh")
    page.get_by_label("Quốc tịch của mẹ").fill("Việt Nam")
    page.get_by_label("Số định danh cá nhân của mẹ").fill("001190012345")
    page.get_by_label("Nơi cư trú của mẹ").fill("Thôn Đông, xã Mẫu Sơn")
    page.get_by_role("button", name="Tiếp tục").click()

    # the father's details show only once the applicant says they are giving them (ui:onlyWhen)
    father = page.get_by_label("Họ, chữ đệm và tên của cha")
    expect(father).to_be_hidden()
    page.get_by_label("Có", exact=True).check()
    expect(father).to_be_visible()
    father.fill("Trần Văn Bình")
    page.get_by_label("Không (chưa xác định được cha)").check()
    expect(father).to_be_hidden()
    expect(page.get_by_label("Số định danh cá nhân của cha")).to_be_hidden()
    page.get_by_role("button", name="Tiếp tục").click()

    # the requester's page is prefilled from the profile
    assert page.get_by_label("Họ, chữ đệm và tên người đi đăng ký").input_value() == "Nguyễn Thị Lan"
    page.get_by_label("Quan hệ với trẻ").select_option("mother")
    page.get_by_role("button", name="Tiếp tục").click()

    page.get_by_label("Số giấy chứng sinh").fill("CS-2026-118")
    fill_date(page, "Ngày cấp giấy chứng sinh", "2026-11-03")
    page.get_by_label("Số bản sao trích lục yêu cầu cấp").fill("1")
    page.get_by_label("Nhận bản điện tử trực tuyến").check()
    page.get_by_label(re.compile("Tôi cam đoan")).check()
    page.get_by_role("button", name="Tiếp tục").click()

    expect(page.get_by_role("heading", name="Kiểm tra thông tin trước khi gửi")).to_be_visible()
    expect(page.get_by_text("02/11/2026")).to_be_visible()
    expect(page.get_by_text("Trần Văn Bình")).to_have_count(0)  # typed, then no longer applying: not sent
    # sent without its documents: the summary links each one to its file field; then a file for each
    from tests.browser.test_accessibility import violations

    page.get_by_role("button", name="Gửi hồ sơ").click()
    summary = page.locator(".govuk-error-summary")
    summary.get_by_role("link", name="Đính kèm Giấy chứng sinh").click()
    assert page.evaluate("document.activeElement.id") == "doc-birth_notice"
    assert not violations(page), violations(page)
    page.screenshot(path=str(output_dir / "2-documents-missing.png"), full_page=True)
    scan = output_dir / "giay-chung-sinh.pdf"
    scan.write_bytes(placeholder_pdf("Giay chung sinh"))
    for label in ("Chọn tệp Giấy chứng sinh", "Chọn tệp Giấy tờ tùy thân của người yêu cầu"):
        field = page.get_by_label(label)
        field.set_input_files(str(scan))
        page.locator("form", has=field).get_by_role("button", name="Tải lên").click()
        expect(page.get_by_text("Đã tải lên giay-chung-sinh.pdf.")).to_be_visible()
    expect(page.get_by_role("link", name="giay-chung-sinh.pdf")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    page.get_by_role("button", name="Gửi hồ sơ").click()

    panel = page.locator(".govuk-panel")
    expect(panel.get_by_role("heading", name="Đã nộp hồ sơ")).to_be_visible()
    code = page.get_by_test_id("dossier-code").inner_text()
    assert re.fullmatch(r"000\.31\.27\.H14-\d{6}-\d{4}", code)
    assert page.get_by_test_id("appointment").inner_text()
    page.screenshot(path=str(output_dir / "3-submitted.png"), full_page=True)
    assert (output_dir / "3-submitted.png").stat().st_size > 10_000

    page.get_by_role("link", name="Xem hồ sơ và tiến độ giải quyết").click()
    expect(page.get_by_text("Hồ sơ đã được nộp trực tuyến")).to_be_visible()
    # "my dossiers" on a phone: the table scrolls in its own box, not the page
    page.goto(server + "/ho-so")
    expect(page.get_by_role("link", name=code)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    assert page.get_by_role("region", name="Các hồ sơ của bạn").evaluate("box => box.scrollWidth > box.clientWidth")

    # the reception official finds it on a phone too: the task tables scroll within their own boxes, the page
    # itself never sideways (WCAG 1.4.10)
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()
    page.goto(server + "/dang-nhap")
    page.get_by_label("Địa chỉ email").fill("motcua@demo.motcua.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    row = page.locator(f'tr[data-dossier-code="{code}"]')
    expect(row).to_be_attached()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    region = page.get_by_role("region", name=re.compile("Việc chờ nhận"))
    assert region.evaluate("box => box.scrollWidth > box.clientWidth")  # the table is wider: its box scrolls
    page.screenshot(path=str(output_dir / "3-officer-queue.png"), full_page=True)
