"""The files of a dossier's documents: read for what they are, required before the first submission, sent with the
applicant's step, seen by the applicant and (once sent) the agency's officials, and nobody else."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from engine import attachments, clock
from engine.api import Engine
from engine.errors import Forbidden, FormInvalid, NotFound, TaskNotOpen
from engine.scenarios import placeholder_pdf
from tests.documents import attach_required, picture
from tests.engine.test_birth_registration import CITIZEN, ROLE_EMAIL, Journey, declaration, user

RECEPTION = ROLE_EMAIL["reception_officer"]
PNG, JPEG = picture("PNG"), picture("JPEG")  # (no metadata: kept byte for byte)
EXE = b"MZ\x90\x00" + bytes(60)


@pytest.fixture(autouse=True)
def monday() -> Any:
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):  # (the declaration's dates count from it)
        yield


def draft(engine: Engine) -> int:
    with engine.session() as s:
        view = engine.start_dossier(s, "birth_registration", user(s, CITIZEN))
        s.commit()
    return view.id


def declaration_task(engine: Engine, dossier_id: int) -> int:
    with engine.session() as s:
        (task,) = engine.dossier(s, dossier_id, user(s, CITIZEN)).open_tasks
    return task.id


def test_a_draft_goes_only_with_a_file_for_every_required_document(engine: Engine) -> None:
    dossier_id = draft(engine)
    task_id = declaration_task(engine, dossier_id)
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        with pytest.raises(FormInvalid) as refused:
            engine.complete(s, task_id, citizen, declaration())
        assert refused.value.errors == {
            "doc-birth_notice": {"vi": "Đính kèm Giấy chứng sinh", "en": "Attach a file for “Birth notice”"},
            "doc-requester_id": {"vi": "Đính kèm Giấy tờ tùy thân của người yêu cầu",
                                 "en": "Attach a file for “The requester's identity document”"},
        }
        s.rollback()
        engine.attach(s, dossier_id, citizen, "birth_notice", "giay chung sinh.pdf", placeholder_pdf("x"))
        s.commit()
        with pytest.raises(FormInvalid) as refused:  # the form's errors and the documents' come together
            engine.complete(s, task_id, citizen, declaration(child_full_name=""))
        assert sorted(refused.value.errors) == ["child_full_name", "doc-requester_id"]
        s.rollback()
        engine.attach(s, dossier_id, citizen, "requester_id", "cccd.jpg", JPEG)
        engine.attach(s, dossier_id, citizen, "marriage_certificate", "ket-hon.png", PNG)  # optional, given too
        s.commit()
        completion = engine.complete(s, task_id, citizen, declaration())
        s.commit()
    assert completion.submitted
    with engine.session() as s:
        mine = engine.documents(s, dossier_id, user(s, CITIZEN))
        assert [(d.component, d.filename, d.content_type, d.sent) for d in mine] == [
            ("birth_notice", "giay chung sinh.pdf", "application/pdf", True),
            ("requester_id", "cccd.jpg", "image/jpeg", True),
            ("marriage_certificate", "ket-hon.png", "image/png", True)]
        assert engine.documents(s, dossier_id, user(s, RECEPTION)) == mine  # the agency sees what was sent
        view, content = engine.document(s, dossier_id, user(s, RECEPTION), mine[1].id)
        assert (view.filename, content) == ("cccd.jpg", JPEG)
        labels = [e.label["vi"] for e in engine.timeline(s, dossier_id, user(s, CITIZEN))]
        assert "Nộp kèm 3 tệp giấy tờ" in labels
        with pytest.raises(Forbidden):  # sent: neither taken back nor added to until the agency asks
            engine.detach(s, dossier_id, user(s, CITIZEN), mine[0].id)
        with pytest.raises(Forbidden):
            engine.attach(s, dossier_id, user(s, CITIZEN), "authorisation", "uq.pdf", placeholder_pdf("uq"))


def test_a_file_is_what_its_content_says_and_no_larger_than_the_limit(engine: Engine) -> None:
    dossier_id = draft(engine)
    engine.settings = dataclasses.replace(engine.settings, upload_max_bytes=2000)
    with engine.session() as s:
        citizen = user(s, CITIZEN)

        def refused(content: bytes, name: str = "giay.pdf") -> str:
            with pytest.raises(FormInvalid) as caught:
                engine.attach(s, dossier_id, citizen, "birth_notice", name, content)
            (message,) = caught.value.errors.values()
            assert list(caught.value.errors) == ["doc-birth_notice"]
            return message["vi"]

        assert refused(EXE) == "Tệp phải là PDF, JPG hoặc PNG. Tệp đã chọn không phải là một trong các loại này."
        assert refused(b"%PD").startswith("Tệp phải là PDF")  # too short to be anything
        assert refused(b"") == "Tệp đã chọn không có nội dung. Hãy chọn lại tệp."
        assert refused(placeholder_pdf("x") + bytes(2000)) == (f"Tệp phải nhỏ hơn {2000 / 1024 / 1024:g} MB. Hãy chụp "
                                                               "hoặc quét lại với độ phân giải thấp hơn.")
        # the name is the browser's, without its folders or control characters, ending as the content is
        shown = engine.attach(s, dossier_id, citizen, "birth_notice", "C:\\Users\\lan\\Ảnh\x07 giấy.PDF", PNG)
        assert (shown.filename, shown.content_type) == ("Ảnh giấy.png", "image/png")
        assert engine.attach(s, dossier_id, citizen, "birth_notice", None, JPEG).filename == "tep.jpg"
        again = engine.attach(s, dossier_id, citizen, "birth_notice", "lan-nua.jpg", JPEG)  # a second click
        assert again.filename == "tep.jpg"
        with pytest.raises(NotFound):
            engine.attach(s, dossier_id, citizen, "passport_photo", "anh.png", PNG)  # not one of the procedure's
        s.commit()
    with engine.session() as s:
        assert [d.filename for d in engine.documents(s, dossier_id, user(s, CITIZEN))] == ["Ảnh giấy.png", "tep.jpg"]


def test_a_dossier_holds_a_bounded_number_of_files(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_FILES", 2)
    dossier_id = draft(engine)
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        attach_required(engine, s, dossier_id, citizen)
        with pytest.raises(FormInvalid) as caught:
            engine.attach(s, dossier_id, citizen, "authorisation", "uq.pdf", placeholder_pdf("uq"))
        assert caught.value.errors["doc-authorisation"]["vi"].startswith("Mỗi hồ sơ đính kèm được tối đa 2 tệp")
        first = engine.documents(s, dossier_id, citizen)[0]
        assert engine.detach(s, dossier_id, citizen, first.id) == "birth_notice.pdf"  # a draft's file goes back
        engine.attach(s, dossier_id, citizen, "authorisation", "uq.pdf", placeholder_pdf("uq"))
        s.commit()


ON_POSTGRESQL = pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                        indirect=True)  # (SQLite's writers take turns from their transactions' start)


def in_turn(engine: Engine, first: Any, second: Any) -> Any:
    """Run ``first(session)``, then ``second(session)`` in another transaction on a thread while the first is still
    open; once ``second`` waits for a lock the first holds, commit the first. What ``second`` returned or raised."""
    outcome: dict[str, Any] = {}
    moment = clock.now()

    def run() -> None:
        with clock.use(clock.ManualClock(moment)), engine.session() as other:
            try:
                outcome["value"] = second(other)
                other.commit()
            except Exception as exc:  # noqa: BLE001 - handed to the test
                outcome["error"] = exc

    with engine.session() as s:
        first(s)
        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 20
        with engine.db.engine.connect() as watcher:
            while not watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                           " AND wait_event_type = 'Lock'")).scalar():
                watcher.commit()  # (a new snapshot of the activity each time)
                assert time.monotonic() < deadline and thread.is_alive(), f"the second did not wait: {outcome}"
                time.sleep(0.02)
        s.commit()
    thread.join(20)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@ON_POSTGRESQL
def test_two_uploads_at_once_do_not_pass_the_number_of_files(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "MAX_FILES", 3)
    dossier_id = draft(engine)
    with engine.session() as s:
        attach_required(engine, s, dossier_id, user(s, CITIZEN))  # two
        s.commit()

    def upload(name: str) -> Any:
        return lambda s: engine.attach(s, dossier_id, user(s, CITIZEN), "authorisation", name, placeholder_pdf(name))

    with pytest.raises(FormInvalid) as caught:
        in_turn(engine, upload("uq-1.pdf"), upload("uq-2.pdf"))
    assert caught.value.errors["doc-authorisation"]["vi"].startswith("Mỗi hồ sơ đính kèm được tối đa 3 tệp")
    with engine.session() as s:
        assert len(engine.documents(s, dossier_id, user(s, CITIZEN))) == 3


@ON_POSTGRESQL
def test_a_file_uploaded_while_the_dossier_is_submitted_goes_with_it_or_is_refused(engine: Engine) -> None:
    dossier_id = draft(engine)
    task_id = declaration_task(engine, dossier_id)
    with engine.session() as s:
        attach_required(engine, s, dossier_id, user(s, CITIZEN))
        s.commit()

    def upload(s: Any) -> Any:
        return engine.attach(s, dossier_id, user(s, CITIZEN), "marriage_certificate", "kh.png", PNG)

    def submit(s: Any) -> Any:
        return engine.complete(s, task_id, user(s, CITIZEN), declaration())

    assert in_turn(engine, upload, submit).submitted  # the upload first: the step waits, and sends it too
    with engine.session() as s:
        assert [d.sent for d in engine.documents(s, dossier_id, user(s, CITIZEN))] == [True, True, True]
    dossier_id = draft(engine)  # (another: the closures above read these names when they run)
    task_id = declaration_task(engine, dossier_id)
    with engine.session() as s:
        attach_required(engine, s, dossier_id, user(s, CITIZEN))
        s.commit()
    with pytest.raises(Forbidden):  # the step first: the upload waits, then finds the dossier sent
        in_turn(engine, submit, upload)
    with engine.session() as s:
        assert [d.sent for d in engine.documents(s, dossier_id, user(s, CITIZEN))] == [True, True]


def test_nobody_else_sees_or_changes_the_files(engine: Engine) -> None:
    dossier_id = draft(engine)
    with engine.session() as s:
        attached = attach_required(engine, s, dossier_id, user(s, CITIZEN))
        engine.register_citizen(s, "khac@example.vn", "mat-khau-rat-dai", "Người Khác")
        s.commit()
    with engine.session() as s:
        other = user(s, "khac@example.vn")
        for call in (lambda: engine.documents(s, dossier_id, other),
                     lambda: engine.document(s, dossier_id, other, attached[0].id),
                     lambda: engine.attach(s, dossier_id, other, "birth_notice", "x.pdf", placeholder_pdf("x")),
                     lambda: engine.detach(s, dossier_id, other, attached[0].id),
                     lambda: engine.document(s, dossier_id, user(s, RECEPTION), attached[0].id)):  # a draft: unseen
            with pytest.raises(NotFound):
                call()
        other_draft = engine.start_dossier(s, "birth_registration", other).id
        s.commit()
        with pytest.raises(NotFound):  # a file is reached only through its own dossier
            engine.document(s, other_draft, other, attached[0].id)


def test_a_supplement_brings_new_files_that_the_agency_sees_once_sent(engine: Engine) -> None:
    j = Journey(engine)  # (attaches the required documents)
    j.step("declaration", declaration())
    j.decide("reception_check", "supplement")
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        sent_before = engine.documents(s, j.dossier_id, citizen)
        extra = engine.attach(s, j.dossier_id, citizen, "birth_notice", "ro-net.jpg", JPEG)
        s.commit()
    with engine.session() as s:
        assert engine.documents(s, j.dossier_id, user(s, RECEPTION)) == sent_before  # not sent yet
        with pytest.raises(NotFound):
            engine.document(s, j.dossier_id, user(s, RECEPTION), extra.id)
        with pytest.raises(Forbidden):  # what was sent stays
            engine.detach(s, j.dossier_id, user(s, CITIZEN), sent_before[0].id)
    j.decide("provide_supplement", "answer")
    with engine.session() as s:
        seen = engine.documents(s, j.dossier_id, user(s, RECEPTION))
        assert [d.filename for d in seen] == [*(d.filename for d in sent_before), "ro-net.jpg"]
        assert all(d.sent for d in seen)
        assert "Nộp kèm 1 tệp giấy tờ" in [e.label["vi"] for e in engine.timeline(s, j.dossier_id, user(s, CITIZEN))]


def signed(engine: Engine, delivery_method: str) -> Journey:
    """A birth registration signed, its result to be returned (``delivery_method``: how the applicant chose)."""
    j = Journey(engine)
    j.step("declaration", declaration(delivery_method=delivery_method))
    j.decide("reception_check", "accept")
    j.decide("officer_review", "approve")
    j.decide("chairman_sign", "sign")
    return j


def test_the_electronic_result_goes_to_the_applicant_with_the_returning_step(engine: Engine) -> None:
    j = signed(engine, "online")
    task = j.open_task()
    assert task.bpmn_id == "return_result"
    with engine.session() as s:
        reception, citizen = user(s, RECEPTION), user(s, CITIZEN)
        assert engine.task(s, task.id, reception).result_file == "online"
        with pytest.raises(Forbidden):  # claimed first: the official who returns the result attaches it
            engine.attach_result(s, task.id, reception, "ket-qua.pdf", placeholder_pdf("kq"))
        engine.claim(s, task.id, reception)
        s.commit()
        with pytest.raises(FormInvalid) as refused:  # delivered online: not without the electronic copy
            engine.complete(s, task.id, reception, {"result_returned": "true", "payment_method": "cash"})
        assert refused.value.errors == {"doc-result": {"vi": "Đính kèm bản điện tử của kết quả giải quyết",
                                                       "en": "Attach the electronic copy of the result"}}
        s.rollback()
        wrong = engine.attach_result(s, task.id, reception, "nham.pdf", placeholder_pdf("nham"))
        result = engine.attach_result(s, task.id, reception, "giay-khai-sinh.pdf", placeholder_pdf("kq"))
        s.commit()
        assert engine.detach_result(s, task.id, reception, wrong.id) == "nham.pdf"
        s.commit()
        # being prepared: the agency sees it, the applicant not yet
        assert [d.filename for d in engine.documents(s, j.dossier_id, reception) if d.component == "result"] == [
            "giay-khai-sinh.pdf"]
        assert all(d.component != "result" for d in engine.documents(s, j.dossier_id, citizen))
        with pytest.raises(NotFound):
            engine.document(s, j.dossier_id, citizen, result.id)
        with pytest.raises(Forbidden):  # nor can the applicant remove anything now
            engine.detach(s, j.dossier_id, citizen, result.id)
        engine.complete(s, task.id, reception, {"result_returned": "true", "payment_method": "cash"})
        s.commit()
    with engine.session() as s:
        citizen = user(s, CITIZEN)
        (given,) = [d for d in engine.documents(s, j.dossier_id, citizen) if d.component == "result"]
        assert given.sent and engine.document(s, j.dossier_id, citizen, given.id)[1] == placeholder_pdf("kq")
        assert "Trả kết quả điện tử (1 tệp)" in [e.label["vi"] for e in engine.timeline(s, j.dossier_id, citizen)]
        with pytest.raises(TaskNotOpen):  # the task is done: nothing more to attach or take back through it
            engine.attach_result(s, task.id, user(s, RECEPTION), "sau.pdf", placeholder_pdf("sau"))


def test_a_result_by_post_may_go_without_an_electronic_copy(engine: Engine) -> None:
    j = signed(engine, "post")
    j.decide("return_result", "returned")
    assert j.view().status == "done"
