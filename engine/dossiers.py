"""Dossiers: starting them, advancing them after each engine run, who may see them, how they are shown."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import calendar, runtime
from .catalog import VersionCache, VersionRuntime, current_version
from .errors import Forbidden, NotFound, StaleDossier
from .i18n import Text, text, tr
from .models import Agency, AuditEvent, DailySequence, Dossier, HumanTask, User, utcnow
from .procedures import APPLICANT_ROLE
from .statuses import STATUSES
from .views import DossierView, TimelineEntry

NO_DOSSIER = text("Không tìm thấy hồ sơ.", "Dossier not found.")


def start(session: Session, cache: VersionCache, code: str, applicant: User, agency_id: int | None) -> DossierView:
    if not applicant.is_citizen:
        raise Forbidden(text("Chỉ công dân mới nộp được hồ sơ.", "Only citizens can submit dossiers."))
    version = current_version(session, code)
    rt = cache.get(version)
    agencies = session.scalars(select(Agency).where(Agency.level == rt.info.agency_level).order_by(Agency.id)).all()
    agency = next((a for a in agencies if a.id == agency_id), None) if agency_id else (agencies[0] if agencies else None)
    if agency is None:
        raise NotFound(text("Không có cơ quan tiếp nhận thủ tục này.", "No agency receives this procedure."))
    workflow = runtime.new_workflow(rt.spec, rt.subprocess_specs)
    dossier = Dossier(
        procedure_code=code, version_id=version.id, applicant_id=applicant.id, agency_id=agency.id, status="draft",
        data={}, workflow={}, serializer_version=runtime.SERIALIZER_VERSION,
    )
    session.add(dossier)
    session.flush()
    audit(session, dossier, applicant, "dossier.started",
          text(f"Bắt đầu khai hồ sơ {tr(rt.info.name, 'vi')}", f"Started a dossier for {tr(rt.info.name, 'en')}"))
    advance(session, rt, dossier, workflow, set(), applicant)
    save(session, dossier)
    return view(session, cache, dossier, applicant)


def advance(session: Session, rt: VersionRuntime, dossier: Dossier, workflow: Any, before: set[Any],
            actor: User | None) -> None:
    """After an engine run: statuses and timeline entries the diagram declares, the human-task rows, state."""
    for task in runtime.reached_since(workflow, before):
        props = runtime.properties(task.task_spec)
        if props.get("timeline"):
            audit(session, dossier, actor, "step.reached", text(props["timeline"], props.get("timelineEn", props["timeline"])),
                  element=task.task_spec.bpmn_id)
        status = props.get("dossierStatus")
        if status and status != dossier.status:
            set_status(session, rt, dossier, status, actor, task.task_spec.bpmn_id)
    ready = {str(t.id): t for t in runtime.ready_human_tasks(workflow)}
    open_rows = session.scalars(select(HumanTask).where(HumanTask.dossier_id == dossier.id, HumanTask.state == "open")).all()
    for row in open_rows:
        if row.task_guid not in ready:
            row.state = "cancelled"
    known = {row.task_guid for row in open_rows}
    for guid, task in ready.items():
        if guid not in known:
            session.add(_human_task(rt, dossier, guid, task))
    dossier.data = {**dossier.data, **_workflow_data(workflow, list(ready.values()))}
    if workflow.is_completed() and dossier.finished_at is None:
        dossier.finished_at = utcnow()
    dossier.workflow = runtime.dump(workflow)


def _workflow_data(workflow: Any, ready: list[Any]) -> dict[str, Any]:
    """What the diagram's scripts computed, as seen by the tasks now waiting (or by the end of the process)."""
    merged: dict[str, Any] = {}
    sources = ready or ([workflow.last_task] if workflow.last_task is not None else [])
    for task in sources:
        merged.update(task.data)
    return {k: v for k, v in merged.items() if not k.startswith("_")}


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


def set_status(session: Session, rt: VersionRuntime, dossier: Dossier, status: str, actor: User | None,
               element: str | None = None) -> None:
    previous = dossier.status
    dossier.status = status
    label = STATUSES[status].label
    audit(session, dossier, actor, "status.changed",
          text(f"Trạng thái: {label['vi']}", f"Status: {label['en']}"), element=element,
          detail={"from": previous, "to": status})
    if previous == "draft" and dossier.code is None:
        submit(session, rt, dossier)


def submit(session: Session, rt: VersionRuntime, dossier: Dossier) -> None:
    """The dossier leaves draft: it gets its code, submission time and appointment date."""
    now = utcnow()
    dossier.submitted_at = now
    dossier.code = next_code(session, dossier.agency, now)
    limit = rt.manifest.get("time_limit", {})
    cutoff = dt.time.fromisoformat(limit["same_day_cutoff"]) if limit.get("same_day_cutoff") else None
    dossier.appointment_at = calendar.appointment(now, int(limit.get("working_days", 0)), cutoff)
    dossier.delivery_method = dossier.data.get("delivery_method") or dossier.delivery_method


def next_code(session: Session, agency: Agency, now_utc: dt.datetime) -> str:
    """``{agency code}-{yyMMdd}-{4-digit daily sequence}``; the sequence restarts each day per agency."""
    day = calendar.to_local(now_utc).strftime("%y%m%d")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(DailySequence).values(agency_code=agency.code, day=day, last=1)
        .on_conflict_do_update(index_elements=["agency_code", "day"], set_={"last": DailySequence.last + 1})
        .returning(DailySequence.last)
    )
    number = session.execute(stmt).scalar_one()
    return f"{agency.code}-{day}-{number:04d}"


def save(session: Session, dossier: Dossier) -> None:
    """Flush; a dossier changed by someone else since it was read is refused, never overwritten."""
    try:
        session.flush()
    except StaleDataError:
        raise StaleDossier() from None  # the caller rolls back its transaction


def audit(session: Session, dossier: Dossier | None, actor: User | None, action: str, label: Text,
          element: str | None = None, detail: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(
        dossier_id=dossier.id if dossier else None, actor_id=actor.id if actor else None,
        actor_name=actor.full_name if actor else "Hệ thống", action=action, element=element,
        label_vi=label["vi"], label_en=label["en"], detail=detail or {},
    ))


# -- access --------------------------------------------------------------------------------------------------

def may_see(dossier: Dossier, actor: User) -> bool:
    if actor.is_admin:
        return True
    if actor.is_citizen:
        return dossier.applicant_id == actor.id
    return actor.is_official and dossier.agency_id == actor.agency_id and dossier.status != "draft"


def get_for(session: Session, dossier_id: int, actor: User) -> Dossier:
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or not may_see(dossier, actor):
        raise NotFound(NO_DOSSIER)
    return dossier


def get_by_code_for(session: Session, code: str, actor: User) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == code.strip().upper()))
    if dossier is None or not may_see(dossier, actor):
        raise NotFound(NO_DOSSIER)
    return dossier


# -- showing -------------------------------------------------------------------------------------------------

def view(session: Session, cache: VersionCache, dossier: Dossier, actor: User | None) -> DossierView:
    from .tasks import view as task_view  # tasks imports this module

    rt = cache.get(dossier.version)
    status = STATUSES[dossier.status]
    rows = session.scalars(
        select(HumanTask).where(HumanTask.dossier_id == dossier.id).order_by(HumanTask.id)
    ).all()
    return DossierView(
        id=dossier.id, code=dossier.code, procedure_code=dossier.procedure_code, procedure_name=rt.info.name,
        status=dossier.status, status_label=status.label, status_number=status.number,
        applicant_id=dossier.applicant_id, applicant_name=dossier.applicant.full_name, agency_id=dossier.agency_id,
        agency_name=text(dossier.agency.name_vi, dossier.agency.name_en), created_at=dossier.created_at,
        submitted_at=dossier.submitted_at, appointment_at=dossier.appointment_at, finished_at=dossier.finished_at,
        delivery_method=dossier.delivery_method, data=dict(dossier.data), completed=dossier.finished_at is not None,
        open_tasks=tuple(task_view(session, cache, r) for r in rows if r.state == "open"),
        answers=_answers(rt, dossier, [r for r in rows if r.state == "completed"]),
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


def of_applicant(session: Session, cache: VersionCache, applicant: User) -> list[DossierView]:
    rows = session.scalars(
        select(Dossier).where(Dossier.applicant_id == applicant.id).order_by(Dossier.created_at.desc(), Dossier.id.desc())
    ).all()
    return [view(session, cache, d, applicant) for d in rows]


def timeline(session: Session, dossier: Dossier) -> list[TimelineEntry]:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.dossier_id == dossier.id).order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return [TimelineEntry(e.at, e.actor_name, e.action, text(e.label_vi, e.label_en), dict(e.detail)) for e in events]
