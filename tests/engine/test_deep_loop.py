"""SpiffWorkflow stalls silently at task-tree depth 1000; the engine lifts that limit."""
from __future__ import annotations

from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow

from engine import runtime

LOOP = (Path(__file__).parent / "data" / "loop.bpmn").read_text()


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
