"""Plain, read-only records the engine hands to its callers (the web layer renders these)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .i18n import Text


@dataclass(frozen=True)
class Fee:
    name: Text
    amount: int  # VND
    note: Text | None = None


@dataclass(frozen=True)
class Component:
    code: str
    name: Text
    required: bool
    note: Text | None = None


@dataclass(frozen=True)
class DeliveryOption:
    code: str
    name: Text


@dataclass(frozen=True)
class ProcedureInfo:
    """A procedure as the catalog shows it."""

    code: str
    name: Text
    summary: Text
    field_code: str
    field: Text
    agency_level: str
    service_level: str  # toan_trinh | mot_phan
    legal_basis: tuple[str, ...]
    time_limit: Text
    working_days: int
    fees: tuple[Fee, ...]
    components: tuple[Component, ...]
    delivery: tuple[DeliveryOption, ...]
    keywords: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskView:
    """A human task: one row of an inbox, or the citizen's next step."""

    id: int
    dossier_id: int
    dossier_code: str | None
    procedure_code: str
    procedure_name: Text
    bpmn_id: str
    title: Text
    role: str
    lane: str | None
    agency_id: int
    form_key: str | None
    state: str  # open | completed | cancelled
    created_at: dt.datetime
    due_at: dt.datetime | None
    claimed_by_id: int | None
    claimed_by_name: str | None
    applicant_name: str
    is_applicant_task: bool
    dossier_status: str = ""  # the dossier's status when the task was read
    # an official's task that takes the electronic result: "required", "online" or "optional" (resultFile)
    result_file: str | None = None


@dataclass(frozen=True)
class Assignee:
    """An official a task may be given to, and how many open tasks they hold now."""

    id: int
    name: str
    held: int


@dataclass(frozen=True)
class NotGiven:
    """A task of several given at once that was not given, and why."""

    task_id: int
    dossier_code: str | None
    title: Text | None
    reason: Text


@dataclass(frozen=True)
class Handing:
    """What giving several tasks at once did (:func:`engine.tasks.assign_many`): to whom (None: spread over several,
    each task's view names its holder), the tasks given and those not given, each with why."""

    assignee: str | None
    given: list[TaskView]
    not_given: list[NotGiven]


@dataclass(frozen=True)
class Workload:
    """An official of an agency, with the open tasks they hold and how many of those are overdue."""

    id: int
    name: str
    held: int
    overdue: int


@dataclass(frozen=True)
class DossierView:
    id: int
    code: str | None
    procedure_code: str
    procedure_name: Text
    status: str
    status_label: Text
    status_number: int | None
    applicant_id: int
    applicant_name: str
    agency_id: int
    agency_name: Text
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    appointment_at: dt.datetime | None
    finished_at: dt.datetime | None
    delivery_method: str | None
    data: dict[str, Any]
    completed: bool
    open_tasks: tuple[TaskView, ...] = ()
    # early | on_time | late once finished; within_time | late while open; None before submission
    classification: str | None = None
    clock_paused: bool = False
    extended_days: int = 0
    withdrawable: bool = False
    # (label, value) pairs of the collected data, in vi and en, grouped by form title
    answers: tuple[tuple[Text, tuple[tuple[Text, dict[str, str]], ...]], ...] = ()


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    actor_name: str
    action: str
    label: Text
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeView:
    """A mail owed to the applicant about their dossier (engine.notices), as the dossier page lists it."""

    about: Text  # what it told: the status reached, or the supplement received
    created_at: dt.datetime
    state: str  # pending | sent | skipped | failed
    sent_at: dt.datetime | None
    tried: bool  # a try failed already (pending: to be tried again)
    why_not: str | None  # skipped: opted_out | no_server; failed: the server's answer (shown to officials)


@dataclass(frozen=True)
class Completion:
    """What completing a task led to (the dossier without its answers: ask ``Engine.dossier`` for those)."""

    dossier: DossierView
    next_tasks_for_actor: tuple[TaskView, ...]
    submitted: bool  # this completion submitted the dossier (it got its code)


@dataclass(frozen=True)
class DiagramView:
    """A dossier's diagram (BPMN XML of the version it runs on) and where the dossier stands in it."""

    xml: str
    current: tuple[str, ...]  # elements the flow stands at (open tasks, waiting events)
    done: tuple[str, ...]  # elements passed
    current_titles: tuple[Text, ...] = ()
