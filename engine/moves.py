"""Moving a procedure's running dossiers onto a newer version of it (the designers' pages, :mod:`engine.designs`).

Versions are immutable and a dossier runs on the version it started with (:mod:`engine.catalog`). Moving one
onto a newer version uses SpiffWorkflow's own diff (``SpiffWorkflow.bpmn.util.diff``): each task of the dossier's
workflow is aligned with the new version's task of the same BPMN id (or, failing that, of the same place in the
flow); the ready tasks are reset and their futures predicted again from the new diagram. A dossier moves only when
the new version still has every element it has passed, stands at or has started (a step it waits at that the new
diagram dropped cannot be carried over); its open tasks keep their rows, claims and drafts, and take the new
names, forms and roles. Only ready tasks are reset: SpiffWorkflow's default also resets waiting ones, which would
restart a timer, and a legal time limit must not start again because the diagram changed. The move is checked in
full (every task of the moved workflow belongs to the new version, and its state restores from what is stored)
before anything is written.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import buffers, dossiers, runtime
from .catalog import VersionCache, VersionRuntime
from .designs import NO_VERSION, VersionSummary, check_designer, element_name
from .errors import NotFound, NotRunnable, StaleDossier
from .i18n import Text, text
from .models import Dossier, Person
from .statuses import STATUSES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DossierCheck:
    id: int
    code: str | None
    status: str
    at: tuple[str, ...]  # the steps it stands at
    blocked_by: tuple[str, ...]  # elements it has passed or stands at that the new version does not have
    unreadable: bool = False  # no workflow state to move (bulk-seeded, or damaged)

    @property
    def movable(self) -> bool:
        return not self.blocked_by and not self.unreadable

    @property
    def status_label(self) -> Text:
        found = STATUSES.get(self.status)
        return found.label if found else text(self.status, self.status)


@dataclass(frozen=True)
class MigrationPlan:
    source: VersionSummary
    target: VersionSummary
    checks: tuple[DossierCheck, ...]  # the first running dossiers, oldest first (see ``limit``)
    running: int

    @property
    def movable(self) -> int:
        return sum(1 for c in self.checks if c.movable)


@dataclass(frozen=True)
class MigrationReport:
    moved: int
    blocked: int
    failed: int  # changed by someone else meanwhile, or unreadable: left where they were
    resume_after: int | None = None  # stopped at its limit: the last dossier id looked at (go on after it)


def _running_on(version: VersionSummary, after_id: int, limit: int) -> Any:
    """The running dossiers of a version, by id (no index of their own: the procedure's, then the primary key)."""
    return (select(Dossier).where(Dossier.procedure_code == version.code, Dossier.version_id == version.id,
                                  Dossier.finished_at.is_(None), Dossier.id > after_id)
            .order_by(Dossier.id).limit(limit))


#: tasks the flow has not reached: predicted from the diagram, so predicted again from the new one when moved
NOT_REACHED = TaskState.PREDICTED_MASK | TaskState.FUTURE


def _blocked(workflow: Any, target: VersionRuntime) -> tuple[list[str], Any, dict[Any, Any]]:
    """What of the workflow the target version lacks (names), with SpiffWorkflow's diffs to migrate by."""
    top, subs = diff_workflow(runtime.SPEC_SERIALIZER.registry, workflow, target.spec, target.subprocess_specs)
    blocked = [t for t in top.removed if not t.has_state(NOT_REACHED)]
    for sp_id, diff in subs.items():
        if diff is None:
            blocked.append(workflow.get_task_from_id(sp_id))
        else:
            blocked += [t for t in diff.removed if not t.has_state(NOT_REACHED)]
    names = list(dict.fromkeys(element_name(t.task_spec) for t in blocked if t is not None))
    return names, top, subs


def _open_steps(workflow: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(element_name(t.task_spec) for t in runtime.survey(workflow).open
                               if getattr(t.task_spec, "bpmn_id", None)))


def plan(session: Session, cache: VersionCache, actor: Person, source: VersionSummary, target: VersionSummary,
         limit: int = 200) -> MigrationPlan:
    """Which running dossiers of version ``source`` can move onto ``target`` (the first ``limit``), and why not."""
    check_designer(actor)
    _same_procedure(source, target)
    old_rt, new_rt = cache.of(session, source.id), cache.of(session, target.id)
    checks = []
    for dossier in session.scalars(_running_on(source, 0, limit)):
        try:
            workflow = dossiers.restore(old_rt, dossier, "it is listed as not movable")
        except NotRunnable:
            checks.append(DossierCheck(dossier.id, dossier.code, dossier.status, (), (), unreadable=True))
            continue
        names, _, _ = _blocked(workflow, new_rt)
        checks.append(DossierCheck(dossier.id, dossier.code, dossier.status, _open_steps(workflow), tuple(names)))
    return MigrationPlan(source, target, tuple(checks), source.running)


def _same_procedure(source: VersionSummary, target: VersionSummary) -> None:
    if source.code != target.code or source.id == target.id:
        raise NotFound(NO_VERSION)


UNRESTORABLE = "(trạng thái sau khi chuyển không khôi phục được / the moved state does not restore)"


class NotMovable(Exception):
    """The dossier cannot move onto the version: ``names`` are what the new version lacks."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


def move(session: Session, cache: VersionCache, actor: Person, dossier: Dossier, target: VersionRuntime,
         number: int) -> None:
    """Move one running dossier onto version ``target`` (numbered ``number``) in the caller's transaction;
    :class:`NotMovable`, :class:`~engine.errors.NotRunnable` or :class:`~engine.errors.StaleDossier` leave it
    as it was."""
    check_designer(actor)
    source = cache.of(session, dossier.version_id)
    if dossier.finished_at is not None or source.code != target.code or source.id == target.id:
        raise NotMovable([])
    workflow = dossiers.restore(source, dossier, "it is not moved")  # (never the cached copy: it is changed here)
    names, top, subs = _blocked(workflow, target)
    if names:
        raise NotMovable(names)
    for sp_id, diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, target.subprocess_specs[sub.spec.name], reset_mask=TaskState.READY)
    migrate_workflow(top, workflow, target.spec, reset_mask=TaskState.READY)
    stray = [t.task_spec.name for wf in (workflow, *workflow.subprocesses.values()) for t in wf.tasks.values()
             if wf.spec.task_specs.get(t.task_spec.name) is not t.task_spec]
    if stray:
        raise NotMovable(list(dict.fromkeys(stray)))
    try:  # what is stored must restore onto the new version
        runtime.restore(runtime.dump(workflow), target.spec, target.subprocess_specs)
    except runtime.StateUnreadable:
        log.exception("dossier %s: its state moved onto version %s does not restore; not moved", dossier.id, target.id)
        raise NotMovable([UNRESTORABLE]) from None
    before = runtime.before_run(workflow)  # (nothing runs: what waits, a timer, goes on from where it stood)
    dossier.version_id = target.id
    dossiers.audit(session, dossier, actor, "dossier.migrated",
                   text(f"Chuyển hồ sơ sang phiên bản {number} của quy trình",
                        f"Moved the dossier onto version {number} of the procedure"),
                   detail={"from": source.id, "to": target.id})
    open_rows = dossiers.advance(session, target, dossier, workflow, before, actor)
    for row in open_rows:  # a task still open takes its new name, form and role (and loses a claim it no longer fits)
        task = runtime.find_task(workflow, row.task_guid)
        if task is None or row.id is None:
            continue
        fresh = dossiers._human_task(target, dossier, row.task_guid, task)
        if fresh.role != row.role:
            row.claimed_by_id = row.claimed_at = None
        for field in ("bpmn_id", "title_vi", "title_en", "lane", "role", "form_key"):
            setattr(row, field, getattr(fresh, field))
    dossiers.save(session, cache, dossier, workflow)


def move_all(session_factory: Any, cache: VersionCache, actor: Person, source: VersionSummary,
             target: VersionSummary, batch: int = 100, limit: int | None = None, after: int = 0) -> MigrationReport:
    """Move every running dossier of version ``source`` (after id ``after``; at most ``limit`` looked at, then the
    report says where to go on) that can move onto ``target``, each in its own transaction (one that cannot, or
    changed meanwhile, is left as it was and counted)."""
    check_designer(actor)
    _same_procedure(source, target)
    moved = blocked = failed = looked = 0
    resume_after = None
    while resume_after is None:
        with session_factory() as session:
            ids = session.scalars(_running_on(source, after, batch).with_only_columns(Dossier.id)).all()
        if not ids:
            break
        if limit is not None and looked + len(ids) >= limit:
            ids = ids[:limit - looked]
            resume_after = ids[-1]
        looked += len(ids)
        after = ids[-1]
        for dossier_id in ids:
            with session_factory() as session:
                dossier = session.get(Dossier, dossier_id)
                if dossier is None or dossier.version_id != source.id or dossier.finished_at is not None:
                    continue  # finished or moved meanwhile
                try:
                    move(session, cache, actor, dossier, cache.of(session, target.id), target.number)
                    session.commit()
                    moved += 1
                except NotMovable:
                    session.rollback()
                    blocked += 1
                except (StaleDossier, NotRunnable):  # changed meanwhile, or no state to move: it stays
                    session.rollback()
                    failed += 1
                except Exception:  # noqa: BLE001 - one dossier's fault must not stop the others: logged, counted
                    session.rollback()
                    log.exception("dossier %s: moving it onto version %s failed", dossier_id, target.id)
                    failed += 1
    with session_factory() as session:
        dossiers.audit(session, None, actor, "design.migrated",
                       text(f"Chuyển {moved} hồ sơ của {source.code} từ phiên bản {source.number} sang phiên bản "
                            f"{target.number} ({blocked} không chuyển được, {failed} lỗi)",
                            f"Moved {moved} dossiers of {source.code} from version {source.number} to version "
                            f"{target.number} ({blocked} could not move, {failed} failed)"),
                       detail={"from": source.id, "to": target.id, "moved": moved, "blocked": blocked,
                               "failed": failed})
        buffers.write(session)
        session.commit()
    if resume_after is not None:
        with session_factory() as session:  # (none left after it: done after all)
            if not session.scalars(_running_on(source, resume_after, 1).with_only_columns(Dossier.id)).first():
                resume_after = None
    return MigrationReport(moved, blocked, failed, resume_after)
