"""Refusals through the web: authorization on every object, CSRF, races between officials, bad input."""
from __future__ import annotations

import re

from tests.web.test_journey import RECEPTION, register, start_birth_registration, submit_declaration


def dossier_and_task(people):  # noqa: ANN001, ANN201
    """A submitted dossier: (owner, dossier url, code, id of the reception task)."""
    owner = register(people)
    code = submit_declaration(owner, start_birth_registration(owner))
    page = owner.get("/ho-so")
    dossier_url = re.search(r'href="(/ho-so/\d+)"', page.html).group(1)
    official = people()
    page = official.login(RECEPTION)
    task_id = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"', page.html).group(1)
    return owner, dossier_url, code, task_id


def test_a_citizen_never_reaches_another_citizens_dossier_or_an_officials_page(people) -> None:  # noqa: ANN001
    owner, dossier_url, code, task_id = dossier_and_task(people)
    other = register(people, "khac@example.com")
    page = other.get(dossier_url, status=404)
    assert code not in page.html and "Nguyễn Minh An" not in page.html
    other.get(dossier_url + "/so-do.bpmn", status=404)
    diagram = owner.get(dossier_url + "/so-do.bpmn")
    assert diagram.html.startswith("<?xml") and 'id="birth_registration"' in diagram.html
    page = owner.get(dossier_url)
    assert 'data-current="reception_check"' in page.html and "declaration" in page.html
    assert code not in other.get("/ho-so").html
    other.get(f"/tra-cuu?ma={code}", status=404)
    other.get(f"/can-bo/cong-viec/{task_id}", status=403)
    other.get("/can-bo/", status=403)
    other.get(f"/can-bo/ho-so/{dossier_url.rsplit('/', 1)[1]}", status=403)
    # the owner's own draft task pages are theirs alone
    task = start_birth_registration(owner)
    page = other.get(f"/cong-viec/{task}", status=404)
    other.get("/")
    other.post(f"/cong-viec/{task}/kiem-tra", status=404)


def test_an_official_cannot_act_on_another_roles_task(people) -> None:  # noqa: ANN001
    _owner, _url, _code, task_id = dossier_and_task(people)
    chairman = people()
    chairman.login("chutich@demo.motcua.vn")
    page = chairman.get(f"/can-bo/cong-viec/{task_id}", status=403)
    assert "vai trò khác" in page.html
    chairman.get("/can-bo/")
    chairman.post(f"/can-bo/cong-viec/{task_id}", {"reception_decision": "accept"}, status=403)
    chairman.post(f"/can-bo/cong-viec/{task_id}/nhan", status=403)
    # officials do not file dossiers, and do not see the citizen pages
    chairman.get("/ho-so", status=403)


def test_an_account_deactivated_after_login_is_signed_out(people, engine) -> None:  # noqa: ANN001
    from sqlalchemy import update

    from engine.models import User

    official = people()
    official.login(RECEPTION)
    official.get("/can-bo/")
    with engine.session() as s:
        s.execute(update(User).where(User.email == RECEPTION).values(active=False))
        s.commit()
    response = official.client.get("/can-bo/")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    official.get("/dang-nhap")  # and cannot sign in again
    page = official.post("/dang-nhap", {"email": RECEPTION, "password": "matkhau-demo-2026"}, status=400)
    assert "Email hoặc mật khẩu không đúng" in page.html


def test_anonymous_visitors_are_sent_to_log_in(people, app) -> None:  # noqa: ANN001
    visitor = people()
    for url in ("/ho-so", "/can-bo/", "/cong-viec/1", "/tra-cuu"):
        response = visitor.client.get(url)
        assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    page = visitor.get("/thu-tuc/birth_registration")
    assert page.has("Đăng nhập để nộp hồ sơ")


def test_forms_without_a_csrf_token_are_refused(people) -> None:  # noqa: ANN001
    citizen = register(people)
    page = citizen.post("/thu-tuc/birth_registration/bat-dau", {}, status=400, csrf=False)
    assert page.has("Biểu mẫu đã hết hạn")
    assert citizen.get("/ho-so").has("Bạn chưa có hồ sơ nào")
    visitor = people()
    visitor.post("/dang-nhap", {"email": "congdan@demo.motcua.vn", "password": "matkhau-demo-2026"}, status=400,
                 csrf=False)


def test_two_officials_claiming_the_same_task_exactly_one_gets_it(people, engine) -> None:  # noqa: ANN001
    from engine import accounts
    from engine.models import Agency
    from sqlalchemy import select

    with engine.session() as s:
        agency = s.scalar(select(Agency).where(Agency.level == "commune"))
        accounts.create_official(s, "motcua2@demo.motcua.vn", "mat-khau-can-bo-2", "Cán bộ Hai", agency,
                                 ["reception_officer"])
        s.commit()
    _owner, _url, code, task_id = dossier_and_task(people)
    first, second = people(), people()
    first.login(RECEPTION)
    second.login("motcua2@demo.motcua.vn", "mat-khau-can-bo-2")  # both see the task in the queue …
    assert first.page.has(code) and second.page.has(code)
    page = first.post(f"/can-bo/cong-viec/{task_id}/nhan")
    assert page.url == f"/can-bo/cong-viec/{task_id}"
    page = second.post(f"/can-bo/cong-viec/{task_id}/nhan")  # … the second is told, not failed
    assert page.url == "/can-bo/" and page.has("đã được cán bộ khác nhận xử lý")
    second.get(f"/can-bo/cong-viec/{task_id}")
    assert second.page.has("Đang được Trần Văn Tiếp xử lý")
    page = second.post(f"/can-bo/cong-viec/{task_id}", {"reception_decision": "accept"})
    assert page.has("đã được cán bộ khác nhận xử lý")
    assert first.get(f"/can-bo/cong-viec/{task_id}").has("Hoàn thành")
    page = second.post(f"/can-bo/cong-viec/{task_id}/tra-lai", status=403)  # only the claimant puts it back
    assert page.has("Chỉ cán bộ đã nhận công việc này, hoặc lãnh đạo bộ phận, mới trả lại được")


def test_an_official_acting_on_a_withdrawn_dossiers_task_is_told_why_and_changes_nothing(  # noqa: ANN001
        people, engine) -> None:
    from engine.models import HumanTask

    owner, dossier_url, code, task_id = dossier_and_task(people)
    official = people()
    official.login(RECEPTION)
    official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    owner.get(dossier_url + "/rut")
    owner.post(dossier_url + "/rut", {"reason": "Gia đình sẽ nộp ở nơi khác."})
    page = official.post(f"/can-bo/cong-viec/{task_id}", {"reception_decision": "accept"})  # the tab still open
    assert page.url == "/can-bo/" and page.has("Công việc này đã bị huỷ: người nộp đã rút hồ sơ")
    assert official.get(f"/can-bo/cong-viec/{task_id}").has("Công việc này đã bị huỷ")
    page = official.post(f"/can-bo/cong-viec/{task_id}/tra-lai")
    assert page.url == "/can-bo/" and page.has("Công việc này đã bị huỷ") and "Đã trả công việc" not in page.html
    with engine.session() as s:
        row = s.get(HumanTask, int(task_id))
        assert row.state == "cancelled" and row.claimed_by_id is not None  # the record of who had it is kept


def test_bad_input_gets_a_clear_page(people) -> None:  # noqa: ANN001
    citizen = register(people)
    page = citizen.get("/tra-cuu?ma=KHONG-CO-MA", status=404)
    assert page.has("Không tìm thấy hồ sơ có mã KHONG-CO-MA")
    citizen.get("/tra-cuu?ma=", status=400)
    citizen.get("/thu-tuc/khong-co", status=404)
    citizen.get("/ho-so/999999", status=404)
    citizen.get("/cong-viec/999999", status=404)
    task = start_birth_registration(citizen)
    citizen.get(f"/cong-viec/{task}/trang/khong-co", status=404)
    page = citizen.post(f"/cong-viec/{task}/trang/notice", {"copies_requested": "x" * 50_000, "delivery_method": "pigeon"},
                        status=400)
    assert page.has("Số bản sao trích lục yêu cầu cấp phải là một số nguyên", "Chọn cách nhận kết quả")
    response = citizen.client.post(f"/cong-viec/{task}/trang/notice", data={"x": "y" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    # registering twice with one email, or with a short password
    visitor = people()
    visitor.get("/dang-ky")
    page = visitor.post("/dang-ky", {"full_name": "A", "email": "an@example.com", "password": "ngan"}, status=400)
    assert page.has("Email này đã được dùng để đăng ký", "Mật khẩu phải có ít nhất 10 ký tự")
    page = visitor.post("/dang-nhap", {"email": "an@example.com", "password": "sai-mat-khau-roi"}, status=400)
    assert page.has("Email hoặc mật khẩu không đúng")


def test_control_characters_and_overlong_account_fields_get_a_clear_page(people) -> None:  # noqa: ANN001
    # a NUL byte made PostgreSQL fail with a 500: every page now refuses control characters with a 400
    citizen = register(people)
    for url in ("/tra-cuu?ma=a%00b", "/thu-tuc/a%00b", "/?q=khai%01sinh"):
        page = citizen.get(url, status=400)
        assert page.has("Dữ liệu gửi lên có ký tự không hợp lệ", "ký tự NUL"), url
    task = start_birth_registration(citizen)
    citizen.get(f"/cong-viec/{task}/trang/child")
    page = citizen.post(f"/cong-viec/{task}/trang/child", {"child_full_name": "An\x00", "child_birth_place": "Xã\x1b"},
                        status=400)
    assert page.has("Dữ liệu gửi lên có ký tự không hợp lệ")
    page = citizen.get(f"/cong-viec/{task}/trang/child")
    assert "An" not in re.findall(r'id="child_full_name"[^>]*', page.html)[0]  # nothing was saved
    citizen.get("/cong-viec/%d/trang/notice" % task)
    citizen.post(f"/cong-viec/{task}/trang/notice", {"postal_address": "Dòng một\r\nDòng hai\tX",
                                                      "birth_notice_number": "CS-1"}, status=400)  # allowed, other errors
    visitor = people()
    visitor.get("/dang-nhap")
    page = visitor.post("/dang-nhap", {"email": "an@example.com\x00", "password": "mat-khau-rat-dai"}, status=400)
    assert page.has("Dữ liệu gửi lên có ký tự không hợp lệ")
    # overlong account fields: a message, never a database error (PostgreSQL) or a stored name no form accepts
    visitor.get("/dang-ky")
    page = visitor.post("/dang-ky", {"full_name": "A" * 201, "email": "x" * 250 + "@example.com",
                                     "password": "mat-khau-rat-dai"}, status=400)
    assert page.has("Họ và tên không được quá 100 ký tự", "Địa chỉ email không được quá 200 ký tự")
    citizen.get("/tai-khoan")
    page = citizen.post("/tai-khoan", {"full_name": "Trần Thị An", "address": "x" * 301, "phone": "123456789"},
                        status=400)
    assert page.has("Địa chỉ không được quá 300 ký tự", "Nhập số điện thoại, ví dụ 0912345678")
    page = citizen.post("/tai-khoan", {"full_name": "Trần Thị An", "address": "x" * 300, "phone": "+84912345678"})
    assert page.has("Đã lưu thông tin cá nhân")


def test_security_headers(people) -> None:  # noqa: ANN001
    response = people().client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)


def test_a_dossier_whose_stored_state_cannot_be_read_still_shows_its_page(  # noqa: ANN001
        people, engine, caplog) -> None:
    """A workflow state that cannot be restored (damage) must not hide the rest of the dossier: its page shows its
    details and timeline, the diagram marks where its open task rows stand and what its audit trail passed, and
    the error is logged for operators. A bulk-seeded dossier's placeholder (no state, by design) is shown alike,
    without an error."""
    from sqlalchemy import update

    from engine import runtime
    from engine.models import Dossier

    owner, dossier_url, code, _task_id = dossier_and_task(people)
    for state, logged in (('{"tasks": {}, "root": "not-a-uuid"}', True), (runtime.PLACEHOLDER_STATE, False)):
        caplog.clear()
        with engine.session() as s:
            s.execute(update(Dossier).where(Dossier.code == code).values(workflow=state))
            s.commit()
        page = owner.get(dossier_url)
        assert page.has(code, "Trần Thị An", 'data-current="reception_check"')
        assert re.search(r'data-done="[^"]*declaration', page.html)
        assert ("cannot be restored" in caplog.text) is logged


def test_a_step_on_a_dossier_without_a_readable_state_is_refused_with_a_reason(  # noqa: ANN001
        people, engine, caplog) -> None:
    """A bulk-seeded dossier (no process state, by design) and a dossier whose stored state is damaged cannot go
    on: the official is told why (409, in their language), nothing is stored (the task stays open and unclaimed,
    the dossier's version and data unchanged), and the damage, not the seeded case, is logged."""
    from sqlalchemy import select, update

    from engine import runtime
    from engine.models import Dossier, HumanTask

    _owner, _dossier_url, code, task_id = dossier_and_task(people)
    official = people()
    official.login(RECEPTION)
    cases = ((runtime.PLACEHOLDER_STATE, "sinh hàng loạt để đo hiệu năng", False),
             ('{"tasks": {}, "root": "not-a-uuid"}', "Không đọc được trạng thái quy trình", True))
    for state, says, logged in cases:
        caplog.clear()
        with engine.session() as s:  # (a new row version, as every writer leaves: the cached workflow is stale)
            s.execute(update(Dossier).where(Dossier.code == code).values(workflow=state,
                                                                         row_version=Dossier.row_version + 1))
            s.commit()
            version, data = s.execute(select(Dossier.row_version, Dossier.data).where(Dossier.code == code)).one()
        page = official.post(f"/can-bo/cong-viec/{task_id}", {"reception_decision": "accept"}, status=409)
        assert page.has(says)
        assert ("cannot be restored" in caplog.text) is logged
        with engine.session() as s:
            assert s.execute(select(Dossier.row_version, Dossier.data).where(Dossier.code == code)).one() == (
                version, data)
            task = s.get(HumanTask, int(task_id))
            assert (task.state, task.claimed_by_id, task.completed_at) == ("open", None, None)


def test_ids_no_row_can_have_are_not_found(people) -> None:  # noqa: ANN001
    """A number typed into a URL beyond what the database's ids hold is 'not found', like any other unknown id,
    not the database's out-of-range error (a 500)."""
    citizen = register(people)
    official = people()
    official.login(RECEPTION)
    for huge in (2**31, 2**63, 10**30):
        for path in (f"/ho-so/{huge}", f"/ho-so/{huge}/so-do.bpmn", f"/cong-viec/{huge}",
                     f"/cong-viec/{huge}/kiem-tra"):
            citizen.get(path, status=404)
        for path in (f"/can-bo/cong-viec/{huge}", f"/can-bo/ho-so/{huge}"):
            official.get(path, status=404)
        official.post(f"/can-bo/cong-viec/{huge}/nhan", status=404)


def _login(client, email: str, password: str, **headers: str):  # noqa: ANN001, ANN201
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/dang-nhap", data={"email": email, "password": password, "csrf_token": token},
                       headers=headers)


def test_password_guessing_is_made_to_wait_with_a_clear_message(app) -> None:  # noqa: ANN001
    from engine import logins

    guesser = app.test_client()
    for _ in range(logins.PER_PAIR):
        response = _login(guesser, "congdan@demo.motcua.vn", "doan-mat-khau")
        assert response.status_code == 400 and "Email hoặc mật khẩu không đúng" in response.get_data(as_text=True)
    # the right password now waits too, and the page says for how long; a forged X-Forwarded-For changes nothing
    # when no proxy is declared (MOTCUA_PROXIES)
    response = _login(guesser, "congdan@demo.motcua.vn", "matkhau-demo-2026", **{"X-Forwarded-For": "192.0.2.99"})
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Đã có quá nhiều lần đăng nhập sai" in html and "15 phút" in html
    assert 'href="#email"' in html  # in the error summary, linked to the field
    assert "/dang-xuat" not in html  # not signed in
    english = app.test_client()
    english.get("/ngon-ngu/en")
    response = _login(english, "congdan@demo.motcua.vn", "matkhau-demo-2026")
    assert response.status_code == 429 and "too many failed logins" in response.get_data(as_text=True)


def test_behind_a_declared_proxy_the_forwarded_address_is_counted(engine) -> None:  # noqa: ANN001
    from engine import logins
    from web import create_app

    app = create_app(engine=engine, SECRET_KEY="test-secret-key", TESTING=True, PROXIES=1)
    guesser = app.test_client()
    for _ in range(logins.PER_PAIR):
        assert _login(guesser, "congdan@demo.motcua.vn", "doan", **{"X-Forwarded-For": "192.0.2.1"}).status_code == 400
    assert _login(guesser, "congdan@demo.motcua.vn", "matkhau-demo-2026",
                  **{"X-Forwarded-For": "192.0.2.1"}).status_code == 429
    owner = app.test_client()  # the owner, behind the same proxy, from their own address
    assert _login(owner, "congdan@demo.motcua.vn", "matkhau-demo-2026",
                  **{"X-Forwarded-For": "198.51.100.5"}).status_code == 302


def test_one_address_that_created_many_accounts_waits(people, engine) -> None:  # noqa: ANN001
    import dataclasses

    engine.settings = dataclasses.replace(engine.settings, registrations_per_address=2)
    for n in range(2):
        visitor = people()
        visitor.get("/dang-ky")
        assert visitor.post("/dang-ky", {"full_name": "Trần Thị An", "email": f"an{n}@example.com",
                                         "password": "mat-khau-rat-dai"}).url == "/"
    visitor = people()
    visitor.get("/dang-ky")
    page = visitor.post("/dang-ky", {"full_name": "Trần Thị An", "email": "an9@example.com",
                                     "password": "mat-khau-rat-dai"}, status=429)
    assert page.has("Đã có nhiều tài khoản được tạo từ địa chỉ mạng này", "15 phút", 'value="an9@example.com"')
    response = visitor.client.post("/dang-ky", data={"full_name": "A", "email": "an9@example.com",
                                                     "password": "mat-khau-rat-dai", "csrf_token": visitor.token()})
    assert response.status_code == 429 and 800 < int(response.headers["Retry-After"]) <= 900
    visitor.get("/dang-nhap")
    assert visitor.post("/dang-nhap", {"email": "an9@example.com", "password": "mat-khau-rat-dai"},
                        status=400).has("Email hoặc mật khẩu không đúng")  # no account was made


def test_numbers_too_large_for_the_database_are_not_found_not_a_crash(people) -> None:  # noqa: ANN001
    """An id typed by hand past what the database holds (SQLite and PostgreSQL refuse such integers), in an address,
    a query or a form."""
    huge = "9" * 20
    _owner, _url, _code, _task_id = dossier_and_task(people)
    citizen = register(people, "khac@example.com")
    citizen.get(f"/ho-so/{huge}", status=404)
    citizen.get(f"/cong-viec/{huge}", status=404)
    citizen.get(f"/?co-quan={huge}")
    citizen.get(f"/thu-tuc/birth_registration?co-quan={huge}")
    citizen.post("/thu-tuc/birth_registration/bat-dau", {"agency_id": huge})  # (as if none was chosen)
    admin = people()
    admin.login("quantri@demo.motcua.vn")
    admin.get(f"/quan-tri/can-bo/{huge}", status=404)
    admin.get("/quan-tri/can-bo/moi")
    page = admin.post("/quan-tri/can-bo/moi", {"email": "a@b.vn", "full_name": "Cán bộ", "agency_id": huge,
                                                 "roles": "reception_officer"}, status=400)
    assert page.has("Chọn cơ quan của cán bộ")
