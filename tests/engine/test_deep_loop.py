"""SpiffWorkflow stalls silently at task-tree depth 1000; the engine lifts that limit."""
from __future__ import annotations

from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import compaction, runtime

LOOP = (Path(__file__).parent / "data" / "loop.bpmn").read_text()
NESTED_LOOP = (Path(__file__).parent / "data" / "nested_loop.bpmn").read_text()


def test_a_loop_run_2000_times_completes_and_survives_a_save() -> None:
    spec, subs = runtime.parse({"loop.bpmn": LOOP}, "loop")
    workflow = BpmnWorkflow(spec, subs, script_engine=runtime.SCRIPT_ENGINE)
    workflow.task_tree.data["passes"] = 2000
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.last_task.data["counter"] == 2000
    restored = runtime.restore(runtime.dump(workflow), spec, subs)
    assert restored.is_completed()
    assert restored.last_task.data["counter"] == 2000


def test_compaction_keeps_a_long_loop_correct_and_small() -> None:
    """A loop of user tasks saved and restored at every step, compacted as the engine stores it, ends in the
    same state as the same loop run in memory without compaction; its stored state stops growing."""
    user_loop = (Path(__file__).parents[2] / "benchmarks" / "data" / "user_loop.bpmn").read_text()
    spec, subs = runtime.parse({"user_loop.bpmn": user_loop}, "user_loop")

    def run(persist: bool) -> tuple[BpmnWorkflow, int]:
        workflow = BpmnWorkflow(spec, subs, script_engine=runtime.SCRIPT_ENGINE)
        workflow.task_tree.data["passes"] = 600
        workflow.do_engine_steps()
        largest = 0
        while not workflow.is_completed():
            (task,) = runtime.ready_human_tasks(workflow)
            task.data["note"] = f"pass {task.data['counter']}"
            task.run()
            workflow.do_engine_steps()
            if persist:
                compaction.compact(workflow)
                state = runtime.dump(workflow)
                largest = max(largest, len(state))
                workflow = runtime.restore(state, spec, subs)
        return workflow, largest

    plain, _ = run(persist=False)
    compacted, largest = run(persist=True)
    assert compacted.is_completed() and plain.is_completed()
    assert compacted.last_task.data == plain.last_task.data
    assert compacted.last_task.data["counter"] == 600 and compacted.last_task.data["note"] == "pass 599"
    assert len(compacted.tasks) < compaction.COMPACT_THRESHOLD < len(plain.tasks)
    assert largest < len(runtime.dump(plain)) / 5
    # what the dropped passes showed is kept, through every save: the diagram's marks, the flows taken
    assert runtime.walked(compacted) == runtime.walked(plain)
    assert flows_taken(compacted) == flows_taken(plain)
    in_tree = {t.task_spec.bpmn_id for t in compacted.get_tasks() if getattr(t.task_spec, "bpmn_id", None)}
    assert {"start", "init"} <= compaction.passed(compacted)["done"] and not {"start", "init"} & in_tree
    assert ("start", "init") in compaction.passed(compacted)["flows"]


def test_compaction_drops_and_remembers_subprocesses_at_any_depth() -> None:
    """A loop whose passes run two subprocesses deep, after a first step also two deep: kept in memory (as the
    workflow cache keeps it) its subprocesses and stored state stop growing; saved and restored at every step it
    ends with the same diagram marks and flows taken as an uncompacted run, the first step's included."""
    spec, subs = runtime.parse({"nested_loop.bpmn": NESTED_LOOP}, "nested_loop")

    def run(passes: int, compact: bool, save: bool) -> tuple[BpmnWorkflow, list[int]]:
        workflow = BpmnWorkflow(spec, subs, script_engine=runtime.SCRIPT_ENGINE)
        workflow.task_tree.data["passes"] = passes
        workflow.do_engine_steps()
        sizes = []
        while not workflow.is_completed():
            (task,) = runtime.ready_human_tasks(workflow)
            task.run()
            workflow.do_engine_steps()
            if compact:
                compaction.compact(workflow)
                sizes.append(len(runtime.dump(workflow)))
            if save:
                workflow = runtime.restore(runtime.dump(workflow), spec, subs)
        return workflow, sizes

    kept, sizes = run(150, compact=True, save=False)
    plain, _ = run(150, compact=False, save=False)
    assert kept.last_task.data["counter"] == 150 == plain.last_task.data["counter"]
    in_tree = set(kept.tasks) | {i for sub in kept.subprocesses.values() for i in sub.tasks}
    assert set(kept.subprocesses) <= in_tree  # none is left behind by the task that started it
    assert len(kept.subprocesses) < len(plain.subprocesses) / 5
    assert max(sizes[100:]) < 1.5 * max(sizes[:50])  # the stored state stops growing
    saved, _ = run(40, compact=True, save=True)
    short, _ = run(40, compact=False, save=False)
    assert runtime.walked(saved) == runtime.walked(short)
    assert flows_taken(saved) == flows_taken(short)
    assert {"setup", "setup_begin", "once_begin"} <= compaction.passed(saved)["done"]
    assert ("setup_begin", "setup") in compaction.passed(saved)["flows"]


def flows_taken(workflow: BpmnWorkflow) -> set[tuple[str, str]]:
    flows = set(compaction.passed(workflow)["flows"])
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        source = compaction.nearest_element(task)
        if getattr(task.task_spec, "bpmn_id", None) and source is not None:
            flows.add((source.task_spec.bpmn_id, task.task_spec.bpmn_id))
    return flows


def test_small_workflows_are_not_compacted() -> None:
    user_loop = (Path(__file__).parents[2] / "benchmarks" / "data" / "user_loop.bpmn").read_text()
    spec, subs = runtime.parse({"user_loop.bpmn": user_loop}, "user_loop")
    workflow = BpmnWorkflow(spec, subs, script_engine=runtime.SCRIPT_ENGINE)
    workflow.task_tree.data["passes"] = 5
    workflow.do_engine_steps()
    assert compaction.compact(workflow) == 0
