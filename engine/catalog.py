"""Deployed procedure versions: deploying them, caching their runtime parts, and the public catalog."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from . import procedures, runtime
from .db import possible_id
from .errors import NotFound, ProcedureError
from .forms import FormDefinition, load_form
from .i18n import Text, fold, text
from .models import Agency, ProcedureVersion
from .procedures import SUPERVISOR_NAME, SUPERVISOR_ROLE
from .views import Component, DeliveryOption, Fee, ProcedureInfo


@dataclass(frozen=True)
class Deployed:
    code: str
    content_hash: str
    new: bool


@dataclass
class VersionRuntime:
    """What running dossiers of one procedure version need, built once per process."""

    id: int
    code: str
    content_hash: str
    manifest: dict[str, Any]
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, FormDefinition]
    info: ProcedureInfo
    diagram_xml: str = ""  # the diagram as people read it (lanes by their names), drawn on the dossier page

    @property
    def lanes(self) -> dict[str, str]:
        return dict(self.manifest.get("lanes", {}))

    def role_of(self, lane: str | None) -> str:
        return self.lanes.get(lane or "", procedures.APPLICANT_ROLE if lane is None else lane)

    @cached_property
    def result_files(self) -> dict[str, str]:
        """The officials' tasks (BPMN id) that take the electronic result, and how (``resultFile``)."""
        return self._tasks_with("resultFile")

    @cached_property
    def fee_tasks(self) -> dict[str, str]:
        """The officials' tasks (BPMN id) that collect the fees, and the variable that holds their amount
        (``collectsFee``)."""
        return self._tasks_with("collectsFee")

    def _tasks_with(self, name: str) -> dict[str, str]:
        found = {}
        for task_spec in procedures._all_task_specs(self.spec, self.subprocess_specs):
            value = runtime.properties(task_spec).get(name)
            if value:
                found[task_spec.bpmn_id] = value
        return found

    @cached_property
    def search_text(self) -> str:
        """What a catalog search matches (code, names, summaries, field, keywords), folded once."""
        i = self.info
        return fold(" ".join([i.code, *i.name.values(), *i.summary.values(), *i.field.values(), *i.keywords]))

    @cached_property
    def sort_key(self) -> str:
        """The catalog's order: by the Vietnamese name, folded."""
        return fold(self.info.name.get("vi", ""))


class VersionCache:
    """The engine's per-process runtime caches: procedure versions (immutable, by id and content hash),
    in ``workflows`` the restored workflows of recently run dossiers and in ``walks`` where recently drawn
    dossiers stand in their diagrams (both checked against the row's version)."""

    def __init__(self, workflow_cache_size: int = 128) -> None:
        self.workflows = runtime.WorkflowCache(workflow_cache_size)
        self.walks = runtime.WalkCache()
        self._by_hash: dict[str, VersionRuntime] = {}
        self._by_id: dict[int, VersionRuntime] = {}
        self._specs = runtime.SpecCache()
        self._lock = threading.Lock()

    def of(self, session: Session, version_id: int) -> VersionRuntime:
        """The runtime of a version by its id, without reading the version's row once it is known (versions
        are immutable, so an id always means the same files)."""
        found = self._by_id.get(version_id)
        if found is None:
            found = self.get(session.get(ProcedureVersion, version_id))
        return found

    def get(self, version: ProcedureVersion) -> VersionRuntime:
        found = self._by_id.get(version.id) or self._by_hash.get(version.content_hash)
        if found is None:
            spec, subs = self._specs.get(version.content_hash, version.spec)
            found = VersionRuntime(
                id=version.id, code=version.procedure_code, content_hash=version.content_hash,
                manifest=version.manifest, spec=spec, subprocess_specs=subs,
                forms=_forms(version.files, spec, subs), info=procedure_info(version.manifest),
                diagram_xml=_readable_lanes(version.files.get(f"bpmn/{version.manifest['bpmn']['file']}", "")),
            )
            with self._lock:
                found = self._by_hash.setdefault(version.content_hash, found)
        self._by_id.setdefault(version.id, found)
        return found


def _forms(files: dict[str, str], spec: Any, subs: dict[str, Any]) -> dict[str, FormDefinition]:
    forms = {}
    for task_spec in procedures._all_task_specs(spec, subs):
        props = runtime.properties(task_spec)
        key = props.get("formJsonSchemaFilename")
        if getattr(task_spec, "manual", False) and key and key not in forms:
            ui = props.get("formUiSchemaFilename")
            forms[key] = load_form(key, files[f"forms/{key}"], files.get(f"forms/{ui}") if ui else None)
    return forms


# -- deploying -----------------------------------------------------------------------------------------------

def _readable_lanes(xml: str) -> str:
    """The diagram as people read it: each lane labelled with its documentation (e.g. "Bộ phận một cửa")
    instead of its name, which is a key of the manifest's [lanes]."""
    from lxml import etree

    if not xml:
        return xml
    try:
        tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return xml
    ns = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    for lane in tree.iter(f"{ns}lane"):
        doc = lane.find(f"{ns}documentation")
        if doc is not None and (doc.text or "").strip():
            lane.set("name", doc.text.strip())
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def deploy(session: Session, root: Path) -> list[Deployed]:
    """Store a new immutable version of every procedure whose files changed; mark it current."""
    compiled, problems = procedures.read_all(root)
    if problems:
        raise ProcedureError(text(
            "Quy trình có lỗi:\n" + "\n".join(map(str, problems)),
            "Procedures have problems:\n" + "\n".join(map(str, problems)),
        ))
    result = []
    for item in compiled:
        source = item.source
        digest = source.content_hash
        existing = session.scalar(select(ProcedureVersion).where(ProcedureVersion.content_hash == digest))
        session.execute(
            update(ProcedureVersion).where(ProcedureVersion.procedure_code == source.code).values(current=False)
        )
        if existing is None:
            session.add(ProcedureVersion(
                procedure_code=source.code, content_hash=digest, manifest=source.manifest, files=source.files,
                spec=runtime.spec_to_dict(item.spec, item.subprocess_specs), current=True,
            ))
        else:
            existing.current = True
        result.append(Deployed(source.code, digest, existing is None))
    session.flush()
    return result


CURRENT_VERSION = select(ProcedureVersion).where(ProcedureVersion.procedure_code == bindparam("code"),
                                                 ProcedureVersion.current.is_(True))


def current_version(session: Session, code: str) -> ProcedureVersion:
    version = session.scalar(CURRENT_VERSION, {"code": code})
    if version is None:
        raise NotFound(text("Không có thủ tục này.", "There is no such procedure."))
    return version


# -- the catalog ---------------------------------------------------------------------------------------------

def procedure_info(m: dict[str, Any]) -> ProcedureInfo:
    tl = m.get("time_limit", {})
    return ProcedureInfo(
        code=m["code"], name=m["name"], summary=m.get("summary", {}), field_code=m["field"].get("code", ""),
        field={"vi": m["field"]["vi"], "en": m["field"]["en"]}, agency_level=m["agency_level"],
        service_level=m["service_level"], legal_basis=tuple(m.get("legal_basis", [])),
        time_limit=tl.get("text", {}), working_days=int(tl.get("working_days", 0)),
        fees=tuple(Fee(f["name"], int(f.get("amount", 0)), f.get("note")) for f in m.get("fees", [])),
        components=tuple(Component(c.get("code", ""), c["name"], bool(c.get("required")), c.get("note"))
                         for c in m.get("components", [])),
        delivery=tuple(DeliveryOption(d["code"], d["name"]) for d in m.get("delivery", [])),
        keywords=tuple(m.get("keywords", [])), notes=tuple(m.get("notes", [])),
    )


def by_name(rows: Any) -> list[Any]:
    """Officials' rows (id, name, …) in the order of a Vietnamese list of names: by the given name (the last word),
    then the whole name, without diacritics (Đ among the D's, where a database's order puts it after Z)."""
    return sorted(rows, key=lambda row: (fold(row[1].split()[-1] if row[1].split() else ""), fold(row[1]), row[0]))


CURRENT_VERSION_IDS = select(ProcedureVersion.id).where(ProcedureVersion.current.is_(True))


def search(session: Session, cache: VersionCache, query: str | None, field: str | None,
           level: str | None = None) -> list[ProcedureInfo]:
    """The current procedures, by name; those of ``field``, of agencies of ``level``, and those whose texts hold
    every word of ``query`` (with or without diacritics). Versions are immutable: what is searched and sorted is
    folded once per version."""
    found = [cache.of(session, version_id) for version_id in session.scalars(CURRENT_VERSION_IDS)]
    if field:
        found = [rt for rt in found if rt.info.field_code == field]
    if level:
        found = [rt for rt in found if rt.info.agency_level == level]
    words = fold(query).split() if query else []
    if words:
        found = [rt for rt in found if all(w in rt.search_text for w in words)]
    return [rt.info for rt in sorted(found, key=lambda rt: rt.sort_key)]


def roles(session: Session, cache: VersionCache) -> dict[str, Text]:
    """The officials' roles the current procedures name (``[roles]`` of their manifests), with their names, then
    the portal's own: the head of office who assigns tasks (:data:`~engine.procedures.SUPERVISOR_ROLE`)."""
    found: dict[str, Text] = {}
    for version_id in session.scalars(CURRENT_VERSION_IDS):
        for role, entry in cache.of(session, version_id).manifest.get("roles", {}).items():
            found.setdefault(role, entry.get("name") or {"vi": role, "en": role})
    found.pop(SUPERVISOR_ROLE, None)
    return {**dict(sorted(found.items(), key=lambda item: fold(item[1].get("vi", item[0])))),
            SUPERVISOR_ROLE: SUPERVISOR_NAME}


def info(session: Session, cache: VersionCache, code: str) -> ProcedureInfo:
    return cache.get(current_version(session, code)).info


AGENCIES_BY_NAME = select(Agency).where(Agency.level == bindparam("level")).order_by(Agency.name_vi)
EVERY_AGENCY = select(Agency.id, Agency.name_vi, Agency.name_en, Agency.level).order_by(Agency.level.desc(),
                                                                                         Agency.name_vi)


def agencies(session: Session) -> list[tuple[int, str, str, str]]:
    """Every agency (id, names, level), the provinces' first, for the catalog's filter (public data)."""
    return [tuple(row) for row in session.execute(EVERY_AGENCY)]


def agency_level(session: Session, agency_id: int) -> str | None:
    """The level of the agency (None: no such agency); the procedures it handles are those of its level."""
    return session.scalar(select(Agency.level).where(Agency.id == agency_id)) if possible_id(agency_id) else None


def agencies_for(session: Session, cache: VersionCache, code: str, level: str | None = None) -> list[tuple[int, str, str]]:
    """Agencies at the procedure's level (``level``, if the caller already has the procedure's info)."""
    level = level or info(session, cache, code).agency_level
    rows = session.scalars(AGENCIES_BY_NAME, {"level": level}).all()
    return [(a.id, a.name_vi, a.name_en) for a in rows]
