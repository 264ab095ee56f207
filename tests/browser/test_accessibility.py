"""WCAG 2.2 AA checks with axe-core (npm, pinned) on the main pages, for a citizen and an official, on a phone."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyotp
import pytest

from tests.browser.test_submission import fill_date

pytestmark = [pytest.mark.browser, pytest.mark.inject_scripts]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page) -> list[str]:  # noqa: ANN001
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + json.dumps([n["target"] for n in v["nodes"]][:3])
            for v in result["violations"]]


def dossier_at(database: Path, *steps: tuple[str, str]) -> int:
    """A birth registration of the demo citizen, sent and taken through ``steps`` (BPMN id, decision) by the
    demo officials, in the server's database."""
    from sqlalchemy import select

    from engine import clock
    from engine.api import Engine
    from engine.config import DEFAULT_ROOT, Settings
    from engine.models import User
    from tests.documents import attach_required
    from tests.engine.test_birth_registration import DECISIONS, ROLE_EMAIL, declaration

    engine = Engine(Settings(database_url=f"sqlite:///{database}", root=DEFAULT_ROOT))
    # (the declaration's dates count from this Monday, as in the engine's tests)
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))), engine.session() as s:
        citizen = s.scalar(select(User).where(User.email == "congdan@demo.motcua.vn"))
        view = engine.start_dossier(s, "birth_registration", citizen)
        attach_required(engine, s, view.id, citizen)
        engine.complete(s, view.open_tasks[0].id, citizen, declaration())
        for bpmn_id, choice in steps:
            (task,) = engine.dossier(s, view.id, citizen).open_tasks
            assert task.bpmn_id == bpmn_id
            official = s.scalar(select(User).where(User.email == ROLE_EMAIL[task.role]))
            engine.claim(s, task.id, official)
            engine.complete(s, task.id, official, DECISIONS[bpmn_id][choice])
        s.commit()
    engine.db.dispose()
    return view.id


def log_in_again(page, server: str, email: str) -> None:  # noqa: ANN001
    """Log out, and in with a demo account."""
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()
    page.goto(server + "/dang-nhap")
    page.get_by_label("Địa chỉ email").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()


def second_version(database: Path, root: Path) -> None:
    """A second version of birth registration (its reception step renamed) deployed into the server's database."""
    from engine.api import Engine
    from engine.config import Settings
    from tests.procedures import copy_procedures

    copy_procedures(root)
    bpmn = root / "bpmn" / "birth_registration.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Tiếp nhận, kiểm tra hồ sơ"', 'name="Tiếp nhận hồ sơ khai sinh"'))
    engine = Engine(Settings(database_url=f"sqlite:///{database}", root=root))
    with engine.session() as s:
        assert [d.new for d in engine.deploy(s) if d.code == "birth_registration"] == [True]
        s.commit()
    engine.db.dispose()


def test_pages_have_no_wcag_violations(server: str, page, output_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    assert AXE.exists(), "npm ci installs axe-core (make install)"
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        problems = violations(page)
        if problems:
            found[name] = problems
            page.screenshot(path=str(output_dir / f"{name}.png"), full_page=True)

    page.goto(server + "/")
    check("catalog")
    page.goto(server + "/thu-tuc/birth_registration")
    check("procedure")
    page.goto(server + "/tra-cuu-ho-so")  # a visitor's lookup: nothing typed, then an unknown pair
    page.get_by_role("button", name="Tra cứu").click()
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("public-lookup-errors")
    page.goto(server + "/thong-ke")
    check("public-statistics")
    page.goto(server + "/dang-nhap")
    page.get_by_role("button", name="Đăng nhập").click()  # empty: errors
    check("login-errors")
    page.get_by_label("Địa chỉ email").fill("congdan@demo.motcua.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    check("my-dossiers")
    page.goto(server + "/thu-tuc/birth_registration")
    page.get_by_role("button", name="Bắt đầu nộp hồ sơ").click()
    page.get_by_role("button", name="Tiếp tục").click()
    check("form-errors")
    page.get_by_label("Họ, chữ đệm và tên của trẻ").fill("Nguyễn Minh An")
    page.get_by_label("Nam", exact=True).check()
    fill_date(page, "Ngày, tháng, năm sinh", "2026-11-02")
    page.get_by_label("Nơi sinh").fill("Trạm y tế xã Mẫu Sơn")
    page.get_by_label("Dân tộc", exact=True).fill("Kinh")
    page.get_by_label("Quốc tịch", exact=True).fill("Việt Nam")
    page.get_by_role("button", name="Tiếp tục").click()
    check("form-page")
    page.goto(server + "/tra-cuu?ma=KHONG-CO")
    check("lookup-not-found")
    page.goto(server + "/ngon-ngu/en?next=/ho-so")
    check("my-dossiers-en")
    dossier = page.locator('a[href^="/ho-so/"]').first.get_attribute("href")
    page.goto(server + dossier)
    page.wait_for_timeout(500)
    check("dossier")
    page.goto(server + "/tai-khoan")
    check("profile")
    page.goto(server + "/ngon-ngu/vi?next=/")
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()
    page.goto(server + "/dang-nhap")
    page.get_by_label("Địa chỉ email").fill("motcua@demo.motcua.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    check("officer-queue")
    page.goto(server + "/can-bo/thong-ke")
    check("statistics")
    # the head of office's page, and a task given to nobody: its errors
    dossier_at(tmp_path / "motcua.db")
    log_in_again(page, server, "lanhdao@demo.motcua.vn")
    page.goto(server + "/can-bo/phan-cong")
    check("assigning")
    page.get_by_role("link", name=re.compile("Giao việc")).first.click()
    page.get_by_role("button", name="Giao việc").click()
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("assign-errors")
    page.goto(server + "/can-bo/phan-cong")  # several at once: nothing chosen, then one given
    page.get_by_role("button", name="Giao các công việc đã chọn").click()
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("assign-many-errors")
    page.get_by_role("link", name="Chọn ít nhất một công việc để giao.").click()
    page.keyboard.press("Space")  # the link took the focus to the first task's box
    page.get_by_label("Giao các công việc đã chọn cho").select_option(label="Trần Văn Tiếp (đang giữ 0 việc)")
    page.get_by_role("button", name="Giao các công việc đã chọn").click()
    page.get_by_text("Đã giao 1 công việc cho Trần Văn Tiếp.").wait_for()
    page.goto(server + "/can-bo/thong-ke")
    check("statistics-by-official")
    page.goto(server + "/khong-co-trang-nay")
    check("not-found")
    # the rating of a decided dossier, sent without a score: its errors
    dossier_id = dossier_at(tmp_path / "motcua.db", ("reception_check", "refuse"))  # decided: it may be rated
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()
    page.goto(server + "/dang-nhap")
    page.get_by_label("Địa chỉ email").fill("congdan@demo.motcua.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(server + f"/ho-so/{dossier_id}/danh-gia")
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.get_by_text("Chọn mức độ hài lòng của bạn").first.wait_for()
    check("rating-errors")
    page.goto(server + f"/ho-so/{dossier_id}")
    code = page.locator("h1 .app-code").inner_text()
    page.goto(server + "/tra-cuu-ho-so")  # the same dossier, looked up by its code and the applicant's ID
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_label("Số định danh cá nhân của người nộp").fill("001190012345")
    page.get_by_role("button", name="Tra cứu").click()
    page.get_by_role("heading", name="Quá trình xử lý").wait_for()
    check("public-lookup")
    # a signed one whose fees are due: the VietQR code and the account, and the receipt and documents
    signed = dossier_at(tmp_path / "motcua.db", ("reception_check", "accept"), ("officer_review", "approve"),
                        ("chairman_sign", "sign"))
    page.goto(server + f"/ho-so/{signed}")
    page.get_by_role("img", name=re.compile("Mã VietQR")).wait_for()
    check("fees-due")
    # the administration, and an official's account sent empty: its errors
    log_in_again(page, server, "quantri@demo.motcua.vn")
    page.get_by_role("heading", name="Quản trị").wait_for()
    check("administration")
    page.goto(server + "/quan-tri/can-bo/moi")
    page.get_by_role("button", name="Lưu tài khoản").click()
    page.get_by_text("Chọn ít nhất một vai trò").first.wait_for()
    check("official-errors")
    page.goto(server + "/quan-tri/")
    page.get_by_role("link", name=re.compile("000.31.27.H14")).click()
    page.get_by_role("link", name="Ngày nghỉ và ngày làm bù của cơ quan").click()
    page.get_by_role("button", name="Lưu ngày").click()
    page.get_by_text("Nhập một ngày có thật").first.wait_for()
    check("agency-days-errors")
    page.goto(server + "/quan-tri/api/moi")
    page.get_by_label("Địa chỉ nhận thông báo thay đổi").fill("http://vanban.example.gov.vn/hook")
    page.get_by_role("button", name="Tạo mã truy cập").click()
    page.get_by_text("Chọn cơ quan").first.wait_for()
    check("api-client-errors")
    page.get_by_label("Tên hệ thống kết nối").fill("Đồng bộ DVCQG")
    page.get_by_label("Cơ quan có hồ sơ được đọc").select_option(label="000.31.27.H14 – UBND xã Mẫu Sơn")
    page.get_by_label("2 năm").check()
    page.get_by_label("Địa chỉ nhận thông báo thay đổi").fill("https://vanban.example.gov.vn/hook")
    page.get_by_role("button", name="Tạo mã truy cập").click()
    page.get_by_label("Khóa ký webhook").wait_for()
    check("api-token")
    page.goto(server + "/quan-tri/#api")
    page.get_by_text("Chưa gửi lần nào").wait_for()
    check("api-clients")
    page.get_by_role("link", name="Đồng bộ DVCQG").click()
    page.get_by_label("Địa chỉ nhận thông báo thay đổi").fill("ftp://x")
    page.get_by_role("button", name="Lưu địa chỉ webhook").click()
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("api-client-page-errors")
    page.get_by_role("button", name="Gửi thử").click()  # (nobody answers at that address here)
    page.get_by_text("Gửi thử không được").wait_for()
    check("api-webhook-test-failed")
    page.goto(server + "/quan-tri/thiet-ke/moi")
    page.get_by_role("button", name="Lưu tài khoản").click()
    page.get_by_text("Nhập họ và tên").first.wait_for()
    check("designer-account-errors")
    # the designer's pages, with a second version of birth registration (a step renamed) deployed
    second_version(tmp_path / "motcua.db", tmp_path / "procedures")
    log_in_again(page, server, "thietke@demo.motcua.vn")
    page.get_by_role("heading", name="Quy trình").wait_for()
    check("designs")
    page.goto(server + "/thiet-ke/nhap")
    page.get_by_role("button", name="Nhập mô hình").click()
    page.get_by_text("Chọn tệp ZIP của mô hình quy trình").first.wait_for()
    check("import-model-errors")
    page.goto(server + "/thiet-ke/")
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    page.locator(".app-diagram--ready").wait_for()
    check("design-versions")
    page.get_by_role("link", name=re.compile("So sánh với phiên bản hiện hành")).click()
    page.locator(".app-diagram--ready .app-changed").first.wait_for()  # the renamed step marked on the drawing
    check("design-compare")
    page.goto(server + "/thiet-ke/birth_registration/phien-ban/1/chuyen-ho-so")
    page.get_by_role("button", name="Chuyển các hồ sơ chuyển được sang phiên bản 2").wait_for()
    check("design-migrate")
    page.goto(server + "/thiet-ke/trien-khai")
    page.get_by_role("button", name="Triển khai 1 thủ tục").wait_for()  # the files on disk: version 1 again
    check("design-deploy")
    # two-step login: the designer turns it on, then logs in with a recovery code
    page.goto(server + "/bao-mat")
    page.get_by_role("heading", name="Bảo mật tài khoản").wait_for()
    check("account-security")
    page.get_by_role("button", name="Bật xác thực hai bước").click()
    page.get_by_role("button", name="Bật xác thực hai bước").click()  # empty: errors
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("two-step-on-errors")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Mã xác thực").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Bật xác thực hai bước").click()
    recovery = page.locator("#recovery-codes code").first.inner_text()
    check("recovery-codes")
    log_in_again(page, server, "thietke@demo.motcua.vn")
    page.get_by_role("button", name="Tiếp tục").click()  # empty: errors
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("second-step-errors")
    page.get_by_label("Mã xác thực").fill(recovery)
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_role("heading", name="Quy trình").wait_for()
    page.goto(server + "/bao-mat")
    page.get_by_role("button", name="Tạo mã dự phòng mới").click()  # no password: errors
    page.get_by_role("heading", name="Có lỗi cần sửa").wait_for()
    check("account-security-on-errors")
    assert not found, "\n".join(f"{name}: {p}" for name, problems in found.items() for p in problems)
