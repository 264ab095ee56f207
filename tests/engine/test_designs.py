"""Designer tools on the five-step test procedure: versions and their dossiers, what changed between two versions,
and running dossiers moved onto a newer version (only those the new diagram can carry), then run to their end."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import accounts as account_ops
from engine import clock
from engine.api import Engine
from engine.errors import Forbidden, StaleDossier
from engine.models import AuditEvent, Dossier, HumanTask
from engine.moves import NotMovable
from tests.engine import test_facade, test_timers
from tests.engine.test_facade import CITIZEN, RECEPTION, submit, user
from tests.engine.test_timers import CODE as TIMER_CODE
from tests.engine.test_timers import LATER, open_tasks
from tests.procedures import copy_procedures

DESIGNER = "thietke@demo.motcua.vn"
# the fixtures used here: the five-step procedure's engine and files, dossiers waiting on a timer
eng, root, waiting = test_facade.eng, test_facade.root, test_timers.waiting


def new_version(eng: Engine, root: Path) -> None:
    """Version 2: step 2 renamed, step 4 dropped (3 goes on to 5), a step 6 added before the end."""
    bpmn = root / "bpmn" / "five.bpmn"
    xml = bpmn.read_text()
    xml = xml.replace('name="Bước 2"', 'name="Thụ lý"').replace('value="Step 2"', 'value="Take up"')
    start, end = xml.index('<bpmn:userTask id="t4"'), xml.index('<bpmn:userTask id="t5"')
    xml = xml[:start] + xml[end:]
    t6 = xml[xml.index('<bpmn:userTask id="t5"'):xml.index('<bpmn:endEvent')]
    t6 = (t6.replace('id="t5" name="Bước 5"', 'id="t6" name="Bước 6"').replace("Step 5", "Step 6")
          .replace("<bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>",
                   "<bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing>"))
    xml = xml.replace("<bpmn:endEvent", t6 + "<bpmn:endEvent", 1)
    xml = xml.replace("<bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>", "<bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>")
    xml = xml.replace('<bpmn:sequenceFlow id="f4" sourceRef="t3" targetRef="t4"/>',
                      '<bpmn:sequenceFlow id="f4" sourceRef="t3" targetRef="t5"/>')
    xml = xml.replace('<bpmn:sequenceFlow id="f5" sourceRef="t4" targetRef="t5"/>', "")
    xml = xml.replace("<bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>",
                      "<bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>", 1)
    xml = xml.replace('<bpmn:sequenceFlow id="f6" sourceRef="t5" targetRef="end"/>',
                      '<bpmn:sequenceFlow id="f6" sourceRef="t5" targetRef="t6"/>'
                      '<bpmn:sequenceFlow id="f7" sourceRef="t6" targetRef="end"/>')
    xml = xml.replace("<bpmn:flowNodeRef>t4</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>t6</bpmn:flowNodeRef>")
    bpmn.write_text(xml)
    with eng.session() as s:
        designer = user(s, DESIGNER)
        assert eng.procedures_on_disk(s, designer).states == (("five", "changed"),)
        assert [d.new for d in eng.deploy_from_disk(s, designer)] == [True]
        s.commit()


def advance(eng: Engine, dossier_id: int, steps: int) -> None:
    with eng.session() as s:
        official = user(s, RECEPTION)
        for _ in range(steps):
            (task,) = eng.dossier(s, dossier_id, official).open_tasks
            eng.complete(s, task.id, official, {"note": "ok"})
        s.commit()


def open_titles(eng: Engine, dossier_id: int) -> list[str]:
    with eng.session() as s:
        return [t.title["vi"] for t in eng.dossier(s, dossier_id, user(s, RECEPTION)).open_tasks]


def test_running_dossiers_move_onto_a_new_version_when_it_still_has_their_steps(eng: Engine, root: Path) -> None:
    at_two, task_two = submit(eng)  # waits at step 2, claimed below
    at_four, _ = submit(eng)
    advance(eng, at_four, 2)  # waits at step 4, which version 2 drops
    done, _ = submit(eng)
    advance(eng, done, 4)
    with eng.session() as s:
        draft = eng.start_dossier(s, "five", user(s, CITIZEN)).id  # still the applicant's step 1
        eng.claim(s, task_two, user(s, RECEPTION))
        s.commit()
    new_version(eng, root)

    with eng.session() as s:
        designer = user(s, DESIGNER)
        (five,) = eng.designs(s, designer)
        assert [(v.number, v.current, v.dossiers, v.running) for v in five.versions] == [(2, True, 0, 0), (1, False, 4, 3)]
        assert five.running_on_older == 3
        diff = eng.compare_versions(s, designer, "five", 1)
        assert diff.files == (("bpmn/five.bpmn", "changed"),)
        changes = {(e.bpmn_id, e.change) for e in diff.elements}
        assert {("t4", "removed"), ("t6", "added"), ("t2", "changed")} <= changes
        assert ("t1", "changed") not in changes  # untouched
        (t5,) = [e for e in diff.elements if e.bpmn_id == "t5"]
        assert {p["en"] for p in t5.parts} == {"incoming flows", "outgoing flows"}
        (t2,) = [e for e in diff.elements if e.bpmn_id == "t2"]
        assert t2.name == "Thụ lý" and any(p["en"] == "name" for p in t2.parts)
        plan = eng.migration_plan(s, designer, "five", 1)
        by_id = {c.id: c for c in plan.checks}
        assert set(by_id) == {at_two, at_four, draft} and plan.running == 3 and plan.movable == 2
        assert by_id[at_four].blocked_by == ("Bước 4",) and not by_id[at_four].movable
        assert by_id[at_two].movable and by_id[at_two].at == ("Bước 2",)

    report = eng.move_dossiers(user_record(eng, DESIGNER), "five", 1)
    assert (report.moved, report.blocked, report.failed) == (2, 1, 0)

    with eng.session() as s:
        versions = dict(s.execute(select(Dossier.id, Dossier.version_id)).all())
        assert versions[at_two] == versions[draft] != versions[at_four] == versions[done]
        # the task row open at step 2 is kept, with its claim, under its new name
        row = s.get(HumanTask, task_two)
        assert row.state == "open" and row.title_vi == "Thụ lý" and row.title_en == "Take up"
        assert row.claimed_by_id == user(s, RECEPTION).id
        events = s.scalars(select(AuditEvent.action).where(AuditEvent.dossier_id == at_two)).all()
        assert events[-1] == "dossier.migrated"
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.dossier_id.is_(None))
                        .order_by(AuditEvent.id.desc()).limit(1)) == "design.migrated"
    # the moved dossier runs the new diagram: no step 4, a step 6
    advance(eng, at_two, 1)
    assert open_titles(eng, at_two) == ["Bước 3"]
    advance(eng, at_two, 1)
    assert open_titles(eng, at_two) == ["Bước 5"]
    advance(eng, at_two, 1)
    assert open_titles(eng, at_two) == ["Bước 6"]
    advance(eng, at_two, 1)
    # the one left behind runs the old diagram to its end
    assert open_titles(eng, at_four) == ["Bước 4"]
    advance(eng, at_four, 2)
    # the moved draft is submitted on the new version
    with eng.session() as s:
        citizen = user(s, CITIZEN)
        (task,) = eng.my_tasks(s, citizen)
        assert eng.complete(s, task.id, citizen, {"note": "xin chào"}).submitted
        s.commit()
    assert open_titles(eng, draft) == ["Thụ lý"]
    with eng.session() as s:
        official = user(s, RECEPTION)
        assert eng.dossier(s, at_two, official).status == "done"
        assert eng.dossier(s, at_four, official).status == "done"
        # nothing is left to move: the one blocked has finished
        assert eng.migration_plan(s, user(s, DESIGNER), "five", 1).checks == ()


def user_record(eng: Engine, email: str):  # noqa: ANN201
    with eng.session() as s:
        found = user(s, email)
        s.expunge(found)
        return found


def test_a_dossier_that_cannot_move_is_left_as_it_was(eng: Engine, root: Path) -> None:
    dossier_id, _ = submit(eng)
    advance(eng, dossier_id, 2)
    new_version(eng, root)
    with eng.session() as s:
        before = s.get(Dossier, dossier_id)
        state, row_version = before.workflow, before.row_version
        with pytest.raises(NotMovable) as info:
            eng.move_dossier(s, user(s, DESIGNER), dossier_id)
        assert info.value.names == ["Bước 4"]
        s.rollback()
        after = s.get(Dossier, dossier_id)
        assert (after.workflow, after.row_version) == (state, row_version)
    assert open_titles(eng, dossier_id) == ["Bước 4"]


def test_only_designers_see_versions_or_move_dossiers(eng: Engine, root: Path) -> None:
    dossier_id, _ = submit(eng)
    new_version(eng, root)
    with eng.session() as s:
        for email in (CITIZEN, RECEPTION, "quantri@demo.motcua.vn"):
            someone = user(s, email)
            with pytest.raises(Forbidden):
                eng.designs(s, someone)
            with pytest.raises(Forbidden):
                eng.move_dossier(s, someone, dossier_id)
            with pytest.raises(Forbidden):
                eng.deploy_from_disk(s, someone)


def test_a_moved_dossier_keeps_its_running_timer(waiting: tuple[Engine, list[int]], tmp_path: Path) -> None:
    """Two dossiers wait for the applicant's confirmation of a draft, with a boundary timer (one working day,
    then the draft counts as confirmed). Moved onto a version that renames that step, each keeps its timer's
    due time, and the timer then fires on the new version."""
    eng, ids = waiting
    root = copy_procedures(tmp_path / "root")
    bpmn = root / "bpmn" / f"{TIMER_CODE}.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Xác nhận bản dự thảo"', 'name="Xác nhận dự thảo trích lục"'))
    with eng.session() as s:
        account_ops.create_official(s, DESIGNER, "x" * 12, "Người thiết kế", None, [], kind="designer")
        assert [d.new for d in eng.deploy(s, root) if d.code == TIMER_CODE] == [True]
        s.commit()
        due = dict(s.execute(select(Dossier.id, Dossier.next_timer_at).where(Dossier.id.in_(ids))).all())
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 24, 3, 0))):  # before the timers fall due
        report = eng.move_dossiers(user_record(eng, DESIGNER), TIMER_CODE, 1)
    assert (report.moved, report.blocked, report.failed) == (2, 0, 0)
    with eng.session() as s:
        assert dict(s.execute(select(Dossier.id, Dossier.next_timer_at).where(Dossier.id.in_(ids))).all()) == due
        titles = s.scalars(select(HumanTask.title_vi).where(HumanTask.dossier_id.in_(ids), HumanTask.state == "open"))
        assert list(titles) == ["Xác nhận dự thảo trích lục"] * 2
    with clock.use(clock.ManualClock(LATER)), eng.session() as s:
        assert eng.fire_due_timers(s) == 2
        s.commit()
    for dossier_id in ids:
        assert open_tasks(eng, dossier_id) == ["chairman_sign"]


def test_a_dossier_changed_by_an_official_meanwhile_is_not_moved(eng: Engine, root: Path) -> None:
    """The designer's move and an official's completion race on one dossier: the completion, committed first,
    stands; the move is refused as stale and changes nothing (the designer may move it again)."""
    dossier_id, task_id = submit(eng)
    new_version(eng, root)
    with eng.session() as mover:
        stale = mover.get(Dossier, dossier_id)  # read before the official's step commits (and held, as a request
        old_version = stale.version_id        # in flight holds it; its transaction ended, as SQLite needs)
        designer = user(mover, DESIGNER)
        mover.commit()
        with eng.session() as other:
            eng.complete(other, task_id, user(other, RECEPTION), {"note": "ok"})
            other.commit()
        with pytest.raises(StaleDossier):
            eng.move_dossier(mover, designer, dossier_id)
        mover.rollback()
        assert stale is not None
    with eng.session() as s:
        assert s.get(Dossier, dossier_id).version_id == old_version
        assert "dossier.migrated" not in s.scalars(select(AuditEvent.action).where(AuditEvent.dossier_id == dossier_id)).all()
    assert open_titles(eng, dossier_id) == ["Bước 3"]
    with eng.session() as s:  # moved again, it goes
        eng.move_dossier(s, user(s, DESIGNER), dossier_id)
        s.commit()
    advance(eng, dossier_id, 1)
    assert open_titles(eng, dossier_id) == ["Bước 5"]  # (step 4 is gone in version 2)


def test_a_long_list_is_moved_over_several_calls(eng: Engine, root: Path) -> None:
    ids = [submit(eng)[0] for _ in range(3)]
    new_version(eng, root)
    designer = user_record(eng, DESIGNER)
    first = eng.move_dossiers(designer, "five", 1, limit=2)
    assert (first.moved, first.resume_after) == (2, sorted(ids)[1])
    rest = eng.move_dossiers(designer, "five", 1, limit=2, after=first.resume_after)
    assert (rest.moved, rest.blocked, rest.failed, rest.resume_after) == (1, 0, 0, None)  # none left: done
    with eng.session() as s:
        assert len(set(s.scalars(select(Dossier.version_id).where(Dossier.id.in_(ids))))) == 1
