"""What anyone sees without logging in: where a dossier stands, by its code and its applicant's personal ID number
(its status, dates and statuses over time, never what it holds; a wrong pair is one answer whichever half is wrong,
and an address that keeps trying waits); and how each agency resolves its dossiers."""
from __future__ import annotations

from engine import calendar
from engine.models import utcnow
from tests.web.test_journey import register, start_birth_registration, submit_declaration

ID_NUMBER = "001195000111"  # (the one register() gives)


def test_a_visitor_finds_where_a_dossier_stands_by_its_code_and_the_applicants_id(people) -> None:  # noqa: ANN001
    owner = register(people)
    code = submit_declaration(owner, start_birth_registration(owner))
    visitor = people()
    page = visitor.get("/")
    assert 'href="/tra-cuu-ho-so"' in page.html  # in the visitors' menu
    page = visitor.get("/tra-cuu-ho-so")
    assert page.has("Số định danh cá nhân của người nộp", 'inputmode="numeric"', 'method="post"')
    page = visitor.post("/tra-cuu-ho-so", {"ma": code.lower(), "so-dinh-danh": "001 195.000 111"})
    assert page.has(f'<span class="app-code">{code}</span>', "Mới đăng ký", "Đăng ký khai sinh", "UBND xã Mẫu Sơn",
                    "Bước đang xử lý", "Tiếp nhận, kiểm tra hồ sơ",
                    "Ngày hẹn trả kết quả", "Quá trình xử lý")
    for private in ("Trần Thị An", "Nguyễn Minh An", ID_NUMBER, "an@example.com"):  # no names, answers or contacts
        assert private not in page.html, private
    page = visitor.get(f"/tra-cuu-ho-so?ma={code}")  # an address gives the code, never the ID: nothing looked up
    assert page.has(f'value="{code}"') and "Quá trình xử lý" not in page.html
    response = visitor.client.post("/tra-cuu-ho-so", data={"ma": code, "so-dinh-danh": ID_NUMBER,
                                                            "csrf_token": visitor.token()})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_a_wrong_pair_says_nothing_of_which_half_and_an_address_that_keeps_trying_waits(people) -> None:  # noqa: ANN001
    owner = register(people)
    code = submit_declaration(owner, start_birth_registration(owner))
    draft_owner = register(people, "nhap@example.com")
    start_birth_registration(draft_owner)  # a draft: it has no code to be found by
    visitor = people()
    visitor.get("/tra-cuu-ho-so")
    page = visitor.post("/tra-cuu-ho-so", {"ma": "", "so-dinh-danh": "123"}, status=400)  # not counted
    assert page.has('href="#ma"', "Nhập mã hồ sơ", 'href="#so-dinh-danh"',
                    "Nhập số định danh cá nhân của người nộp, gồm 12 chữ số")
    wrong_id = visitor.post("/tra-cuu-ho-so", {"ma": code, "so-dinh-danh": "001195000112"}, status=404)
    wrong_code = visitor.post("/tra-cuu-ho-so", {"ma": code[:-1] + "9", "so-dinh-danh": ID_NUMBER}, status=404)
    for page in (wrong_id, wrong_code):
        assert page.has("Không tìm thấy hồ sơ có mã và số định danh này.") and "Mới đăng ký" not in page.html
    for _ in range(8):  # ten wrong pairs from this address in all
        visitor.post("/tra-cuu-ho-so", {"ma": "000.31.27.H14-261128-9999", "so-dinh-danh": ID_NUMBER}, status=404)
    page = visitor.post("/tra-cuu-ho-so", {"ma": code, "so-dinh-danh": ID_NUMBER}, status=429)  # even the right one
    assert page.has("quá nhiều lần tra cứu không đúng") and f'<span class="app-code">{code}</span>' not in page.html
    # the owner, logged in, still finds it among their own dossiers
    assert owner.get(f"/tra-cuu?ma={code}").url.startswith("/ho-so/")
    visitor.post("/tra-cuu-ho-so", {"ma": code, "so-dinh-danh": ID_NUMBER}, csrf=False, status=400)  # no token


def test_anyone_sees_how_each_agency_resolves_its_dossiers(people) -> None:  # noqa: ANN001
    owner = register(people)
    submit_declaration(owner, start_birth_registration(owner))
    visitor = people()
    page = visitor.get("/")
    assert 'href="/thong-ke"' in page.html  # linked from every page's footer
    today = calendar.to_local(utcnow())
    page = visitor.get("/thong-ke")
    assert page.has(f"Tình hình giải quyết hồ sơ – Năm {today.year}", "Theo cơ quan", "UBND xã Mẫu Sơn",
                    "Chưa có hồ sơ nào được giải quyết trong kỳ.")
    row = page.html[page.html.index("UBND xã Mẫu Sơn"):].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[:2]] == ["1", "0"]  # received 1, resolved 0
    assert "Phí, lệ phí" not in page.html and "Trần Thị An" not in page.html
    assert "UBND xã Mẫu Sơn" in visitor.get(f"/thong-ke?nam={today.year}&thang={today.month}").html
    assert "UBND xã Mẫu Sơn" not in visitor.get(f"/thong-ke?nam={today.year - 1}").html  # nothing then
    for bad in ("nam=1999", "nam=%C2%B2", "nam=2026&thang=13", "nam=99999999999999999999"):
        visitor.get(f"/thong-ke?{bad}", status=404)
