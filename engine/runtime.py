"""The only module that builds SpiffWorkflow objects: parser, serializer, script engine, workflows.

Three choices made here:

* SpiffWorkflow's task iterators stop silently at tree depth 1000 (a loop of ~300 passes stalls with no
  error). Their iteration is not recursive, so the limit protects nothing: it is lifted at import.
* A dossier's stored state leaves out the process spec; specs are stored once per procedure version and
  shared by every workflow restored from that version (the workflow converter is swapped for one that
  neither writes nor reads the spec).
* Scripts run in :mod:`engine.sandbox`.
"""
from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import clock
from .compaction import PASSED, passed
from .sandbox import SandboxScriptEngine

UNLIMITED_DEPTH = 1 << 62


def _lift_depth_limit() -> None:
    for cls in (TaskIterator, BpmnTaskIterator):
        defaults = list(cls.__init__.__defaults__ or ())
        # signature: (task, end_at_spec=None, max_depth=1000, ...): max_depth is the second default
        if len(defaults) >= 2 and defaults[1] == 1000:
            defaults[1] = UNLIMITED_DEPTH
            cls.__init__.__defaults__ = tuple(defaults)


_lift_depth_limit()


def _timers_use_engine_clock() -> None:
    """SpiffWorkflow's timers read ``datetime.now``; make them read :func:`engine.clock.now` instead, so that
    a scenario's or a test's clock (and the timer run's notion of "now") decides when a timer is due."""
    import datetime as _dt

    from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module

    class ClockDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            current = clock.now().replace(tzinfo=_dt.timezone.utc)
            return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)

    timer_module.datetime = ClockDatetime


_timers_use_engine_clock()
TIMER_EVENTS = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


class SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a top-level workflow without its specs; restore it onto specs the caller passes."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        record = getattr(workflow, PASSED, None)
        if record is not None and any(record.values()):
            dct[PASSED] = {key: sorted(values) for key, values in record.items()}
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("a stored dossier workflow is restored with its version's spec")
        from uuid import UUID

        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        stored = dct.get(PASSED) or {}
        setattr(workflow, PASSED, {"done": set(stored.get("done", ())), "cancelled": set(stored.get("cancelled", ())),
                                   "flows": {tuple(f) for f in stored.get("flows", ())}})
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = SharedSpecWorkflowConverter
STATE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION = STATE_SERIALIZER.VERSION
SCRIPT_ENGINE = SandboxScriptEngine()


class ParseProblem(Exception):
    """A BPMN file does not parse; ``file`` and ``element`` say where."""

    def __init__(self, file: str, element: str | None, message: str):
        self.file, self.element, self.message = file, element, message
        super().__init__(f"{file}{f' [{element}]' if element else ''}: {message}")


def parse(files: Mapping[str, str], process_id: str) -> tuple[Any, dict[str, Any]]:
    """Parse BPMN texts (name → XML) and return the spec of ``process_id`` and its subprocess specs."""
    parser = SpiffBpmnParser()
    for name, xml in files.items():
        try:
            tree = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise ParseProblem(name, None, f"not well-formed XML: {exc}") from None
        try:
            parser.add_bpmn_xml(tree, filename=name)
        except ValidationException as exc:
            raise ParseProblem(name, _element(exc), _clean(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the parser raises TypeError/KeyError on some broken files
            raise ParseProblem(name, None, f"{type(exc).__name__}: {exc}") from None
    try:
        if process_id not in parser.get_process_ids():
            raise ParseProblem(", ".join(files), process_id, f"no executable process with id '{process_id}'")
        spec = parser.get_spec(process_id)
        subs = parser.get_subprocess_specs(process_id)
    except ParseProblem:
        raise
    except ValidationException as exc:
        raise ParseProblem(getattr(exc, "file_name", "") or ", ".join(files), _element(exc), _clean(exc)) from None
    except Exception as exc:  # noqa: BLE001
        raise ParseProblem(", ".join(files), None, f"{type(exc).__name__}: {exc}") from None
    return spec, subs


def _clean(exc: Exception) -> str:
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    line = getattr(exc, "line_number", "")
    return f"{message} (line {line})" if line else message


def _element(exc: Exception) -> str | None:
    return getattr(exc, "id", None) or getattr(exc, "name", None) or None


def spec_to_dict(spec: Any, subprocess_specs: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-able form of a process spec and its subprocess specs, stored once per procedure version."""
    return json.loads(json.dumps({
        "spec": SPEC_SERIALIZER.to_dict(spec),
        "subprocess_specs": {k: SPEC_SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
    }))


class SpecCache:
    """Restored specs by procedure-version hash; versions are immutable, so entries never go stale."""

    def __init__(self) -> None:
        self._specs: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, content_hash: str, stored: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        found = self._specs.get(content_hash)
        if found is None:
            data = copy.deepcopy(dict(stored))
            spec = SPEC_SERIALIZER.from_dict(data["spec"])
            subs = {k: SPEC_SERIALIZER.from_dict(v) for k, v in data.get("subprocess_specs", {}).items()}
            with self._lock:
                found = self._specs.setdefault(content_hash, (spec, subs))
        return found


class _PerDossier:
    """A bounded, least recently used store of one entry per dossier, each with the ``row_version`` it belongs
    to, shared by threads: what the caches below have in common."""

    def __init__(self, size: int) -> None:
        from collections import OrderedDict

        self.size = size
        self._entries: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _keep(self, dossier_id: int, row_version: int, value: Any) -> None:
        """Store ``value`` for the dossier (called under the lock), evicting the least recently used past the
        bound."""
        self._entries[dossier_id] = (row_version, value)
        self._entries.move_to_end(dossier_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class WorkflowCache(_PerDossier):
    """Restored workflows of recently run dossiers, each with the ``row_version`` its state was stored at.

    A step takes a dossier's workflow out of the cache (so no two steps ever share one object) and gets it only
    if the cached copy was stored at the very version the step just read from the database; any change made
    elsewhere (another process, another worker, a timer run) bumps the row's version and turns the entry into a
    miss, so a stale workflow is never served. A workflow goes back into the cache only once the transaction
    that stored it has committed (see :func:`engine.dossiers.save`). Bounded, least recently used.
    """

    def __init__(self, size: int = 128) -> None:
        super().__init__(size)
        self.hits = self.misses = 0

    def take(self, dossier_id: int, row_version: int) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._entries.get(dossier_id)
            if entry is not None and entry[0] == row_version:
                del self._entries[dossier_id]
                self.hits += 1
                return entry[1]
            if entry is not None and entry[0] < row_version:  # changed elsewhere since: of no further use
                del self._entries[dossier_id]
            # (a newer entry stays: the caller holds an old read, and its write will be refused anyway)
            self.misses += 1
            return None

    def put(self, dossier_id: int, row_version: int, workflow: BpmnWorkflow) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._keep(dossier_id, row_version, workflow)


Walk = tuple[list[str], list[str]]


class WalkCache(_PerDossier):
    """Where recently drawn dossiers stand in their diagrams (:func:`walked`: the elements passed and those the
    flow stands at), each with the ``row_version`` of the stored state it was read from.

    A walk is a function of the stored state alone, and every change of the state bumps the row's version, so a
    walk is served only for the very version the caller has just read, and a newer walk replaces an older one
    (never the other way). Drawing a dossier again (a citizen following it, an official opening it) then neither
    reads nor restores its state. Bounded, least recently used; the walks are a few element ids each. Who puts a
    walk must have read a committed version (see :func:`engine.dossiers.diagram`).
    """

    def __init__(self, size: int = 4096) -> None:
        super().__init__(size)

    def get(self, dossier_id: int, row_version: int) -> Walk | None:
        with self._lock:
            entry = self._entries.get(dossier_id)
            if entry is None or entry[0] != row_version:
                return None
            self._entries.move_to_end(dossier_id)
            done, current = entry[1]
            return list(done), list(current)

    def put(self, dossier_id: int, row_version: int, walk: Walk) -> None:
        if self.size <= 0:
            return
        with self._lock:
            entry = self._entries.get(dossier_id)
            if entry is not None and entry[0] > row_version:  # a newer walk is there already: keep it
                return
            self._keep(dossier_id, row_version, (list(walk[0]), list(walk[1])))


def new_workflow(spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    workflow.do_engine_steps()
    return workflow


def dump(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON text (no spec)."""
    return STATE_SERIALIZER.serialize_json(workflow)


#: the workflow state of a dossier bulk-seeded for measuring queries (engine.seed): it has none, by design
PLACEHOLDER_STATE = '{"seeded": true}'


class StateUnreadable(Exception):
    """A stored workflow state cannot be restored (damaged, or not a state at all)."""


def restore(state: str | Mapping[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """A workflow from its stored state (JSON text; a mapping is accepted and copied); StateUnreadable if it
    cannot be."""
    try:
        dct = json.loads(state) if isinstance(state, str) else copy.deepcopy(dict(state))
        STATE_SERIALIZER.migrate(dct)
        workflow = STATE_SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    except (ValueError, KeyError, TypeError, AttributeError, SpiffWorkflowException) as exc:
        raise StateUnreadable(f"{type(exc).__name__}: {exc}") from exc
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Any]:
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


class Survey(NamedTuple):
    """Where a workflow stands after a run, from one walk of its task tree, in the tree's order."""

    reached: list[Any]  # ready, running or finished (see reached_since)
    open: list[Any]  # what the flow stands at: ready or waiting (user tasks, waiting events)
    ready_human: list[Any]


_SURVEYED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED


def survey(workflow: BpmnWorkflow) -> Survey:
    """One walk instead of one per question. SpiffWorkflow's task iterator (3.x) lets its filter decide only
    which tasks it yields; its path through the tree depends on the filter through the lowest state it
    descends from (FUTURE for any filter that asks for a ready task, as each of these does) and a numeric
    comparison of the filter's states with the finished states (true for each of these). So filtering one walk
    of their union gives each question the tasks, and the order, its own walk would have."""
    reached, open_, human = [], [], []
    for task in workflow.get_tasks(state=_SURVEYED):
        state = task.state
        if state != TaskState.WAITING:
            reached.append(task)
        if state != TaskState.COMPLETED:
            open_.append(task)
            if state == TaskState.READY and task.task_spec.manual:
                human.append(task)
    return Survey(reached, open_, human)


def reached_since(survey_: Survey, before: set[Any]) -> list[Any]:
    """Tasks reached (ready, running or finished) that were not in ``before``, oldest first.

    Waiting events (a timer, a boundary event on an open task) count only once they have fired, so that a
    status or timeline text on them applies when the event happens, not while it waits.
    """
    return sorted((t for t in survey_.reached if t.id not in before), key=lambda t: t.last_state_change)


class Before(NamedTuple):
    """Where a workflow stood before a run: the ids of the tasks reached (see :func:`reached_since`), those of
    the ready human tasks as text (like the task rows' ``task_guid``), and a copy of the data of every open
    task, which the run continues from (see :func:`run_output`; a completed task's copy is taken with the
    form's answers already in its data)."""

    reached: set[Any]
    ready_human: set[str]
    data: dict[Any, dict[str, Any]]


NOTHING_BEFORE = Before(set(), set(), {})


def before_run(workflow: BpmnWorkflow) -> Before:
    found = survey(workflow)
    return Before({t.id for t in found.reached}, {str(t.id) for t in found.ready_human},
                  {t.id: copy.deepcopy(t.data) for t in found.open})


def run_output(workflow: BpmnWorkflow, after: Survey, before: Before) -> dict[str, Any]:
    """The data a run produced: the keys each task it ran or reached holds with another value than the task
    before it (its parent, or for a subprocess's first task the task that started the subprocess), and those
    the tasks it continued from changed during the run; later tasks win.

    Each parallel branch carries its own copy of the data from the split, so a task's data alone does not say
    what is new: a branch still open, or a task newly reached on it, holds values another branch has since
    changed. Comparing each task with the one before it keeps only this run's work, and a value changed and
    then set back within the run is reported as set back. Keys starting with ``_`` are internal."""
    out: dict[str, Any] = {}

    def changed(data: Mapping[str, Any], base: Mapping[str, Any] | None) -> None:
        for key, value in data.items():
            if not key.startswith("_") and (base is None or key not in base or base[key] != value):
                out[key] = value

    for task_id, base in before.data.items():  # the tasks the run went on from (a completed task, a timer)
        task = _task_by_id(workflow, task_id)
        if task is not None:
            changed(task.data, base)
    for task in reached_since(after, before.reached):
        if task.id not in before.data:
            previous = _previous(workflow, task)
            changed(task.data, previous.data if previous is not None else None)
    return out


def _previous(workflow: BpmnWorkflow, task: Any) -> Any:
    """The task a task's data came from: its parent, or across a subprocess's root the task that started it."""
    if task.parent is not None:
        return task.parent
    parent_task_id = getattr(task.workflow, "parent_task_id", None)
    return _task_by_id(workflow, parent_task_id) if parent_task_id is not None else None


def _task_by_id(workflow: BpmnWorkflow, task_id: Any) -> Any:
    """The task with this id in the workflow or one of its subprocesses, or None (SpiffWorkflow's
    ``get_task_from_id`` stops at the first subprocess that does not hold it)."""
    for tasks in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
        if task_id in tasks:
            return tasks[task_id]
    return None


def find_task(workflow: BpmnWorkflow, guid: str) -> Any:
    """The task whose id is ``guid`` (a task row's ``task_guid``), or None."""
    from uuid import UUID

    try:
        task_id = UUID(guid)
    except (TypeError, ValueError):
        return None
    return _task_by_id(workflow, task_id)


def is_ready(task: Any) -> bool:
    return task is not None and task.state == TaskState.READY


def properties(task_spec: Any) -> dict[str, str]:
    return dict((getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {})


def refresh_timers(workflow: BpmnWorkflow) -> None:
    """Fire the timers that are due by the engine's clock, and run the steps that follow."""
    workflow.refresh_timers()
    workflow.do_engine_steps()


def next_timer(workflow: BpmnWorkflow) -> Any:
    """The earliest time (naive UTC) at which one of the workflow's waiting timers falls due, or None."""
    import datetime as _dt

    due = []
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_EVENTS or not event.value:
            continue
        try:
            moment = _dt.datetime.fromisoformat(str(event.value))
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moment = moment.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        due.append(moment)
    return min(due) if due else None


def walked(workflow: BpmnWorkflow) -> tuple[list[str], list[str]]:
    """BPMN ids of the elements passed, and of those the flow stands at now (for drawing the diagram)."""
    done, current = [], []
    for task in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            done.append(bpmn_id)
        elif type(task.task_spec).__name__ != "BoundaryEvent":
            current.append(bpmn_id)
    return sorted((set(done) | passed(workflow)["done"]) - set(current)), sorted(set(current))
