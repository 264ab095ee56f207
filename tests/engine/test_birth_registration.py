"""Every path of birth registration through the engine facade, without Flask.

Each step runs in its own session and transaction, so the workflow is saved to the database and restored from
it between every two steps, as it is between two web requests.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from engine import calendar
from engine.api import Engine
from engine.errors import FormInvalid
from engine.models import User
from tests.documents import attach_required

CODE = re.compile(r"^000\.31\.27\.H14-\d{6}-\d{4}$")
CITIZEN = "congdan@demo.motcua.vn"
ROLE_EMAIL = {
    "reception_officer": "motcua@demo.motcua.vn",
    "civil_status_officer": "hotich@demo.motcua.vn",
    "commune_chairman": "chutich@demo.motcua.vn",
}


def declaration(**changes: Any) -> dict[str, Any]:
    data = {
        "child_full_name": "Nguyễn Minh An", "child_sex": "male", "child_birth_date": "2026-11-02",
        "child_birth_place": "Trạm y tế xã Mẫu Sơn", "child_home_town": "Mẫu Sơn", "child_ethnicity": "Kinh",
        "child_nationality": "Việt Nam",
        "mother_full_name": "Nguyễn Thị Lan", "mother_birth_date": "1995-04-12", "mother_ethnicity": "Kinh",
        "mother_nationality": "Việt Nam", "mother_id_number": "001190012345", "mother_residence": "Thôn Đông, xã Mẫu Sơn",
        "father_known": "yes", "father_full_name": "Nguyễn Văn Bình", "father_birth_date": "1993-01-30",
        "father_ethnicity": "Kinh", "father_nationality": "Việt Nam", "father_id_number": "001093054321",
        "father_residence": "Thôn Đông, xã Mẫu Sơn",
        "requester_full_name": "Nguyễn Thị Lan", "requester_relationship": "mother", "requester_id_number": "001190012345",
        "requester_phone": "0912345678", "requester_email": "congdan@demo.motcua.vn",
        "birth_notice_number": "CS-2026-118", "birth_notice_date": "2026-11-03", "copies_requested": "2",
        "delivery_method": "post", "postal_address": "Thôn Đông, xã Mẫu Sơn, tỉnh Mẫu", "declaration_confirmed": "true",
    }
    data.update(changes)
    return data


DECISIONS = {
    "reception_check": {
        "accept": {"reception_decision": "accept"},
        "supplement": {"reception_decision": "supplement", "reception_reason": "Thiếu bản chụp giấy chứng sinh rõ nét."},
        "refuse": {"reception_decision": "refuse", "reception_reason": "Không thuộc thẩm quyền của UBND xã này."},
    },
    "provide_supplement": {"answer": {"supplement_response": "Tôi gửi lại bản chụp giấy chứng sinh rõ nét."}},
    "officer_review": {
        "approve": {"review_decision": "approve", "register_number": "118/2026"},
        "refuse": {"review_decision": "refuse", "review_reason": "Trẻ đã được đăng ký khai sinh ở nơi khác."},
    },
    "chairman_sign": {
        "sign": {"sign_decision": "sign"},
        "return": {"sign_decision": "return", "sign_note": "Kiểm tra lại quê quán của trẻ."},
    },
    "return_result": {"returned": {"result_returned": "true", "postal_tracking_number": "EV123456789VN",
                                   "payment_method": "cash"}},  # (the copies' fees, in cash at the desk)
}


@pytest.fixture(autouse=True)
def fixed_clock() -> Any:
    """The dates in the declaration are relative to this day (late registration counts from the birth)."""
    from engine import clock

    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):  # Monday 09:00 in Vietnam
        yield


def user(session, email: str) -> User:  # noqa: ANN001
    return session.scalar(select(User).where(User.email == email))


class Journey:
    """Drives one dossier step by step, each step in a fresh session (state saved and restored)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.steps: list[str] = []
        with engine.session() as s:
            view = engine.start_dossier(s, "birth_registration", user(s, CITIZEN))
            attach_required(engine, s, view.id, user(s, CITIZEN))
            s.commit()
        self.dossier_id = view.id
        assert view.status == "draft"

    def open_task(self) -> Any:
        with self.engine.session() as s:
            (task,) = self.engine.dossier(s, self.dossier_id, user(s, CITIZEN)).open_tasks
            return task

    def step(self, bpmn_id: str, data: dict[str, Any]) -> Any:
        task = self.open_task()
        assert task.bpmn_id == bpmn_id, f"expected {bpmn_id}, the dossier waits at {task.bpmn_id}"
        with self.engine.session() as s:
            if task.is_applicant_task:
                actor = user(s, CITIZEN)
                assert task.id in [t.id for t in self.engine.my_tasks(s, actor)]
            else:
                actor = user(s, ROLE_EMAIL[task.role])
                assert task.id in [t.id for t in self.engine.queue(s, actor)]
                self.engine.claim(s, task.id, actor)
                s.commit()
            completion = self.engine.complete(s, task.id, actor, data)
            s.commit()
        self.steps.append(bpmn_id)
        return completion

    @property
    def statuses(self) -> list[str]:
        """Every status the dossier took, in order, from its audit trail."""
        changes = [e.detail["to"] for e in self.timeline() if e.action == "status.changed"]
        return ["draft", *changes]

    def decide(self, bpmn_id: str, choice: str) -> Any:
        return self.step(bpmn_id, DECISIONS[bpmn_id][choice])

    def view(self) -> Any:
        with self.engine.session() as s:
            return self.engine.dossier(s, self.dossier_id, user(s, CITIZEN))

    def timeline(self) -> list[Any]:
        with self.engine.session() as s:
            return self.engine.timeline(s, self.dossier_id, user(s, CITIZEN))


def test_granted_on_the_first_pass(engine: Engine) -> None:
    j = Journey(engine)
    submitted = j.step("declaration", declaration())
    assert submitted.submitted and CODE.match(submitted.dossier.code)
    assert submitted.dossier.delivery_method == "post"
    view = j.view()
    # same working day, or the next working day after 15:00 (Vietnam time)
    assert view.appointment_at.date() >= view.submitted_at.date()
    assert (view.appointment_at - view.submitted_at) < dt.timedelta(days=8)
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    final = j.decide("return_result", "returned").dossier
    assert j.statuses == ["draft", "receiving", "new", "processing", "releasing", "done"]
    assert final.completed and final.open_tasks == () and final.finished_at is not None
    assert final.data["fee_total"] == 2 * final.data["copy_fee"] == 16000
    assert final.data["child_birth_date"] == "2026-11-02" and final.data["copies_requested"] == 2
    labels = [e.label["en"] for e in j.timeline()]
    for expected in ("The dossier was submitted online", "The dossier was accepted",
                     "The result is ready: the birth certificate is signed", "The result was returned to the applicant"):
        assert expected in labels
    # the choices officials made are kept with their label, for the timeline
    completed = [e for e in j.timeline() if e.action == "task.completed"]
    assert completed[1].detail["reception_decision"]["en"] == "Complete and valid: accept"


def test_supplement_requested_then_answered(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    asked = j.decide("reception_check", "supplement").dossier
    assert asked.status == "waiting"
    (task,) = asked.open_tasks
    assert task.is_applicant_task and task.bpmn_id == "provide_supplement"
    with engine.session() as s:  # the citizen's task is on their own list
        assert [t.bpmn_id for t in engine.my_tasks(s, user(s, CITIZEN))] == ["provide_supplement"]
    j.decide("provide_supplement", "answer")
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    j.decide("return_result", "returned")
    assert j.statuses == ["draft", "receiving", "waiting", "receiving", "new", "processing", "releasing", "done"]
    assert j.view().data["supplement_response"].startswith("Tôi gửi lại")
    details = [e.detail.get("reception_reason") for e in j.timeline() if e.action == "task.completed"]
    assert any(d and d["vi"].startswith("Thiếu bản chụp") for d in details)


def test_refused_at_reception(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    final = j.decide("reception_check", "refuse").dossier
    assert j.statuses == ["draft", "receiving", "denied"]
    assert final.completed and final.open_tasks == ()
    assert final.data["reception_reason"] == DECISIONS["reception_check"]["refuse"]["reception_reason"]


def test_refused_after_review(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration(father_known="no", father_full_name="", delivery_method="online", postal_address=""))
    j.decide("reception_check", "accept")
    final = j.decide("officer_review", "refuse").dossier
    assert j.statuses == ["draft", "receiving", "new", "processing", "unresolved"]
    assert final.completed and "father_full_name" not in final.data


def test_chairman_sends_it_back_for_another_review(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration(copies_requested="0"))
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    back = j.decide("chairman_sign", "return").dossier
    (task,) = back.open_tasks
    assert task.bpmn_id == "officer_review" and task.role == "civil_status_officer" and back.status == "processing"
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    final = j.decide("return_result", "returned").dossier
    assert final.status == "done" and final.data["fee_total"] == 0 and final.data["fee_paid"] is True
    assert j.steps == ["declaration", "reception_check", "officer_review", "chairman_sign", "officer_review",
                       "chairman_sign", "return_result"]


def test_the_declaration_reports_every_problem_at_once(engine: Engine) -> None:
    j = Journey(engine)
    bad = declaration(child_full_name="", mother_id_number="12345", requester_phone="12", copies_requested="nhiều",
                      father_full_name="", postal_address="", declaration_confirmed="", child_birth_date="2026-02-30")
    with pytest.raises(FormInvalid) as info:
        j.step("declaration", bad)
    errors = info.value.errors
    assert set(errors) == {"child_full_name", "child_birth_date", "mother_id_number", "father_full_name",
                           "requester_phone", "copies_requested", "postal_address", "declaration_confirmed"}
    assert errors["mother_id_number"]["vi"] == "Số định danh cá nhân gồm đúng 12 chữ số"
    assert errors["father_full_name"]["en"] == "Enter the father's full name"
    assert errors["postal_address"]["en"] == "Enter the address to post the result to"
    assert j.view().status == "draft" and j.open_task().state == "open"


def test_a_birth_date_after_today_or_before_1900_is_refused(engine: Engine) -> None:
    j = Journey(engine)
    tomorrow = (calendar.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(FormInvalid) as info:
        j.step("declaration", declaration(child_birth_date=tomorrow, mother_birth_date="1899-12-31",
                                          birth_notice_date=tomorrow))
    assert info.value.errors == {
        "child_birth_date": {"vi": "Ngày, tháng, năm sinh không được sau ngày hôm nay",
                             "en": "Date of birth must be today or in the past"},
        "mother_birth_date": {"vi": "Ngày sinh của mẹ không được trước ngày 01/01/1900",
                              "en": "Mother's date of birth must be 01/01/1900 or later"},
        "birth_notice_date": {"vi": "Ngày cấp giấy chứng sinh không được sau ngày hôm nay",
                              "en": "Date of the birth notice must be today or in the past"},
    }
    assert j.view().status == "draft" and j.open_task().state == "open"
    today = calendar.today().isoformat()  # a child born today can be registered today
    assert j.step("declaration", declaration(child_birth_date=today, birth_notice_date=today)).dossier.status == "receiving"


def test_answers_that_no_longer_apply_are_dropped_not_checked_or_kept(engine: Engine) -> None:
    j = Journey(engine)
    # the citizen first said the father was known, then changed it; and asked for the result online after typing
    # a postal address: those answers no longer apply (ui:onlyWhen), even a malformed ID number among them
    view = j.step("declaration", declaration(father_known="no", father_id_number="123", delivery_method="online",
                                             postal_address="Thôn Đông")).dossier
    assert view.status == "receiving"
    data = j.view().data
    assert data["father_known"] == "no" and data["delivery_method"] == "online"
    assert not any(data.get(name) for name in ("father_full_name", "father_birth_date", "father_id_number",
                                               "father_residence", "postal_address"))
    assert data["mother_full_name"] == "Nguyễn Thị Lan"


def test_every_status_change_is_audited_with_actor_and_reason(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "supplement")
    changes = [e for e in j.timeline() if e.action == "status.changed"]
    assert [(c.detail["from"], c.detail["to"]) for c in changes] == [("draft", "receiving"), ("receiving", "waiting")]
    assert changes[0].actor_name == "Nguyễn Thị Lan" and "reason" not in changes[0].detail
    assert changes[1].actor_name == "Trần Văn Tiếp"
    assert changes[1].detail["reason"] == DECISIONS["reception_check"]["supplement"]["reception_reason"]


def test_the_agencys_own_day_off_moves_the_due_date(engine: Engine) -> None:
    from engine import clock
    from engine.models import Agency, AgencyDay

    with engine.session() as s:
        agency = s.scalar(select(Agency).where(Agency.level == "commune"))
        s.add(AgencyDay(agency_id=agency.id, day=dt.date(2026, 12, 1), working=False, note="Đại hội"))
        s.commit()
    # Monday 30 November at 16:00: after 15:00, so due the next working day, and Tuesday 1 is the agency's day off
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 30, 9, 0))):
        j = Journey(engine)
        view = j.step("declaration", declaration()).dossier
    assert view.appointment_at == dt.datetime(2026, 12, 2, 10, 0)  # Wednesday 2 December, 17:00 in Vietnam
