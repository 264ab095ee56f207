"""The per-process workflow cache: a step never runs on a workflow older than what the database holds."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.api import Engine
from engine.config import Settings
from engine.errors import FormInvalid, TaskNotOpen
from engine.models import Dossier
from engine.runtime import WorkflowCache

from .test_facade import CITIZEN, RECEPTION, eng, root, submit, user  # noqa: F401 - fixtures

PROJECT = Path(__file__).resolve().parents[2]

OTHER_PROCESS = textwrap.dedent("""
    import json, sys
    from sqlalchemy import select
    from engine.api import Engine
    from engine.config import Settings
    from engine.models import User
    url, root, task_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    eng = Engine(Settings(database_url=url, root=root))
    with eng.session() as s:
        official = s.scalar(select(User).where(User.email == "motcua@demo.motcua.vn"))
        done = eng.complete(s, task_id, official, {"note": "from the other process"})
        s.commit()
    print(json.dumps({"next": [t.id for t in done.dossier.open_tasks]}))
""")


def _in_other_process(database_url: str, root: Path, task_id: int) -> list[int]:
    out = subprocess.run([sys.executable, "-c", OTHER_PROCESS, database_url, str(root), str(task_id)],
                         cwd=PROJECT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["next"]


def _task_notes(eng: Engine, dossier_id: int) -> set[str]:
    """Every note the stored workflow state (not any cache) holds, in task data or data deltas."""
    with eng.session() as s:
        state = json.loads(s.get(Dossier, dossier_id).workflow)
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("note"), str):
                found.add(value["note"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(state["tasks"])
    return found


def test_a_change_made_by_another_process_is_seen(eng: Engine, database_url: str, root: Path) -> None:
    dossier_id, first = submit(eng)
    cache = eng.versions.workflows
    assert len(cache) == 1  # this process ran the dossier last: its workflow is cached at that version

    (second,) = _in_other_process(database_url, root, first)  # another process moves the dossier on

    with eng.session() as s:  # this process acts on the task the other process opened
        official = user(s, RECEPTION)
        misses = cache.misses
        eng.complete(s, second, official, {"note": "from this process"})
        s.commit()
        assert cache.misses == misses + 1  # the cached copy was older than the row: not used
    assert {"from the other process", "from this process"} <= _task_notes(eng, dossier_id)
    with eng.session() as s:
        with pytest.raises(TaskNotOpen):  # and the task the other process finished stays finished here
            eng.complete(s, first, user(s, RECEPTION), {"note": "again"})


def test_steps_in_one_process_use_the_cache_and_match_the_stored_state(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    cache = eng.versions.workflows
    hits = cache.hits
    with eng.session() as s:
        official = user(s, RECEPTION)
        next_tasks = eng.complete(s, task_id, official, {"note": "một"}).dossier.open_tasks
        s.commit()
    assert cache.hits == hits + 1
    # a second engine (a fresh process) restores the same state from the database and goes on from it
    other = Engine(Settings(database_url=eng.settings.database_url, root=eng.settings.root, workflow_cache_size=0))
    try:
        with other.session() as s:
            other.complete(s, next_tasks[0].id, user(s, RECEPTION), {"note": "hai"})
            s.commit()
        assert len(other.versions.workflows) == 0
    finally:
        other.db.dispose()
    with eng.session() as s:
        view = eng.dossier(s, dossier_id, user(s, RECEPTION))
        assert view.data["note"] == "hai"
        eng.complete(s, view.open_tasks[0].id, user(s, RECEPTION), {"note": "ba"})
        s.commit()
    assert _task_notes(eng, dossier_id) == {"ba", "hai", "một", "xin chào"}


def test_a_rolled_back_step_never_reaches_the_cache(eng: Engine) -> None:
    dossier_id, task_id = submit(eng)
    with eng.session() as s:
        eng.complete(s, task_id, user(s, RECEPTION), {"note": "rolled back"})
        s.rollback()  # the request failed after the step ran: nothing of it is stored or cached
    # the same task, completed for real by another process: the row reaches the version the lost step had
    other = Engine(Settings(database_url=eng.settings.database_url, root=eng.settings.root, workflow_cache_size=0))
    try:
        with other.session() as s:
            (next_task,) = other.complete(s, task_id, user(s, RECEPTION), {"note": "kept"}).dossier.open_tasks
            s.commit()
    finally:
        other.db.dispose()
    with eng.session() as s:  # this process goes on from what was stored, not from the step it rolled back
        eng.complete(s, next_task.id, user(s, RECEPTION), {"note": "next"})
        s.commit()
    notes = _task_notes(eng, dossier_id)
    assert "rolled back" not in notes and {"kept", "next"} <= notes


def test_invalid_data_leaves_the_cached_workflow_usable(eng: Engine) -> None:
    _dossier_id, task_id = submit(eng)
    with eng.session() as s:
        with pytest.raises(FormInvalid):
            eng.complete(s, task_id, user(s, RECEPTION), {"note": ""})
        s.rollback()
    hits = eng.versions.workflows.hits
    with eng.session() as s:
        eng.complete(s, task_id, user(s, RECEPTION), {"note": "ok"})
        s.commit()
    assert eng.versions.workflows.hits == hits + 1


def test_the_cache_is_bounded_and_an_older_read_never_gets_a_newer_entry() -> None:
    cache = WorkflowCache(size=2)
    a, b, c = object(), object(), object()
    cache.put(1, 5, a)
    cache.put(2, 1, b)
    cache.put(3, 1, c)
    assert len(cache) == 2 and cache.take(1, 5) is None  # the least recently used went
    assert cache.take(2, 2) is None and cache.take(2, 1) is None  # a newer row: the older entry is dropped
    assert cache.take(3, 0) is None and cache.take(3, 1) is c  # an older read: the entry waits for a current one
    assert cache.take(3, 1) is None  # taken: no two steps share a workflow
