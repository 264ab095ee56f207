"""Giving tasks in the back office: the head of office's "Phân công" page lists every open task of the agency with who
holds it and each official's load; a task's page gives it to an official with its role; the holder hands a task over
to a colleague; a holder changed meanwhile is said, not overwritten; nobody else sees the page."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine import accounts as account_ops
from engine.models import Agency, HumanTask, User
from tests.web.test_guards import dossier_and_task
from tests.web.test_journey import CHAIRMAN, RECEPTION, register, start_birth_registration, submit_declaration

HEAD = "lanhdao@demo.motcua.vn"
COLLEAGUE = "motcua2@demo.motcua.vn"


def colleague(engine) -> int:  # noqa: ANN001
    """A second reception officer of the commune; their account's id."""
    with engine.session() as s:
        commune = s.scalar(select(Agency).where(Agency.level == "commune"))
        made = account_ops.create_official(s, COLLEAGUE, "mat-khau-dai-du", "Trần Thị Hai", commune,
                                           ["reception_officer"])
        s.commit()
        return made.id


def held_and_head(people):  # noqa: ANN001, ANN201
    """A dossier's reception task, claimed by the reception officer; and the head of office, signed in."""
    _owner, _url, _code, task_id = dossier_and_task(people)
    official = people()
    official.login(RECEPTION)
    official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    head = people()
    head.login(HEAD)
    return task_id, head


def user_id(engine, email: str) -> int:  # noqa: ANN001
    with engine.session() as s:
        return s.scalar(select(User.id).where(User.email == email))


def test_the_head_of_office_gives_a_waiting_task_to_an_official(people, engine) -> None:  # noqa: ANN001
    _owner, _url, code, task_id = dossier_and_task(people)
    head = people()
    page = head.login(HEAD)  # (no task role of their own: their page is the agency's tasks)
    assert page.url == "/can-bo/phan-cong" and page.has('href="/can-bo/phan-cong"', "Phân công")
    row = re.search(rf'<tr class="govuk-table__row" data-task-id="{task_id}".*?</tr>', page.html, re.S).group(0)
    assert code in row and "Chưa ai nhận" in row and f"/can-bo/cong-viec/{task_id}#giao-viec" in row
    assert page.has("Công việc đang mở (1)", "Trần Văn Tiếp", "Đang giữ")
    assert f'data-task-id="{task_id}"' in head.get("/can-bo/phan-cong?chua-nhan=1").html
    page = head.get(f"/can-bo/cong-viec/{task_id}")
    assert page.has("Giao việc", "Trần Văn Tiếp (đang giữ 0 việc)", 'name="seen" value=""')
    assert 'action="/can-bo/cong-viec/%s/nhan"' % task_id not in page.html  # not theirs to do
    page = head.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": "", "seen": ""}, status=400)
    assert page.has('href="#assignee"', "Chọn một cán bộ của cơ quan có vai trò của công việc này.")
    page = head.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": user_id(engine, RECEPTION), "seen": ""})
    assert page.url == "/can-bo/phan-cong"
    assert page.has("cho Trần Văn Tiếp.", code)
    row = re.search(rf'data-task-id="{task_id}".*?</tr>', page.html, re.S).group(0)
    assert "Trần Văn Tiếp" in row and "Chưa ai nhận" not in row
    page = head.get("/can-bo/phan-cong?chua-nhan=1")  # only those nobody holds: none now
    assert page.has("Công việc chưa ai nhận (0)", "Không có công việc nào.") and "data-task-id" not in page.html
    official = people()
    page = official.login(RECEPTION)
    mine = page.html[page.html.index('id="mine-caption"'):page.html.index('id="queue-caption"')]
    assert f'data-task-id="{task_id}"' in mine  # in "Việc của tôi", as if claimed
    page = official.get(f"/can-bo/cong-viec/{task_id}")
    assert page.has("Hoàn thành") and 'name="seen"' not in page.html  # no colleague with the role to hand it to
    assert page.has("Cơ quan không còn cán bộ nào khác có vai trò của công việc này.")


def test_the_holder_hands_a_task_over_and_a_stale_page_changes_nothing(people, engine) -> None:  # noqa: ANN001
    _owner, _url, _code, task_id = dossier_and_task(people)
    other = colleague(engine)
    official = people()
    official.login(RECEPTION)
    official.post(f"/can-bo/cong-viec/{task_id}/nhan")
    head = people()
    head.login(HEAD)
    stale = head.get(f"/can-bo/cong-viec/{task_id}")  # shows Trần Văn Tiếp holding it
    page = official.get(f"/can-bo/cong-viec/{task_id}")
    assert page.has("Chuyển cho cán bộ khác", "Trần Thị Hai (đang giữ 0 việc)")
    page = official.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": other, "seen": user_id(engine, RECEPTION)})
    assert page.url == "/can-bo/" and page.has("cho Trần Thị Hai.")
    assert f'data-task-id="{task_id}"' not in page.html  # no longer theirs, and not in the queue
    official.get(f"/can-bo/cong-viec/{task_id}")
    official.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": other, "seen": other}, status=403)
    # the head's page was read before the hand-over: giving from it is refused, and the task page says why
    head.page = stale
    page = head.post(f"/can-bo/cong-viec/{task_id}/giao",
                     {"assignee": user_id(engine, RECEPTION), "seen": user_id(engine, RECEPTION)})
    assert page.url == f"/can-bo/cong-viec/{task_id}"
    assert page.has("Người xử lý công việc này vừa thay đổi. Xem lại trước khi giao.", "Đang được Trần Thị Hai xử lý")
    with engine.session() as s:
        assert s.scalar(select(HumanTask.claimed_by_id).where(HumanTask.id == int(task_id))) == other


def test_only_a_head_of_office_sees_the_agency_tasks(people) -> None:  # noqa: ANN001
    _owner, _url, _code, task_id = dossier_and_task(people)
    chairman = people()
    page = chairman.login(CHAIRMAN)
    assert "/can-bo/phan-cong" not in page.html
    chairman.get("/can-bo/phan-cong", status=403)
    chairman.get(f"/can-bo/cong-viec/{task_id}", status=403)
    chairman.get("/can-bo/")
    chairman.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": "1", "seen": ""}, status=403)


def test_the_head_of_office_sees_each_officials_figures(people) -> None:  # noqa: ANN001
    dossier_and_task(people)
    official = people()
    official.login(RECEPTION)
    assert "Theo cán bộ" not in official.get("/can-bo/thong-ke").html
    head = people()
    head.login(HEAD)
    page = head.get("/can-bo/thong-ke?thang=&nam=2026")
    assert page.has("Theo cán bộ", "Việc đã xong trong kỳ", "Đang giữ quá hạn", "Trần Văn Tiếp")
    table = page.html[page.html.index('id="by-official-caption"'):]
    assert table.index("Phạm Văn Chủ") < table.index("Đinh Văn Đạo") < table.index("Trần Văn Tiếp")


def test_the_head_of_office_puts_a_held_task_back(people, engine) -> None:  # noqa: ANN001
    task_id, head = held_and_head(people)
    page = head.get(f"/can-bo/cong-viec/{task_id}")
    assert page.has("Đang được Trần Văn Tiếp xử lý.", "Trả về hàng đợi chung")
    page = head.post(f"/can-bo/cong-viec/{task_id}/tra-lai", {"seen": user_id(engine, RECEPTION)})
    assert page.url == "/can-bo/phan-cong" and page.has("Đã trả công việc về hàng đợi chung.")
    row = re.search(rf'data-task-id="{task_id}".*?</tr>', page.html, re.S).group(0)
    assert "Chưa ai nhận" in row


def test_a_hidden_field_changed_by_hand_is_refused_not_a_crash(people, engine) -> None:  # noqa: ANN001
    task_id, head = held_and_head(people)
    other = colleague(engine)
    for seen in ("²", "99999999999999999999", "-1", "abc"):
        head.get(f"/can-bo/cong-viec/{task_id}")
        page = head.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": other, "seen": seen})
        assert page.has("Người xử lý công việc này vừa thay đổi"), seen
        page = head.post(f"/can-bo/cong-viec/{task_id}/tra-lai", {"seen": seen})
        assert page.has("Người xử lý công việc này vừa thay đổi"), seen
    for assignee in ("²", "99999999999999999999", "<b>"):
        head.get(f"/can-bo/cong-viec/{task_id}")
        head.post(f"/can-bo/cong-viec/{task_id}/giao", {"assignee": assignee, "seen": ""}, status=400)


def test_the_head_of_office_gives_several_tasks_at_once(people, engine) -> None:  # noqa: ANN001
    _owner, _url, code, first = dossier_and_task(people)
    other = register(people, "khac@example.com")
    second_code = submit_declaration(other, start_birth_registration(other))
    head = people()
    head.login(HEAD)
    page = head.get("/can-bo/phan-cong?chua-nhan=1")
    second = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(second_code)}"', page.html).group(1)
    assert page.has(f'name="viec" type="checkbox" value="{first}:"', f'name="viec" type="checkbox" value="{second}:"',
                    "Giao các công việc đã chọn cho", "Trần Văn Tiếp (đang giữ 0 việc)", 'name="chua-nhan" value="1"')
    label = f'for="viec-{first}"><span class="govuk-visually-hidden">Chọn {code}: '
    assert label in page.html  # each box named for its dossier and task
    # nothing chosen, nobody chosen: both said, with links to the fields
    page = head.post("/can-bo/phan-cong", {"chua-nhan": "1"}, status=400)
    assert page.has(f'href="#viec-{first}"', "Chọn ít nhất một công việc để giao.", 'href="#assignee"',
                    "Chọn một cán bộ đang làm việc tại cơ quan.")
    # a task chosen but nobody: the choice is kept
    page = head.post("/can-bo/phan-cong", {"viec": [f"{first}:"], "assignee": ""}, status=400)
    assert f'value="{first}:" checked' in page.html and f'value="{second}:" checked' not in page.html
    # the second was claimed after the page was shown: the first is given, the second said
    other_official = colleague(engine)
    official = people()
    official.login(COLLEAGUE, "mat-khau-dai-du")
    official.post(f"/can-bo/cong-viec/{second}/nhan")
    reception = user_id(engine, RECEPTION)
    page = head.get("/can-bo/phan-cong?chua-nhan=1&sap-xep=han")  # (the order is kept after giving)
    assert page.has('<input type="hidden" name="sap-xep" value="han">', '<option value="han" selected>')
    page = head.post("/can-bo/phan-cong", {"viec": [f"{first}:", f"{second}:"], "assignee": reception,
                                           "chua-nhan": "1", "sap-xep": "han"})
    assert page.url == "/can-bo/phan-cong?chua-nhan=1&sap-xep=han"
    assert page.has("Đã giao 1 công việc cho Trần Văn Tiếp.", "Không giao được 1 công việc:",
                    f"<li>{second_code} – Tiếp nhận, kiểm tra hồ sơ: Người xử lý công việc này vừa thay đổi. "
                    "Xem lại trước khi giao.</li>")
    with engine.session() as s:
        held = dict(s.execute(select(HumanTask.id, HumanTask.claimed_by_id)
                              .where(HumanTask.id.in_([int(first), int(second)]))).all())
    assert held == {int(first): reception, int(second): other_official}
    # hand-made values: unreadable tasks are said not found, never a crash
    page = head.post("/can-bo/phan-cong", {"viec": ["²:", "99999999999999999999:", f"{first}:x"],
                                           "assignee": other_official})
    assert page.has("Không tìm thấy công việc này.", "Người xử lý công việc này vừa thay đổi")
    head.post("/can-bo/phan-cong", {"viec": [f"{first}:"], "assignee": "²"}, status=400)
    chairman = people()
    chairman.login(CHAIRMAN)
    chairman.get("/can-bo/")
    chairman.post("/can-bo/phan-cong", {"viec": [f"{first}:"], "assignee": reception}, status=403)


def test_the_head_of_office_spreads_tasks_over_the_officials_with_their_role(people, engine) -> None:  # noqa: ANN001
    _owner, _url, _code, first = dossier_and_task(people)
    other = register(people, "khac@example.com")
    second_code = submit_declaration(other, start_birth_registration(other))
    colleague(engine)
    head = people()
    head.login(HEAD)
    page = head.get("/can-bo/phan-cong")
    second = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(second_code)}"', page.html).group(1)
    assert page.has('<option value="deu">Chia đều cho các cán bộ có vai trò của từng việc</option>')
    page = head.post("/can-bo/phan-cong", {"viec": [f"{first}:", f"{second}:"], "assignee": "deu"})
    assert page.has("Đã chia 2 công việc: Trần Thị Hai 1, Trần Văn Tiếp 1.")
    with engine.session() as s:
        held = set(s.scalars(select(HumanTask.claimed_by_id).where(HumanTask.id.in_([int(first), int(second)]))))
    assert held == {user_id(engine, COLLEAGUE), user_id(engine, RECEPTION)}
