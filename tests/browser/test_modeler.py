"""The designer's modeler in Chromium: a diagram file opened in bpmn-js, a step renamed and its properties edited in
the panel; the server's check lists what is wrong and refuses to save it; once fixed, the file is saved with every
other property kept, and the deploy page sees the change. The page has no WCAG violation outside bpmn-js's canvas."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.test_accessibility import log_in_again, violations
from tests.procedures import copy_procedures

pytestmark = [pytest.mark.browser, pytest.mark.inject_scripts]
NEW_NAME = "Tiếp nhận hồ sơ khai sinh"


@pytest.fixture
def procedures_root(tmp_path: Path) -> Path:
    return copy_procedures(tmp_path / "procedures")


def test_a_designer_edits_checks_and_saves_a_diagram(server: str, page, procedures_root: Path) -> None:  # noqa: ANN001
    bpmn = procedures_root / "bpmn" / "birth_registration.bpmn"
    before = bpmn.read_text(encoding="utf-8")
    form = re.search(r'<bpmn:userTask id="reception_check".*?name="formJsonSchemaFilename" value="([^"]+)"', before,
                     re.S).group(1)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(server + "/")
    page.goto(server + "/dang-nhap")
    page.get_by_label("Địa chỉ email").fill("thietke@demo.motcua.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau-demo-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    page.get_by_role("link", name="Sửa sơ đồ (tệp trên máy chủ)").click()
    page.locator(".app-modeler--ready").wait_for()
    problems = [v for v in violations(page) if "djs-" not in v]  # (bpmn-js's own canvas and palette aside)
    assert not problems, problems

    page.get_by_role("button", name="Kiểm tra").click()
    page.get_by_text("Không có lỗi.").wait_for()
    page.evaluate("""() => { const m = window.motcuaModeler;
                             m.get('selection').select(m.get('elementRegistry').get('reception_check')); }""")
    page.get_by_label("Tên", exact=True).fill(NEW_NAME)
    page.get_by_label("Tên", exact=True).press("Tab")
    page.get_by_role("button", name="Bỏ formJsonSchemaFilename").click()
    page.get_by_role("button", name="Lưu vào tệp").click()
    page.get_by_text("Có lỗi, chưa lưu:").wait_for()
    page.get_by_text("user task names no form").wait_for()
    assert bpmn.read_text(encoding="utf-8") == before  # refused: the file is as it was

    page.get_by_role("button", name="Thêm thuộc tính").click()
    rows = page.locator("#property-list .app-modeler__property")
    last = rows.count()
    page.get_by_label(f"Thuộc tính {last}", exact=True).fill("formJsonSchemaFilename")
    page.get_by_label(f"Giá trị {last}", exact=True).fill(form)
    page.get_by_label(f"Giá trị {last}", exact=True).press("Tab")
    page.get_by_role("button", name="Lưu vào tệp").click()
    page.get_by_text("Đã lưu vào tệp.").wait_for()
    after = bpmn.read_text(encoding="utf-8")
    assert NEW_NAME in after and "Tiếp nhận, kiểm tra hồ sơ" not in after
    for kind in ("spiffworkflow:property ", "bpmn:conditionExpression", "bpmn:documentation", "bpmn:timerEventDefinition"):
        assert after.count(f"<{kind}") == before.count(f"<{kind}"), kind  # nothing else lost on the way
    page.goto(server + "/thiet-ke/trien-khai")
    page.get_by_text("Đã sửa, chưa triển khai").wait_for()
    log_in_again(page, server, "congdan@demo.motcua.vn")
    assert page.goto(server + "/thiet-ke/birth_registration/so-do.bpmn").status == 403
