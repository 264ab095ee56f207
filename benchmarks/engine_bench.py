"""Engine throughput: start + 5 completions of a 5-user-task process, side by side with SpiffWorkflow's naive use.

* ``spiff_memory``: SpiffWorkflow alone, in memory (no persistence): the ceiling.
* ``spiff_naive_sqlite``: SpiffWorkflow saving its whole serialized workflow (spec included) to SQLite at every
  step, loading and deserializing it again before the next: the way most integrations start. It runs with the
  SQLite settings the engine uses (WAL, ``synchronous=NORMAL``), so that the ratio compares ways of storing a
  workflow, not durability settings; ``spiff_naive_sqlite_full_sync`` is the same with sqlite3's default
  ``synchronous=FULL`` (an fsync at every commit), for reference.
* ``spiff_state_floor_sqlite``: SpiffWorkflow kept in memory, its state serialized as the engine stores it and
  written to SQLite at every step, and nothing else: what any engine storing the whole state at every step must
  at least do. ``spiff_commit_floor_sqlite``: the same writing a counter instead of the state, the least any
  engine committing each step on its own (nothing batched) must do. Their ratios to the naive way
  (``state_floor_vs_naive_ratio``, ``commit_floor_vs_naive_ratio``) are the most such engines could reach here.
* ``facade_sqlite``: our engine facade, one session and commit per step as a web request would, with the
  human-task table, audit events, validation, dossier code and optimistic locking included.

Figures are instances per second (median of rounds); ratios are against baselines measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from typing import Any
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import demo, runtime
from engine.api import Engine
from engine.config import Settings
from engine.models import User

ROOT = Path(__file__).resolve().parent.parent / "tests" / "engine" / "data" / "root"
BPMN = (ROOT / "bpmn" / "five.bpmn").read_text()


def _spec():
    return runtime.parse({"five.bpmn": BPMN}, "five")


def spiff_memory(n: int) -> float:
    spec, subs = _spec()
    started = time.perf_counter()
    for _ in range(n):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        while not wf.is_completed():
            (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data["note"] = "ok"
            task.run()
            wf.do_engine_steps()
    return n / (time.perf_counter() - started)


def _store(path: Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A raw sqlite3 store of workflows in WAL mode, each statement its own transaction; ``synchronous`` is the
    engine's setting (engine.db) unless asked otherwise."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE IF NOT EXISTS wf (id INTEGER PRIMARY KEY, state TEXT, steps INTEGER)")
    return conn


def spiff_naive_sqlite(n: int, directory: Path, synchronous: str = "NORMAL") -> float:
    spec, subs = _spec()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    conn = _store(directory / f"naive-{synchronous.lower()}.db", synchronous)
    started = time.perf_counter()
    for _ in range(n):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        cur = conn.execute("INSERT INTO wf (state) VALUES (?)", (serializer.serialize_json(wf),))
        wid = cur.lastrowid
        while True:
            (state,) = conn.execute("SELECT state FROM wf WHERE id = ?", (wid,)).fetchone()
            wf = serializer.deserialize_json(state)
            if wf.is_completed():
                break
            (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data["note"] = "ok"
            task.run()
            wf.do_engine_steps()
            conn.execute("UPDATE wf SET state = ? WHERE id = ?", (serializer.serialize_json(wf), wid))
    conn.close()
    return n / (time.perf_counter() - started)


def spiff_floor(n: int, directory: Path, with_state: bool = True) -> float:
    """The least an engine that commits each SpiffWorkflow step on its own must do, and nothing more:
    SpiffWorkflow's run in memory (the workflow is never reloaded, as with a perfect cache) and one write per
    step on raw sqlite3 with the engine's SQLite settings. With ``with_state`` the write is the whole state
    serialized as the engine stores it (JSON without the spec); without, a counter (nothing serialized: the
    bound for any engine, even one storing only what changed). No reads, no users or access checks, no
    validation, no task table, no audit. Their ratios to the naive way bound what such engines reach here."""
    spec, subs = _spec()
    conn = _store(directory / f"floor-{with_state}.db")
    started = time.perf_counter()
    for _ in range(n):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        wid = conn.execute("INSERT INTO wf (state, steps) VALUES (?, 0)",
                           (runtime.dump(wf) if with_state else None,)).lastrowid
        while not wf.is_completed():
            (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data["note"] = "ok"
            task.run()
            wf.do_engine_steps()
            if with_state:
                conn.execute("UPDATE wf SET state = ? WHERE id = ?", (runtime.dump(wf), wid))
            else:
                conn.execute("UPDATE wf SET steps = steps + 1 WHERE id = ?", (wid,))
    conn.close()
    return n / (time.perf_counter() - started)


def _facade_engine(url: str, root: Path = ROOT) -> Engine:
    """An engine on a migrated database with the procedures under ``root`` deployed and the demo accounts."""
    eng = Engine(Settings(database_url=url, root=root))
    eng.upgrade_database()
    with eng.session() as s:
        eng.deploy(s)
        demo.seed(s)
        s.commit()
    return eng


def facade(n: int, eng: Engine) -> float:
    with eng.session() as s:
        citizen_id = s.scalar(select(User.id).where(User.email == demo.ACCOUNTS[0].email))
        official_id = s.scalar(select(User.id).where(User.email == demo.ACCOUNTS[1].email))
    started = time.perf_counter()
    for _ in range(n):  # each step acts on the open task the previous step's result shows, as a client would
        with eng.session() as s:
            view = eng.start_dossier(s, "five", eng.user(s, citizen_id)).open_tasks
            s.commit()
        with eng.session() as s:
            (task,) = view
            view = eng.complete(s, task.id, eng.user(s, citizen_id), {"note": "ok"}).dossier.open_tasks
            s.commit()
        for _step in range(4):
            with eng.session() as s:
                (task,) = view
                view = eng.complete(s, task.id, eng.user(s, official_id), {"note": "ok"}).dossier.open_tasks
                s.commit()
    return n / (time.perf_counter() - started)


LOOP_ROOT = Path(__file__).resolve().parent / "data" / "root"
LOOP_BPMN = (LOOP_ROOT / "bpmn" / "user_loop.bpmn").read_text()
MARKS = (1, 100, 1000)


def _interleaved_medians(steps: dict[int, Any], sample: int) -> dict[int, float]:
    """ms per call of each mark's step: the marks take turns, one call each per round, starting from a different
    mark each round, so that the machine's changing speed weighs on every mark alike; the median of ``sample``
    calls per mark, so that one pause of this noisy machine does not count."""
    times: dict[int, list[float]] = {mark: [] for mark in steps}
    order = list(steps)
    for i in range(sample):
        for mark in order[i % len(order):] + order[:i % len(order)]:
            started = time.perf_counter()
            steps[mark]()
            times[mark].append(time.perf_counter() - started)
    return {mark: statistics.median(t) * 1000 for mark, t in times.items()}


def history_facade(eng: Engine, sample: int = 21) -> dict[int, float]:
    """ms per step (restore, complete, engine steps, store) through the facade after 1, 100, 1000 passes.

    A dossier is taken to each later mark beforehand; the marks' steps are then timed in turns
    (:func:`_interleaved_medians`). The first mark's steps are each a fresh dossier's first step."""
    with eng.session() as s:
        citizen_id = s.scalar(select(User.id).where(User.email == demo.ACCOUNTS[0].email))

    def start() -> int:
        with eng.session() as s:
            (task,) = eng.start_dossier(s, "user_loop", eng.user(s, citizen_id)).open_tasks
            s.commit()
        return task.id

    def step(task_id: int) -> int:  # the next task's id, from what the completion shows
        with eng.session() as s:
            done = eng.complete(s, task_id, eng.user(s, citizen_id), {"note": "ok"})
            s.commit()
        (task,) = done.dossier.open_tasks
        return task.id

    warm = start()
    for _ in range(sample):  # warm caches and code paths, so that the first timed step is not a cold start
        warm = step(warm)
    fresh = [start() for _ in range(sample)]
    at = {}
    for mark in MARKS[1:]:
        at[mark] = start()
        for _ in range(mark - 1):
            at[mark] = step(at[mark])

    def later(mark: int) -> Any:
        def one() -> None:
            at[mark] = step(at[mark])
        return one

    return _interleaved_medians({MARKS[0]: lambda: step(fresh.pop()), **{m: later(m) for m in MARKS[1:]}}, sample)


def history_naive(sample: int = 21) -> dict[int, float]:
    """The same loop with SpiffWorkflow's own serializer, whole state (spec included) per step, in memory; the
    marks' steps timed in turns as the facade's."""
    parsed = runtime.parse({"user_loop.bpmn": LOOP_BPMN}, "user_loop")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = BpmnWorkflow(*parsed, script_engine=runtime.SCRIPT_ENGINE)
    wf.do_engine_steps()
    first = serializer.serialize_json(wf)

    def step(state: str) -> str:
        wf = serializer.deserialize_json(state)
        wf.script_engine = runtime.SCRIPT_ENGINE
        (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
        task.data["note"] = "ok"
        task.run()
        wf.do_engine_steps()
        return serializer.serialize_json(wf)

    def advance_in_memory(state: str, count: int) -> str:  # reaching a mark need not be timed
        wf = serializer.deserialize_json(state)
        wf.script_engine = runtime.SCRIPT_ENGINE
        for _ in range(count):
            (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
            task.data["note"] = "ok"
            task.run()
            wf.do_engine_steps()
        return serializer.serialize_json(wf)

    at = {mark: advance_in_memory(first, mark - 1) for mark in MARKS[1:]}

    def later(mark: int) -> Any:
        def one() -> None:
            at[mark] = step(at[mark])
        return one

    return _interleaved_medians({MARKS[0]: lambda: step(first), **{m: later(m) for m in MARKS[1:]}}, sample)


def median_of(rounds: int, fn, *args) -> float:  # noqa: ANN001
    fn(*args)  # warm up caches and the database
    return statistics.median(fn(*args) for _ in range(rounds))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100, help="instances per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        eng = _facade_engine(f"sqlite:///{directory / 'facade.db'}")
        results = {
            "spiff_memory_inst_per_s": median_of(args.rounds, spiff_memory, args.n),
            "spiff_naive_sqlite_inst_per_s": median_of(args.rounds, spiff_naive_sqlite, args.n, directory),
            "spiff_naive_sqlite_full_sync_inst_per_s": median_of(args.rounds, spiff_naive_sqlite, args.n, directory,
                                                                 "FULL"),
            "spiff_state_floor_sqlite_inst_per_s": median_of(args.rounds, spiff_floor, args.n, directory),
            "spiff_commit_floor_sqlite_inst_per_s": median_of(args.rounds, spiff_floor, args.n, directory, False),
            "facade_sqlite_inst_per_s": median_of(args.rounds, facade, args.n, eng),
        }
        pg = os.environ.get("MOTCUA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        if pg and pg != "none":
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from web_bench import create_schema, drop_schema

            schema, url = create_schema(pg)
            try:
                pg_engine = _facade_engine(url)
                results["facade_postgres_inst_per_s"] = median_of(args.rounds, facade, args.n, pg_engine)
                pg_engine.db.dispose()
            finally:
                drop_schema(pg, schema)
            results["facade_postgres_vs_naive_ratio"] = (
                results["facade_postgres_inst_per_s"] / results["spiff_naive_sqlite_inst_per_s"])
    with tempfile.TemporaryDirectory() as tmp:
        loop_engine = _facade_engine(f"sqlite:///{Path(tmp) / 'loop.db'}", LOOP_ROOT)
        facade_history = history_facade(loop_engine)
        loop_engine.db.dispose()
    naive_history = history_naive()
    for mark in MARKS:
        results[f"history_facade_ms_per_step_{mark}"] = facade_history[mark]
        results[f"history_naive_ms_per_step_{mark}"] = naive_history[mark]
    results["history_facade_ratio_1000_to_1"] = facade_history[1000] / facade_history[1]
    results["history_naive_ratio_1000_to_1"] = naive_history[1000] / naive_history[1]
    results["facade_vs_naive_ratio"] = results["facade_sqlite_inst_per_s"] / results["spiff_naive_sqlite_inst_per_s"]
    results["facade_vs_memory_ratio"] = results["facade_sqlite_inst_per_s"] / results["spiff_memory_inst_per_s"]
    # the most an engine could reach against the naive way here: storing the whole state at each step, or anything
    for floor in ("state", "commit"):
        results[f"{floor}_floor_vs_naive_ratio"] = (results[f"spiff_{floor}_floor_sqlite_inst_per_s"]
                                                    / results["spiff_naive_sqlite_inst_per_s"])
    results["facade_vs_state_floor_ratio"] = (results["facade_sqlite_inst_per_s"]
                                              / results["spiff_state_floor_sqlite_inst_per_s"])
    from importlib.metadata import version as pkg_version

    results["meta"] = {"cpu_count": os.cpu_count(), "python": platform.python_version(), "instances_per_round": args.n,
                       "versions": {p: pkg_version(p) for p in ("SpiffWorkflow", "SQLAlchemy", "psycopg", "Flask")},
                       "rounds": args.rounds, "machine": platform.machine(), "argv": sys.argv[1:]}
    for key, value in results.items():
        if key != "meta":
            print(f"{key:40} {value:10.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(out.read_text()) if out.exists() else {}  # other benchmarks' figures are kept
    merged.update(results)
    out.write_text(json.dumps(merged, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())


