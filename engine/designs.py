"""Designer tools: a procedure's versions and the dossiers on each, what changed from one version to another,
the procedures on disk checked against what is deployed and deployed, a diagram edited in the browser checked and
saved, and the designers' log.

Moving running dossiers onto a newer version is :mod:`engine.moves`.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import buffers, catalog, dossiers, importer, procedures, runtime
from .catalog import VersionCache
from .db import possible_id
from .errors import Forbidden, NotFound
from .i18n import Text, text
from .models import AuditEvent, Dossier, Person, ProcedureVersion

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


def check_designer(actor: Person) -> None:
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
    check_designer(actor)
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
    check_designer(actor)
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


def element_name(spec: Any) -> str:
    return spec.bpmn_name or spec.bpmn_id


def _spec_changes(process: str, old: Any, new: Any) -> list[ElementChange]:
    diff = SpecDiff(runtime.SPEC_SERIALIZER.registry, old, new)
    found = []
    for spec in diff.removed:
        if getattr(spec, "bpmn_id", None):
            found.append(ElementChange(process, spec.bpmn_id, element_name(spec), "removed"))
    for spec, keys in diff.changed.items():
        if getattr(spec, "bpmn_id", None):
            parts = tuple(CHANGED_PARTS.get(k, text(k, k)) for k in dict.fromkeys(keys) if k != "name")
            if parts:
                found.append(ElementChange(process, spec.bpmn_id, element_name(diff.alignment[spec]), "changed",
                                           parts))
    for spec in diff.added:
        if getattr(spec, "bpmn_id", None):
            found.append(ElementChange(process, spec.bpmn_id, element_name(spec), "added"))
    return found


def compare(session: Session, cache: VersionCache, actor: Person, old: VersionSummary,
            new: VersionSummary) -> VersionDiff:
    """What differs from version ``old`` to version ``new`` of a procedure: its files, and the elements of its
    processes added, removed or changed (SpiffWorkflow's alignment of the two diagrams)."""
    check_designer(actor)
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
    check_designer(actor)
    compiled, problems = procedures.read_all(root)
    problems += procedures.check_bpmn_dir(root / "bpmn", skip=procedures.manifest_bpmn_files(root))
    current = dict(session.execute(select(ProcedureVersion.procedure_code, ProcedureVersion.content_hash)
                                   .where(ProcedureVersion.current.is_(True))).all())
    states = []
    for item in compiled:
        code, digest = item.source.code, item.source.content_hash
        states.append((code, "new" if code not in current else "unchanged" if current[code] == digest else "changed"))
    return OnDisk(tuple(sorted(states)), tuple(dict.fromkeys(problems)))


def deploy(session: Session, actor: Person, root: Path) -> list[Any]:
    """Deploy the procedures on disk (:func:`engine.catalog.deploy`) at a designer's request, kept in the log."""
    check_designer(actor)
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
    check_designer(actor)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.dossier_id.is_(None), AuditEvent.action.like("design.%"))
                           .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    return [DesignEvent(e.at, e.actor_name, e.action, text(e.label_vi, e.label_en)) for e in rows]


# -- editing a diagram in the browser (the designers' modeler) ------------------------------------------------------

MAX_DIAGRAM_CHARS = 1_000_000  # the largest shipped diagram is about 55 000


def _diagram_of(root: Path, code: str) -> tuple[Path, str]:
    """The procedure's manifest on disk and the name of its diagram file (NotFound: no such procedure)."""
    path = root / "workflows" / f"{code}.toml"
    if not procedures.PROCEDURE_CODE.fullmatch(code or "") or not path.is_file():
        raise NotFound(NO_PROCEDURE)
    return path, tomllib.loads(path.read_text(encoding="utf-8"))["bpmn"]["file"]


def diagram_on_disk(actor: Person, root: Path, code: str) -> tuple[str, str]:
    """The procedure's diagram as its file on disk holds it now (what the modeler edits): (file name, XML)."""
    check_designer(actor)
    _manifest, name = _diagram_of(root, code)
    return name, (root / "bpmn" / name).read_text(encoding="utf-8")


def check_diagram(actor: Person, root: Path, code: str, xml: str) -> list[procedures.Problem]:
    """What ``motcua validate`` would say of the procedure with this diagram in place of its file (nothing is
    written)."""
    check_designer(actor)
    manifest, name = _diagram_of(root, code)
    if len(xml) > MAX_DIAGRAM_CHARS:
        return [procedures.Problem(f"bpmn/{name}", None, f"the diagram is larger than {MAX_DIAGRAM_CHARS} characters")]
    with tempfile.TemporaryDirectory(prefix="motcua-diagram-") as tmp:
        (Path(tmp) / name).write_text(xml, encoding="utf-8")
        source, problems = procedures.read_one(manifest, Path(tmp), root / "forms")
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


# -- importing a spiff-arena model ---------------------------------------------------------------------------------

def import_archive(session: Session, actor: Person, root: Path, archive: bytes,
                   code: str | None = None) -> importer.Imported:
    """A spiff-arena process model sent as a ZIP archive, imported as a new procedure (:mod:`engine.importer`) and
    kept only if it is valid: otherwise the files it wrote are removed again and the problems returned, so that
    the procedures on disk stay deployable. Raises :class:`~engine.importer.ImportRefused` (nothing written) for
    what is not such an archive, or a code taken. Deploying it is then "check and deploy"."""
    check_designer(actor)
    with tempfile.TemporaryDirectory(prefix="motcua-import-") as scratch:
        model = importer.unpack_model(archive, Path(scratch))
        result = importer.import_spiff_arena(model, root, code or None)
    if result.problems:
        for name in result.written:
            (root / name).unlink(missing_ok=True)
        forms = root / "forms" / result.code
        if forms.is_dir() and not any(forms.iterdir()):
            forms.rmdir()
        result.written = []
        return result
    dossiers.audit(session, None, actor, "design.imported",
                   text(f"Nhập mô hình spiff-arena thành thủ tục {result.code}",
                        f"Imported a spiff-arena model as the procedure {result.code}"))
    buffers.write(session)
    return result
