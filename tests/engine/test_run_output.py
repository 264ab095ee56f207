"""What a run adds to a dossier's data (``runtime.run_output``): this run's answers and computed values, never a
parallel branch's older copy of a value another branch has changed since the split."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import runtime

DATA = Path(__file__).parent / "data" / "run_output"
# after u0, two branches: a; and b1, a script (total = other + 4), b2; they join and the process ends
BRANCHES = (DATA / "branches.bpmn").read_text()
# u0, then a subprocess: u1, a split into a and b, a join
IN_SUBPROCESS = (DATA / "in_subprocess.bpmn").read_text()
# after u0, two branches: a; and b1, then an embedded subprocess with s1; they join before u9
SUBPROCESS_ON_A_BRANCH = (DATA / "subprocess_on_a_branch.bpmn").read_text()
# u0, u1 (its postScript caps "copies" at 1 above 5), a script setting x = 5, one setting x = 1, u2
SET_BACK = (DATA / "set_back.bpmn").read_text()


class Dossier:
    """The data path of a facade step: the form's answers, then what the run produced (as tasks.complete)."""

    def __init__(self, xml: str) -> None:
        spec, subprocess_specs = runtime.parse({"p.bpmn": xml}, "p")
        self.workflow = runtime.new_workflow(spec, subprocess_specs)
        self.data: dict[str, Any] = {}

    def complete(self, bpmn_id: str, answers: dict[str, Any]) -> dict[str, Any]:
        (task,) = [t for t in runtime.survey(self.workflow).ready_human if t.task_spec.bpmn_id == bpmn_id]
        task.data.update(answers)
        before = runtime.before_run(self.workflow)
        task.run()
        self.workflow.do_engine_steps()
        produced = runtime.run_output(self.workflow, runtime.survey(self.workflow), before)
        self.data = {**self.data, **answers, **produced}
        return self.data


def test_a_task_newly_reached_on_another_branch_does_not_undo_a_step() -> None:
    d = Dossier(BRANCHES)
    assert d.complete("u0", {"note": "0"})["note"] == "0"
    assert d.complete("a", {"note": "A"})["note"] == "A"
    after_b1 = d.complete("b1", {"other": 1})  # b2 is reached on b's branch, which still holds note "0"
    assert after_b1["note"] == "A" and after_b1["total"] == 5  # the script's value arrives
    after_b2 = d.complete("b2", {"x": 2})  # the join gathers both branches; the process ends
    assert (after_b2["note"], after_b2["other"], after_b2["total"], after_b2["x"]) == ("A", 1, 5, 2)
    assert d.workflow.is_completed()


def test_a_split_inside_a_subprocess_keeps_each_steps_answer() -> None:
    d = Dossier(IN_SUBPROCESS)
    d.complete("u0", {"note": "0"})
    assert d.complete("u1", {"note": "1"})["note"] == "1"
    assert d.complete("a", {"note": "A"})["note"] == "A"
    assert d.complete("b", {"note": "B"})["note"] == "B"
    assert d.workflow.is_completed()


def test_the_first_run_gives_what_the_diagram_computed_before_the_first_task() -> None:
    xml = BRANCHES.replace('<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="u0"/>',
                           '<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="init"/>'
                           '<bpmn:sequenceFlow id="f0b" sourceRef="init" targetRef="u0"/>')
    xml = xml.replace('<bpmn:userTask id="u0"><bpmn:incoming>f0</bpmn:incoming>',
                      '<bpmn:scriptTask id="init" scriptFormat="python"><bpmn:incoming>f0</bpmn:incoming>'
                      '<bpmn:outgoing>f0b</bpmn:outgoing><bpmn:script>fee = 8000</bpmn:script></bpmn:scriptTask>'
                      '<bpmn:userTask id="u0"><bpmn:incoming>f0b</bpmn:incoming>')
    spec, subprocess_specs = runtime.parse({"p.bpmn": xml}, "p")
    workflow = runtime.new_workflow(spec, subprocess_specs)
    assert runtime.run_output(workflow, runtime.survey(workflow), runtime.NOTHING_BEFORE) == {"fee": 8000}


def test_a_value_set_back_within_a_run_is_shown_as_set_back() -> None:
    """What a run leaves is compared step by step along its line, not with where the line stood before the run:
    a value changed and set back to its earlier value, by scripts or by the task's own postScript correcting an
    answer, is shown as the workflow holds it."""
    d = Dossier(SET_BACK)
    d.complete("u0", {"x": 1, "copies": 1})
    after = d.complete("u1", {"copies": 9})
    assert (after["x"], after["copies"]) == (1, 1)
    (u2,) = runtime.survey(d.workflow).ready_human
    assert {k: v for k, v in u2.data.items() if not k.startswith("_")} == after  # the dossier shows the workflow


def test_a_subprocess_on_a_branch_does_not_bring_back_the_branchs_older_value() -> None:
    """A subprocess's first task has no parent in SpiffWorkflow's tree: it is compared with the task that
    started the subprocess."""
    d = Dossier(SUBPROCESS_ON_A_BRANCH)
    d.complete("u0", {"note": "0"})
    assert d.complete("a", {"note": "A"})["note"] == "A"
    assert d.complete("b1", {"other": 1})["note"] == "A"  # s1, in the subprocess, holds branch b's "0"
    assert d.complete("s1", {})["note"] == "A"
