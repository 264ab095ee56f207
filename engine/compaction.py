"""Compaction of a long workflow's finished history, and the record of what it dropped.

SpiffWorkflow keeps every task ever run in one tree and walks the whole tree at each step; :func:`compact` cuts
the finished part a run no longer needs, and keeps what the dossier's history still shows of it (the elements
passed and the flows taken) in a record on the workflow, stored with its state (engine.runtime's serializer).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

#: what compaction dropped and the history still needs: a workflow attribute, and a key of its stored state (see
#: :func:`compact`): ``done`` (BPMN ids of completed tasks), ``cancelled`` (of cancelled user and manual tasks),
#: ``flows`` ((from, to) BPMN ids of the flows taken)
PASSED = "motcua_passed"


def passed(workflow: BpmnWorkflow) -> dict[str, set[Any]]:
    """What :func:`compact` dropped from the workflow's tree that its history still shows (see :data:`PASSED`)."""
    record = getattr(workflow, PASSED, None)
    if record is None:
        record = {"done": set(), "cancelled": set(), "flows": set()}
        setattr(workflow, PASSED, record)
    return record


def nearest_element(task: Any) -> Any:
    """The closest ancestor of ``task`` that is a BPMN element (the flow into ``task`` comes from it), or None."""
    parent = task.parent
    while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
        parent = parent.parent
    return parent


def _remember(record: dict[str, set[Any]], task: Any) -> None:
    """Record a task about to be dropped by :func:`compact` as its workflow's history shows it."""
    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
    if not bpmn_id:
        return
    if task.state == TaskState.COMPLETED:
        record["done"].add(bpmn_id)
    elif task.state == TaskState.CANCELLED and type(task.task_spec).__name__ in ("UserTask", "ManualTask"):
        record["cancelled"].add(bpmn_id)
        return
    else:
        return
    source = nearest_element(task)
    if source is not None:
        record["flows"].add((source.task_spec.bpmn_id, bpmn_id))


#: a workflow whose task tree grows past this many tasks (a long loop) is compacted before it is stored. The
#: shipped procedures' trees stayed under 40 tasks through every scenario (measured 2026-11-26); a loop's
#: tree then stays between about 10 and 64 tasks, so its step costs about what an early step costs (200 let the
#: step after 1,000 passes cost 2.4× the first, measured with interleaved steps; 64 gave 1.25×)
COMPACT_THRESHOLD = 64
#: finished ancestors kept above the frontier after compaction
COMPACT_KEEP = 4


def compact(workflow: BpmnWorkflow, threshold: int = COMPACT_THRESHOLD, keep: int = COMPACT_KEEP) -> int:
    """Drop finished history that no longer matters to the run; returns how many tasks were dropped.

    SpiffWorkflow keeps every task ever run in one tree and walks the whole tree at each step, and the stored
    state holds all of it: in a loop, the cost of a step grows with every pass. What the run needs is the
    frontier (unfinished tasks) and the finished tasks that still lead to it. Above the deepest task that
    every unfinished task descends from, only a chain of finished tasks remains; it is cut, leaving ``keep``
    of them, and the rest of the finished tree beside it (earlier branches, done loop passes) is dropped.
    Task data survive, because every task carries its own data. What the dropped tasks show of the run (the
    elements passed and the flows taken, for the live diagram and the scenarios' coverage) is kept in the
    workflow's :func:`passed` record, stored with its state; the dossier's history is in its audit trail.
    Nothing is dropped while the tree is smaller than ``threshold``, or if anything to drop is unfinished.
    """
    tasks = workflow.tasks
    if len(tasks) < threshold:
        return 0
    root = workflow.task_tree
    unfinished = [t for t in tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return 0

    def chain(task: Any) -> list[Any]:
        ids = []
        while task is not None:
            ids.append(task.id)
            task = task.parent
        return ids[::-1]

    common = chain(unfinished[0])
    for task in unfinished[1:]:
        other = chain(task)
        n = 0
        while n < len(common) and n < len(other) and common[n] == other[n]:
            n += 1
        common = common[:n]
    if len(common) <= keep + 2:
        return 0
    cut = tasks[common[-1 - keep]]
    if any(not tasks[i].has_state(TaskState.FINISHED_MASK) for i in common[1:-1 - keep]):
        return 0
    kept = set()
    stack = [cut]
    while stack:
        task = stack.pop()
        kept.add(task.id)
        stack.extend(c for c in task.children if c is not None)
    dropped = [i for i in tasks if i not in kept and i != root.id]
    if any(not tasks[i].has_state(TaskState.FINISHED_MASK) for i in dropped):
        return 0
    record = passed(workflow)
    gone = set(dropped)
    for i in kept:  # a flow from a dropped element into a kept one (into the cut, at least) is remembered too
        source = nearest_element(tasks[i])
        if source is not None and source.id in gone and getattr(tasks[i].task_spec, "bpmn_id", None):
            record["flows"].add((source.task_spec.bpmn_id, tasks[i].task_spec.bpmn_id))
    for i in dropped:  # (all first: a task's parent is looked up among the tasks)
        _remember(record, tasks[i])
    for i in dropped:
        del tasks[i]
    # the subprocesses the dropped tasks started go too, and those started inside them: SpiffWorkflow keeps every
    # subprocess, at any depth, in the top workflow's map, by the id of the task that started it
    started = [i for i in dropped if i in workflow.subprocesses]
    while started:
        for inner in workflow.subprocesses.pop(started.pop()).tasks.values():
            _remember(record, inner)
            if inner.id in workflow.subprocesses:
                started.append(inner.id)
    root._children = [cut.id]
    cut._parent = root.id
    if workflow.last_task is not None and workflow.last_task.id not in tasks:
        workflow.last_task = cut
    return len(dropped)
