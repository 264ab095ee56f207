"""The whole journey through the Flask app: a citizen submits a birth registration, officials process it."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from engine import calendar
from engine.scenarios import placeholder_pdf
from tests.engine.test_birth_registration import declaration

CODE = re.compile(r'data-testid="dossier-code">(000\.31\.27\.H14-\d{6}-\d{4})<')
PAGES = {
    "child": ["child_full_name", "child_sex", "child_birth_date", "child_birth_place", "child_home_town",
              "child_ethnicity", "child_nationality"],
    "mother": ["mother_full_name", "mother_birth_date", "mother_ethnicity", "mother_nationality", "mother_id_number",
               "mother_residence"],
    "father": ["father_known", "father_full_name", "father_birth_date", "father_ethnicity", "father_nationality",
               "father_id_number", "father_residence"],
    "requester": ["requester_full_name", "requester_relationship", "requester_id_number", "requester_phone",
                  "requester_email"],
    "notice": ["birth_notice_number", "birth_notice_date", "copies_requested", "delivery_method", "postal_address",
               "declaration_confirmed"],
}
REQUIRED = ("birth_notice", "requester_id")  # the documents birth registration requires
RECEPTION, OFFICER, CHAIRMAN = "motcua@demo.motcua.vn", "hotich@demo.motcua.vn", "chutich@demo.motcua.vn"


def as_inputs(values: dict[str, Any]) -> dict[str, Any]:
    """What a browser posts: dates as three boxes."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name.endswith("_date") and isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            y, m, d = value.split("-")
            out.update({f"{name}-day": str(int(d)), f"{name}-month": str(int(m)), f"{name}-year": y})
        elif value != "":
            out[name] = value
    return out


def register(people, email: str = "an@example.com"):  # noqa: ANN001, ANN201
    citizen = people()
    citizen.get("/dang-ky")
    page = citizen.post("/dang-ky", {"full_name": "Trần Thị An", "email": email, "password": "mat-khau-rat-dai",
                                     "phone": "0987654321", "id_number": "001195000111", "address": "Xóm Tây"})
    assert page.url == "/"
    return citizen


def start_birth_registration(citizen) -> int:  # noqa: ANN001
    page = citizen.get("/thu-tuc/birth_registration")
    assert page.has("Đăng ký khai sinh", "Bắt đầu nộp hồ sơ", "Giấy chứng sinh")
    page = citizen.post("/thu-tuc/birth_registration/bat-dau", {"agency_id": re.search(r'name="agency_id" value="(\d+)"', page.html).group(1)})
    assert page.url.startswith("/cong-viec/") and page.has("Thông tin người được khai sinh")
    return int(page.url.split("/")[2])


def attach(citizen, task_id: int | str, *components: str) -> None:  # noqa: ANN001
    """Upload a one-page PDF for each of these documents not attached yet, from the task's check page, as the
    citizen would."""
    page = citizen.get(f"/cong-viec/{task_id}/kiem-tra")
    for code in [c for c in components if f">{c}.pdf<" not in page.html]:
        page = citizen.upload(f"/cong-viec/{task_id}/giay-to", {"component": code}, placeholder_pdf(code),
                              f"{code}.pdf")
        assert page.url == f"/cong-viec/{task_id}/kiem-tra" and page.has(f"Đã tải lên {code}.pdf"), page.html[:3000]


def required_documents(engine, code: str) -> list[str]:  # noqa: ANN001
    with engine.session() as s:
        return [c.code for c in engine.procedure(s, code).components if c.required]


def submit_declaration(citizen, task_id: int, **changes: Any) -> str:  # noqa: ANN001
    values = declaration(**changes)
    for page_id, names in PAGES.items():
        citizen.get(f"/cong-viec/{task_id}/trang/{page_id}")
        page = citizen.post(f"/cong-viec/{task_id}/trang/{page_id}", as_inputs({n: values[n] for n in names}))
    assert page.url == f"/cong-viec/{task_id}/kiem-tra", page.html[:500]
    assert page.has("Kiểm tra thông tin trước khi gửi", "Nguyễn Minh An", "02/11/2026")
    attach(citizen, task_id, *REQUIRED)
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("Đã nộp hồ sơ", "Ngày hẹn trả kết quả"), page.html[:3000]
    found = CODE.search(page.html)
    assert found, page.html[page.html.find("<main"):][:1500]
    return found.group(1)


def official_completes(people, email: str, code: str, data: dict[str, Any], expect: str) -> None:  # noqa: ANN001
    official = people()
    page = official.login(email)
    assert page.url == "/can-bo/" and page.has(code)
    task_id = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"', page.html).group(1)
    page = official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    assert page.url == f"/can-bo/cong-viec/{task_id}" and page.has("Hoàn thành")
    page = official.post(f"/can-bo/cong-viec/{task_id}", data)
    assert page.url == "/can-bo/" and page.has(code, expect), page.html[:3000]


def signed(people, code: str) -> None:  # noqa: ANN001
    """The officials accept the dossier, approve it and sign its result (which waits to be returned)."""
    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    official_completes(people, OFFICER, code, {"review_decision": "approve", "register_number": "118/2026"},
                       "Đang xử lý")
    official_completes(people, CHAIRMAN, code, {"sign_decision": "sign"}, "Có kết quả")


def test_citizen_to_officials_to_result(people) -> None:  # noqa: ANN001
    citizen = register(people)
    # the catalog finds the procedure with and without diacritics
    assert citizen.get("/?q=khai+sinh").has("Đăng ký khai sinh")
    assert citizen.get("/?q=dang+ky+khai+sinh").has("Đăng ký khai sinh")
    assert not citizen.get("/?q=xay+dung+nha").has("Đăng ký khai sinh")
    task_id = start_birth_registration(citizen)

    # an empty page: every error at once, in a summary linking to the fields
    page = citizen.post(f"/cong-viec/{task_id}/trang/child", {"child_birth_place": "Trạm y tế", "child_birth_date-day": "31",
                                                              "child_birth_date-month": "2", "child_birth_date-year": "2026"},
                        status=400)
    assert page.has("Có lỗi cần sửa", 'href="#child_full_name"', "Nhập họ, chữ đệm và tên của trẻ",
                    'href="#child_birth_date-day"', "phải là một ngày có thật", "<title>Lỗi:")
    assert page.has('value="Trạm y tế"', 'value="31"')  # what was typed is kept
    # a date of birth after today (in Vietnam) is refused on its page, what was typed kept
    tomorrow = calendar.today() + dt.timedelta(days=1)
    page = citizen.post(f"/cong-viec/{task_id}/trang/child", {
        "child_full_name": "Nguyễn Minh An", "child_sex": "male", "child_birth_place": "Trạm y tế xã Mẫu Sơn",
        "child_birth_date-day": str(tomorrow.day), "child_birth_date-month": str(tomorrow.month),
        "child_birth_date-year": str(tomorrow.year)}, status=400)
    assert page.has('href="#child_birth_date-day"', "Ngày, tháng, năm sinh không được sau ngày hôm nay",
                    f'value="{tomorrow.year}"')
    # the profile prefills the requester's page
    page = citizen.get(f"/cong-viec/{task_id}/trang/requester")
    assert page.has('value="Trần Thị An"', 'value="0987654321"', 'value="001195000111"')

    code = submit_declaration(citizen, task_id)
    # a second click on "send" neither fails nor submits twice
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("đã được gửi trước đó", code)
    page = citizen.get("/ho-so")
    assert page.has(code, "Mới đăng ký")

    official_completes(people, RECEPTION, code, {"reception_decision": "supplement",
                                                 "reception_reason": "Bổ sung bản chụp giấy chứng sinh rõ nét."},
                       "Yêu cầu bổ sung")
    page = citizen.get("/ho-so")
    assert page.has("Việc bạn cần làm", "Bổ sung hồ sơ")
    (supplement_id,) = re.findall(r'href="/cong-viec/(\d+)"', page.html)
    page = citizen.get(f"/cong-viec/{supplement_id}")
    assert page.has("Bổ sung bản chụp giấy chứng sinh rõ nét.")  # the request, next to the answer
    citizen.post(f"/cong-viec/{supplement_id}", {"supplement_response": "Đã chụp lại giấy chứng sinh, gửi kèm."})
    page = citizen.post(f"/cong-viec/{supplement_id}/kiem-tra")
    assert page.has("Đã gửi", "Mới đăng ký")

    official_completes(people, RECEPTION, code, {"reception_decision": "accept"}, "Đang xử lý")
    official_completes(people, OFFICER, code, {"review_decision": "approve", "register_number": "118/2026"}, "Đang xử lý")
    official_completes(people, CHAIRMAN, code, {"sign_decision": "sign"}, "Có kết quả")
    official_completes(people, RECEPTION, code, {"result_returned": "true", "payment_method": "cash"}, "Đã trả kết quả")

    page = citizen.get("/ho-so")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    page = citizen.get(dossier_url)
    text = html.unescape(page.html)
    assert page.has("Đã trả kết quả", "Quá trình xử lý")
    for step in ("Hồ sơ đã được nộp trực tuyến", "Bộ phận một cửa yêu cầu bổ sung hồ sơ",
                 "Người yêu cầu đã bổ sung hồ sơ", "Hồ sơ đã được tiếp nhận", "Hoàn thành: Ký giấy khai sinh",
                 "Đã trả kết quả cho người yêu cầu"):
        assert step in text
    page = citizen.get(f"/tra-cuu?ma={code}")
    assert page.url == dossier_url


def test_refused_at_reception_shows_the_reason(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    official_completes(people, RECEPTION, code, {"reception_decision": "refuse",
                                                 "reception_reason": "Không thuộc thẩm quyền của UBND xã."},
                       "Từ chối tiếp nhận")
    page = citizen.get("/ho-so")
    page = citizen.get(re.search(r'href="(/ho-so/\d+)"', page.html).group(1))
    assert page.has("Từ chối tiếp nhận", "Không thuộc thẩm quyền của UBND xã.")


def test_an_official_form_with_errors_is_shown_again(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    official = people()
    page = official.login(RECEPTION)
    task_id = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"', page.html).group(1)
    official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    page = official.post(f"/can-bo/cong-viec/{task_id}", {"reception_decision": "refuse"}, status=400)
    assert page.has("Có lỗi cần sửa", "Ghi rõ nội dung cần bổ sung hoặc lý do từ chối", code)
    assert 'value="refuse" checked' in page.html


def test_the_procedure_page_points_to_a_draft_not_sent(people) -> None:  # noqa: ANN001
    citizen = register(people)
    page = citizen.get("/thu-tuc/birth_registration")
    assert 'data-testid="open-drafts"' not in page.html
    task_id = start_birth_registration(citizen)
    page = citizen.get("/thu-tuc/birth_registration")
    assert page.has("Bạn đã bắt đầu một hồ sơ của thủ tục này mà chưa nộp", f'href="/cong-viec/{task_id}"',
                    "Tiếp tục hồ sơ bắt đầu lúc", "Bắt đầu hồ sơ mới")
    assert 'data-testid="open-drafts"' not in citizen.get("/thu-tuc/marital_status_certificate").html
    assert 'data-testid="open-drafts"' not in register(people, "khac@example.com").get("/thu-tuc/birth_registration").html
    citizen.get("/ngon-ngu/en?next=/thu-tuc/birth_registration")
    assert citizen.page.has("You have started an application for this service", "Start a new application")
    citizen.get("/ngon-ngu/vi?next=/")
    submit_declaration(citizen, task_id)
    page = citizen.get("/thu-tuc/birth_registration")
    assert 'data-testid="open-drafts"' not in page.html and page.has("Bắt đầu nộp hồ sơ")


def test_a_reason_left_over_from_another_decision_is_dropped(people, engine) -> None:  # noqa: ANN001
    """An official who wrote a refusal reason, then chose to accept, accepts: the leftover (too short to be a
    reason) is neither checked nor sent, and the applicant never reads it next to "accepted"."""
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    official_completes(people, RECEPTION, code, {"reception_decision": "supplement",
                                                 "reception_reason": "Bổ sung bản chụp giấy chứng sinh rõ nét."},
                       "Yêu cầu bổ sung")
    (supplement_id,) = re.findall(r'href="/cong-viec/(\d+)"', citizen.get("/ho-so").html)
    citizen.post(f"/cong-viec/{supplement_id}", {"supplement_response": "Đã chụp lại giấy chứng sinh, gửi kèm."})
    citizen.post(f"/cong-viec/{supplement_id}/kiem-tra")
    official_completes(people, RECEPTION, code, {"reception_decision": "accept", "reception_reason": "thiếu"},
                       "Đang xử lý")
    page = citizen.get(re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1))
    assert page.has("Hồ sơ đã được tiếp nhận") and "thiếu" not in html.unescape(page.html)
    with engine.session() as s:
        from engine.models import Dossier

        data = s.query(Dossier).filter_by(code=code).one().data
    assert "reception_reason" not in data  # the first round's request no longer stands


def test_the_citizen_withdraws_before_a_decision(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    page = citizen.get("/ho-so")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    page = citizen.get(dossier_url)
    assert page.has("Rút hồ sơ")
    citizen.get(dossier_url + "/rut")
    page = citizen.post(dossier_url + "/rut", {"reason": "x"}, status=400)
    assert page.has("Nhập lý do rút hồ sơ")
    page = citizen.post(dossier_url + "/rut", {"reason": "Gia đình sẽ nộp ở nơi cư trú của cha."})
    assert page.url == dossier_url and page.has("Đã rút hồ sơ", "Gia đình sẽ nộp ở nơi cư trú của cha.")
    assert f'href="{dossier_url}/rut"' not in page.html
    citizen.get(dossier_url + "/rut")  # no longer possible: told so on the dossier page
    assert citizen.page.has("không còn rút được")
    official = people()
    assert code not in official.login(RECEPTION).html  # the reception task is gone from the queue


def test_a_draft_can_be_withdrawn_without_a_reason_and_leaves_nothing_to_do(people) -> None:  # noqa: ANN001
    citizen = register(people, "nhap@example.com")
    task_id = start_birth_registration(citizen)
    page = citizen.get("/ho-so")
    assert page.has("Đang soạn", f'href="/cong-viec/{task_id}"')
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    assert citizen.get(dossier_url).has(f'href="{dossier_url}/rut"')
    assert citizen.get(dossier_url + "/rut").has("Lý do rút hồ sơ (không bắt buộc)", "Chưa nộp")
    page = citizen.post(dossier_url + "/rut", {"reason": "abc"}, status=400)  # a reason, if given, says something
    assert page.has("Nhập lý do rút hồ sơ")
    page = citizen.post(dossier_url + "/rut", {"reason": ""})
    assert page.url == dossier_url and page.has("Đã rút hồ sơ đang soạn.", "Người nộp rút hồ sơ đang soạn, chưa nộp.")
    page = citizen.get("/ho-so")
    assert page.has("Đã rút hồ sơ") and "Đang soạn" not in page.html and f'href="/cong-viec/{task_id}"' not in page.html
    page = citizen.get(f"/cong-viec/{task_id}")
    assert page.url == dossier_url and page.has("Việc này đã bị huỷ vì hồ sơ đã được rút.")


def test_my_dossiers_come_in_pages(people, engine) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from engine.models import User

    citizen = register(people, "nhieu@example.com")
    with engine.session() as s:
        me = s.scalar(select(User).where(User.email == "nhieu@example.com"))
        for _ in range(51):
            engine.start_dossier(s, "birth_registration", me)
        s.commit()
    page = citizen.get("/ho-so")
    assert page.html.count('href="/ho-so/') == 50 and "?trang=2" in page.html and "Trang trước" not in page.html
    page = citizen.get("/ho-so?trang=2")
    assert page.html.count('href="/ho-so/') == 1 and "Trang trước" in page.html and "?trang=3" not in page.html
    citizen.get("/ho-so?trang=x")  # a bad page number is the first page, not an error


def test_dates_on_two_pages_are_compared_at_the_check_and_lead_back_to_the_page(people) -> None:  # noqa: ANN001
    citizen = register(people, "ngaycap@example.com")
    task_id = start_birth_registration(citizen)
    values = declaration(birth_notice_date="2026-11-01")  # the day before the child's birth (2026-11-02)
    for page_id, names in PAGES.items():  # each page alone is right
        page = citizen.post(f"/cong-viec/{task_id}/trang/{page_id}", as_inputs({n: values[n] for n in names}))
    assert page.url == f"/cong-viec/{task_id}/kiem-tra"
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra", status=400)
    assert page.has("Ngày cấp giấy chứng sinh không được trước ngày sinh của trẻ",
                    f'href="/cong-viec/{task_id}/trang/notice?tu=kiem-tra#birth_notice_date-day"')
    assert citizen.get("/ho-so").has("Đang soạn")  # nothing submitted, nothing lost
    page = citizen.post(f"/cong-viec/{task_id}/trang/notice?tu=kiem-tra",
                        as_inputs({n: declaration()[n] for n in PAGES["notice"]}))
    assert page.url == f"/cong-viec/{task_id}/kiem-tra"
    attach(citizen, task_id, *REQUIRED)
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("Đã nộp hồ sơ") and CODE.search(page.html)


def test_answers_that_no_longer_apply_are_neither_shown_nor_sent(people) -> None:  # noqa: ANN001
    citizen = register(people, "khongcha@example.com")
    task_id = start_birth_registration(citizen)
    values = declaration(father_known="no", father_id_number="12", delivery_method="online")
    for page_id, names in PAGES.items():  # the father's page still holds his name, the notice page an address
        page = citizen.post(f"/cong-viec/{task_id}/trang/{page_id}", as_inputs({n: values[n] for n in names}))
    assert page.url == f"/cong-viec/{task_id}/kiem-tra"
    assert "Nguyễn Văn Bình" not in page.html and "tỉnh Mẫu" not in page.html  # neither shown …
    attach(citizen, task_id, *REQUIRED)
    page = citizen.post(f"/cong-viec/{task_id}/kiem-tra")
    assert page.has("Đã nộp hồ sơ")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    page = citizen.get(dossier_url)
    assert "Nguyễn Văn Bình" not in page.html and "tỉnh Mẫu" not in page.html  # … nor sent


def test_the_profile_is_given_once_and_prefills_the_forms(people) -> None:  # noqa: ANN001
    citizen = register(people, "hoso@example.com")
    page = citizen.get("/tai-khoan")
    assert page.has('value="Trần Thị An"', 'value="0987654321"')
    page = citizen.post("/tai-khoan", {"full_name": "", "phone": "12", "id_number": "123",
                                       "birth_date-day": "31", "birth_date-month": "2", "birth_date-year": "1990"},
                        status=400)
    assert page.has("Nhập họ và tên", "Nhập số điện thoại", "12 chữ số", "Ngày sinh phải là một ngày có thật")
    assert page.has('value="31"')  # what was typed is kept
    page = citizen.post("/tai-khoan", {"full_name": "Trần Thị Bình An", "phone": "0901 234 567",
                                       "id_number": "001195000222", "address": "Xóm Bắc",
                                       "birth_date-day": "5", "birth_date-month": "6", "birth_date-year": "1990"})
    assert page.has("Đã lưu thông tin cá nhân", 'value="0901234567"', 'value="5"')
    task_id = start_birth_registration(citizen)
    page = citizen.get(f"/cong-viec/{task_id}/trang/requester")
    assert page.has('value="Trần Thị Bình An"', 'value="0901234567"', 'value="001195000222"')


def test_a_citizen_downloads_their_personal_data(people) -> None:  # noqa: ANN001
    citizen = register(people)
    code = submit_declaration(citizen, start_birth_registration(citizen))
    page = citizen.get("/tai-khoan")
    assert page.has('href="/tai-khoan/du-lieu.json"', "Tải dữ liệu cá nhân của tôi")
    response = citizen.client.get("/tai-khoan/du-lieu.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_json()
    assert data["account"]["full_name"] == "Trần Thị An" and [d["code"] for d in data["dossiers"]] == [code]
    official = people()
    official.login(RECEPTION)
    assert official.client.get("/tai-khoan/du-lieu.json").status_code == 403
    assert people().client.get("/tai-khoan/du-lieu.json").status_code in (302, 401)
