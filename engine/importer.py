"""Importing a spiff-arena process model as a procedure of this project (``motcua procedures import DIR``).

A spiff-arena process model is a folder with ``process_model.json`` (``display_name``, ``description``,
``primary_file_name``, ``primary_process_id``), its BPMN files and the forms its user tasks name
(``formJsonSchemaFilename``/``formUiSchemaFilename``: a JSON Schema and a react-jsonschema-form UI schema). Both
projects speak SpiffWorkflow's dialect, so the diagram keeps its ids, flows, scripts and conditions; what differs
is written the way this project reads it, and every change or guess is listed for the designer to review:

- the manifest ``workflows/<code>.toml`` is new: names from the model, the lanes mapped to roles (named after the
  lanes), and placeholders (field, agency level, time limit) marked ``[import]`` in its notes;
- the diagram goes to ``bpmn/<code>.bpmn``; user tasks outside any lane are the initiator's in spiff-arena, so
  they go in an ``applicant`` lane; the forms' file names become ``<code>/<form>.schema.json`` and
  ``.uischema.json``; when no element sets a dossier status, the first task of an agency's lane marks the dossier
  sent (``receiving``) and each end event ``done``;
- the forms go to ``forms/<code>/``: a ``oneOf`` of constants (or ``enumNames``) becomes ``enum`` with
  ``ui:enumLabels``, titles and descriptions become labels and help in both languages (the same text until
  translated), widgets are mapped to this project's (others dropped), other ``ui:`` options dropped.

The result is then checked as ``motcua validate`` checks a procedure; what is still wrong (a nested object field,
a script the sandbox refuses) is listed, by file and element, for the designer to fix.
"""
from __future__ import annotations

import io
import json
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from . import procedures

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
#: react-jsonschema-form widgets → this project's (engine.forms.WIDGETS); others are dropped (the default applies)
WIDGETS = {"text": "text", "textarea": "textarea", "radio": "radio", "select": "select", "checkbox": "checkbox",
           "date": "date", "alt-date": "date", "email": "email", "updown": "number", "range": "number",
           "tel": "tel"}
KEPT_UI = {"ui:label", "ui:help", "ui:widget", "ui:autocomplete", "ui:prefill", "ui:errors", "ui:enumLabels",
           "ui:onlyWhen"}
HUMAN_TASKS = ("userTask", "manualTask")


class ImportRefused(Exception):
    """The folder cannot be imported (not a process model, or the procedure exists); nothing was written."""


#: a model sent as a ZIP archive (the designers' page): at most so many files and bytes once unpacked
ARCHIVE_FILES, ARCHIVE_BYTES = 200, 20 * 1024 * 1024


def unpack_model(archive: bytes, into: Path) -> Path:
    """Unpack a ZIP archive of a process model folder (spiff-arena's download, or the folder zipped) under ``into``;
    the folder holding its ``process_model.json`` (at the top or in one folder). Raises :class:`ImportRefused` for
    what is not such an archive, or would write outside ``into`` (absolute names, ``..``, links), or unpacks to more
    than :data:`ARCHIVE_FILES` files or :data:`ARCHIVE_BYTES` bytes (whatever the archive says of itself)."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
        entries = [e for e in bundle.infolist() if not e.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRefused("the file is not a ZIP archive") from None
    if len(entries) > ARCHIVE_FILES:
        raise ImportRefused(f"the archive holds more than {ARCHIVE_FILES} files")
    target, written = into.resolve(), 0
    for entry in entries:
        name = entry.filename.replace("\\", "/")
        path = (target / name).resolve()
        if name.startswith("/") or ".." in name.split("/") or not path.is_relative_to(target) or \
                stat.S_ISLNK(entry.external_attr >> 16):
            raise ImportRefused(f"the archive's entry {entry.filename!r} would be written outside the model's folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with bundle.open(entry) as source, path.open("wb") as out:
                while chunk := source.read(64 * 1024):
                    written += len(chunk)
                    if written > ARCHIVE_BYTES:
                        raise ImportRefused(f"the archive unpacks to more than {ARCHIVE_BYTES // (1024 * 1024)} MB")
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as exc:
            raise ImportRefused(f"the archive's entry {entry.filename!r} cannot be unpacked ({exc})") from None
    found = sorted(p.parent for p in target.rglob("process_model.json") if len(p.relative_to(target).parts) <= 2)
    if len(found) != 1:
        raise ImportRefused("the archive holds no process_model.json (at its top or in one folder)" if not found else
                            "the archive holds more than one process model: send one at a time")
    return found[0]


@dataclass
class Imported:
    code: str
    written: list[str] = field(default_factory=list)  # paths under the project root
    changes: list[str] = field(default_factory=list)  # what was changed or guessed, to review
    problems: list[procedures.Problem] = field(default_factory=list)  # what `motcua validate` still finds


def _both(value: Any) -> dict[str, str]:
    return value if isinstance(value, dict) else {"vi": str(value), "en": str(value)}


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug if slug[:1].isalpha() else f"p_{slug}"


def _inside(model_dir: Path, name: str) -> Path | None:
    """The file ``name`` names in the model's folder, or None when it would lead out of it (``..``, an absolute
    path, a link to elsewhere): a model names its files, and nothing else is read."""
    folder = model_dir.resolve()
    path = (model_dir / name).resolve()
    return path if path.is_relative_to(folder) and path != folder else None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRefused(f"{what} ({path.name}) cannot be read: {exc}") from None


def import_spiff_arena(model_dir: Path, root: Path, code: str | None = None, overwrite: bool = False) -> Imported:
    """Import the spiff-arena process model in ``model_dir`` into the project at ``root`` as procedure ``code``
    (default: from the folder's name). Raises :class:`ImportRefused` before writing anything when it cannot."""
    meta = _read_json(model_dir / "process_model.json", "the process model's description")
    if not isinstance(meta, dict) or not meta.get("primary_file_name") or not meta.get("primary_process_id"):
        raise ImportRefused("process_model.json names no primary_file_name and primary_process_id")
    code = code or _slug(model_dir.name)
    if not procedures.PROCEDURE_CODE.fullmatch(code):
        raise ImportRefused(f"'{code}' is not a procedure code (lower-case letters, digits and _)")
    targets = [root / "workflows" / f"{code}.toml", root / "bpmn" / f"{code}.bpmn", root / "forms" / code]
    if not overwrite and any(t.exists() for t in targets):
        raise ImportRefused(f"procedure '{code}' exists already (give another code, or overwrite it)")
    result = Imported(code)
    primary = _inside(model_dir, str(meta["primary_file_name"]))
    if primary is None:
        raise ImportRefused(f"{meta['primary_file_name']} is not in the model's folder")
    try:
        source = primary.read_bytes()
        tree = etree.fromstring(source, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ImportRefused(f"{meta['primary_file_name']} cannot be read as BPMN: {exc}") from None
    process = next((p for p in tree.iter(f"{{{BPMN}}}process") if p.get("id") == meta["primary_process_id"]), None)
    if process is None:
        raise ImportRefused(f"{meta['primary_file_name']} has no process '{meta['primary_process_id']}'")
    others = sorted(p.name for p in model_dir.glob("*.bpmn") if p.name != meta["primary_file_name"])
    if others:
        result.changes.append(f"not imported: {', '.join(others)} (a procedure is one BPMN file; a call activity "
                              "into another file will be reported missing)")

    forms = _rename_forms(tree, code)
    lanes = _lanes(process, result)
    _statuses(process, lanes, result)
    files: dict[Path, str] = {
        root / "bpmn" / f"{code}.bpmn": etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode("utf-8"),
    }
    for pair in forms:
        schema_file = _inside(model_dir, pair.schema)
        if schema_file is None or not schema_file.is_file():
            result.changes.append(f"form file {pair.schema} is not in the model's folder")
            continue
        ui_file = _inside(model_dir, pair.ui) if pair.ui else None
        ui = _read_json(ui_file, f"form {pair.ui}") if ui_file is not None and ui_file.is_file() else {}
        schema, ui = convert_form(_read_json(schema_file, f"form {pair.schema}"),
                                  ui if isinstance(ui, dict) else {}, pair.schema, result)
        files[root / "forms" / pair.new_schema] = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        files[root / "forms" / pair.new_ui] = json.dumps(ui, ensure_ascii=False, indent=2) + "\n"
    files[root / "workflows" / f"{code}.toml"] = _manifest(code, meta, lanes)

    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        result.written.append(str(path.relative_to(root)))
    _, problems = procedures.read_all(root)
    mine = (f"workflows/{code}.toml", f"bpmn/{code}.bpmn", f"forms/{code}/")
    result.problems = [p for p in dict.fromkeys(problems) if p.file.startswith(mine)]
    return result


@dataclass(frozen=True)
class FormPair:
    schema: str  # spiff-arena's file names
    ui: str | None
    new_schema: str  # this project's form keys (under forms/)
    new_ui: str


def _rename_forms(tree: Any, code: str) -> list[FormPair]:
    """The forms the user tasks name, renamed this project's way (``<code>/<form>.schema.json`` and
    ``.uischema.json``) in the diagram; a task without a UI schema gets one (its labels and choices go there)."""
    pairs: dict[tuple[str, str | None], FormPair] = {}
    for props in tree.iter(f"{{{SPIFF}}}properties"):
        by_name = {p.get("name"): p for p in props.findall(f"{{{SPIFF}}}property")}
        schema_prop = by_name.get("formJsonSchemaFilename")
        if schema_prop is None or not schema_prop.get("value"):
            continue
        ui_prop = by_name.get("formUiSchemaFilename")
        old = schema_prop.get("value")
        old_ui = ui_prop.get("value") if ui_prop is not None and ui_prop.get("value") else None
        pair = pairs.get((old, old_ui))
        if pair is None:
            stem = _slug(re.sub(r"[-_.]?schema\.json$|\.json$", "", old.rsplit("/", 1)[-1]) or "form")
            while any(p.new_schema == f"{code}/{stem}.schema.json" for p in pairs.values()):
                stem += "_2"
            pair = pairs[(old, old_ui)] = FormPair(old, old_ui, f"{code}/{stem}.schema.json",
                                                   f"{code}/{stem}.uischema.json")
        schema_prop.set("value", pair.new_schema)
        if ui_prop is None:
            ui_prop = etree.SubElement(props, f"{{{SPIFF}}}property", name="formUiSchemaFilename")
        ui_prop.set("value", pair.new_ui)
    return list(pairs.values())


def _lanes(process: Any, result: Imported) -> dict[str, str]:
    """The process's lanes (name → role); the human tasks in none are put in an ``applicant`` lane."""
    lane_set = process.find(f"{{{BPMN}}}laneSet")
    lanes: dict[str, str] = {}
    in_lane: set[str] = set()
    for lane in process.iter(f"{{{BPMN}}}lane"):
        name = lane.get("name") or lane.get("id")
        lane.set("name", name)
        lanes[name] = procedures.APPLICANT_ROLE if _slug(name) == procedures.APPLICANT_ROLE else _slug(name)
        in_lane |= {(ref.text or "").strip() for ref in lane.findall(f"{{{BPMN}}}flowNodeRef")}
    outside = [el.get("id") for tag in HUMAN_TASKS for el in process.findall(f"{{{BPMN}}}{tag}")
               if el.get("id") not in in_lane]
    if outside:
        if lane_set is None:
            lane_set = etree.Element(f"{{{BPMN}}}laneSet", id=f"{process.get('id')}_lanes")
            process.insert(_after_documentation(process), lane_set)
        lane = next((ln for ln in lane_set.findall(f"{{{BPMN}}}lane") if ln.get("name") == "applicant"), None)
        if lane is None:
            lane = etree.SubElement(lane_set, f"{{{BPMN}}}lane", id="lane_applicant", name="applicant")
        for task_id in outside:
            etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = task_id
        lanes["applicant"] = procedures.APPLICANT_ROLE
        result.changes.append(f"tasks in no lane ({', '.join(outside)}) are the initiator's in spiff-arena: put in "
                              "the lane 'applicant' (the citizen); the drawing shows no such lane")
    for name, role in lanes.items():
        if role != procedures.APPLICANT_ROLE:
            result.changes.append(f"lane '{name}' is done by the role '{role}': name it in both languages in the "
                                  "manifest's [roles], and give officials that role")
    return lanes


def _after_documentation(element: Any) -> int:
    index = 0
    for i, child in enumerate(element):
        if isinstance(child.tag, str) and etree.QName(child).localname in ("documentation", "extensionElements"):
            index = i + 1
    return index


def _set_property(element: Any, name: str, value: str) -> None:
    ext = element.find(f"{{{BPMN}}}extensionElements")
    if ext is None:
        ext = etree.Element(f"{{{BPMN}}}extensionElements")
        doc = element.find(f"{{{BPMN}}}documentation")
        element.insert(0 if doc is None else element.index(doc) + 1, ext)
    props = ext.find(f"{{{SPIFF}}}properties")
    if props is None:
        props = etree.SubElement(ext, f"{{{SPIFF}}}properties")
    etree.SubElement(props, f"{{{SPIFF}}}property", name=name, value=value)


def _statuses(process: Any, lanes: dict[str, str], result: Imported) -> None:
    """Without any dossierStatus, a dossier would never leave draft: mark the first task of an agency's lane and
    the end events."""
    if any(p.get("name") == "dossierStatus" for p in process.iter(f"{{{SPIFF}}}property")):
        return
    agency_tasks: set[str] = set()
    for lane in process.iter(f"{{{BPMN}}}lane"):
        if lanes.get(lane.get("name")) not in (None, procedures.APPLICANT_ROLE):
            agency_tasks |= {(ref.text or "").strip() for ref in lane.findall(f"{{{BPMN}}}flowNodeRef")}
    first = next((el for el in process.iter(*(f"{{{BPMN}}}{t}" for t in HUMAN_TASKS)) if el.get("id") in agency_tasks),
                 None)
    if first is not None:
        _set_property(first, "dossierStatus", "receiving")
        result.changes.append(f"the dossier counts as sent when it reaches '{first.get('id')}' (dossierStatus "
                              "receiving); add statuses where the procedure's steps are (accepted, result ready…)")
    else:
        result.changes.append("no task of an agency's lane: the dossier is never sent to an agency")
    for end in process.findall(f"{{{BPMN}}}endEvent"):
        _set_property(end, "dossierStatus", "done")
    if process.find(f"{{{BPMN}}}endEvent") is not None:
        result.changes.append("every end event marks the dossier done (dossierStatus done); a refusal's end should "
                              "say denied or unresolved")


def convert_form(schema: Any, ui: dict[str, Any], name: str, result: Imported) -> tuple[dict[str, Any], dict[str, Any]]:
    """A react-jsonschema-form schema and UI schema as this project's form (see the module's docstring)."""
    if not isinstance(schema, dict):
        raise ImportRefused(f"form {name} is not a JSON object")
    schema = dict(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out_ui: dict[str, Any] = {}
    if ui.get("ui:order"):
        out_ui["ui:order"] = [n for n in ui["ui:order"] if n != "*"]
    if schema.get("title"):
        out_ui["ui:title"] = _both(schema.pop("title"))
    if schema.get("description"):
        out_ui["ui:description"] = _both(schema.pop("description"))
    dropped: set[str] = set()
    properties = dict(schema.get("properties") or {})
    for field_name, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        prop = dict(prop)
        opts = {k: v for k, v in (ui.get(field_name) or {}).items()} if isinstance(ui.get(field_name), dict) else {}
        mine: dict[str, Any] = {}
        choices = prop.get("oneOf") or prop.get("anyOf")
        if isinstance(choices, list) and choices and all(isinstance(c, dict) and "const" in c for c in choices):
            prop.pop("oneOf", None)
            prop.pop("anyOf", None)
            prop["enum"] = [c["const"] for c in choices]
            mine["ui:enumLabels"] = {str(c["const"]): _both(c.get("title", c["const"])) for c in choices}
        names = prop.pop("enumNames", None)
        if isinstance(names, list) and prop.get("enum"):
            mine["ui:enumLabels"] = {str(v): _both(n) for v, n in zip(prop["enum"], names, strict=False)}
        if prop.get("title"):
            mine["ui:label"] = _both(prop["title"])
        if prop.get("description") and "ui:help" not in opts:
            mine["ui:help"] = _both(prop["description"])
        for key, value in opts.items():
            if key == "ui:widget":
                if value in WIDGETS:
                    mine["ui:widget"] = WIDGETS[value]
                else:
                    dropped.add(f"ui:widget {value}")
            elif key == "ui:help":
                mine["ui:help"] = _both(value)
            elif key in KEPT_UI:
                mine[key] = value
            else:
                dropped.add(key)
        properties[field_name] = prop
        if mine:
            out_ui[field_name] = mine
    schema["properties"] = properties
    if dropped:
        result.changes.append(f"form {name}: dropped what this portal does not show ({', '.join(sorted(dropped))})")
    result.changes.append(f"form {name}: labels and help are the same text in Vietnamese and English until "
                          "translated")
    return schema, out_ui


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # (a JSON string is a TOML basic string)


def _toml_text(value: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{k} = {_toml_string(v)}" for k, v in value.items()) + " }"


def _manifest(code: str, meta: dict[str, Any], lanes: dict[str, str]) -> str:
    name = str(meta.get("display_name") or code)
    summary = str(meta.get("description") or name)
    lines = [
        f"# Imported from the spiff-arena process model '{name}': review every [import] note, then remove it.",
        f"code = {_toml_string(code)}",
        f"name = {_toml_text(_both(name))}",
        f"summary = {_toml_text(_both(summary))}",
        'field = { code = "chua_phan_loai", vi = "Chưa phân loại", en = "Unclassified" }',
        'agency_level = "commune"',
        'service_level = "mot_phan"',
        f"keywords = [{_toml_string(name)}]",
        "legal_basis = []",
        "notes = [",
        ('  "[import] field, agency_level, service_level, time_limit, fees, components and delivery are placeholders: '
         'set them from the procedure\'s legal basis.",'),
        '  "[import] names, labels and help are the same text in both languages: translate them.",',
        "]",
        "",
        "[bpmn]",
        f"file = {_toml_string(code + '.bpmn')}",
        f"process = {_toml_string(str(meta['primary_process_id']))}",
        "",
        "[time_limit]",
        "working_days = 0",
        'text = { vi = "Chưa xác định (bổ sung theo quy định).", en = "Not set yet (to be set from the law)." }',
        "",
        "[[delivery]]",
        'code = "desk"',
        'name = { vi = "Nhận tại Bộ phận một cửa", en = "At the one-stop desk" }',
        "",
        "[lanes]",
    ]
    lines += [f"{_toml_string(lane)} = {_toml_string(role)}" for lane, role in lanes.items()]
    for lane, role in lanes.items():
        if role != procedures.APPLICANT_ROLE:
            lines += ["", f"[roles.{role}]", f"name = {_toml_text(_both(lane))}"]
    return "\n".join(lines) + "\n"
