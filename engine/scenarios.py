"""Designer tests: run a procedure's scenario files headlessly against a real database, and measure which
parts of its diagram they reach.

A scenario (``workflows/<code>/scenarios/*.toml``, format in docs/DESIGNERS.md) says who completes which task
with what data, and what status, open tasks, timeline, due date and data must follow. Each step runs in its own
database session, so the workflow is saved and restored between steps exactly as between web requests, on the
scenario's own clock (timers fire when the clock passes them).
"""
from __future__ import annotations

import datetime as dt
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select

from . import accounts, attachments, clock, compaction, runtime
from .api import Engine
from .catalog import current_version
from .config import Settings
from .errors import EngineError, FormInvalid
from .i18n import tr
from .models import Agency, Dossier, User
from .procedures import APPLICANT_ROLE

BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
FLOW_NODES = ("startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
              "userTask", "manualTask", "task", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
              "callActivity", "subProcess")
BRANCHING = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "boundaryEvent")
PASSWORD = "kich-ban-thu-nghiem"


def placeholder_pdf(title: str) -> bytes:
    """A one-page PDF showing ``title``: the file a scenario attaches for a document it does not name."""
    shown = title.encode("ascii", "replace").replace(b"\\", b"").replace(b"(", b"").replace(b")", b"")
    stream = b"BT /F1 18 Tf 72 770 Td (" + shown + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


class StepFailed(Exception):
    pass


def attach_documents(eng: Engine, s: Any, step: dict[str, Any], dossier: Dossier, applicant: User) -> None:
    """The files of an applicant's step: a placeholder PDF for each component ``attach`` names or, without
    ``attach``, for each required one without a file when the dossier is a draft (``attach = []``: none).
    Committed apart from the step, as the portal keeps each upload."""
    wanted = step.get("attach")
    if wanted is None and dossier.status == "draft":
        have = {d.component for d in eng.documents(s, dossier.id, applicant)}
        wanted = [c.code for c in eng.components(s, dossier.id, applicant) if c.required and c.code not in have]
    if not isinstance(wanted, list | None):
        raise StepFailed("'attach' must be a list of component codes")
    for code in wanted or ():
        try:
            eng.attach(s, dossier.id, applicant, str(code), f"{code}.pdf", placeholder_pdf(str(code)))
        except EngineError as exc:
            s.rollback()
            raise StepFailed(f"cannot attach '{code}': {exc.message['en']}") from None
    s.commit()


def attach_result(eng: Engine, s: Any, step: dict[str, Any], task_id: int, dossier: Dossier, official: User) -> None:
    """The electronic result of an official's step (the official holds the task): attached when ``attach =
    ["result"]``, or without ``attach`` when the task needs it (``resultFile``) and has none yet."""
    wanted = step.get("attach")
    if wanted is None:
        mode = eng.task(s, task_id, official).result_file
        needed = attachments.result_needed(mode, dossier) and not any(
            d.component == attachments.RESULT for d in eng.documents(s, dossier.id, official))
        wanted = [attachments.RESULT] if needed else []
    if wanted not in ([], [attachments.RESULT]):
        raise StepFailed(f"an official's step attaches nothing or [\"{attachments.RESULT}\"], not {wanted}")
    for _ in wanted:
        try:
            eng.attach_result(s, task_id, official, "ket-qua.pdf", placeholder_pdf("result"))
        except EngineError as exc:
            s.rollback()
            raise StepFailed(f"cannot attach the result: {exc.message['en']}") from None
    s.commit()


@dataclass
class Result:
    procedure: str
    name: str
    title: str
    passed: bool
    message: str = ""
    reached: set[str] = field(default_factory=set)
    flows: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Coverage:
    procedure: str
    unreached_nodes: list[str]
    untaken_flows: list[str]


def scenario_files(root: Path, code: str) -> list[Path]:
    return sorted(p for p in (root / "workflows" / code / "scenarios").glob("*.toml") if not p.name.startswith("_"))


def procedures_with_manifests(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "workflows").glob("*.toml"))


def moment(value: Any) -> dt.datetime:
    """A scenario's time (TOML datetime or ISO text; Vietnam time without an offset) as naive UTC."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:  # scenario times without an offset are Vietnam time
        moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))
    return moment.astimezone(dt.UTC).replace(tzinfo=None)



def start_of(scenario: dict[str, Any]) -> dt.datetime:
    """When a scenario's clock starts (naive UTC): its ``start``, by default Monday 2026-11-23, 9:00."""
    return moment(scenario.get("start", "2026-11-23T09:00:00+07:00"))


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """TOML dates → ISO strings, as a browser would send them."""
    return {k: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for k, v in data.items()}


class Runner:
    """One database with every procedure deployed and an official for each role of each agency level."""

    def __init__(self, root: Path, database_url: str | None = None):
        self.root = root
        self._tmp = None
        if database_url is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="motcua-scenarios-")
            database_url = f"sqlite:///{Path(self._tmp.name) / 'scenarios.db'}"
        self.engine = Engine(Settings(database_url=database_url, root=root))
        self.engine.upgrade_database()
        self._citizens = 0
        with self.engine.session() as s:
            deployed = self.engine.deploy(s)
            self._agencies(s)
            for d in deployed:
                self._officials(s, d.code)
            s.commit()

    def close(self) -> None:
        self.engine.db.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()

    # -- set-up ------------------------------------------------------------------------------------------------
    def _agencies(self, s: Any) -> None:
        from .demo import AGENCY, PROVINCE

        for values in (AGENCY, PROVINCE):
            if s.scalar(select(Agency).where(Agency.code == values["code"])) is None:
                s.add(Agency(**values))
        s.flush()

    def _officials(self, s: Any, code: str) -> None:
        rt = self.engine.versions.get(current_version(s, code))
        level = rt.info.agency_level
        for agency in s.scalars(select(Agency).where(Agency.level == level)):
            for role in sorted(set(rt.lanes.values()) - {APPLICANT_ROLE}):
                email = f"{role}.{agency.id}@kichban.motcua.vn"
                if s.scalar(select(User).where(User.email == email)) is None:
                    accounts.create_official(s, email, PASSWORD, f"Cán bộ {role}", agency, [role])

    def _citizen(self, s: Any) -> User:
        self._citizens += 1
        return accounts.register_citizen(
            s, f"congdan{self._citizens}@kichban.motcua.vn", PASSWORD, "Nguyễn Văn Thử", phone="0912345678",
            id_number="001090000001", address="Thôn Đông, xã Mẫu Sơn")

    # -- running -----------------------------------------------------------------------------------------------
    def run_file(self, code: str, path: Path) -> Result:
        name = path.stem
        try:
            scenario = tomllib.loads(path.read_text(encoding="utf-8"))
            shared = path.parent / "_fixtures.toml"  # fixtures every scenario of the procedure may use
            if shared.exists():
                scenario["fixtures"] = {**tomllib.loads(shared.read_text(encoding="utf-8")).get("fixtures", {}),
                                        **scenario.get("fixtures", {})}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            return Result(code, name, name, False, f"cannot read {path.name}: {exc}")
        title = str(scenario.get("title", name))
        result = Result(code, name, title, True)
        start = start_of(scenario)
        manual = clock.ManualClock(start)
        dossier_id = None
        try:
            with clock.use(manual):
                with self.engine.session() as s:
                    citizen = self._citizen(s)
                    citizen_id = citizen.id
                    dossier_id = self.engine.start_dossier(s, code, citizen).id
                    s.commit()
                for number, step in enumerate(scenario.get("step", []), start=1):
                    try:
                        self._step(manual, scenario, step, dossier_id, citizen_id)
                    except StepFailed as exc:
                        raise StepFailed(f"step {number}: {exc}") from None
        except StepFailed as exc:
            result.passed, result.message = False, str(exc)
        except EngineError as exc:
            result.passed, result.message = False, tr(exc.message, "en")
        except Exception as exc:  # noqa: BLE001 - a scenario must report, not crash the run
            result.passed, result.message = False, f"{type(exc).__name__}: {exc}"
        if dossier_id is not None:
            result.reached, result.flows = self._walked(dossier_id)
        return result

    def _actor(self, s: Any, role: str, dossier: Dossier, citizen_id: int) -> User:
        if role == APPLICANT_ROLE:
            return s.get(User, citizen_id)
        email = f"{role}.{dossier.agency_id}@kichban.motcua.vn"
        user = s.scalar(select(User).where(User.email == email))
        if user is None:
            raise StepFailed(f"no role '{role}' in this procedure's lanes")
        return user

    def _step(self, manual: clock.ManualClock, scenario: dict[str, Any], step: dict[str, Any], dossier_id: int,
              citizen_id: int) -> None:
        eng = self.engine
        for key in ("at", "wait_until"):
            if key in step:
                try:
                    manual.move_to(moment(step[key]))
                except ValueError as exc:
                    raise StepFailed(str(exc)) from None
                with eng.session() as s:
                    eng.fire_due_timers(s)
                    s.commit()
        with eng.session() as s:
            dossier = s.get(Dossier, dossier_id)
            if "withdraw" in step:
                eng.withdraw(s, dossier_id, s.get(User, citizen_id), str(step["withdraw"]))
                s.commit()
            elif "task" in step:
                role = str(step.get("as", APPLICANT_ROLE))
                actor = self._actor(s, role, dossier, citizen_id)
                view = eng.dossier(s, dossier_id, actor)
                matches = [t for t in view.open_tasks if t.bpmn_id == step["task"]]
                if not matches:
                    raise StepFailed(f"task '{step['task']}' is not open (open: {[t.bpmn_id for t in view.open_tasks]})")
                task = matches[0]
                if task.role != role:
                    raise StepFailed(f"task '{task.bpmn_id}' belongs to role '{task.role}', not '{role}'")
                data: dict[str, Any] = {}
                if "data_from" in step:
                    fixture = scenario.get("fixtures", {}).get(step["data_from"])
                    if fixture is None:
                        raise StepFailed(f"no fixture '{step['data_from']}'")
                    data.update(_plain(fixture))
                data.update(_plain(step.get("data", {})))
                if role != APPLICANT_ROLE:
                    eng.claim(s, task.id, actor)
                    s.commit()
                    attach_result(eng, s, step, task.id, dossier, actor)
                else:
                    attach_documents(eng, s, step, dossier, actor)
                expected_errors = step.get("errors")
                try:
                    eng.complete(s, task.id, actor, data)
                except FormInvalid as exc:
                    s.rollback()
                    if expected_errors is None:
                        raise StepFailed(f"task '{task.bpmn_id}' refused the data: " + "; ".join(
                            f"{k}: {v['en']}" for k, v in exc.errors.items())) from None
                    if sorted(exc.errors) != sorted(expected_errors):
                        raise StepFailed(f"errors {sorted(exc.errors)}, expected {sorted(expected_errors)}") from None
                else:
                    if expected_errors is not None:
                        raise StepFailed(f"task '{task.bpmn_id}' accepted data that should be refused")
                    s.commit()
        self._expect(step, dossier_id)

    def _expect(self, step: dict[str, Any], dossier_id: int) -> None:
        eng = self.engine
        with eng.session() as s:
            dossier = s.get(Dossier, dossier_id)
            view = eng.dossier(s, dossier_id, s.get(User, dossier.applicant_id))
            problems = []
            if "status" in step and view.status != step["status"]:
                problems.append(f"status '{view.status}', expected '{step['status']}'")
            if "open" in step:
                got = sorted(t.bpmn_id for t in view.open_tasks)
                if got != sorted(step["open"]):
                    problems.append(f"open tasks {got}, expected {sorted(step['open'])}")
            if "timeline" in step:
                labels = [e.label["vi"] for e in eng.timeline(s, dossier_id, s.get(User, dossier.applicant_id))]
                for wanted in step["timeline"]:
                    if not any(wanted in label for label in labels):
                        problems.append(f"timeline lacks '{wanted}'")
            if "appointment" in step:
                want = moment(step["appointment"])
                if view.appointment_at != want:
                    problems.append(f"appointment {view.appointment_at} UTC, expected {want} UTC")
            for key, value in _plain(step.get("data_has", {})).items():
                if view.data.get(key) != value:
                    problems.append(f"data {key}={view.data.get(key)!r}, expected {value!r}")
            if step.get("finished") is True and not view.completed:
                problems.append("the process has not ended")
            if "classification" in step and view.classification != step["classification"]:
                problems.append(f"classified '{view.classification}', expected '{step['classification']}'")
            if problems:
                raise StepFailed("; ".join(problems))

    def _walked(self, dossier_id: int) -> tuple[set[str], set[tuple[str, str]]]:
        from SpiffWorkflow.util.task import TaskState

        with self.engine.session() as s:
            dossier = s.get(Dossier, dossier_id)
            rt = self.engine.versions.of(s, dossier.version_id)
            workflow = runtime.restore(dossier.workflow, rt.spec, rt.subprocess_specs)
        reached_states = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED
        nodes: set[str] = set()
        flows: set[tuple[str, str]] = set()
        for task in workflow.get_tasks(state=reached_states | TaskState.CANCELLED):
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.CANCELLED and type(task.task_spec).__name__ not in ("UserTask", "ManualTask"):
                continue
            nodes.add(bpmn_id)
            if task.state == TaskState.CANCELLED:
                continue
            source = compaction.nearest_element(task)
            if source is not None:
                flows.add((source.task_spec.bpmn_id, bpmn_id))
        dropped = compaction.passed(workflow)  # a long run's early passes, compacted away (compaction.compact)
        return nodes | dropped["done"] | dropped["cancelled"], flows | dropped["flows"]


def diagram_parts(xml: str, process_id: str) -> tuple[list[str], dict[tuple[str, str], str], set[str]]:
    """Flow nodes of a process, its flows by (source, target), and which flows leave a branching element."""
    tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    process = tree.find(f"{BPMN_NS}process[@id='{process_id}']")
    if process is None:
        return [], {}, set()
    kinds = {}
    for tag in FLOW_NODES:
        for el in process.iter(f"{BPMN_NS}{tag}"):
            kinds[el.get("id")] = tag
    flows, branching = {}, set()
    for el in process.iter(f"{BPMN_NS}sequenceFlow"):
        key = (el.get("sourceRef"), el.get("targetRef"))
        flows[key] = el.get("id")
        if kinds.get(key[0]) in BRANCHING:
            branching.add(el.get("id"))
    return list(kinds), flows, branching


def coverage(root: Path, code: str, results: Iterable[Result]) -> Coverage:
    manifest = tomllib.loads((root / "workflows" / f"{code}.toml").read_text(encoding="utf-8"))
    xml = (root / "bpmn" / manifest["bpmn"]["file"]).read_text(encoding="utf-8")
    nodes, flows, branching = diagram_parts(xml, manifest["bpmn"]["process"])
    reached = set().union(*(r.reached for r in results)) if results else set()
    walked = set().union(*(r.flows for r in results)) if results else set()
    taken = {flows[pair] for pair in walked if pair in flows}
    return Coverage(code, [n for n in nodes if n not in reached], sorted(f for f in branching if f not in taken))


def run(root: Path, codes: list[str] | None = None, database_url: str | None = None) -> dict[str, list[Result]]:
    """Run the scenarios of ``codes`` (default: every procedure); results by procedure."""
    codes = codes or procedures_with_manifests(root)
    runner = Runner(root, database_url)
    try:
        return {code: [runner.run_file(code, path) for path in scenario_files(root, code)] for code in codes}
    finally:
        runner.close()

