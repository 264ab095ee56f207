"""Reading procedures from files (manifest + BPMN + forms) and finding every problem in them."""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from . import runtime, sandbox
from .forms import FormDefinition, FormProblem, load_form
from .i18n import missing_languages
from .statuses import STATUSES

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
REQUIRED_KEYS = ("code", "name", "summary", "field", "agency_level", "service_level", "bpmn", "time_limit", "lanes")
APPLICANT_ROLE = "applicant"
#: the portal's own role, no lane's: a head of office who sees every task of the agency and gives it to an official
#: (engine.tasks.assign)
SUPERVISOR_ROLE = "supervisor"
SUPERVISOR_NAME = {"vi": "Lãnh đạo bộ phận: phân công công việc", "en": "Head of office: assigns tasks"}
COMPONENT_CODE = re.compile(r"[a-z][a-z0-9_]{0,59}")
PROCEDURE_CODE = re.compile(r"[a-z][a-z0-9_]{0,79}")  # a manifest's code, and its file name
#: an official's user task property ``resultFile``: the electronic result the official attaches when completing it
#: (engine.attachments): "required", "online" (required when the applicant chose the result online) or "optional"
RESULT_FILE_MODES = ("required", "online", "optional")
RESULT_COMPONENT = "result"  # what result files are kept under, beside the applicant's documents


@dataclass(frozen=True)
class Problem:
    file: str
    element: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.element}]" if self.element else "")
        return f"{where}: {self.message}"


@dataclass
class ProcedureFiles:
    """A procedure as read from disk: its manifest and the text of every file it uses."""

    code: str
    manifest: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)  # "bpmn/x.bpmn", "forms/x/y.schema.json" → text

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256(json.dumps(self.manifest, sort_keys=True, ensure_ascii=False).encode())
        for name in sorted(self.files):
            h.update(b"\0" + name.encode() + b"\0" + self.files[name].encode())
        return h.hexdigest()

    def bpmn_files(self) -> dict[str, str]:
        return {k: v for k, v in self.files.items() if k.startswith("bpmn/")}

    def form_text(self, key: str) -> str | None:
        return self.files.get(f"forms/{key}")


@dataclass
class Compiled:
    """A procedure whose files passed every check: parsed spec and loaded forms."""

    source: ProcedureFiles
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, FormDefinition]


def manifest_bpmn_files(root: Path) -> set[str]:
    """Names of the BPMN files the manifests under ``root`` use (best effort: broken manifests are skipped)."""
    names = set()
    for path in (root / "workflows").glob("*.toml"):
        try:
            names.add(tomllib.loads(path.read_text(encoding="utf-8"))["bpmn"]["file"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return names


def read_all(root: Path, bpmn_dir: Path | None = None) -> tuple[list[Compiled], list[Problem]]:
    """Read and check every ``workflows/*.toml`` under ``root``; BPMN from ``bpmn_dir`` if given."""
    problems: list[Problem] = []
    compiled: list[Compiled] = []
    bpmn_dir = bpmn_dir or root / "bpmn"
    manifests = sorted((root / "workflows").glob("*.toml"))
    if not manifests:
        problems.append(Problem(str(root / "workflows"), None, "no procedure manifests (*.toml) found"))
    for path in manifests:
        source, found = read_one(path, bpmn_dir, root / "forms")
        problems += found
        if source is not None and not found:
            result, found = compile_procedure(source)
            problems += found
            if result is not None:
                compiled.append(result)
    codes = [c.source.code for c in compiled]
    for code in {c for c in codes if codes.count(c) > 1}:
        problems.append(Problem("workflows/", None, f"procedure code '{code}' is used by more than one manifest"))
    return compiled, problems


def read_one(path: Path, bpmn_dir: Path, forms_dir: Path) -> tuple[ProcedureFiles | None, list[Problem]]:
    name = f"workflows/{path.name}"
    try:
        manifest = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [Problem(name, None, f"not valid TOML: {exc}")]
    problems = [Problem(name, None, f"missing key '{k}'") for k in REQUIRED_KEYS if k not in manifest]
    if problems:
        return None, problems
    for key in ("name", "summary", "field"):
        if missing_languages(manifest[key]):
            problems.append(Problem(name, key, f"lacks {', '.join(missing_languages(manifest[key]))}"))
    if manifest.get("service_level") not in ("toan_trinh", "mot_phan"):
        problems.append(Problem(name, "service_level", "must be 'toan_trinh' or 'mot_phan'"))
    problems += _component_problems(name, manifest.get("components", []))
    bpmn = manifest["bpmn"]
    if not isinstance(bpmn, dict) or not bpmn.get("file") or not bpmn.get("process"):
        return None, problems + [Problem(name, "bpmn", "needs 'file' and 'process'")]
    source = ProcedureFiles(code=str(manifest["code"]), manifest=manifest)
    bpmn_path = bpmn_dir / bpmn["file"]
    try:
        source.files[f"bpmn/{bpmn['file']}"] = bpmn_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, problems + [Problem(name, "bpmn.file", f"cannot read {bpmn_path}: {exc}")]
    # forms referenced by user tasks are found by scanning the XML, so broken BPMN still reports missing forms
    for key in _form_keys(source.files[f"bpmn/{bpmn['file']}"]):
        form_path = forms_dir / key
        if form_path.is_file():
            source.files[f"forms/{key}"] = form_path.read_text(encoding="utf-8")
    return source, problems


def _component_problems(name: str, components: Any) -> list[Problem]:
    """Each document a procedure asks for needs a code (files attached are kept under it) and a name in both
    languages."""
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        return [Problem(name, "components", "must be a list of tables ([[components]])")]
    problems, seen = [], set()
    for i, c in enumerate(components):
        code = c.get("code")
        where = f"components[{i}]" + (f" {code}" if isinstance(code, str) else "")
        if not isinstance(code, str) or not COMPONENT_CODE.fullmatch(code):
            problems.append(Problem(name, where, "needs a 'code' of lower-case letters, digits and _ (up to 60)"))
        elif code in seen:
            problems.append(Problem(name, where, "the code is used twice"))
        elif code == RESULT_COMPONENT:
            problems.append(Problem(name, where, f"the code '{RESULT_COMPONENT}' names the agency's result files"))
        seen.add(code)
        if not isinstance(c.get("name"), dict) or missing_languages(c["name"]):
            problems.append(Problem(name, where, "needs a 'name' in Vietnamese and English"))
    return problems


def _form_keys(xml: str) -> list[str]:
    try:
        tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    keys = []
    for prop in tree.iter("{*}property"):
        if prop.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename") and prop.get("value"):
            keys.append(prop.get("value"))
    return keys


def compile_procedure(source: ProcedureFiles) -> tuple[Compiled | None, list[Problem]]:
    """Parse the BPMN, load the forms and check everything the manifest and diagram promise each other."""
    manifest = source.manifest
    bpmn_name = f"bpmn/{manifest['bpmn']['file']}"
    broken = [p for name, xml in source.bpmn_files().items() for p in check_references(name, xml)]
    if broken:  # parsing would only add confusing messages; scripts can still be checked
        return None, broken + [p for name, xml in source.bpmn_files().items() for p in check_scripts(name, xml)]
    try:
        spec, subs = runtime.parse(source.bpmn_files(), manifest["bpmn"]["process"])
    except runtime.ParseProblem as exc:
        return None, [Problem(exc.file, exc.element, exc.message)]
    problems: list[Problem] = []
    forms: dict[str, FormDefinition] = {}
    lanes: dict[str, str] = manifest.get("lanes", {})
    roles = manifest.get("roles", {})
    if SUPERVISOR_ROLE in roles or SUPERVISOR_ROLE in lanes.values():
        problems.append(Problem(f"workflows/{source.code}.toml", f"roles.{SUPERVISOR_ROLE}",
                                f"'{SUPERVISOR_ROLE}' is the portal's own role (assigning tasks): give the lane's role "
                                "another name"))
    for role in set(lanes.values()) - {APPLICANT_ROLE, SUPERVISOR_ROLE}:
        if role not in roles:
            problems.append(Problem(f"workflows/{source.code}.toml", f"roles.{role}", "role used by a lane has no [roles] entry"))
        elif missing_languages(roles[role].get("name")):
            problems.append(Problem(f"workflows/{source.code}.toml", f"roles.{role}", "role name lacks vi or en"))
    for task_spec in _all_task_specs(spec, subs):
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        props = runtime.properties(task_spec)
        lane = getattr(task_spec, "lane", None)
        if lane is not None and lane not in lanes:
            problems.append(Problem(bpmn_name, element, f"lane '{lane}' has no role in the manifest's [lanes]"))
        status = props.get("dossierStatus")
        if status is not None and status not in STATUSES:
            problems.append(Problem(bpmn_name, element, f"unknown dossierStatus '{status}'"))
        if getattr(task_spec, "manual", False):
            if lane is None:
                problems.append(Problem(bpmn_name, element, "user task is in no lane (lanes say who does it)"))
            problems += _check_form(source, bpmn_name, element, props, forms)
        fee = props.get("collectsFee")
        if fee is not None:
            problems += _check_fee_task(bpmn_name, element, fee, lanes.get(lane or ""),
                                        forms.get(props.get("formJsonSchemaFilename", "")))
        result_file = props.get("resultFile")
        if result_file is not None and (result_file not in RESULT_FILE_MODES or not getattr(task_spec, "manual", False)
                                        or lanes.get(lane or "") in (None, APPLICANT_ROLE)):
            problems.append(Problem(bpmn_name, element, "resultFile must be one of " + ", ".join(RESULT_FILE_MODES)
                                    + ", on a user task of an agency's lane"))
    for name, xml in source.bpmn_files().items():
        problems += check_scripts(name, xml)
    if problems:
        return None, problems
    return Compiled(source, spec, subs, forms), []


def _check_fee_task(bpmn_name: str, element: str, variable: str, role: str | None,
                    form: FormDefinition | None) -> list[Problem]:
    """A task that collects fees (``collectsFee``) is an agency's, names the variable of their amount, and its form
    says how they came: ``payment_method`` (transfer or cash) and ``payment_reference``."""
    problems = []
    if not variable.isidentifier() or role in (None, APPLICANT_ROLE):
        problems.append(Problem(bpmn_name, element, "collectsFee names the variable of the fees' amount, on a user "
                                                    "task of an agency's lane"))
    if form is not None:
        method = form.fields.get("payment_method")
        if method is None or "payment_reference" not in form.fields:
            problems.append(Problem(bpmn_name, element, "a task that collects fees needs the form fields "
                                                        "payment_method and payment_reference"))
        elif sorted(value for value, _label in method.options) != ["cash", "transfer"]:
            problems.append(Problem(bpmn_name, element, "payment_method offers exactly 'transfer' and 'cash'"))
    return problems


def _check_form(source: ProcedureFiles, bpmn_name: str, element: str, props: dict[str, str],
                forms: dict[str, FormDefinition]) -> list[Problem]:
    key = props.get("formJsonSchemaFilename")
    if not key:
        return [Problem(bpmn_name, element, "user task names no form (property formJsonSchemaFilename)")]
    schema_text = source.form_text(key)
    if schema_text is None:
        return [Problem(bpmn_name, element, f"form file forms/{key} is missing")]
    ui_key = props.get("formUiSchemaFilename")
    ui_text = source.form_text(ui_key) if ui_key else None
    if ui_key and ui_text is None:
        return [Problem(bpmn_name, element, f"form file forms/{ui_key} is missing")]
    try:
        forms[key] = load_form(key, schema_text, ui_text)
    except FormProblem as exc:
        return [Problem(f"forms/{key}", element, str(exc))]
    return []


def _all_task_specs(spec: Any, subs: dict[str, Any]) -> list[Any]:
    specs = list(spec.task_specs.values())
    for sub in subs.values():
        specs += list(sub.task_specs.values())
    return [s for s in specs if getattr(s, "bpmn_id", None)]


REFERENCE_ATTRIBUTES = ("sourceRef", "targetRef", "default", "attachedToRef", "errorRef", "escalationRef",
                        "messageRef", "signalRef", "processRef")


def check_references(name: str, xml: str) -> list[Problem]:
    """Every id an element refers to exists (SpiffWorkflow's own message for a dangling one is misleading)."""
    try:
        tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [Problem(name, None, f"not well-formed XML: {exc}")]
    ids = {node.get("id") for node in tree.iter() if isinstance(node.tag, str) and node.get("id")}
    problems = []
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        tag = etree.QName(node).localname
        for attr in REFERENCE_ATTRIBUTES:
            value = node.get(attr)
            if value and value not in ids:
                problems.append(Problem(name, node.get("id") or tag, f"{attr} '{value}' refers to no element"))
        if tag in ("incoming", "outgoing", "flowNodeRef") and (node.text or "").strip() not in ids:
            owner = node.getparent()
            problems.append(Problem(name, owner.get("id") if owner is not None else None,
                                    f"{tag} '{(node.text or '').strip()}' refers to no element"))
    return problems


SCRIPT_TAGS = {"script": "exec", "conditionExpression": "eval", "preScript": "exec", "postScript": "exec"}


def check_scripts(name: str, xml: str) -> list[Problem]:
    """Compile every script and condition of a diagram (reachable or not) as the sandbox will run it."""
    try:
        tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []  # reported by the parser
    problems = []
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        tag = etree.QName(node).localname
        if tag not in SCRIPT_TAGS or not (node.text or "").strip():
            continue
        owner = node.getparent()
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        element = owner.get("id") if owner is not None else None
        reason = sandbox.check(node.text.strip() if SCRIPT_TAGS[tag] == "eval" else node.text, SCRIPT_TAGS[tag])
        if reason:
            what = "condition" if tag == "conditionExpression" else tag
            problems.append(Problem(name, element, f"{what} does not compile in the sandbox: {reason}"))
    return problems


def check_bpmn_dir(directory: Path, skip: set[str] | None = None) -> list[Problem]:
    """Parse every .bpmn file of a directory on its own, so that files no manifest uses are checked too."""
    problems = []
    for path in sorted(directory.glob("*.bpmn")):
        if path.name in (skip or set()):
            continue
        try:
            xml = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), None, f"cannot read: {exc}"))
            continue
        try:
            tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(str(path), None, f"not well-formed XML: {exc}"))
            continue
        broken = check_references(str(path), xml)
        if broken:
            problems += broken
            continue
        ids = [p.get("id") for p in tree.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") != "false"]
        for pid in ids:
            try:
                runtime.parse({str(path): xml}, pid)
            except runtime.ParseProblem as exc:
                problems.append(Problem(str(path), exc.element, exc.message))
        problems += check_scripts(str(path), xml)
    return problems
