"""Dossiers: starting them, advancing them after each engine run, who may see them, how they are shown."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from . import buffers, calendar, compaction, notices, runtime, writes
from .accounts import applicants_matching
from .catalog import VersionCache, VersionRuntime, current_version
from .db import READS_COMMITTED, get_by_id, possible_id
from .errors import Forbidden, FormInvalid, NotFound, NotRunnable, StaleDossier
from .i18n import Text, text, tr
from .models import Agency, AgencyDay, AuditEvent, Dossier, HumanTask, Person, utcnow
from .procedures import APPLICANT_ROLE
from .statuses import STATUSES
from .views import DossierView, TimelineEntry

NO_DOSSIER = text("Không tìm thấy hồ sơ.", "Dossier not found.")
log = logging.getLogger(__name__)

# Statements run at every step or page are built once (SQLAlchemy then keys each of them once per process).
# the agency a dossier is filed with: the one asked for if it serves the procedure's level, else (none asked for)
# the first at that level; one row, however many agencies a province has
AGENCY_AT_LEVEL = select(Agency).where(Agency.level == bindparam("level"), Agency.id == bindparam("id"))
FIRST_AGENCY_AT_LEVEL = select(Agency).where(Agency.level == bindparam("level")).order_by(Agency.id).limit(1)
OPEN_ROWS = (select(HumanTask).where(HumanTask.dossier_id == bindparam("dossier_id"), HumanTask.state == "open")
             .order_by(HumanTask.id))
ALL_ROWS = (select(HumanTask).where(HumanTask.dossier_id == bindparam("dossier_id")).order_by(HumanTask.id)
            .options(joinedload(HumanTask.claimed_by)))
DOSSIER_BY_ID = (select(Dossier).where(Dossier.id == bindparam("id"))
                 .options(joinedload(Dossier.applicant), joinedload(Dossier.agency)))
DOSSIER_BY_CODE = select(Dossier).where(Dossier.code == bindparam("code"))
OF_APPLICANT = (select(Dossier).where(Dossier.applicant_id == bindparam("applicant_id"))
                .order_by(Dossier.created_at.desc(), Dossier.id.desc()).limit(bindparam("limit")).offset(bindparam("offset"))
                .options(joinedload(Dossier.agency)))  # (the applicant is the actor: view() names them)
EVENTS = (select(AuditEvent).where(AuditEvent.dossier_id == bindparam("dossier_id"))
          .order_by(AuditEvent.at, AuditEvent.id))
PASSED_ELEMENTS = select(AuditEvent.element).where(AuditEvent.dossier_id == bindparam("dossier_id"),
                                                   AuditEvent.element.is_not(None))


def start(session: Session, cache: VersionCache, code: str, applicant: Person, agency_id: int | None) -> DossierView:
    if not applicant.is_citizen:
        raise Forbidden(text("Chỉ công dân mới nộp được hồ sơ.", "Only citizens can submit dossiers."))
    version = current_version(session, code)
    rt = cache.get(version)
    if agency_id and not possible_id(agency_id):
        agency = None  # (the databases would refuse the number as out of range)
    elif agency_id:
        agency = session.scalars(AGENCY_AT_LEVEL, {"level": rt.info.agency_level, "id": agency_id}).first()
    else:
        agency = session.scalars(FIRST_AGENCY_AT_LEVEL, {"level": rt.info.agency_level}).first()
    if agency is None:
        raise NotFound(text("Không có cơ quan tiếp nhận thủ tục này.", "No agency receives this procedure."))
    workflow = runtime.new_workflow(rt.spec, rt.subprocess_specs)
    dossier = Dossier(
        procedure_code=code, version_id=version.id, applicant_id=applicant.id, agency_id=agency.id, status="draft",
        data={}, workflow="", serializer_version=runtime.SERIALIZER_VERSION,
    )
    session.add(dossier)
    writes.flush_step(session)  # its id, for its rows and events
    audit(session, dossier, applicant, "dossier.started",
          text(f"Bắt đầu khai hồ sơ {tr(rt.info.name, 'vi')}", f"Started a dossier for {tr(rt.info.name, 'en')}"))
    open_rows = advance(session, rt, dossier, workflow, runtime.NOTHING_BEFORE, applicant, open_before=[])
    save(session, cache, dossier, workflow)
    return view(session, cache, dossier, applicant, with_answers=False, open_rows=open_rows)  # a draft: no answers


def advance(session: Session, rt: VersionRuntime, dossier: Dossier, workflow: Any, before: runtime.Before,
            actor: Person | None, reason: str | None = None, open_before: list[HumanTask] | None = None,
            ) -> list[HumanTask]:
    """After an engine run: statuses and timeline entries the diagram declares, the human-task rows, state.

    Nothing is flushed here (the caller's save() writes the step at once); returns the dossier's open task
    rows after the run, oldest first. ``open_before`` are the task rows open before the run when the caller
    knows them (a new dossier: none); otherwise they are read.
    """
    with session.no_autoflush:
        return _advance(session, rt, dossier, workflow, before, actor, reason, open_before)


def _advance(session: Session, rt: VersionRuntime, dossier: Dossier, workflow: Any, before: runtime.Before,
             actor: Person | None, reason: str | None, open_before: list[HumanTask] | None) -> list[HumanTask]:
    survey = runtime.survey(workflow)
    for task in runtime.reached_since(survey, before.reached):
        props = runtime.properties(task.task_spec)
        if props.get("timeline"):
            audit(session, dossier, actor, "step.reached", text(props["timeline"], props.get("timelineEn", props["timeline"])),
                  element=task.task_spec.bpmn_id)
        status = props.get("dossierStatus")
        if status and status != dossier.status:
            set_status(session, rt, dossier, status, actor, task.task_spec.bpmn_id, reason)
    _legal_clock(session, rt, dossier, survey.open, actor)
    dossier.next_timer_at = None if workflow.is_completed() else runtime.next_timer(workflow)
    ready = {str(t.id): t for t in survey.ready_human}
    # rows changed in this step but not yet flushed (the task just completed) count as they are in memory
    rows = session.scalars(OPEN_ROWS, {"dossier_id": dossier.id}).all() if open_before is None else open_before
    open_rows = [r for r in rows if r.state == "open"]
    for row in open_rows:
        if row.task_guid not in ready:
            row.state = "cancelled"
    still_open = [r for r in open_rows if r.state == "open"]
    known = {row.task_guid for row in open_rows}
    for guid, task in ready.items():
        if guid not in known:
            new_row = _human_task(rt, dossier, guid, task)
            session.add(new_row)
            still_open.append(new_row)
    for row in still_open:  # the due date of officials' tasks follows the dossier's (pauses, extensions)
        if row.role != APPLICANT_ROLE and row.due_at != dossier.appointment_at:
            row.due_at = dossier.appointment_at
    dossier.data = {**dossier.data, **runtime.run_output(workflow, survey, before)}
    if workflow.is_completed() and dossier.finished_at is None:
        dossier.finished_at = utcnow()
    compaction.compact(workflow)  # a long loop's finished passes are dropped; the audit trail keeps the history
    dossier.workflow = runtime.dump(workflow)
    return still_open


def _human_task(rt: VersionRuntime, dossier: Dossier, guid: str, task: Any) -> HumanTask:
    spec = task.task_spec
    props = runtime.properties(spec)
    role = rt.role_of(spec.lane)
    title_vi = spec.bpmn_name or spec.bpmn_id
    return HumanTask(
        dossier_id=dossier.id, task_guid=guid, bpmn_id=spec.bpmn_id, title_vi=title_vi,
        title_en=props.get("nameEn", title_vi), lane=spec.lane, role=role, agency_id=dossier.agency_id,
        form_key=props.get("formJsonSchemaFilename"),
        due_at=dossier.appointment_at if role != APPLICANT_ROLE else None,
    )


def set_status(session: Session, rt: VersionRuntime, dossier: Dossier, status: str, actor: Person | None,
               element: str | None = None, reason: str | None = None) -> None:
    previous = dossier.status
    dossier.status = status
    dossier.status_changed_at = utcnow()
    label = STATUSES[status].label
    audit(session, dossier, actor, "status.changed",
          text(f"Trạng thái: {label['vi']}", f"Status: {label['en']}"), element=element,
          detail={"from": previous, "to": status, **({"reason": reason} if reason else {})})
    if previous == "draft" and dossier.code is None:
        submit(session, rt, dossier)
    elif status == "new" and dossier.submitted_at is not None:
        accept(session, rt, dossier, actor, element)
    notices.owed(session, dossier, status, previous, reason)


def submit(session: Session, rt: VersionRuntime, dossier: Dossier) -> None:
    """The dossier leaves draft: it gets its code, submission time and appointment date."""
    now = utcnow()
    dossier.submitted_at = now
    dossier.code = next_code(session, dossier.agency, now)
    dossier.appointment_at = _appointment_from(session, rt, dossier, now)
    dossier.delivery_method = dossier.data.get("delivery_method") or dossier.delivery_method


AGENCY_DAYS = select(AgencyDay.day, AgencyDay.working).where(AgencyDay.agency_id == bindparam("agency_id"))


def work_calendar(session: Session, agency_id: int) -> calendar.WorkCalendar:
    """The national calendar with the agency's own days off and make-up working days."""
    days = session.connection().execute(AGENCY_DAYS, {"agency_id": agency_id}).all()
    return calendar.WorkCalendar(days_off=[d.day for d in days if not d.working],
                                 working_days=[d.day for d in days if d.working])


def _appointment_from(session: Session, rt: VersionRuntime, dossier: Dossier, received: dt.datetime) -> dt.datetime:
    limit = rt.manifest.get("time_limit", {})
    cutoff = dt.time.fromisoformat(limit["same_day_cutoff"]) if limit.get("same_day_cutoff") else None
    return work_calendar(session, dossier.agency_id).appointment(received, int(limit.get("working_days", 0)), cutoff)


def accept(session: Session, rt: VersionRuntime, dossier: Dossier, actor: Person | None, element: str | None) -> None:
    """Accepted at reception (a complete, valid dossier): the legal time limit counts from now."""
    before = dossier.appointment_at
    dossier.appointment_at = _appointment_from(session, rt, dossier, utcnow())
    if dossier.appointment_at != before:
        audit(session, dossier, actor, "deadline.set",
              text("Ngày hẹn trả kết quả tính từ khi tiếp nhận hồ sơ hợp lệ", "The due date counts from acceptance"),
              element=element, detail={"appointment": dossier.appointment_at.isoformat()})


def _legal_clock(session: Session, rt: VersionRuntime, dossier: Dossier, open_tasks: list[Any],
                 actor: Person | None) -> None:
    """Stop the legal clock while a ``deadlineClock=pause`` task is open; move the due date when it restarts."""
    pausing = [t for t in open_tasks if runtime.properties(t.task_spec).get("deadlineClock") == "pause"]
    now = utcnow()
    if pausing and dossier.clock_paused_at is None:
        dossier.clock_paused_at = now
        audit(session, dossier, actor, "deadline.paused",
              text("Tạm dừng tính thời hạn giải quyết", "The legal time limit is paused"),
              element=pausing[0].task_spec.bpmn_id)
    elif not pausing and dossier.clock_paused_at is not None:
        cal = work_calendar(session, dossier.agency_id)
        days = cal.working_days_between(calendar.to_local(dossier.clock_paused_at).date(), calendar.to_local(now).date())
        dossier.clock_paused_at = None
        if dossier.appointment_at is not None and days:
            dossier.appointment_at = cal.move(dossier.appointment_at, days)
        audit(session, dossier, actor, "deadline.resumed",
              text(f"Tiếp tục tính thời hạn; ngày hẹn lùi {days} ngày làm việc",
                   f"The time limit runs again; the due date moves by {days} working days"),
              detail={"days": days, "appointment": dossier.appointment_at.isoformat() if dossier.appointment_at else None})


def extend(session: Session, dossier: Dossier, actor: Person | None, days: int, reason: str, element: str) -> None:
    """An extension with an apology (Mẫu 04): the due date moves by ``days`` working days, with the reason."""
    if days <= 0 or dossier.appointment_at is None:
        return
    dossier.appointment_at = work_calendar(session, dossier.agency_id).move(dossier.appointment_at, days)
    dossier.extended_days += days
    audit(session, dossier, actor, "deadline.extended",
          text(f"Gia hạn {days} ngày làm việc, hẹn lại ngày trả kết quả. Lý do: {reason}",
               f"Extended by {days} working days with a new due date. Reason: {reason}"),
          element=element, detail={"days": days, "reason": reason, "appointment": dossier.appointment_at.isoformat()})


#: a draft too: a declaration the process sent back (dates to correct) may never be sent, and must not stay forever
WITHDRAWABLE = ("draft", "receiving", "new", "processing", "waiting", "paying")


def withdraw(session: Session, cache: VersionCache, dossier: Dossier, actor: Person, reason: str) -> None:
    """The applicant withdraws a dossier before a decision, or a draft they will not send: the process stops,
    open tasks are cancelled. A submitted dossier needs a reason; a draft may have one."""
    if dossier.applicant_id != actor.id:
        raise NotFound(NO_DOSSIER)
    if dossier.status not in WITHDRAWABLE:
        raise Forbidden(text("Hồ sơ này không còn rút được.", "This dossier can no longer be withdrawn."))
    reason = (reason or "").strip()
    draft = dossier.status == "draft"
    if not (5 <= len(reason) <= 2000 or (draft and not reason)):
        raise FormInvalid({"reason": text("Nhập lý do rút hồ sơ (5 đến 2000 ký tự)",
                                          "Enter why you withdraw the dossier (5 to 2000 characters)")})
    rt = cache.of(session, dossier.version_id)
    workflow = workflow_of(cache, rt, dossier)
    workflow.cancel()
    for row in session.scalars(OPEN_ROWS, {"dossier_id": dossier.id}):
        row.state = "cancelled"
    if draft and not reason:
        said = text("Người nộp rút hồ sơ đang soạn, chưa nộp.", "The applicant withdrew the draft before sending it.")
    else:
        said = text(f"Người nộp rút hồ sơ. Lý do: {reason}", f"The applicant withdrew the dossier. Reason: {reason}")
    audit(session, dossier, actor, "dossier.withdrawn", said, detail={"reason": reason} if reason else {})
    set_status(session, rt, dossier, "cancelled", actor, reason=reason)
    dossier.finished_at, dossier.next_timer_at, dossier.clock_paused_at = utcnow(), None, None
    dossier.workflow = runtime.dump(workflow)
    save(session, cache, dossier, workflow)


# One text for both databases (the same upsert syntax): SQLAlchemy cannot cache the compiled form of a dialect
# insert with ON CONFLICT ("no key"), so that statement was compiled anew for every dossier submitted.
NEXT_NUMBER = sql_text(
    "INSERT INTO daily_sequence (agency_code, day, last) VALUES (:agency_code, :day, 1) "
    "ON CONFLICT (agency_code, day) DO UPDATE SET last = daily_sequence.last + 1 RETURNING last")


def next_code(session: Session, agency: Agency, now_utc: dt.datetime) -> str:
    """``{agency code}-{yyMMdd}-{4-digit daily sequence}``; the sequence restarts each day per agency."""
    day = calendar.to_local(now_utc).strftime("%y%m%d")
    number = session.connection().execute(NEXT_NUMBER, {"agency_code": agency.code, "day": day}).scalar_one()
    return f"{agency.code}-{day}-{number:04d}"


def save(session: Session, cache: VersionCache, dossier: Dossier, workflow: Any) -> None:
    """Write the step: flush (a dossier changed by someone else since it was read is refused, never
    overwritten) and its audit events; ``workflow`` is offered to the cache for when the transaction commits."""
    try:
        writes.flush_step(session)
    except StaleDataError:
        raise StaleDossier() from None  # the caller rolls back its transaction
    buffers.write(session)  # the step's audit events and the mail it owes
    session.info.setdefault(WORKFLOWS_TO_KEEP, {})[dossier.id] = (cache.workflows, dossier.row_version, workflow)


WORKFLOWS_TO_KEEP = "motcua.workflows"


def workflow_of(cache: VersionCache, rt: VersionRuntime, dossier: Dossier) -> Any:
    """The dossier's workflow at the version just read: from the cache if it holds that very version, else
    restored from the stored state (the deferred column is read only then)."""
    workflow = cache.workflows.take(dossier.id, dossier.row_version)
    if workflow is None:
        workflow = restore(rt, dossier, "the step is refused")
    return workflow


def restore(rt: VersionRuntime, dossier: Dossier, consequence: str) -> Any:
    """The dossier's workflow restored from its stored state, or NotRunnable saying why not: a bulk-seeded
    dossier has none, by design; a damaged one is reported (with ``consequence``, what the caller does instead)."""
    if dossier.workflow == runtime.PLACEHOLDER_STATE:
        raise NotRunnable(SEEDED_NOT_RUNNABLE)
    try:
        return runtime.restore(dossier.workflow, rt.spec, rt.subprocess_specs)
    except runtime.StateUnreadable:
        _report_unreadable(dossier, consequence)
        raise NotRunnable(STATE_UNREADABLE) from None


_REPORTED: set[tuple[int, int]] = set()


def _report_unreadable(dossier: Dossier, consequence: str) -> None:
    """The error with its trace once per stored state and process, then a line each time: the timer worker meets
    a damaged dossier again at every run, a page at every view."""
    key = (dossier.id, dossier.row_version)
    if key in _REPORTED:
        log.error("dossier %s: its workflow state cannot be restored (trace logged before); %s",
                  dossier.id, consequence)
        return
    if len(_REPORTED) >= 10_000:
        _REPORTED.clear()
    _REPORTED.add(key)
    log.exception("dossier %s: its workflow state cannot be restored; %s", dossier.id, consequence)


SEEDED_NOT_RUNNABLE = text(
    "Hồ sơ này được sinh hàng loạt để đo hiệu năng: nó không có trạng thái quy trình nên không xử lý được.",
    "This dossier was generated in bulk to measure performance: it holds no process state, so it cannot be "
    "processed.")
STATE_UNREADABLE = text(
    "Không đọc được trạng thái quy trình của hồ sơ này nên chưa xử lý được. Lỗi đã được ghi lại cho quản trị "
    "viên; hồ sơ không bị thay đổi.",
    "This dossier's process state cannot be read, so it cannot be processed for now. The error has been logged "
    "for the administrators; the dossier was not changed.")


@event.listens_for(Session, "after_commit")
def _keep_committed_workflows(session: Session) -> None:
    """The workflows saved in a transaction enter the cache when, and only if, it commits."""
    for dossier_id, (workflows, row_version, workflow) in session.info.pop(WORKFLOWS_TO_KEEP, {}).items():
        workflows.put(dossier_id, row_version, workflow)


def audit(session: Session, dossier: Dossier | None, actor: Person | None, action: str, label: Text,
          element: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Add an event to the dossier's audit trail. Events are append-only and nothing needs their ids: they wait in
    the session and are written at the end of the step (:mod:`engine.buffers`)."""
    buffers.add(session, AuditEvent, {
        "dossier_id": dossier.id if dossier else None, "at": utcnow(), "actor_id": actor.id if actor else None,
        "actor_name": actor.full_name if actor else "Hệ thống", "action": action, "element": element,
        "label_vi": label["vi"], "label_en": label["en"], "detail": detail or {},
    })


@event.listens_for(Session, "after_rollback")
def _dropped(session: Session) -> None:
    session.info.pop(WORKFLOWS_TO_KEEP, None)  # their changes were not stored: the cache must not hold them


# -- access --------------------------------------------------------------------------------------------------

def may_see(dossier: Dossier, actor: Person) -> bool:
    if actor.is_admin:
        return True
    if actor.is_citizen:
        return dossier.applicant_id == actor.id
    return actor.is_official and dossier.agency_id == actor.agency_id and dossier.status != "draft"


def get_for(session: Session, dossier_id: int, actor: Person) -> Dossier:
    dossier = get_by_id(session, DOSSIER_BY_ID, Dossier, dossier_id)
    if dossier is None or not may_see(dossier, actor):
        raise NotFound(NO_DOSSIER)
    return dossier


def get_by_code_for(session: Session, code: str, actor: Person) -> Dossier:
    dossier = session.scalar(DOSSIER_BY_CODE, {"code": code.strip().upper()})
    if dossier is None or not may_see(dossier, actor):
        raise NotFound(NO_DOSSIER)
    return dossier


# -- showing -------------------------------------------------------------------------------------------------

def view(session: Session, cache: VersionCache, dossier: Dossier, actor: Person | None,
         detailed: bool = True, with_answers: bool = True, open_rows: list[HumanTask] | None = None) -> DossierView:
    """A dossier as shown to people; without ``detailed`` (lists), no open tasks and no answers are read.

    A caller that holds the dossier's open task rows, flushed (a step just run), passes them as ``open_rows``
    (then without answers): they are not read again.
    """
    from .tasks import view as task_view  # tasks imports this module

    rt = cache.of(session, dossier.version_id)
    status = STATUSES[dossier.status]
    if session.new or session.dirty:  # a view reads what the caller's transaction holds: one flush, up front
        session.flush()
    if open_rows is not None and not with_answers:
        rows = list(open_rows)
    elif detailed:
        rows = session.scalars(ALL_ROWS, {"dossier_id": dossier.id}).all()
    else:
        rows = []
    # the applicant looking at their own dossier is the actor, whose name is known without a read
    applicant_name = (actor.full_name if actor is not None and actor.id == dossier.applicant_id
                      else dossier.applicant.full_name)
    return DossierView(
        id=dossier.id, code=dossier.code, procedure_code=dossier.procedure_code, procedure_name=rt.info.name,
        status=dossier.status, status_label=status.label, status_number=status.number,
        applicant_id=dossier.applicant_id, applicant_name=applicant_name, agency_id=dossier.agency_id,
        agency_name=text(dossier.agency.name_vi, dossier.agency.name_en), created_at=dossier.created_at,
        submitted_at=dossier.submitted_at, appointment_at=dossier.appointment_at, finished_at=dossier.finished_at,
        delivery_method=dossier.delivery_method, data=dict(dossier.data), completed=dossier.finished_at is not None,
        open_tasks=tuple(task_view(session, cache, r, applicant_name=applicant_name)
                         for r in rows if r.state == "open"),
        classification=calendar.classify(dossier.finished_at, dossier.appointment_at, utcnow())
        if dossier.status not in ("draft", "denied", "cancelled") else None,
        clock_paused=dossier.clock_paused_at is not None, extended_days=dossier.extended_days or 0,
        withdrawable=dossier.status in WITHDRAWABLE,
        answers=_answers(rt, dossier, [r for r in rows if r.state == "completed"]) if with_answers else (),
    )


def _answers(rt: VersionRuntime, dossier: Dossier, completed: list[HumanTask]) -> tuple[Any, ...]:
    groups = []
    seen: set[str] = set()
    for row in sorted(completed, key=lambda r: r.completed_at or r.created_at, reverse=True):
        if not row.form_key or row.form_key in seen or row.form_key not in rt.forms:
            continue
        seen.add(row.form_key)
        form = rt.forms[row.form_key]
        items = tuple(
            (f.label, {"vi": f.display(dossier.data[name], "vi"), "en": f.display(dossier.data[name], "en")})
            for name, f in form.fields.items() if dossier.data.get(name) not in (None, "")
        )
        groups.append((form.title, items))
    return tuple(reversed(groups))


def diagram(session: Session, cache: VersionCache, dossier: Dossier) -> Any:
    from .views import DiagramView

    rt = cache.of(session, dossier.version_id)
    open_rows = session.scalars(OPEN_ROWS, {"dossier_id": dossier.id}).all()
    walk = cache.walks.get(dossier.id, dossier.row_version)  # drawn before at this version: no state read
    if walk is None:
        try:
            walk = runtime.walked(restore(rt, dossier, "its diagram is drawn from its task rows and audit trail"))
            if session.info.get(READS_COMMITTED):  # kept only when the version read is committed (a session
                cache.walks.put(dossier.id, dossier.row_version, walk)  # that wrote may yet roll back)
        except NotRunnable:
            # no state, or a damaged one, must not hide the rest of the dossier: the open task rows say where it
            # stands, the audit trail what it passed
            walk = ([], sorted({r.bpmn_id for r in open_rows}))
    done, current = walk
    # a compacted workflow has forgotten early elements; the audit trail has not
    done = sorted(set(done) | set(session.scalars(PASSED_ELEMENTS, {"dossier_id": dossier.id})) - set(current))
    titles = tuple(text(r.title_vi, r.title_en) for r in open_rows)
    if dossier.status in ("cancelled",):
        current = ()
    return DiagramView(xml=rt.diagram_xml, current=tuple(current), done=tuple(done), current_titles=titles)


def of_applicant(session: Session, cache: VersionCache, applicant: Person, limit: int = 50,
                 offset: int = 0) -> list[DossierView]:
    """A page of the applicant's dossiers, newest first (list views: no answers, no task rows)."""
    rows = session.scalars(OF_APPLICANT, {"applicant_id": applicant.id, "limit": limit, "offset": offset}).all()
    return [view(session, cache, d, applicant, detailed=False) for d in rows]


def of_agency(session: Session, cache: VersionCache, official: Person, status: str | None = None,
              procedure: str | None = None, overdue: bool = False, limit: int = 50,
              offset: int = 0, applicant: str | None = None) -> list[DossierView]:
    """A page of the dossiers the official's agency received, newest first (list views), of one status or
    procedure, or only those still open past their due date; of the applicant whose personal ID number, email or
    phone number or full name is ``applicant`` (FormInvalid ``applicant`` for something else)."""
    if not official.is_official or official.agency_id is None:
        raise Forbidden(text("Chỉ cán bộ của cơ quan mới xem được hồ sơ của cơ quan.",
                             "Only an agency's officials can see its dossiers."))
    query = select(Dossier).where(Dossier.agency_id == official.agency_id, Dossier.submitted_at.is_not(None))
    if applicant:
        query = query.where(Dossier.applicant_id.in_(applicants_matching(session, applicant)))
    if status:
        query = query.where(Dossier.status == status)
    if procedure:
        query = query.where(Dossier.procedure_code == procedure)
    if overdue:
        query = query.where(Dossier.finished_at.is_(None), Dossier.appointment_at < utcnow(),
                            Dossier.status.not_in([s.slug for s in STATUSES.values() if s.final]))
    query = (query.order_by(Dossier.submitted_at.desc(), Dossier.id.desc()).limit(limit).offset(offset)
             .options(joinedload(Dossier.agency), joinedload(Dossier.applicant)))
    return [view(session, cache, d, official, detailed=False) for d in session.scalars(query).all()]


def timeline(session: Session, dossier: Dossier) -> list[TimelineEntry]:
    events = session.scalars(EVENTS, {"dossier_id": dossier.id}).all()
    return [TimelineEntry(e.at, e.actor_name, e.action, text(e.label_vi, e.label_en), dict(e.detail)) for e in events]
