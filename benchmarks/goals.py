"""The performance goals, checked against what the benchmarks measured: the last step of ``make bench``.

Reads ``benchmarks/results.json``, prints one table of every goal with the figure measured, the goal and
whether it is met, and merges the verdicts into the same file under ``goals`` (with ``goals_met`` and
``goals_checked``). A goal is a goal, not a test: an unmet one is reported, not an error. The script fails
only when a goal's figure is missing (a benchmark did not run or did not write it), or when the data-scale
figures were measured on fewer dossiers than the goal is about, so that a goal is never reported as met on
an incomplete run.
"""
from __future__ import annotations

import argparse
import json
import math
import operator
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: the data-scale goals are about this many dossiers
SCALE_DOSSIERS = 1_000_000


@dataclass(frozen=True)
class Goal:
    key: str
    label: str
    figure: str  # its key in results.json
    op: str  # ">=" or "<="
    target: float
    unit: str
    scale: bool = False  # measured at SCALE_DOSSIERS

    def check(self, value: float) -> bool:
        return {">=": operator.ge, "<=": operator.le}[self.op](value, self.target)


GOALS = (
    Goal("engine_sqlite_inst_per_s", "engine facade on SQLite", "facade_sqlite_inst_per_s", ">=", 1500, "inst/s"),
    Goal("engine_vs_naive", "engine facade against the naive way", "facade_vs_naive_ratio", ">=", 4, "×"),
    Goal("history_ratio", "step after 1,000 loop passes against after 1", "history_facade_ratio_1000_to_1",
         "<=", 2, "×"),
    Goal("web_journeys_per_s", "web journeys/s", "web_journeys_per_s", ">=", 20, "/s"),
    Goal("web_p95_ms", "web p95 per request", "web_p95_ms", "<=", 50, "ms"),
    Goal("web_errors", "web errors", "web_errors", "<=", 0, ""),
    Goal("web_worker_rss_mb", "web worker peak RSS", "web_worker_peak_rss_mb", "<=", 200, "MB"),
    Goal("scale_inbox_p95_ms", "1M dossiers: officer inbox, engine call p95", "scale_inbox_p95_ms", "<=", 50, "ms",
         scale=True),
    Goal("scale_inbox_page_p95_ms", "1M dossiers: officer inbox page p95", "scale_inbox_page_p95_ms", "<=", 50, "ms",
         scale=True),
    Goal("scale_lookup_p95_ms", "1M dossiers: lookup by code, engine call p95", "scale_lookup_p95_ms", "<=", 50,
         "ms", scale=True),
    Goal("scale_lookup_page_p95_ms", "1M dossiers: lookup page with the dossier page p95", "scale_lookup_page_p95_ms",
         "<=", 50, "ms", scale=True),
    Goal("scale_my_dossiers_p95_ms", "1M dossiers: my dossiers, engine call p95", "scale_my_dossiers_p95_ms", "<=",
         50, "ms", scale=True),
    Goal("scale_my_dossiers_page_p95_ms", "1M dossiers: my dossiers page p95", "scale_my_dossiers_page_p95_ms", "<=",
         50, "ms", scale=True),
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def evaluate(results: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each goal's verdict, and what keeps the run from being checked in full (missing figures, a smaller
    data set): a goal with a problem is neither met nor unmet (``met`` is None)."""
    verdicts: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    scale_n = _number(results.get("scale_dossiers"))
    for goal in GOALS:
        value = _number(results.get(goal.figure))
        met: bool | None = None
        if value is None:
            problems.append(f"{goal.label}: no figure {goal.figure!r} in the results")
        elif goal.scale and (scale_n is None or scale_n < SCALE_DOSSIERS):
            problems.append(f"{goal.label}: measured on {scale_n or 0:,.0f} dossiers, not {SCALE_DOSSIERS:,}")
        else:
            met = goal.check(value)
        verdicts[goal.key] = {"label": goal.label, "figure": goal.figure, "measured": value, "op": goal.op,
                              "target": goal.target, "unit": goal.unit, "met": met}
    return verdicts, problems


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "missing"
    text = f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the performance goals against benchmarks/results.json.")
    parser.add_argument("--results", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    path = Path(args.results)
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"goals: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    verdicts, problems = evaluate(results)
    width = max(len(g.label) for g in GOALS)
    print(f"\n{'goal':<{width}}  {'measured':>14}  {'asked':>16}  met?")
    for goal in GOALS:
        v = verdicts[goal.key]
        met = {True: "yes", False: "NO", None: "-"}[v["met"]]
        asked = ("≥ " if goal.op == ">=" else "≤ ") + _show(goal.target, goal.unit)
        print(f"{goal.label:<{width}}  {_show(v['measured'], goal.unit):>14}  {asked:>16}  {met}")
    checked = [v for v in verdicts.values() if v["met"] is not None]
    met_count = sum(1 for v in checked if v["met"])
    summary = f"\n{met_count} of {len(GOALS)} goals met"
    if len(checked) < len(GOALS):
        summary += f", {len(GOALS) - len(checked)} not checked"
    if met_count < len(checked):
        summary += "; docs/BENCHMARKS.md says what limits the others"
    print(summary)
    results.update({"goals": verdicts, "goals_met": met_count, "goals_checked": len(checked)})
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if problems:
        print("goals: the run is incomplete:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
