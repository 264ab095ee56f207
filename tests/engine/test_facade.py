"""The engine facade on a small five-task procedure: task table, claims, validation, concurrency, versions."""
from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from engine import accounts as account_ops
from engine import demo
from engine.api import Engine
from engine.config import Settings
from engine.errors import AlreadyClaimed, Forbidden, FormInvalid, NotFound, StaleDossier, TaskNotOpen
from engine.models import Agency, AuditEvent, Dossier, HumanTask, User

DATA_ROOT = Path(__file__).parent / "data" / "root"
CODE = re.compile(r"^000\.31\.27\.H14-\d{6}-\d{4}$")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "procedures"
    shutil.copytree(DATA_ROOT, copy)
    return copy


@pytest.fixture
def eng(database_url: str, root: Path):
    engine = Engine(Settings(database_url=database_url, root=root))
    engine.upgrade_database()
    with engine.session() as s:
        engine.deploy(s)
        demo.seed(s)
        agency = s.scalar(select(Agency).where(Agency.code == demo.AGENCY["code"]))
        account_ops.create_official(s, "motcua2@demo.motcua.vn", "x" * 12, "Cán bộ Hai", agency, ["reception_officer"])
        s.commit()
    yield engine
    engine.db.dispose()


def user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


CITIZEN, RECEPTION, RECEPTION2 = "congdan@demo.motcua.vn", "motcua@demo.motcua.vn", "motcua2@demo.motcua.vn"


def submit(eng: Engine) -> tuple[int, int]:
    """Start and submit a dossier; return (dossier id, id of the first officer task)."""
    with eng.session() as s:
        citizen = user(s, CITIZEN)
        dossier = eng.start_dossier(s, "five", citizen)
        (task,) = eng.my_tasks(s, citizen)
        completion = eng.complete(s, task.id, citizen, {"note": "xin chào"})
        s.commit()
        assert completion.submitted
        (next_task,) = completion.dossier.open_tasks
        return dossier.id, next_task.id


def test_whole_process_with_task_table_and_audit(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        view = eng.dossier(s, dossier_id, official)
        assert CODE.match(view.code)
        assert view.status == "receiving" and view.appointment_at > view.submitted_at
        assert [t.id for t in eng.queue(s, official)] == [task_id]
        for _ in range(4):
            (task,) = eng.dossier(s, dossier_id, official).open_tasks
            assert task.role == "reception_officer" and task.due_at == view.appointment_at
            eng.claim(s, task.id, official)
            assert eng.queue(s, official) == [] and [t.id for t in eng.my_tasks(s, official)] == [task.id]
            eng.complete(s, task.id, official, {"note": "ok"})
            s.commit()
        final = eng.dossier(s, dossier_id, official)
        assert final.status == "done" and final.completed and final.open_tasks == ()
        actions = [e.action for e in eng.timeline(s, dossier_id, official)]
        assert actions.count("task.completed") == 5 and actions.count("task.claimed") == 4
        assert actions[0] == "dossier.started"
        states = s.scalars(select(HumanTask.state).where(HumanTask.dossier_id == dossier_id)).all()
        assert states == ["completed"] * 5


def test_codes_follow_a_daily_sequence(eng: Engine) -> None:
    codes = []
    for _ in range(3):
        dossier_id, _task = submit(eng)
        with eng.session() as s:
            codes.append(eng.dossier(s, dossier_id, user(s, CITIZEN)).code)
    assert [c[-4:] for c in codes] == ["0001", "0002", "0003"]


def test_a_dossier_is_filed_with_the_agency_asked_for_if_it_serves_the_procedure(eng: Engine) -> None:
    with eng.session() as s:
        citizen = user(s, CITIZEN)
        commune = s.scalar(select(Agency).where(Agency.code == demo.AGENCY["code"]))
        other = Agency(code="000.32.27.H14", name_vi="UBND xã Bên", name_en="Ben Commune", level="commune")
        s.add(other)
        s.commit()
        province = s.scalar(select(Agency).where(Agency.level == "province"))
        assert eng.start_dossier(s, "five", citizen).agency_name["vi"] == commune.name_vi  # none asked: the first
        assert eng.start_dossier(s, "five", citizen, other.id).agency_name["vi"] == "UBND xã Bên"
        # an agency of another level, one that does not exist, a number no database row can have
        for wrong in (province.id, 10_000, 2**40):
            with pytest.raises(NotFound):
                eng.start_dossier(s, "five", citizen, wrong)


def test_invalid_data_lists_every_error_and_changes_nothing(eng: Engine) -> None:
    with eng.session() as s:
        citizen = user(s, CITIZEN)
        eng.start_dossier(s, "five", citizen)
        (task,) = eng.my_tasks(s, citizen)
        with pytest.raises(FormInvalid) as info:
            eng.complete(s, task.id, citizen, {"note": "x" * 201})
        assert info.value.errors["note"]["vi"].endswith("không được quá 200 ký tự")
        assert eng.task(s, task.id, citizen).state == "open"


def test_authorization(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        other = account_ops.register_citizen(s, "khac@example.com", "mat-khau-dai-du", "Người Khác")
        with pytest.raises(NotFound):
            eng.dossier(s, dossier_id, other)
        with pytest.raises(NotFound):
            eng.task(s, task_id, other)
        with pytest.raises(NotFound):
            eng.complete(s, task_id, other, {"note": "x"})
        chairman = user(s, "chutich@demo.motcua.vn")  # same agency, another role
        with pytest.raises(Forbidden):
            eng.claim(s, task_id, chairman)
        with pytest.raises(Forbidden):
            eng.complete(s, task_id, chairman, {"note": "x"})
        with pytest.raises(Forbidden):
            eng.queue(s, other)


def test_two_officials_racing_for_a_claim_exactly_one_wins(eng: Engine) -> None:
    _dossier_id, task_id = submit(eng)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def race(email: str) -> None:
        with eng.session() as s:
            official = user(s, email)
            s.commit()
            barrier.wait()
            try:
                eng.claim(s, task_id, official)
                s.commit()
                results[email] = "won"
            except AlreadyClaimed:
                s.rollback()
                results[email] = "lost"

    threads = [threading.Thread(target=race, args=(e,)) for e in (RECEPTION, RECEPTION2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["lost", "won"]
    with eng.session() as s:
        claims = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "task.claimed"))
        assert claims == 1


def test_listings_show_each_task_as_its_own_view_does(eng: Engine) -> None:
    """The queue and both kinds of "my tasks" read columns, not ORM objects: each of their rows equals the view
    of the same task read alone (title, dossier, applicant, claimant, dates, status)."""
    submit(eng)
    _, claimed = submit(eng)
    with eng.session() as s:
        citizen, official = (eng.user(s, user(s, e).id) for e in (CITIZEN, RECEPTION))
        eng.start_dossier(s, "five", citizen)  # a draft: the citizen's own open task
        eng.claim(s, claimed, official)
        s.commit()
    with eng.session() as s:
        citizen, official, colleague = (eng.user(s, user(s, e).id) for e in (CITIZEN, RECEPTION, RECEPTION2))
        listings = [(eng.queue(s, colleague), colleague), (eng.my_tasks(s, official), official),
                    (eng.my_tasks(s, citizen), citizen)]
    assert [len(rows) for rows, _ in listings] == [1, 1, 1]
    assert listings[1][0][0].claimed_by_name == official.full_name and listings[0][0][0].claimed_by_name is None
    for rows, actor in listings:
        for row in rows:
            with eng.session() as s:
                assert eng.task(s, row.id, actor) == row


def test_a_claimed_task_names_its_claimant_to_everyone(eng: Engine) -> None:
    """Signed in as the records of ``Engine.user`` (as in the web), the claimant and a colleague both see who
    holds the task; the claimant's name comes from their record, the colleague's view reads it."""
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        holder, colleague = (eng.user(s, user(s, e).id) for e in (RECEPTION, RECEPTION2))
        assert [t.claimed_by_name for t in eng.queue(s, colleague) if t.id == task_id] == [None]
        held = s.get(HumanTask, task_id)  # read unclaimed earlier in this session (and kept, as a request would)
        assert held.claimed_by is None
        assert eng.claim(s, task_id, holder).claimed_by_name == holder.full_name
        # the row read unclaimed now names the claimant too
        assert eng.task(s, task_id, colleague).claimed_by_name == holder.full_name
        assert [t.claimed_by_name for t in eng.my_tasks(s, holder)] == [holder.full_name]
        assert held.claimed_by_id == holder.id
        s.commit()
    with eng.session() as s:
        assert eng.task(s, task_id, eng.user(s, colleague.id)).claimed_by_name == holder.full_name
        assert eng.task(s, task_id, eng.user(s, holder.id)).claimed_by_name == holder.full_name
        (shown,) = eng.dossier(s, dossier_id, eng.user(s, colleague.id)).open_tasks
        assert shown.claimed_by_name == holder.full_name and shown.applicant_name == "Nguyễn Thị Lan"


def test_a_stale_write_is_refused_not_lost(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    with eng.session() as late, eng.session() as early:
        official_late = user(late, RECEPTION)
        eng.claim(late, task_id, official_late)
        late.commit()
        # this request has read the task and dossier (held here, as a request in flight holds them) …
        held = (late.get(HumanTask, task_id), late.get(Dossier, dossier_id))
        assert held[1].workflow  # (its workflow state too)
        late.commit()
        # … when another request (the same official, in another tab) completes the task and commits
        eng.complete(early, task_id, user(early, RECEPTION), {"note": "first"})
        early.commit()
        with pytest.raises(TaskNotOpen) as info:  # the write is refused, and the reason read afresh
            eng.complete(late, task_id, official_late, {"note": "second"})
        late.rollback()
        assert "đã được xử lý xong" in info.value.message["vi"]
        assert held  # (kept alive until here: the late request acted on these very objects)
    with eng.session() as s:
        data = eng.dossier(s, dossier_id, user(s, RECEPTION)).data
        assert data["note"] == "first"


def test_a_step_on_a_dossier_changed_meanwhile_is_refused(parallel_steps: Path, eng: Engine) -> None:
    """Two officials on the two parallel tasks of one dossier: the one whose request read the dossier before
    the other's completion is told to reload; their task is still open and nothing of their step is stored."""
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        t3, t4 = sorted(eng.complete(s, task_id, official, {"note": "2"}).dossier.open_tasks, key=lambda t: t.bpmn_id)
        s.commit()
    with eng.session() as late, eng.session() as early:
        official_late = user(late, RECEPTION2)
        held = (late.get(HumanTask, t4.id), late.get(Dossier, dossier_id))
        assert held[1].workflow
        late.commit()
        eng.complete(early, t3.id, user(early, RECEPTION), {"note": "3"})
        early.commit()
        with pytest.raises(StaleDossier) as info:
            eng.complete(late, t4.id, official_late, {"note": "4"})
        late.rollback()
        assert "người khác" in info.value.message["vi"]
        assert held  # (kept alive until here: the late request acted on these very objects)
    with eng.session() as s:
        official = user(s, RECEPTION)
        task = eng.task(s, t4.id, official)
        assert task.state == "open" and task.claimed_by_id is None
        assert eng.task(s, t3.id, official).state == "completed"
        assert eng.dossier(s, dossier_id, official).data["note"] != "4"


@pytest.mark.parametrize("other_change", [False, True], ids=["alone", "with-another-change"])
def test_a_claim_between_reading_and_completing_wins(eng: Engine, other_change: bool) -> None:
    """A direct completion claims the task in its own UPDATE, guarded by "still open, nobody has it": an
    official who claimed the task after it was read keeps it, and nothing of the completion is stored; also
    when the session holds another change, which the ORM's flush writes."""
    dossier_id, task_id = submit(eng)
    with eng.session() as late, eng.session() as early:
        official_late = user(late, RECEPTION2)
        held = late.get(HumanTask, task_id)  # read: nobody has it yet (held, as a request in flight holds it)
        assert held.claimed_by_id is None and held.dossier.workflow
        late.commit()
        eng.claim(early, task_id, user(early, RECEPTION))
        early.commit()
        if other_change:
            late.add(Agency(code="TEST-AGENCY", name_vi="Cơ quan thử", name_en="Test agency", level="commune"))
        with pytest.raises(AlreadyClaimed):
            eng.complete(late, task_id, official_late, {"note": "too late"})
        late.rollback()
        assert held  # (kept alive until here: the late request acted on these very objects)
    with eng.session() as s:
        official = user(s, RECEPTION)
        task = eng.task(s, task_id, official)
        assert task.state == "open" and task.claimed_by_id == official.id
        assert eng.dossier(s, dossier_id, official).data.get("note") != "too late"
        assert [e.action for e in eng.timeline(s, dossier_id, official)].count("task.completed") == 1  # the citizen's


def _assert_as_stored(eng: Engine, held: list) -> None:
    """Every column of each held object equals a fresh read of its row; a None is SQL NULL in the row (not a
    JSON 'null', which an ORM flush would not have written for a column left unset)."""
    with eng.session() as fresh:
        for obj in held:
            table = type(obj).__table__
            stored = fresh.get(type(obj), obj.id)
            for column in table.columns:
                assert getattr(obj, column.key) == getattr(stored, column.key), (type(obj).__name__, column.key)
            for column in (c for c in table.columns if getattr(obj, c.key) is None):
                null = fresh.scalar(select(column.is_(None)).where(table.c.id == obj.id))
                assert null, (type(obj).__name__, column.key, "stored as a JSON null, not SQL NULL")


def _writes_at_commit(eng: Engine, session) -> list[str]:  # noqa: ANN001
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement.split()[0].upper())

    event.listen(eng.db.engine, "before_cursor_execute", seen)
    try:
        session.commit()
    finally:
        event.remove(eng.db.engine, "before_cursor_execute", seen)
    return [word for word in statements if word in ("UPDATE", "INSERT", "DELETE")]


def test_a_step_leaves_the_session_as_stored(eng: Engine) -> None:
    """The step's writes (engine.writes) leave the session's rows exactly as the database now holds them:
    nothing pending, every column equal (SQL NULL where None), and the commit writes nothing more; for a new
    dossier (its INSERT) and for a completion (UPDATEs and the next task's INSERT)."""
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        # the rows the step works on, held here so that they are the very objects it changed
        held = [s.get(Dossier, dossier_id), s.get(HumanTask, task_id)]
        assert held[0].workflow
        event.listen(s, "transient_to_pending", lambda _s, obj: held.append(obj))  # the task row it opens
        eng.complete(s, task_id, official, {"note": "ok"})
        assert not s.new and not s.dirty
        assert len(held) == 3 and held[1].state == "completed" and held[2].state == "open" and held[2].id
        assert _writes_at_commit(eng, s) == []
        _assert_as_stored(eng, held)
    with eng.session() as s:  # a new dossier
        citizen = user(s, CITIZEN)
        held = []
        event.listen(s, "transient_to_pending", lambda _s, obj: held.append(obj))  # the rows start() creates
        started = eng.start_dossier(s, "five", citizen)
        assert not s.new and not s.dirty
        assert [type(o) for o in held] == [Dossier, HumanTask] and held[0].id == started.id
        assert _writes_at_commit(eng, s) == []
        _assert_as_stored(eng, held)


@pytest.fixture
def parallel_steps(root: Path) -> Path:
    """The five-step procedure with steps 3 and 4 in parallel (a parallel gateway splits after step 2 and joins
    before step 5)."""
    bpmn = root / "bpmn" / "five.bpmn"
    flows = ('<bpmn:sequenceFlow id="f3" sourceRef="t2" targetRef="t3"/>\n'
             '    <bpmn:sequenceFlow id="f4" sourceRef="t3" targetRef="t4"/>\n'
             '    <bpmn:sequenceFlow id="f5" sourceRef="t4" targetRef="t5"/>')
    parallel = ('<bpmn:parallelGateway id="split"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f3a</bpmn:outgoing>'
                '<bpmn:outgoing>f3b</bpmn:outgoing></bpmn:parallelGateway>\n'
                '<bpmn:parallelGateway id="join"><bpmn:incoming>f4a</bpmn:incoming><bpmn:incoming>f4b</bpmn:incoming>'
                '<bpmn:outgoing>f5</bpmn:outgoing></bpmn:parallelGateway>\n'
                '<bpmn:sequenceFlow id="f3" sourceRef="t2" targetRef="split"/>\n'
                '<bpmn:sequenceFlow id="f3a" sourceRef="split" targetRef="t3"/>\n'
                '<bpmn:sequenceFlow id="f3b" sourceRef="split" targetRef="t4"/>\n'
                '<bpmn:sequenceFlow id="f4a" sourceRef="t3" targetRef="join"/>\n'
                '<bpmn:sequenceFlow id="f4b" sourceRef="t4" targetRef="join"/>\n'
                '<bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="t5"/>')
    t3 = "<bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>"
    t4 = "<bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>"
    xml = bpmn.read_text()
    assert flows in xml and t3 in xml and t4 in xml
    bpmn.write_text(xml.replace(flows, parallel).replace(t3, t3.replace("f3", "f3a").replace("f4", "f4a"))
                    .replace(t4, t4.replace("f4", "f3b").replace("f5", "f4b")))
    return root


def test_parallel_tasks_each_stay_open_until_done(parallel_steps: Path, eng: Engine) -> None:
    """Completing one of two open tasks leaves the other open (its row is read, not assumed); completing the
    last one (the only open task, whose row the step already holds) opens the next."""
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        after_t2 = eng.complete(s, task_id, official, {"note": "2"}).dossier.open_tasks
        s.commit()
        assert sorted(t.bpmn_id for t in after_t2) == ["t3", "t4"]
        t3, t4 = sorted(after_t2, key=lambda t: t.bpmn_id)
        assert [t.bpmn_id for t in eng.complete(s, t3.id, official, {"note": "3"}).dossier.open_tasks] == ["t4"]
        s.commit()
        assert [t.bpmn_id for t in eng.complete(s, t4.id, official, {"note": "4"}).dossier.open_tasks] == ["t5"]
        s.commit()
    with eng.session() as s:
        rows = {r.bpmn_id: r.state for r in s.scalars(select(HumanTask).where(HumanTask.dossier_id == dossier_id))}
        assert rows == {"t1": "completed", "t2": "completed", "t3": "completed", "t4": "completed", "t5": "open"}


def test_a_parallel_branch_still_open_does_not_undo_a_step(parallel_steps: Path, eng: Engine) -> None:
    """Each parallel task holds the data as it was at the split; the one still open must not overwrite what the
    other's step has just entered (its stale copy of "note" once replaced the new value)."""
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        t3, t4 = sorted(eng.complete(s, task_id, official, {"note": "2"}).dossier.open_tasks, key=lambda t: t.bpmn_id)
        s.commit()
        assert eng.complete(s, t3.id, official, {"note": "3"}).dossier.data["note"] == "3"
        s.commit()
    with eng.session() as s:
        official = user(s, RECEPTION)
        assert eng.dossier(s, dossier_id, official).data["note"] == "3"
        after = eng.complete(s, t4.id, official, {"note": "4"}).dossier
        s.commit()
        assert after.data["note"] == "4" and [t.bpmn_id for t in after.open_tasks] == ["t5"]


def test_a_step_with_other_changes_pending_stores_both(eng: Engine) -> None:
    """With something else pending in the session, the step's rows are written (guarded) by engine.writes and
    the rest by the ORM's flush: both are stored, and the dossier's version moved by one."""
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        s.add(Agency(code="TEST-AGENCY", name_vi="Cơ quan thử", name_en="Test agency", level="commune"))
        eng.complete(s, task_id, official, {"note": "with another change"})
        s.commit()
    with eng.session() as s:
        official = user(s, RECEPTION)
        assert s.scalar(select(func.count()).select_from(Agency).where(Agency.code == "TEST-AGENCY")) == 1
        assert eng.dossier(s, dossier_id, official).data["note"] == "with another change"
        assert eng.task(s, task_id, official).state == "completed"
        assert s.get(Dossier, dossier_id).row_version == 4  # started, stored, submitted, this step


def test_every_statement_of_a_dossier_is_compiled_once(eng: Engine) -> None:
    """Every SQL statement a dossier's whole run sends (start, submission with its code, claims, completions,
    views) is compiled once per process and taken from SQLAlchemy's cache after: a statement that cannot be
    cached is compiled again at every use (the dossier number's upsert was, at a few percent of a step)."""
    def run_one() -> None:
        dossier_id, task_id = submit(eng)
        with eng.session() as s:
            official = user(s, RECEPTION)
            eng.claim(s, task_id, official)
            s.commit()
            for _ in range(4):
                (task,) = eng.complete(s, task_id, official, {"note": "ok"}).dossier.open_tasks or (None,)
                s.commit()
                if task is None:
                    break
                task_id = task.id
            eng.dossier(s, dossier_id, official)
            eng.timeline(s, dossier_id, official)
            eng.queue(s, official)

    run_one()  # compiles them
    seen: list[tuple[str, str]] = []

    def compiled(_conn, _cursor, statement, _params, context, _many) -> None:  # noqa: ANN001
        if context.compiled is not None:  # (BEGIN IMMEDIATE is sent as it is)
            seen.append((context._get_cache_stats().split()[0], statement.split("\n")[0][:80]))

    event.listen(eng.db.engine, "after_cursor_execute", compiled)
    try:
        run_one()
    finally:
        event.remove(eng.db.engine, "after_cursor_execute", compiled)
    assert len(seen) > 20
    assert [s for s in seen if s[0] != "cached"] == []


def test_completing_twice_is_refused(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        eng.complete(s, task_id, official, {"note": "ok"})
        s.commit()
        with pytest.raises(TaskNotOpen):
            eng.complete(s, task_id, official, {"note": "again"})


def test_running_dossiers_stay_on_their_version(eng: Engine, root: Path) -> None:
    old_id, old_task = submit(eng)
    bpmn = root / "bpmn" / "five.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Bước 2"', 'name="Bước hai (mới)"'))
    with eng.session() as s:
        deployed = eng.deploy(s)
        s.commit()
    assert [d.new for d in deployed] == [True]
    new_id, new_task = submit(eng)
    with eng.session() as s:
        official = user(s, RECEPTION)
        assert eng.task(s, old_task, official).title["vi"] == "Bước 2"
        assert eng.task(s, new_task, official).title["vi"] == "Bước hai (mới)"
        # the old dossier runs to its end on its own version
        for _ in range(4):
            (task,) = eng.dossier(s, old_id, official).open_tasks
            eng.complete(s, task.id, official, {"note": "ok"})
        s.commit()
        assert eng.dossier(s, old_id, official).status == "done"
    with eng.session() as s:
        assert [d.new for d in eng.deploy(s)] == [False]  # unchanged files: no new version
