"""Designer tools: a procedure's versions and the dossiers on each, what changed from one version to another,
the procedures on disk checked against what is deployed, and moving running dossiers onto a newer version.

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

import datetime as dt
import logging
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import buffers, catalog, dossiers, procedures, runtime
from .catalog import VersionCache, VersionRuntime
from .db import possible_id
from .errors import Forbidden, NotFound, NotRunnable, StaleDossier
from .i18n import Text, text
from .models import AuditEvent, Dossier, Person, ProcedureVersion
from .statuses import STATUSES

log = logging.getLogger(__name__)
NO_VERSION = text("Không có phiên bản quy trình này.", "There is no such procedure version.")
NO_PROCEDURE = text("Không có thủ tục này.", "There is no such procedure.")
#: what a changed task spec's serialized keys mean to a designer
CHANGED_PARTS = {
    "bpmn_name": text("tên", "name"),
    "extensions": text("thuộc tính (biểu mẫu, trạng thái, mốc thời gian…)", "properties (form, status, timeline…)"),
    "lane": text("làn (vai trò)", "lane (role)"),
    "inputs": text("luồng vào", "incoming flows"),
    "outputs": text("luồng ra", "outgoing flows"),
    "script": text("mã script", "script"),
    "cond_task_specs": text("điều kiện rẽ nhánh", "branch conditions"),
    "default_task_spec": text("nhánh mặc định", "default branch"),
    "event_definition": text("sự kiện (hẹn giờ, thông điệp…)", "event (timer, message…)"),
    "typename": text("loại phần tử", "element type"),
    "documentation": text("mô tả", "documentation"),
    "prescript": text("script trước", "pre-script"),
    "postscript": text("script sau", "post-script"),
    "data_input_associations": text("dữ liệu vào", "data inputs"),
    "data_output_associations": text("dữ liệu ra", "data outputs"),
}


def _check(actor: Person) -> None:
    if not actor.is_designer:
        raise Forbidden(text("Chỉ người thiết kế quy trình mới dùng được trang này.",
                             "Only process designers can use this page."))


# -- versions ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionSummary:
    id: int
    number: int  # 1, 2, … in the order a procedure's versions were deployed
    code: str
    content_hash: str
    deployed_at: dt.datetime
    current: bool
    dossiers: int
    running: int  # not finished yet (drafts included): these can be moved onto a newer version


@dataclass(frozen=True)
class ProcedureVersions:
    code: str
    name: Text
    versions: tuple[VersionSummary, ...]  # newest first

    @property
    def current(self) -> VersionSummary | None:
        return next((v for v in self.versions if v.current), None)

    @property
    def running_on_older(self) -> int:
        return sum(v.running for v in self.versions if not v.current)

    def number(self, number: int) -> VersionSummary:
        found = next((v for v in self.versions if v.number == number), None)
        if found is None:
            raise NotFound(NO_VERSION)
        return found


VERSIONS = select(ProcedureVersion.id, ProcedureVersion.procedure_code, ProcedureVersion.content_hash,
                  ProcedureVersion.deployed_at, ProcedureVersion.current).order_by(ProcedureVersion.id)
COUNTS = (select(Dossier.version_id, func.count(), func.count(case((Dossier.finished_at.is_(None), 1))))
          .group_by(Dossier.version_id))


def overview(session: Session, cache: VersionCache, actor: Person, code: str | None = None) -> list[ProcedureVersions]:
    """Every procedure (or the one of ``code``) with its versions, newest first, and the dossiers on each (one
    grouped count over the dossiers, or over the procedure's by its index: a page designers open now and then)."""
    _check(actor)
    query, counts = VERSIONS, COUNTS
    if code is not None:
        query = query.where(ProcedureVersion.procedure_code == code)
        counts = counts.where(Dossier.procedure_code == code)
    by_version = {version_id: (total, running) for version_id, total, running in session.execute(counts)}
    grouped: dict[str, list[VersionSummary]] = {}
    for row in session.execute(query):
        numbered = grouped.setdefault(row.procedure_code, [])
        total, running = by_version.get(row.id, (0, 0))
        numbered.append(VersionSummary(row.id, len(numbered) + 1, row.procedure_code, row.content_hash,
                                       row.deployed_at, bool(row.current), total, running))
    found = []
    for procedure_code, versions in grouped.items():
        shown = next((v for v in reversed(versions) if v.current), versions[-1])
        name = cache.of(session, shown.id).info.name
        found.append(ProcedureVersions(procedure_code, name, tuple(reversed(versions))))
    return sorted(found, key=lambda p: p.code)


def procedure(session: Session, cache: VersionCache, actor: Person, code: str) -> ProcedureVersions:
    found = overview(session, cache, actor, code)
    if not found:
        raise NotFound(NO_PROCEDURE)
    return found[0]


def version_file(session: Session, cache: VersionCache, actor: Person, version_id: int) -> tuple[str, str]:
    """A version's BPMN file as deployed: (file name, XML)."""
    _check(actor)
    version = session.get(ProcedureVersion, version_id) if possible_id(version_id) else None
    if version is None:
        raise NotFound(NO_VERSION)
    name = version.manifest["bpmn"]["file"]
    return name, version.files[f"bpmn/{name}"]


# -- what changed --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ElementChange:
    process: str
    bpmn_id: str
    name: str
    change: str  # added | removed | changed
    parts: tuple[Text, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    old: VersionSummary
    new: VersionSummary
    files: tuple[tuple[str, str], ...]  # (path, added | removed | changed), by path
    elements: tuple[ElementChange, ...]


def _element_name(spec: Any) -> str:
    return spec.bpmn_name or spec.bpmn_id


def _spec_changes(process: str, old: Any, new: Any) -> list[ElementChange]:
    diff = SpecDiff(runtime.SPEC_SERIALIZER.registry, old, new)
    found = []
    for spec in diff.removed:
        if getattr(spec, "bpmn_id", None):
            found.append(ElementChange(process, spec.bpmn_id, _element_name(spec), "removed"))
    for spec, keys in diff.changed.items():
        if getattr(spec, "bpmn_id", None):
            parts = tuple(CHANGED_PARTS.get(k, text(k, k)) for k in dict.fromkeys(keys) if k != "name")
            if parts:
                found.append(ElementChange(process, spec.bpmn_id, _element_name(diff.alignment[spec]), "changed",
                                           parts))
    for spec in diff.added:
        if getattr(spec, "bpmn_id", None):
            found.append(ElementChange(process, spec.bpmn_id, _element_name(spec), "added"))
    return found


def compare(session: Session, cache: VersionCache, actor: Person, old: VersionSummary,
            new: VersionSummary) -> VersionDiff:
    """What differs from version ``old`` to version ``new`` of a procedure: its files, and the elements of its
    processes added, removed or changed (SpiffWorkflow's alignment of the two diagrams)."""
    _check(actor)
    old_row, new_row = session.get(ProcedureVersion, old.id), session.get(ProcedureVersion, new.id)
    files = []
    for path in sorted(set(old_row.files) | set(new_row.files)):
        if path not in old_row.files:
            files.append((path, "added"))
        elif path not in new_row.files:
            files.append((path, "removed"))
        elif old_row.files[path] != new_row.files[path]:
            files.append((path, "changed"))
    if old_row.manifest != new_row.manifest:
        files.insert(0, (f"workflows/{old.code}.toml", "changed"))
    a, b = cache.of(session, old.id), cache.of(session, new.id)
    elements = _spec_changes(b.spec.name, a.spec, b.spec)
    for name, spec in sorted(a.subprocess_specs.items()):
        if name in b.subprocess_specs:
            elements += _spec_changes(name, spec, b.subprocess_specs[name])
        else:
            elements.append(ElementChange(name, name, name, "removed"))
    elements += [ElementChange(name, name, name, "added") for name in sorted(set(b.subprocess_specs) - set(a.subprocess_specs))]
    return VersionDiff(old, new, tuple(files), tuple(elements))


# -- the files on disk -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OnDisk:
    """The procedures on disk against those deployed: each code with ``new``, ``changed`` or ``unchanged``, and
    the problems that keep them from being deployed (none: they can be)."""

    states: tuple[tuple[str, str], ...]
    problems: tuple[procedures.Problem, ...]

    @property
    def to_deploy(self) -> int:
        return sum(1 for _, state in self.states if state != "unchanged")


def on_disk(session: Session, actor: Person, root: Path) -> OnDisk:
    _check(actor)
    compiled, problems = procedures.read_all(root)
    problems += procedures.check_bpmn_dir(root / "bpmn", skip=procedures.manifest_bpmn_files(root))
    current = dict(session.execute(select(ProcedureVersion.procedure_code, ProcedureVersion.content_hash)
                                   .where(ProcedureVersion.current.is_(True))).all())
    states = []
    for item in compiled:
        code, digest = item.source.code, item.source.content_hash
        states.append((code, "new" if code not in current else "unchanged" if current[code] == digest else "changed"))
    return OnDisk(tuple(sorted(states)), tuple(dict.fromkeys(problems)))


# -- moving running dossiers onto a newer version ------------------------------------------------------------------

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
    names = list(dict.fromkeys(_element_name(t.task_spec) for t in blocked if t is not None))
    return names, top, subs


def _open_steps(workflow: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_element_name(t.task_spec) for t in runtime.survey(workflow).open
                               if getattr(t.task_spec, "bpmn_id", None)))


def plan(session: Session, cache: VersionCache, actor: Person, source: VersionSummary, target: VersionSummary,
         limit: int = 200) -> MigrationPlan:
    """Which running dossiers of version ``source`` can move onto ``target`` (the first ``limit``), and why not."""
    _check(actor)
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
    _check(actor)
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
    _check(actor)
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



def deploy(session: Session, actor: Person, root: Path) -> list[Any]:
    """Deploy the procedures on disk (:func:`engine.catalog.deploy`) at a designer's request, kept in the log."""
    _check(actor)
    deployed = catalog.deploy(session, root)
    new = [d for d in deployed if d.new]
    if new:
        codes = ", ".join(d.code for d in new)
        dossiers.audit(session, None, actor, "design.deployed",
                       text(f"Triển khai phiên bản mới của {codes}", f"Deployed new versions of {codes}"),
                       detail={"versions": [d.content_hash for d in new]})
        buffers.write(session)
    return deployed


@dataclass(frozen=True)
class DesignEvent:
    at: dt.datetime
    actor_name: str
    action: str
    label: Text


def design_log(session: Session, actor: Person, limit: int = 20) -> list[DesignEvent]:
    """What designers did (deployments, dossiers moved), newest first."""
    _check(actor)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.dossier_id.is_(None), AuditEvent.action.like("design.%"))
                           .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    return [DesignEvent(e.at, e.actor_name, e.action, text(e.label_vi, e.label_en)) for e in rows]


# -- editing a diagram in the browser (the designers' modeler) ------------------------------------------------------

MAX_DIAGRAM_CHARS = 1_000_000  # the largest shipped diagram is about 55 000


def _manifest_path(root: Path, code: str) -> Path:
    path = root / "workflows" / f"{code}.toml"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,79}", code or "") or not path.is_file():
        raise NotFound(NO_PROCEDURE)
    return path


def diagram_on_disk(actor: Person, root: Path, code: str) -> tuple[str, str]:
    """The procedure's diagram as its file on disk holds it now (what the modeler edits): (file name, XML)."""
    _check(actor)
    manifest = tomllib.loads(_manifest_path(root, code).read_text(encoding="utf-8"))
    name = manifest["bpmn"]["file"]
    return name, (root / "bpmn" / name).read_text(encoding="utf-8")


def check_diagram(actor: Person, root: Path, code: str, xml: str) -> list[procedures.Problem]:
    """What ``motcua validate`` would say of the procedure with this diagram in place of its file (nothing is
    written)."""
    _check(actor)
    path = _manifest_path(root, code)
    if len(xml) > MAX_DIAGRAM_CHARS:
        return [procedures.Problem(f"bpmn/{code}", None, f"the diagram is larger than {MAX_DIAGRAM_CHARS} characters")]
    name, _current = diagram_on_disk(actor, root, code)
    with tempfile.TemporaryDirectory(prefix="motcua-diagram-") as tmp:
        (Path(tmp) / name).write_text(xml, encoding="utf-8")
        source, problems = procedures.read_one(path, Path(tmp), root / "forms")
        if source is not None and not problems:
            _compiled, problems = procedures.compile_procedure(source)
    return list(dict.fromkeys(problems))


def save_diagram(session: Session, actor: Person, root: Path, code: str, xml: str) -> list[procedures.Problem]:
    """Write the diagram to the procedure's file when it passes :func:`check_diagram` (then deploy it as any change
    of the files); else the problems, and the file is left as it was. OSError if the file cannot be written."""
    problems = check_diagram(actor, root, code, xml)
    if problems:
        return problems
    name, current = diagram_on_disk(actor, root, code)
    if current != xml:
        target = root / "bpmn" / name
        temporary = target.with_name(f".{name}.{os.getpid()}.tmp")
        temporary.write_text(xml, encoding="utf-8")
        os.replace(temporary, target)  # (whole or not at all: a reader never meets half a file)
        dossiers.audit(session, None, actor, "design.saved",
                       text(f"Sửa sơ đồ bpmn/{name} trên trang thiết kế", f"Edited the diagram bpmn/{name} on the "
                                                                           "designers' pages"))
        buffers.write(session)
    return []
