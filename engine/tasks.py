"""Human tasks: who may see and do them, the queues, claiming, and completing with validated form data."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from . import attachments, dossiers, payments, runtime, task_mail
from .catalog import VersionCache, by_name
from .db import get_by_id, id_from, number_from, possible_id
from .errors import AlreadyClaimed, Forbidden, FormInvalid, NotFound, StaleDossier, TaskNotOpen
from .forms import FormDefinition
from .i18n import Text, text
from .models import Dossier, HumanTask, Person, User, UserRole, utcnow
from .procedures import APPLICANT_ROLE, SUPERVISOR_ROLE
from .views import Assignee, Completion, Handing, NotGiven, TaskView, Workload

NO_TASK = text("Không tìm thấy công việc này.", "Task not found.")
NOT_YOUR_ROLE = text("Công việc này thuộc vai trò khác, bạn không thể xử lý.",
                     "This task belongs to another role; you cannot act on it.")


# the claimant is not joined: it is nobody, or the actor, or one official already in the session's map
TASK_BY_ID = select(HumanTask).where(HumanTask.id == bindparam("id")).options(
    joinedload(HumanTask.dossier).joinedload(Dossier.applicant), joinedload(HumanTask.dossier).joinedload(Dossier.agency))


def get_for(session: Session, task_id: int, actor: Person, acting: bool = False) -> HumanTask:
    """The task if ``actor`` may see it (and, with ``acting``, do it); NotFound or Forbidden otherwise. An official
    sees the tasks of their roles in their agency, a head of office (:data:`SUPERVISOR_ROLE`) every task of it."""
    row = get_by_id(session, TASK_BY_ID, HumanTask, task_id)
    if row is None:
        raise NotFound(NO_TASK)
    if row.role == APPLICANT_ROLE:
        if row.dossier.applicant_id != actor.id:
            raise NotFound(NO_TASK)
        return row
    if not (actor.is_official or actor.is_admin) or (actor.is_official and row.agency_id != actor.agency_id):
        raise NotFound(NO_TASK)
    if row.role not in actor.roles and (acting or not (actor.is_admin or SUPERVISOR_ROLE in actor.roles)):
        raise Forbidden(NOT_YOUR_ROLE)
    return row


def view(session: Session, cache: VersionCache, row: HumanTask, claimant: Person | None = None,
         applicant_name: str | None = None) -> TaskView:
    """The task as pages show it. Names the caller knows are not read again: ``claimant``, the official who
    holds it; ``applicant_name``, the dossier's applicant."""
    dossier = row.dossier
    rt = cache.of(session, dossier.version_id)
    if row.claimed_by_id is None:
        claimed_by_name = None
    elif claimant is not None and claimant.id == row.claimed_by_id:
        claimed_by_name = claimant.full_name
    else:
        claimed_by_name = row.claimed_by.full_name if row.claimed_by else None
    return TaskView(
        id=row.id, dossier_id=row.dossier_id, dossier_code=dossier.code, procedure_code=dossier.procedure_code,
        procedure_name=rt.info.name, bpmn_id=row.bpmn_id,
        title=text(row.title_vi, row.title_en), role=row.role, lane=row.lane, agency_id=row.agency_id,
        form_key=row.form_key, state=row.state, created_at=row.created_at, due_at=row.due_at,
        claimed_by_id=row.claimed_by_id, claimed_by_name=claimed_by_name,
        applicant_name=applicant_name or dossier.applicant.full_name, is_applicant_task=row.role == APPLICANT_ROLE,
        dossier_status=dossier.status, result_file=rt.result_files.get(row.bpmn_id),
    )


def form_of(session: Session, cache: VersionCache, row: HumanTask) -> FormDefinition:
    rt = cache.of(session, row.dossier.version_id)
    if not row.form_key or row.form_key not in rt.forms:
        raise NotFound(NO_TASK)
    return rt.forms[row.form_key]


def prefill(session: Session, cache: VersionCache, row: HumanTask, actor: Person) -> dict[str, Any]:
    form = form_of(session, cache, row)
    data: dict[str, Any] = {}
    if row.role == APPLICANT_ROLE:
        profile = actor.profile()
        data.update({name: profile[f.prefill] for name, f in form.fields.items() if f.prefill and profile.get(f.prefill)})
    data.update({k: v for k, v in row.dossier.data.items() if k in form.fields})
    data.update(row.draft or {})
    return data


def save_draft(session: Session, row: HumanTask, data: Mapping[str, Any]) -> None:
    if row.state != "open":
        raise TaskNotOpen.of(row.state)
    row.draft = {**(row.draft or {}), **dict(data)}
    session.flush()


# A listing reads the columns its rows show, with the dossier's, the applicant's and the claimant's, in one
# statement: no ORM objects (building one per task, dossier and person was most of a long queue's cost).
APPLICANT, CLAIMANT = aliased(User), aliased(User)
LISTED = (select(HumanTask.id, HumanTask.dossier_id, Dossier.code, Dossier.procedure_code, Dossier.version_id,
                 HumanTask.bpmn_id, HumanTask.title_vi, HumanTask.title_en, HumanTask.role, HumanTask.lane,
                 HumanTask.agency_id, HumanTask.form_key, HumanTask.state, HumanTask.created_at, HumanTask.due_at,
                 HumanTask.claimed_by_id, CLAIMANT.full_name, APPLICANT.full_name, Dossier.status)
          .join(Dossier, Dossier.id == HumanTask.dossier_id).join(APPLICANT, APPLICANT.id == Dossier.applicant_id)
          .outerjoin(CLAIMANT, CLAIMANT.id == HumanTask.claimed_by_id))


#: how a list of tasks may be ordered: "oldest" given first (the default: first come, first served), or "due":
#: the nearest due time first (those without one last), then the oldest
ORDERS = {"oldest": (HumanTask.created_at, HumanTask.id),
          "due": (HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)}


def _listed(query: Any) -> dict[str, Any]:
    """A listing's statements, built once, one per order (:data:`ORDERS`): open tasks with what a task view shows."""
    return {order: query.where(HumanTask.state == "open").order_by(*by).limit(bindparam("limit"))
            .offset(bindparam("offset")) for order, by in ORDERS.items()}


def _order(order: str | None) -> str:
    return order if order in ORDERS else "oldest"


def _in_queue(query: Any) -> Any:
    return query.where(HumanTask.state == "open", HumanTask.agency_id == bindparam("agency_id"),
                       HumanTask.role.in_(bindparam("roles", expanding=True)), HumanTask.claimed_by_id.is_(None))


QUEUE = _listed(_in_queue(LISTED))
_OF_AGENCY = (HumanTask.agency_id == bindparam("agency_id"), HumanTask.role != APPLICANT_ROLE)
_UNCLAIMED = HumanTask.claimed_by_id.is_(None)
# the agency's open tasks (and only those nobody holds), for a head of office, and how many there are
OF_AGENCY = {False: _listed(LISTED.where(*_OF_AGENCY)), True: _listed(LISTED.where(*_OF_AGENCY, _UNCLAIMED))}
OF_AGENCY_SIZE = {unclaimed: select(func.count()).select_from(HumanTask).where(
    HumanTask.state == "open", *_OF_AGENCY, *((_UNCLAIMED,) if unclaimed else ())) for unclaimed in (False, True)}
# the officials of an agency with the open tasks each holds, and how many of those are overdue
WORKLOADS = (select(User.id, User.full_name, func.count(HumanTask.id),
                    func.count(HumanTask.id).filter(HumanTask.due_at < bindparam("now")))
             .outerjoin(HumanTask, (HumanTask.claimed_by_id == User.id) & (HumanTask.state == "open"))
             .where(User.kind == "official", User.active.is_(True), User.agency_id == bindparam("agency_id"))
             .group_by(User.id, User.full_name))
QUEUE_SIZE = _in_queue(select(func.count()).select_from(HumanTask))
CLAIMED_BY = _listed(LISTED.where(HumanTask.claimed_by_id == bindparam("user_id")))
APPLICANT_TASKS = _listed(LISTED.where(HumanTask.role == APPLICANT_ROLE, Dossier.applicant_id == bindparam("user_id")))


def _listing(session: Session, cache: VersionCache, query: Any, params: dict[str, Any]) -> list[TaskView]:
    """The rows of a listing as task views: the same as :func:`view` gives for each task."""
    return [TaskView(
        id=r[0], dossier_id=r[1], dossier_code=r[2], procedure_code=r[3],
        procedure_name=cache.of(session, r[4]).info.name, bpmn_id=r[5], title=text(r[6], r[7]), role=r[8],
        lane=r[9], agency_id=r[10], form_key=r[11], state=r[12], created_at=r[13], due_at=r[14], claimed_by_id=r[15],
        claimed_by_name=r[16], applicant_name=r[17],
        is_applicant_task=r[8] == APPLICANT_ROLE, dossier_status=r[18],
    ) for r in session.execute(query, params).all()]


def queue(session: Session, cache: VersionCache, official: Person, limit: int = 200, offset: int = 0,
          order: str | None = None) -> list[TaskView]:
    if not official.is_official:
        raise Forbidden()
    return _listing(session, cache, QUEUE[_order(order)], {"agency_id": official.agency_id,
                                                           "roles": sorted(official.roles), "limit": limit,
                                                           "offset": max(0, offset)})


def queue_size(session: Session, official: Person) -> int:
    if not official.is_official:
        raise Forbidden()
    return session.scalar(QUEUE_SIZE, {"agency_id": official.agency_id, "roles": sorted(official.roles)}) or 0


def _supervising(official: Person) -> None:
    if not (official.is_official and SUPERVISOR_ROLE in official.roles):
        raise Forbidden(text("Chỉ lãnh đạo bộ phận mới xem được công việc của cả cơ quan.",
                             "Only a head of office can see the whole agency's tasks."))


def of_agency(session: Session, cache: VersionCache, official: Person, limit: int = 200, offset: int = 0,
              unclaimed: bool = False, order: str | None = None) -> tuple[list[TaskView], int]:
    """The open tasks of the head of office's agency, whoever holds them (or only those nobody holds), in the
    ``order`` of :data:`ORDERS` (oldest first unless told); and how many there are."""
    _supervising(official)
    params = {"agency_id": official.agency_id}
    return (_listing(session, cache, OF_AGENCY[unclaimed][_order(order)],
                     {**params, "limit": limit, "offset": max(0, offset)}),
            session.scalar(OF_AGENCY_SIZE[unclaimed], params) or 0)


def workloads(session: Session, official: Person) -> list[Workload]:
    """The head of office's agency's officials, with the open tasks each holds and how many of those are overdue."""
    _supervising(official)
    return [Workload(*row) for row in by_name(session.execute(WORKLOADS, {"agency_id": official.agency_id,
                                                                             "now": utcnow()}))]


def mine(session: Session, cache: VersionCache, user: Person, limit: int = 200,
         order: str | None = None) -> list[TaskView]:
    return _listing(session, cache, (CLAIMED_BY if user.is_official else APPLICANT_TASKS)[_order(order)],
                    {"user_id": user.id, "limit": limit, "offset": 0})


def claim(session: Session, cache: VersionCache, task_id: int, official: Person) -> TaskView:
    row = get_for(session, task_id, official, acting=True)
    _claim(session, row, official)
    return view(session, cache, row, claimant=official)


CLAIM = (update(HumanTask)
         .where(HumanTask.id == bindparam("task_id"), HumanTask.state == "open", HumanTask.claimed_by_id.is_(None))
         .values(claimed_by_id=bindparam("official_id"), claimed_at=bindparam("at"))
         .execution_options(synchronize_session=False))


def _claim(session: Session, row: HumanTask, official: Person) -> None:
    if row.state != "open":
        raise TaskNotOpen.of(row.state)
    if row.claimed_by_id == official.id:
        return
    # one UPDATE guarded by "nobody has it": of two officials racing, the database lets exactly one through
    claimed_at = utcnow()
    won = session.execute(CLAIM, {"task_id": row.id, "official_id": official.id, "at": claimed_at}).rowcount
    if not won:
        session.refresh(row)  # someone else was first: say why from what the database holds now
        raise TaskNotOpen.of(row.state) if row.state != "open" else AlreadyClaimed()
    # what the UPDATE wrote, recorded as the row's committed state: no reload, nothing more to flush
    set_committed_value(row, "claimed_by_id", official.id)
    set_committed_value(row, "claimed_at", claimed_at)
    _claimant_changed(session, row)
    _audit_claim(session, row, official)


def _claimant_changed(session: Session, row: HumanTask) -> None:
    """The row's ``claimed_by`` (read-only, loaded for views) may hold the claimant read earlier in this session:
    it is read again, from the new ``claimed_by_id``, when next asked for."""
    if "claimed_by" in row.__dict__:
        session.expire(row, ["claimed_by"])


def _audit_claim(session: Session, row: HumanTask, official: Person) -> None:
    dossiers.audit(session, row.dossier, official, "task.claimed",
                   text(f"Nhận xử lý: {row.title_vi}", f"Claimed: {row.title_en}"), element=row.bpmn_id)


def release(session: Session, task_id: int, official: Person, seen: int | None = None) -> None:
    """Put the open task back in its group queue: by the official holding it, or by a head of office of its agency,
    who names the holder their page showed (``seen``; if another holds it now, AlreadyClaimed says so and nothing
    changes)."""
    row = get_for(session, task_id, official)
    if row.state != "open":
        raise TaskNotOpen.of(row.state)
    if row.claimed_by_id == official.id and row.role in official.roles:
        row.claimed_by_id = None
        row.claimed_at = None
        _claimant_changed(session, row)
        session.flush()
        return
    if not (official.is_official and SUPERVISOR_ROLE in official.roles and row.agency_id == official.agency_id):
        raise Forbidden(text("Chỉ cán bộ đã nhận công việc này, hoặc lãnh đạo bộ phận, mới trả lại được.",
                             "Only the official who claimed this task, or a head of office, can put it back."))
    holder = row.claimed_by.full_name if row.claimed_by is not None else None
    _hand_over(session, row, seen if _could_hold(seen) else -1, None)
    dossiers.audit(session, row.dossier, official, "task.released",
                   text(f"Trả về hàng đợi chung (do {holder} giữ): {row.title_vi}",
                        f"Put back in the group queue (held by {holder}): {row.title_en}"),
                   element=row.bpmn_id, detail={"from": seen})


# -- assigning ----------------------------------------------------------------------------------------------

# the active officials of an agency with a role, and how many open tasks each holds (to spread the work)
ASSIGNEES = (select(User.id, User.full_name, func.count(HumanTask.id))
             .join(UserRole, UserRole.user_id == User.id)
             .outerjoin(HumanTask, (HumanTask.claimed_by_id == User.id) & (HumanTask.state == "open"))
             .where(User.kind == "official", User.active.is_(True), User.agency_id == bindparam("agency_id"),
                    UserRole.role == bindparam("role"))
             .group_by(User.id, User.full_name))
# a task given to an official (or taken back: nobody), guarded by "still open, and held by whom the page showed":
# of two heads of office giving it at once, or a claim and a giving, the database lets exactly one through
HAND_OVER = (update(HumanTask)
             .where(HumanTask.id == bindparam("task_id"), HumanTask.state == "open",
                    HumanTask.claimed_by_id.is_not_distinct_from(bindparam("seen")))
             .values(claimed_by_id=bindparam("official_id"), claimed_at=bindparam("at"))
             .execution_options(synchronize_session=False))
NOT_ASSIGNABLE = text("Chỉ lãnh đạo bộ phận, hoặc cán bộ đang xử lý công việc, mới giao được công việc này.",
                      "Only a head of office, or the official holding the task, can give this task to someone.")
NO_ASSIGNEE = text("Chọn một cán bộ của cơ quan có vai trò của công việc này.",
                   "Choose an official of the agency who has this task's role.")
HOLDER_CHANGED = text("Người xử lý công việc này vừa thay đổi. Xem lại trước khi giao.",
                      "Who holds this task has just changed. Look again before giving it.")


def _hand_over(session: Session, row: HumanTask, seen: int | None, to: int | None) -> None:
    """The open task held by ``to`` (None: nobody) if it is held by ``seen`` now; else nothing changes and
    AlreadyClaimed (or TaskNotOpen) says why."""
    at = utcnow() if to is not None else None
    if not session.execute(HAND_OVER, {"task_id": row.id, "seen": seen, "official_id": to, "at": at}).rowcount:
        session.refresh(row)
        raise TaskNotOpen.of(row.state) if row.state != "open" else AlreadyClaimed(HOLDER_CHANGED)
    set_committed_value(row, "claimed_by_id", to)
    set_committed_value(row, "claimed_at", at)
    _claimant_changed(session, row)


def _could_hold(seen: Any) -> bool:
    """Whether ``seen``, from a page's form, could be the id of an official holding a task."""
    return isinstance(seen, int) and possible_id(seen)


def may_assign(task: Any, actor: Person) -> bool:
    """Whether ``actor`` may give the open task (a row or a view) to an official: a head of office of its agency,
    or the official holding it."""
    return task.state == "open" and task.role != APPLICANT_ROLE and actor.is_official and (
        (SUPERVISOR_ROLE in actor.roles and task.agency_id == actor.agency_id)
        or (task.claimed_by_id == actor.id and task.role in actor.roles))


def assignees(session: Session, task: int | TaskView, actor: Person) -> list[Assignee]:
    """Whom ``actor`` may give the task (its id, or its view as ``actor`` just read it) to: the active officials of
    its agency with its role, but whoever holds it, with the open tasks each holds. Forbidden when ``actor`` may not
    give it."""
    row = get_for(session, task, actor) if isinstance(task, int) else task
    if not may_assign(row, actor):
        raise Forbidden(NOT_ASSIGNABLE)
    return _assignees(session, row)


def _assignees(session: Session, task: HumanTask | TaskView) -> list[Assignee]:
    return [Assignee(id, name, held) for id, name, held in by_name(
            session.execute(ASSIGNEES, {"agency_id": task.agency_id, "role": task.role})) if id != task.claimed_by_id]


def assign(session: Session, cache: VersionCache, task_id: int, actor: Person, assignee_id: Any,
           seen: int | None) -> TaskView:
    """Give the open task to the official ``assignee_id`` (who then holds it, as if they had claimed it): by a head
    of office of its agency, or by the official holding it (handing it over). ``seen``: who held it on the page
    the person assigning saw (None: nobody); if that changed meanwhile, :class:`AlreadyClaimed` says so and nothing
    changes. FormInvalid (``assignee``) for someone who may not take it; TaskNotOpen, Forbidden, NotFound."""
    row = get_for(session, task_id, actor)
    if row.state != "open":
        raise TaskNotOpen.of(row.state)
    if not may_assign(row, actor):
        raise Forbidden(NOT_ASSIGNABLE)
    chosen = next((a for a in _assignees(session, row) if str(a.id) == str(assignee_id).strip()), None)
    if chosen is None:
        raise FormInvalid({"assignee": NO_ASSIGNEE})
    _hand_over(session, row, seen if seen is None or _could_hold(seen) else -1, chosen.id)
    _audit_given(session, row, actor, chosen.id, chosen.name)
    task_mail.owed(session, row, chosen.id, actor.full_name)
    return view(session, cache, row)


#: the most tasks given at once (a page of "Phân công" shows 50)
MOST_AT_ONCE = 200
NO_TASK_CHOSEN = text("Chọn ít nhất một công việc để giao.", "Choose at least one task to give.")
TOO_MANY_CHOSEN = text(f"Chọn tối đa {MOST_AT_ONCE} công việc mỗi lần giao.",
                       f"Choose at most {MOST_AT_ONCE} tasks to give at once.")
NO_OFFICIAL = text("Chọn một cán bộ đang làm việc tại cơ quan.", "Choose an active official of the agency.")
NOT_THEIR_ROLE = text("Cán bộ được chọn không có vai trò của công việc này.",
                      "The official chosen does not have this task's role.")
ALREADY_THEIRS = text("Cán bộ được chọn đang giữ công việc này.", "The official chosen already holds this task.")
OFFICIAL_OF = (select(User).where(User.id == bindparam("id"), User.kind == "official", User.active.is_(True),
                                  User.agency_id == bindparam("agency_id")).options(selectinload(User.role_rows)))
CHOSEN_TASKS = (select(HumanTask).where(HumanTask.id.in_(bindparam("ids", expanding=True)))
                .options(joinedload(HumanTask.dossier).joinedload(Dossier.applicant))
                .order_by(HumanTask.created_at, HumanTask.id))


#: the assignee that spreads the tasks chosen over the officials with their role, the least busy first
SPREAD = "deu"
NO_ONE_ELSE = text("Cơ quan không có cán bộ nào khác có vai trò của công việc này.",
                   "The agency has no other official with this task's role.")
ROLES_OF_AGENCY = (select(UserRole.user_id, UserRole.role).join(User, User.id == UserRole.user_id)
                   .where(User.kind == "official", User.active.is_(True), User.agency_id == bindparam("agency_id")))


class _Spread:
    """Whom each task goes to when the tasks are spread: an official with its role, not holding it, who holds the
    fewest open tasks (counting those given so far), the first in a Vietnamese list of names on a tie."""

    def __init__(self, session: Session, agency_id: int) -> None:
        params = {"agency_id": agency_id, "now": utcnow()}
        loads = by_name(session.execute(WORKLOADS, params))
        self.officials = [(uid, name) for uid, name, _held, _overdue in loads]
        self.held = {uid: held for uid, _name, held, _overdue in loads}
        self.roles: dict[int, set[str]] = {}
        for uid, role in session.execute(ROLES_OF_AGENCY, params):
            self.roles.setdefault(uid, set()).add(role)

    def choose(self, row: HumanTask) -> tuple[int, str] | Text:
        fit = [(uid, name) for uid, name in self.officials
               if row.role in self.roles.get(uid, ()) and uid != row.claimed_by_id]
        if not fit:
            return NO_ONE_ELSE
        return min(fit, key=lambda official: self.held[official[0]])  # (min keeps the first of equals)

    def given(self, uid: int) -> None:
        self.held[uid] += 1


def assign_many(session: Session, cache: VersionCache, chosen: Iterable[tuple[Any, Any]], actor: Person,
                assignee_id: Any) -> Handing:
    """Give several open tasks of the head of office ``actor``'s agency at once (the "Phân công" page) to one
    official, or spread them (``assignee_id`` :data:`SPREAD`) over the officials with their role, the least busy
    first. ``chosen``: each task's id with who held it on the page (None or "": nobody), as written in the form.
    Each task is given as :func:`assign` gives one, or is not, with why: another role's, done meanwhile, or held now
    by someone else than the page showed (never overwritten); the others are given all the same, in the order of
    the list. FormInvalid (``tasks``: none or too many chosen; ``assignee``: no active official of the agency);
    Forbidden for anyone but a head of office."""
    _supervising(actor)
    seen_of: dict[int, int | None] = {}
    unreadable = 0
    for task_id, seen in chosen:
        ident = id_from(task_id)
        if ident is None:
            unreadable += 1
        else:  # who held it on the page: nobody, an id, or something no official's id is (never matches)
            seen_of[ident] = None if seen in (None, "") else (number_from(seen, digits=10) or -1)
    errors: dict[str, Text] = {}
    if not seen_of and not unreadable:
        errors["tasks"] = NO_TASK_CHOSEN
    elif len(seen_of) + unreadable > MOST_AT_ONCE:
        errors["tasks"] = TOO_MANY_CHOSEN
    spread = _Spread(session, actor.agency_id) if str(assignee_id).strip() == SPREAD else None
    ident = id_from(assignee_id)
    official = None if spread else ident and session.scalars(OFFICIAL_OF, {"id": ident,
                                                                           "agency_id": actor.agency_id}).first()
    if not (official or spread):
        errors["assignee"] = NO_OFFICIAL
    if errors:
        raise FormInvalid(errors)

    def choose(row: HumanTask) -> tuple[int, str] | Text:
        if spread is not None:
            return spread.choose(row)
        assert official is not None
        return (ALREADY_THEIRS if row.claimed_by_id == official.id else
                NOT_THEIR_ROLE if row.role not in official.roles else (official.id, official.full_name))

    given: list[TaskView] = []
    not_given = [NotGiven(0, None, None, NO_TASK)] * unreadable
    rows = {row.id: row for row in session.scalars(CHOSEN_TASKS, {"ids": list(seen_of)}).unique()}
    for task_id in [*rows, *(i for i in seen_of if i not in rows)]:  # the page's order, then any not found
        row = rows.get(task_id)
        if row is None or row.agency_id != actor.agency_id or row.role == APPLICANT_ROLE:
            not_given.append(NotGiven(task_id, None, None, NO_TASK))
            continue
        to = choose(row) if row.state == "open" else TaskNotOpen.of(row.state).message
        if isinstance(to, tuple):
            try:
                _hand_over(session, row, seen_of[task_id], to[0])
            except (AlreadyClaimed, TaskNotOpen) as exc:
                to = exc.message
        if not isinstance(to, tuple):
            not_given.append(NotGiven(task_id, row.dossier.code, text(row.title_vi, row.title_en), to))
            continue
        uid, name = to
        if spread is not None:
            spread.given(uid)
        _audit_given(session, row, actor, uid, name)
        task_mail.owed(session, row, uid, actor.full_name)
        given.append(view(session, cache, row, claimant=official))
    return Handing(official.full_name if official else None, given, not_given)


def _audit_given(session: Session, row: HumanTask, actor: Person, to: int, name: str) -> None:
    dossiers.audit(session, row.dossier, actor, "task.assigned",
                   text(f"Giao cho {name}: {row.title_vi}", f"Given to {name}: {row.title_en}"),
                   element=row.bpmn_id, detail={"to": to})


def complete(session: Session, cache: VersionCache, task_id: int, actor: Person, raw: Mapping[str, Any]) -> Completion:
    row = get_for(session, task_id, actor, acting=True)
    _take(session, row, actor)
    dossier = row.dossier
    rt = cache.of(session, dossier.version_id)
    form = form_of(session, cache, row)
    data = form.coerce(raw)
    unused = form.unused(data)  # answers that no longer apply (a father's name, the father not known) go
    data = form.without_unused(data, unused=unused)
    errors = form.errors(data)
    applicant_step = row.role == APPLICANT_ROLE
    components = rt.info.components if applicant_step else ()
    if components and dossier.status == "draft":  # submitting: a file for every required document
        errors = {**errors, **attachments.missing(session, components, dossier)}
    result_mode = None if applicant_step else rt.result_files.get(row.bpmn_id)
    if result_mode:  # the step that returns the result: its electronic copy, when the diagram needs it
        errors = {**errors, **attachments.missing_result(session, result_mode, dossier)}
    fee = 0 if applicant_step else payments.amount_of(dossier.data, rt.fee_tasks.get(row.bpmn_id))
    if fee:  # the step that collects the fees: how they came
        errors = {**errors, **payments.missing(data, fee)}
    if errors:
        raise FormInvalid(errors)
    data = form.clean(data)

    with session.no_autoflush:  # every change of this step goes to the database in one flush, in save()
        workflow = dossiers.workflow_of(cache, rt, dossier)
        task = runtime.find_task(workflow, row.task_guid)
        if not runtime.is_ready(task):
            raise TaskNotOpen()
        task.data.update(data)
        task.data.update({name: None for name in unused if task.data.get(name) is not None})  # given before
        before = runtime.before_run(workflow)  # (with the answers: what the task's scripts make of them counts)
        task.run()
        workflow.do_engine_steps()

        was_draft = dossier.status == "draft"
        row.state, row.completed_by_id, row.completed_at, row.draft = "completed", actor.id, utcnow(), None
        # the timeline shows decisions and written reasons; the declaration itself is on the dossier page
        dossiers.audit(session, dossier, actor, "task.completed",
                       text(f"Hoàn thành: {row.title_vi}", f"Completed: {row.title_en}"), element=row.bpmn_id,
                       detail={} if was_draft else _decision_detail(form, data))
        kept = dossier.data if not unused else {k: v for k, v in dossier.data.items() if k not in unused}
        dossier.data = {**kept, **data}
        props = runtime.properties(task.task_spec)
        if props.get("extendDeadlineBy"):
            days = data.get(props["extendDeadlineBy"])
            reason = str(data.get(props.get("extendDeadlineReason", ""), "") or "")
            if isinstance(days, int) and not isinstance(days, bool):
                dossiers.extend(session, dossier, actor, days, reason, row.bpmn_id)
        # the written reason of this step (a refusal, a supplement request …) goes with the status it leads to
        reason = next((str(data[n]) for n, f in form.fields.items() if f.widget == "textarea" and data.get(n)), None)
        # the task rows open before this step are those of the workflow's ready human tasks: when that is only
        # this one, there is nothing to read
        open_rows = dossiers.advance(session, rt, dossier, workflow, before, actor, reason if not was_draft else None,
                                     open_before=[row] if before.ready_human == {row.task_guid} else None)
    try:
        dossiers.save(session, cache, dossier, workflow)
    except StaleDossier:  # the dossier or this task changed since they were read (engine.writes)
        raise _why_refused(session, row, actor) from None
    if components and dossier.status != "draft":  # what the applicant attached goes with the step
        attachments.send(session, dossier, actor)
    if result_mode:  # and the result the official attached, to the applicant
        attachments.send_results(session, dossier, actor)
    if fee:
        payments.record(session, dossier, actor, fee, data)
    with session.no_autoflush:  # everything is flushed by save(); what follows only reads
        view_ = dossiers.view(session, cache, dossier, actor, with_answers=False, open_rows=open_rows)
        mine_next = [t for t in view_.open_tasks
                     if (t.is_applicant_task and actor.id == dossier.applicant_id) or t.claimed_by_id == actor.id]
    return Completion(
        dossier=view_, next_tasks_for_actor=tuple(mine_next),
        submitted=was_draft and dossier.status != "draft",
    )


def result_task(session: Session, cache: VersionCache, task_id: int, official: Person) -> HumanTask:
    """The official's open task that takes the dossier's electronic result, which they hold. Raises NotFound,
    TaskNotOpen or Forbidden."""
    row = get_for(session, task_id, official, acting=True)
    if row.role == APPLICANT_ROLE or not cache.of(session, row.dossier.version_id).result_files.get(row.bpmn_id):
        raise NotFound(NO_TASK)
    if row.state != "open":
        raise TaskNotOpen.of(row.state)
    if row.claimed_by_id != official.id:
        raise Forbidden(text("Nhận xử lý công việc này trước khi đính kèm kết quả.",
                             "Claim this task before attaching the result."))
    return row


def _take(session: Session, row: HumanTask, actor: Person) -> None:
    """Check that ``actor`` may complete the open task now; an official completing a task nobody has claimed
    claims it in the completion's own UPDATE, guarded by "still open and nobody has it" (engine.writes)."""
    if row.state != "open":
        raise TaskNotOpen.of(row.state)
    if row.role == APPLICANT_ROLE:
        return
    if row.claimed_by_id not in (None, actor.id):
        raise AlreadyClaimed()
    if row.claimed_by_id is None:
        row.claimed_by_id, row.claimed_at = actor.id, utcnow()
        _claimant_changed(session, row)
        _audit_claim(session, row, actor)


def _why_refused(session: Session, row: HumanTask, actor: Person) -> StaleDossier | TaskNotOpen | AlreadyClaimed:
    """After a refused write, what the database now holds about the task, as the person acting should hear it
    (the caller rolls back, so nothing of the step is kept)."""
    with session.no_autoflush:  # (the step's pending rows are not to be written now)
        session.refresh(row)
    if row.state != "open":
        return TaskNotOpen.of(row.state)
    if row.claimed_by_id not in (None, actor.id):
        return AlreadyClaimed()
    return StaleDossier()


def _decision_detail(form: FormDefinition, data: Mapping[str, Any]) -> dict[str, Any]:
    """Choices and written reasons of a completed task, for the timeline (not every field)."""
    shown = {}
    for name, f in form.fields.items():
        if name in data and f.widget in ("radio", "select", "textarea"):
            shown[name] = {"label": dict(f.label), "vi": f.display(data[name], "vi"), "en": f.display(data[name], "en")}
    return shown
