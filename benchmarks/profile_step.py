"""Where a facade step spends its time: the engine benchmark's loop on SQLite under pyinstrument.

Prints two tables and merges them into ``benchmarks/results.json`` under ``profile_step``:

* the share of time by library (SQLAlchemy, SpiffWorkflow, the sqlite3 driver, JSON, jsonschema, our engine …),
  from the sampled stacks: time in a built-in function counts for the library that called it, except the
  sqlite3 driver's own calls;
* milliseconds per step in each part of a step (the signed-in user's query, the task lookup, the claim,
  validation, the engine run, advancing the dossier, writing it, the view, commit).

``--html FILE`` also writes pyinstrument's interactive report. This is what the notes on unmet goals in
docs/BENCHMARKS.md rest on; rerun it after a change to see where the time went.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_bench import _facade_engine, facade  # noqa: E402

LIBRARIES = (  # (group, what a frame's file path contains), first match wins
    ("SQLAlchemy", "/sqlalchemy/"), ("SpiffWorkflow", "/SpiffWorkflow/"), ("jsonschema", "/jsonschema"),
    ("JSON", "/json/"), ("our engine", "/engine/"), ("benchmark loop", "/benchmarks/"),
)
#: parts of a step, by the function that does them (outermost call counted; file path fragment, function or
#: None for any function of that file)
PARTS = (
    ("signed-in user (one query)", "engine/api.py", "user"),
    ("task lookup and access check", "engine/tasks.py", "get_for"),
    ("explicit claim (guarded UPDATE)", "engine/tasks.py", "_claim"),
    ("form coercion and validation", "engine/forms.py", "errors"),
    ("SpiffWorkflow: run the task, engine steps", "SpiffWorkflow/task.py", "run"),
    ("SpiffWorkflow: run the task, engine steps", "SpiffWorkflow/bpmn/workflow.py", "do_engine_steps"),
    ("advance: statuses, task rows, serialize", "engine/dossiers.py", "advance"),
    ("  of which: serialize the workflow", "engine/runtime.py", "dump"),
    ("save: the step's writes + audit INSERT", "engine/dossiers.py", "save"),
    ("dossier view returned", "engine/dossiers.py", "view"),
    ("start a dossier (its advance and save too)", "engine/dossiers.py", "start"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
)


def _group(path: str, function: str, libraries: tuple[tuple[str, str], ...]) -> str | None:
    if path.startswith("<built-in>") or not path:
        return "sqlite3 driver" if function.startswith(("Cursor.", "Connection.")) else None
    return next((name for name, fragment in libraries if fragment in path), "other Python")


def by_library(root: Any, libraries: tuple[tuple[str, str], ...] = LIBRARIES) -> Counter[str]:
    """Sampled time by library; a built-in function's time counts for the library that called it."""
    shares: Counter[str] = Counter()

    def walk(frame: Any, inherited: str) -> None:
        own = _group(frame.file_path or "", frame.function or "", libraries) or inherited
        if not frame.children:
            shares[own] += frame.time
        for child in frame.children:
            walk(child, own)

    walk(root, "other Python")
    return shares


def by_part(root: Any, parts: tuple[tuple[str, str, str | None], ...] = PARTS) -> Counter[str]:
    """Sampled time under each part's outermost call (a part nested in itself counts once)."""
    found: Counter[str] = Counter()

    def walk(frame: Any, inside: frozenset[str]) -> None:
        path, function = frame.file_path or "", frame.function or ""
        for label, fragment, name in parts:
            if fragment in path and (name is None or function == name) and label not in inside:
                found[label] += frame.time
                inside = inside | {label}
        for child in frame.children:
            walk(child, inside)

    walk(root, frozenset())
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=400, help="instances profiled (6 steps each)")
    parser.add_argument("--out", default="benchmarks/results.json")
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        eng = _facade_engine(f"sqlite:///{Path(tmp) / 'profile.db'}")
        facade(50, eng)  # warm caches and code paths
        profiler = Profiler(interval=0.001)
        profiler.start()
        facade(args.n, eng)
        profiler.stop()
        eng.db.dispose()
    root = profiler.last_session.root_frame()
    steps = args.n * 6
    total = root.time
    libraries = by_library(root)
    parts = by_part(root)
    print(f"profiled {args.n} instances = {steps} steps, {total / steps * 1000:.3f} ms per step (with sampling)")
    print(f"\n{'time by library':42} {'share':>7}")
    for name, seconds in libraries.most_common():
        print(f"{name:42} {seconds / total * 100:6.1f}%")
    print(f"\n{'time by part of a step':42} {'ms/step':>8} {'share':>7}")
    for label in dict.fromkeys(label for label, _f, _n in PARTS):
        if label in parts:
            print(f"{label:42} {parts[label] / steps * 1000:8.3f} {parts[label] / total * 100:6.1f}%")
    if args.html:
        Path(args.html).write_text(profiler.output_html())
        print(f"\nHTML report: {args.html}")
    out = Path(args.out)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged["profile_step"] = {
        "ms_per_step_sampled": total / steps * 1000,
        "share_by_library": {k: v / total for k, v in libraries.most_common()},
        "ms_per_step_by_part": {label: seconds / steps * 1000 for label, seconds in parts.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
