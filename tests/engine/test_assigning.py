"""Giving a task to an official: a head of office ("supervisor") sees every open task of the agency and gives any of
them to an official with its role; the official holding a task hands it over; nobody else may, no task goes to
someone who may not do it, and a holder changed meanwhile is never overwritten (two heads of office at once: one
wins)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select, update

from engine import accounts as account_ops
from engine import clock
from engine import tasks as tasks_module
from engine.api import Engine
from engine.errors import AlreadyClaimed, Forbidden, FormInvalid, NotFound, TaskNotOpen
from engine.models import Agency, AuditEvent, HumanTask, TaskNotice, User
from engine.tasks import HOLDER_CHANGED
from tests.engine import test_facade
from tests.engine.test_facade import CITIZEN, RECEPTION, RECEPTION2, submit, user

eng, root = test_facade.eng, test_facade.root  # (the facade's fixtures: its sample procedure, a second officer)

HEAD, CHAIRMAN = "lanhdao@demo.motcua.vn", "chutich@demo.motcua.vn"


def actor(eng: Engine, s, email: str):  # noqa: ANN001, ANN201
    """The person as the web signs them in (engine.accounts.Actor)."""
    return eng.user(s, user(s, email).id)


def claimed(eng: Engine) -> int:
    """A dossier's first official task, claimed by the reception officer."""
    _dossier_id, task_id = submit(eng)
    with eng.session() as s:
        eng.claim(s, task_id, actor(eng, s, RECEPTION))
        s.commit()
    return task_id


def holder(eng: Engine, task_id: int) -> int | None:
    with eng.session() as s:
        return s.scalar(select(HumanTask.claimed_by_id).where(HumanTask.id == task_id))


def test_a_head_of_office_gives_a_task_and_its_holder_hands_it_over(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        head = actor(eng, s, HEAD)
        tasks, size = eng.agency_tasks(s, head)
        assert size == 1 and [(t.id, t.claimed_by_name) for t in tasks] == [(task_id, None)]
        assert eng.task(s, task_id, head).id == task_id  # seen, though not of the head's roles
        with pytest.raises(Forbidden):
            eng.claim(s, task_id, head)  # but not done by them
        options = eng.assignees(s, task_id, head)
        assert [(a.name, a.held) for a in options] == [("Cán bộ Hai", 0), ("Trần Văn Tiếp", 0)]
        reception = user(s, RECEPTION)
        given = eng.assign(s, task_id, head, str(reception.id), None)
        s.commit()
    assert given.claimed_by_id == reception.id and given.claimed_by_name == "Trần Văn Tiếp"
    with eng.session() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "task.assigned")).all()
        assert (event.actor_name, event.dossier_id) == ("Đinh Văn Đạo", dossier_id)
        assert event.label_vi.startswith("Giao cho Trần Văn Tiếp: ")
        official, colleague = actor(eng, s, RECEPTION), actor(eng, s, RECEPTION2)
        assert [t.id for t in eng.my_tasks(s, official)] == [task_id]
        assert [(w.name, w.held) for w in eng.workloads(s, head) if w.held] == [("Trần Văn Tiếp", 1)]
        # a Vietnamese list: by the given name, Đ among the D's
        assert [w.name for w in eng.workloads(s, head)] == ["Phạm Văn Chủ", "Đinh Văn Đạo", "Hoàng Văn Dựng",
                                                            "Cán bộ Hai", "Lê Thị Hộ", "Trần Văn Tiếp"]
        # the holder hands it over to a colleague with the role; then it is no longer theirs to give
        assert [a.name for a in eng.assignees(s, task_id, official)] == ["Cán bộ Hai"]
        eng.assign(s, task_id, official, colleague.id, official.id)
        s.commit()
    assert holder(eng, task_id) == user_id(eng, RECEPTION2)
    with eng.session() as s:
        official, colleague = actor(eng, s, RECEPTION), actor(eng, s, RECEPTION2)
        with pytest.raises(Forbidden):
            eng.assign(s, task_id, official, official.id, colleague.id)
        completion = eng.complete(s, task_id, colleague, {"note": "đã xem"})  # the new holder does it
        s.commit()
    assert completion.dossier.id == dossier_id


def user_id(eng: Engine, email: str) -> int:
    with eng.session() as s:
        return user(s, email).id


def test_nobody_else_gives_a_task_and_nobody_unfit_gets_it(eng: Engine) -> None:
    _dossier_id, task_id = submit(eng)
    with eng.session() as s:
        province = s.scalar(select(Agency).where(Agency.level == "province"))
        account_ops.create_official(s, "lanhdao.tinh@demo.motcua.vn", "x" * 12, "Lãnh đạo Tỉnh", province,
                                    ["supervisor"])
        account_ops.create_official(s, "nghi@demo.motcua.vn", "x" * 12, "Cán bộ Nghỉ", s.scalar(
            select(Agency).where(Agency.level == "commune")), ["reception_officer"])
        s.execute(update(User).where(User.email == "nghi@demo.motcua.vn").values(active=False))
        s.commit()
    with eng.session() as s:
        head, chairman, citizen = (actor(eng, s, e) for e in (HEAD, CHAIRMAN, CITIZEN))
        elsewhere = actor(eng, s, "lanhdao.tinh@demo.motcua.vn")
        reception = user(s, RECEPTION).id
        with pytest.raises(Forbidden):  # another role of the agency, not holding it
            eng.assignees(s, task_id, chairman)
        with pytest.raises(Forbidden):
            eng.assign(s, task_id, chairman, reception, None)
        with pytest.raises(Forbidden):
            eng.agency_tasks(s, chairman)
        with pytest.raises(Forbidden):
            eng.workloads(s, chairman)
        with pytest.raises(NotFound):  # another agency's head of office: not theirs to see
            eng.assign(s, task_id, elsewhere, reception, None)
        assert eng.agency_tasks(s, elsewhere) == ([], 0)
        with pytest.raises(NotFound):
            eng.assign(s, task_id, citizen, reception, None)
        for unfit in ("chutich@demo.motcua.vn", CITIZEN, "motcua.tinh@demo.motcua.vn", "nghi@demo.motcua.vn", HEAD):
            with pytest.raises(FormInvalid) as refused:  # another role, no official, another agency, locked, no role
                eng.assign(s, task_id, head, user(s, unfit).id, None)
            assert "assignee" in refused.value.errors
        for nonsense in ("", "abc", "-1", "99999999999999999999"):
            with pytest.raises(FormInvalid):
                eng.assign(s, task_id, head, nonsense, None)
    assert holder(eng, task_id) is None


def test_a_holder_changed_meanwhile_is_not_overwritten(eng: Engine) -> None:
    _dossier_id, task_id = submit(eng)
    with eng.session() as s:
        eng.claim(s, task_id, actor(eng, s, RECEPTION2))  # claimed after the head's page showed it unclaimed
        s.commit()
    with eng.session() as s:
        with pytest.raises(AlreadyClaimed) as refused:
            eng.assign(s, task_id, actor(eng, s, HEAD), user(s, RECEPTION).id, None)
        assert refused.value.message == HOLDER_CHANGED
        s.rollback()
    assert holder(eng, task_id) == user_id(eng, RECEPTION2)
    with eng.session() as s:
        colleague = actor(eng, s, RECEPTION2)
        eng.complete(s, task_id, colleague, {"note": "xong"})
        s.commit()
    with eng.session() as s, pytest.raises(TaskNotOpen):
        eng.assign(s, task_id, actor(eng, s, HEAD), user(s, RECEPTION).id, user(s, RECEPTION2).id)


def test_two_heads_of_office_giving_one_task_at_once_one_wins(eng: Engine) -> None:
    _dossier_id, task_id = submit(eng)
    with eng.session() as s:
        commune = s.scalar(select(Agency).where(Agency.level == "commune"))
        account_ops.create_official(s, "lanhdao2@demo.motcua.vn", "x" * 12, "Lãnh đạo Hai", commune, ["supervisor"])
        s.commit()
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def give(head_email: str, to_email: str) -> None:
        with eng.session() as s:
            head, to = actor(eng, s, head_email), user(s, to_email).id
            s.commit()
            barrier.wait()
            try:
                eng.assign(s, task_id, head, to, None)
                s.commit()
                results[head_email] = to_email
            except AlreadyClaimed:
                s.rollback()
                results[head_email] = "lost"

    threads = [threading.Thread(target=give, args=pair)
               for pair in ((HEAD, RECEPTION), ("lanhdao2@demo.motcua.vn", RECEPTION2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()).count("lost") == 1
    winner = next(v for v in results.values() if v != "lost")
    assert holder(eng, task_id) == user_id(eng, winner)
    with eng.session() as s:
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "task.assigned")).all()) == 1


def test_a_head_of_office_sees_each_officials_tasks_in_the_statistics(eng: Engine) -> None:
    manual = clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))  # Monday 09:00 in Vietnam
    with clock.use(manual):
        tasks = [submit(eng)[1] for _ in range(3)]
        with eng.session() as s:
            official, colleague = actor(eng, s, RECEPTION), actor(eng, s, RECEPTION2)
            eng.complete(s, tasks[0], official, {"note": "đúng hạn"})
            eng.claim(s, tasks[1], colleague)
            eng.claim(s, tasks[2], colleague)
            s.commit()
        manual.advance(dt.timedelta(days=10))  # past the dossiers' three working days
        with eng.session() as s:
            eng.complete(s, tasks[1], actor(eng, s, RECEPTION2), {"note": "trễ"})
            s.commit()
        with eng.session() as s:
            report = eng.statistics(s, actor(eng, s, HEAD), 2026)
            figures = {o.name: (o.completed, o.late, o.held, o.held_overdue) for o in report.by_official}
            assert figures["Trần Văn Tiếp"] == (1, 0, 0, 0) and figures["Cán bộ Hai"] == (1, 1, 1, 1)
            assert figures["Lê Thị Hộ"] == (0, 0, 0, 0)  # every official of the agency, with or without tasks
            assert [o.on_time_share for o in report.by_official if o.name == "Cán bộ Hai"] == [0.0]
            assert eng.statistics(s, actor(eng, s, RECEPTION), 2026).by_official is None  # for the head only
            assert eng.statistics(s, actor(eng, s, HEAD), 2025).by_official[0].completed == 0


def test_a_head_of_office_puts_a_held_task_back_in_the_queue(eng: Engine) -> None:
    task_id = claimed(eng)
    with eng.session() as s:
        head, colleague = actor(eng, s, HEAD), actor(eng, s, RECEPTION2)
        reception = user(s, RECEPTION).id
        with pytest.raises(Forbidden):  # a colleague with the role, not holding it
            eng.release(s, task_id, colleague, reception)
        with pytest.raises(AlreadyClaimed):  # the head's page showed another holder
            eng.release(s, task_id, head, colleague.id)
        s.rollback()
    with eng.session() as s:
        eng.release(s, task_id, actor(eng, s, HEAD), reception)
        s.commit()
    assert holder(eng, task_id) is None
    with eng.session() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "task.released")).all()
        assert event.actor_name == "Đinh Văn Đạo" and "(do Trần Văn Tiếp giữ)" in event.label_vi
        assert [t.id for t in eng.queue(s, actor(eng, s, RECEPTION2))] == [task_id]  # back in the group queue


def test_the_official_given_a_task_is_mailed_unless_it_is_no_longer_theirs(eng: Engine, smtp: Any) -> None:
    box, url = smtp
    eng.settings = dataclasses.replace(eng.settings, smtp_url=url, base_url="https://dichvucong.example.vn")
    first, second = submit(eng)[1], submit(eng)[1]
    with eng.session() as s:
        head = actor(eng, s, HEAD)
        reception, colleague = user(s, RECEPTION).id, user(s, RECEPTION2).id
        eng.assign(s, first, head, reception, None)
        s.rollback()  # given, then rolled back: nothing owed
    assert eng.send_due_task_notices().sent == 0
    with eng.session() as s:
        head = actor(eng, s, HEAD)
        eng.assign(s, first, head, reception, None)
        eng.assign(s, second, head, reception, None)
        s.commit()
    with eng.session() as s:  # the second is handed on before the worker runs: only the colleague hears of it
        eng.assign(s, second, actor(eng, s, RECEPTION), colleague, reception)
        s.commit()
    done = eng.send_due_task_notices()
    assert (done.sent, done.skipped) == (2, 1)
    to_reception, to_colleague = box.mails
    assert to_reception["To"] == RECEPTION and to_colleague["To"] == RECEPTION2
    assert to_reception["Subject"].startswith("Bạn được giao công việc: ") and " – hồ sơ 000.31.27.H14-" in \
        to_reception["Subject"]
    body = to_reception.get_content()
    assert "Đinh Văn Đạo đã giao cho bạn công việc" in body and "Hạn xử lý: 17:00" in body
    assert f"https://dichvucong.example.vn/can-bo/cong-viec/{first}" in body
    assert "Trần Văn Tiếp đã giao cho bạn" in to_colleague.get_content()
    with eng.session() as s:  # an official who takes no work mail gets none
        s.execute(update(User).where(User.email == RECEPTION).values(notify_by_mail=False))
        eng.assign(s, second, actor(eng, s, RECEPTION2), reception, colleague)
        s.commit()
    assert eng.send_due_task_notices().skipped == 1 and len(box.mails) == 2


def test_a_holder_written_out_of_range_changes_nothing(eng: Engine) -> None:
    task_id = claimed(eng)
    with eng.session() as s:
        head, reception = actor(eng, s, HEAD), user(s, RECEPTION).id
        for seen in (10**20, -1, 0):  # (from a page's hidden field changed by hand)
            with pytest.raises(AlreadyClaimed):
                eng.assign(s, task_id, head, user(s, RECEPTION2).id, seen)
            with pytest.raises(AlreadyClaimed):
                eng.release(s, task_id, head, seen)
    assert holder(eng, task_id) == reception


def test_a_head_of_office_gives_several_tasks_at_once_and_learns_which_were_not_given(eng: Engine) -> None:
    free, held, stale, done = (submit(eng)[1] for _ in range(4))
    with eng.session() as s:
        colleague = actor(eng, s, RECEPTION2)
        eng.claim(s, held, colleague)  # shown held by the colleague: given on all the same
        eng.claim(s, stale, colleague)  # claimed after the head's page showed it free
        eng.complete(s, done, actor(eng, s, RECEPTION), {"note": "xong"})
        s.commit()
    with eng.session() as s:
        province = s.scalar(select(Agency).where(Agency.level == "province"))
        other = account_ops.create_official(s, "lanhdao.tinh@demo.motcua.vn", "x" * 12, "Lãnh đạo Tỉnh", province,
                                            ["supervisor", "reception_officer"])
        s.commit()
    elsewhere = submit(eng)[1]  # (a task of the commune: not the province's head's to give)
    with eng.session() as s:
        head, reception = actor(eng, s, HEAD), user(s, RECEPTION)
        chosen = [(str(done), ""), (free, ""), (str(held), str(colleague.id)), (stale, None), ("x9", ""),
                  (str(free), "")]  # (the same task twice, and a value changed by hand)
        handing = eng.assign_many(s, chosen, head, str(reception.id))
        s.commit()
    assert handing.assignee == "Trần Văn Tiếp"
    assert [t.id for t in handing.given] == [free, held]
    assert {t.claimed_by_name for t in handing.given} == {"Trần Văn Tiếp"}
    refused = {n.task_id: n.reason for n in handing.not_given}
    assert refused == {0: tasks_module.NO_TASK, done: TaskNotOpen.message, stale: HOLDER_CHANGED}
    assert [n.dossier_code is not None for n in handing.not_given] == [False, True, True]
    assert (holder(eng, free), holder(eng, held), holder(eng, stale)) == (reception.id, reception.id, colleague.id)
    with eng.session() as s:
        given = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "task.assigned")).all()
        assert given == [{"to": reception.id}] * 2
        # given again to whoever holds them, or to someone without their role: each says why, nothing changes
        again = eng.assign_many(s, [(free, reception.id), (held, reception.id)], actor(eng, s, HEAD), reception.id)
        assert again.given == [] and [n.reason for n in again.not_given] == [tasks_module.ALREADY_THEIRS] * 2
        chairman = user(s, CHAIRMAN).id
        unfit = eng.assign_many(s, [(stale, colleague.id)], actor(eng, s, HEAD), chairman)
        assert [n.reason for n in unfit.not_given] == [tasks_module.NOT_THEIR_ROLE]
        # another agency's head of office finds none of them
        other_head = actor(eng, s, "lanhdao.tinh@demo.motcua.vn")
        theirs = eng.assign_many(s, [(elsewhere, "")], other_head, other.id)
        assert [(n.task_id, n.reason) for n in theirs.not_given] == [(elsewhere, tasks_module.NO_TASK)]
        s.rollback()
    assert holder(eng, stale) == colleague.id and holder(eng, elsewhere) is None


def test_giving_several_tasks_asks_for_tasks_and_an_official_of_the_agency(eng: Engine) -> None:
    task_id = submit(eng)[1]
    with eng.session() as s:
        head, official = actor(eng, s, HEAD), actor(eng, s, RECEPTION)
        reception = official.id
        with pytest.raises(FormInvalid) as refused:
            eng.assign_many(s, [], head, "")
        assert refused.value.errors == {"tasks": tasks_module.NO_TASK_CHOSEN, "assignee": tasks_module.NO_OFFICIAL}
        too_many = [(i, "") for i in range(1, tasks_module.MOST_AT_ONCE + 2)]
        with pytest.raises(FormInvalid) as refused:
            eng.assign_many(s, too_many, head, reception)
        assert refused.value.errors == {"tasks": tasks_module.TOO_MANY_CHOSEN}
        s.execute(update(User).where(User.email == "chutich@demo.motcua.vn").values(active=False))
        for nobody in ("", "abc", "10" * 30, user(s, CITIZEN).id, user(s, "motcua.tinh@demo.motcua.vn").id,
                       user(s, "chutich@demo.motcua.vn").id):  # no one, not an id, a citizen, elsewhere, locked
            with pytest.raises(FormInvalid) as refused:
                eng.assign_many(s, [(task_id, "")], head, nobody)
            assert refused.value.errors == {"assignee": tasks_module.NO_OFFICIAL}
        with pytest.raises(Forbidden):  # only a head of office gives several at once (a holder hands over one)
            eng.assign_many(s, [(task_id, "")], official, reception)
        s.rollback()
    assert holder(eng, task_id) is None


def test_tasks_given_at_once_are_told_in_one_mail(eng: Engine, smtp: Any) -> None:
    box, url = smtp
    eng.settings = dataclasses.replace(eng.settings, smtp_url=url, base_url="https://dichvucong.example.vn")
    first, second, third = (submit(eng)[1] for _ in range(3))
    with eng.session() as s:
        head = actor(eng, s, HEAD)
        eng.assign_many(s, [(first, ""), (second, ""), (third, "")], head, user(s, RECEPTION).id)
        s.commit()
    with eng.session() as s:  # the third is done before the worker runs: not told
        eng.complete(s, third, actor(eng, s, RECEPTION), {"note": "xong"})
        s.commit()
    done = eng.send_due_task_notices()
    assert (done.sent, done.skipped) == (1, 1)
    (mail,) = box.mails
    assert mail["To"] == RECEPTION and mail["Subject"] == "Bạn được giao 2 công việc: Đinh Văn Đạo"
    body = mail.get_content()
    assert "Đinh Văn Đạo đã giao cho bạn 2 công việc:" in body and body.count("Hạn xử lý: ") == 2
    for task_id in (first, second):
        assert f"https://dichvucong.example.vn/can-bo/cong-viec/{task_id}\n" in body
    assert f"/can-bo/cong-viec/{third}\n" not in body
    with eng.session() as s:
        assert {n.state for n in s.scalars(select(TaskNotice))} == {"sent", "skipped"}
        assert len(s.scalars(select(TaskNotice).where(TaskNotice.state == "sent")).all()) == 2


def test_lists_of_tasks_come_oldest_first_or_by_the_nearest_due_time(eng: Engine) -> None:
    first, second, third = (submit(eng)[1] for _ in range(3))
    with eng.session() as s:  # (as tasks of procedures with other time limits would be: the newest due first)
        for task_id, due in ((first, dt.datetime(2026, 12, 20)), (second, None), (third, dt.datetime(2026, 12, 1))):
            s.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due))
        s.commit()
    with eng.session() as s:
        official, head = actor(eng, s, RECEPTION), actor(eng, s, HEAD)
        assert [t.id for t in eng.queue(s, official)] == [first, second, third]
        assert [t.id for t in eng.queue(s, official, order="due")] == [third, first, second]  # none due: last
        assert [t.id for t in eng.queue(s, official, limit=1, offset=1, order="due")] == [first]
        assert [t.id for t in eng.queue(s, official, order="bogus")] == [first, second, third]
        assert [t.id for t in eng.agency_tasks(s, head, order="due")[0]] == [third, first, second]
        for task_id in (first, third):
            eng.claim(s, task_id, official)
        s.commit()
        assert [t.id for t in eng.my_tasks(s, official)] == [first, third]
        assert [t.id for t in eng.my_tasks(s, official, order="due")] == [third, first]


def test_tasks_spread_go_to_the_least_busy_official_with_their_role(eng: Engine) -> None:
    busy = submit(eng)[1]
    tasks = [submit(eng)[1] for _ in range(4)]
    with eng.session() as s:
        eng.claim(s, busy, actor(eng, s, RECEPTION))  # Trần Văn Tiếp holds one already
        s.commit()
    with eng.session() as s:
        handing = eng.assign_many(s, [(t, "") for t in tasks], actor(eng, s, HEAD), tasks_module.SPREAD)
        s.commit()
    # Cán bộ Hai (none held) first; on a tie, the first by given name (Hai before Tiếp)
    assert handing.assignee is None and handing.not_given == []
    assert [t.claimed_by_name for t in handing.given] == ["Cán bộ Hai", "Cán bộ Hai", "Trần Văn Tiếp", "Cán bộ Hai"]
    assert [holder(eng, t) for t in tasks] == [user_id(eng, RECEPTION2)] * 2 + [user_id(eng, RECEPTION),
                                                                                  user_id(eng, RECEPTION2)]
    reception, colleague = user_id(eng, RECEPTION), user_id(eng, RECEPTION2)
    with eng.session() as s:
        head = actor(eng, s, HEAD)
        # a task spread again goes to someone else than its holder; with nobody else of its role, it is said
        again = eng.assign_many(s, [(busy, reception)], head, " deu ")
        assert [t.claimed_by_name for t in again.given] == ["Cán bộ Hai"]
        s.execute(update(User).where(User.email == RECEPTION).values(active=False))
        alone = eng.assign_many(s, [(tasks[0], colleague)], head, tasks_module.SPREAD)
        assert [n.reason for n in alone.not_given] == [tasks_module.NO_ONE_ELSE] and alone.given == []
        s.rollback()
