"""A dossier saved and restored after every step is in the same state as a run in memory that never saves.

The facade runs a birth registration with the workflow cache off (every step restores the workflow from the
database, as a fresh process would) and on (steps take the workflow they stored). Beside it, SpiffWorkflow
runs the same process in memory and is fed the same data. After every step, the state read back from the
database has the same tasks, in the same order and states, with the same data, as the one never saved.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from engine import runtime
from engine.api import Engine
from engine.catalog import current_version
from engine.models import Dossier

from ..conftest import deployed_engine
from .test_birth_registration import DECISIONS, Journey, declaration, fixed_clock  # noqa: F401 - fixture

CHOICES = [
    ("declaration", declaration()),
    ("reception_check", DECISIONS["reception_check"]["supplement"]),
    ("provide_supplement", DECISIONS["provide_supplement"]["answer"]),
    ("reception_check", DECISIONS["reception_check"]["accept"]),
    ("officer_review", DECISIONS["officer_review"]["approve"]),
    ("chairman_sign", DECISIONS["chairman_sign"]["return"]),
    ("officer_review", DECISIONS["officer_review"]["approve"]),
    ("chairman_sign", DECISIONS["chairman_sign"]["sign"]),
    ("return_result", DECISIONS["return_result"]["returned"]),
]


@pytest.fixture(params=[0, 128], ids=["restored-every-step", "cached"])
def eng(request: pytest.FixtureRequest, database_url: str) -> Iterator[Engine]:
    engine = deployed_engine(database_url, workflow_cache_size=request.param)
    yield engine
    engine.db.dispose()


def shape(workflow: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every task of the workflow, in tree order: its spec, its state and its data."""
    return [(t.task_spec.name, TaskState.get_name(t.state), dict(t.data)) for t in workflow.get_tasks()]


def stored(eng: Engine, dossier_id: int, rt: Any) -> Any:
    """The dossier's workflow as the database holds it (never the cache)."""
    with eng.session() as s:
        return runtime.restore(s.get(Dossier, dossier_id).workflow, rt.spec, rt.subprocess_specs)


def test_every_step_stores_what_an_unsaved_run_holds(eng: Engine) -> None:
    with eng.session() as s:
        rt = eng.versions.get(current_version(s, "birth_registration"))
    in_memory = runtime.new_workflow(rt.spec, rt.subprocess_specs)
    journey = Journey(eng)
    assert shape(stored(eng, journey.dossier_id, rt)) == shape(in_memory)

    restores_before = eng.versions.workflows.misses
    for bpmn_id, raw in CHOICES:
        journey.step(bpmn_id, raw)
        (task,) = runtime.ready_human_tasks(in_memory)
        assert task.task_spec.bpmn_id == bpmn_id
        form = rt.forms[runtime.properties(task.task_spec)["formJsonSchemaFilename"]]
        # the answers as a completion takes them: those that no longer apply (ui:onlyWhen) dropped, and cleared if
        # an earlier round gave them (the first reception's supplement request, once the dossier is accepted)
        data = form.coerce(raw)
        unused = form.unused(data)
        task.data.update(form.clean(form.without_unused(data, unused=unused)))
        task.data.update({name: None for name in unused if task.data.get(name) is not None})
        task.run()
        in_memory.do_engine_steps()
        assert shape(stored(eng, journey.dossier_id, rt)) == shape(in_memory), f"after {bpmn_id}"

    assert in_memory.is_completed() and stored(eng, journey.dossier_id, rt).is_completed()
    assert journey.view().status == "done" and journey.view().completed
    # the data the dossier shows are what the unsaved run ended with
    final = in_memory.last_task.data
    assert all(final[k] == v for k, v in journey.view().data.items())
    restored = eng.versions.workflows.misses - restores_before
    if eng.versions.workflows.size == 0:
        assert restored == len(CHOICES)  # every step restored its workflow from the database
    else:
        assert restored == 0  # every step ran on the workflow the previous step stored
