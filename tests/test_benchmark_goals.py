"""``benchmarks/goals.py``, the last step of ``make bench``: every goal of the performance issue is checked
against its figure, at its bound, and a run that is missing a figure or measured the data-scale goals on
fewer dossiers is reported as incomplete instead of as meeting them."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "goals.py"
spec = importlib.util.spec_from_file_location("bench_goals", PATH)
goals = importlib.util.module_from_spec(spec)
sys.modules["bench_goals"] = goals
spec.loader.exec_module(goals)


def at_bounds() -> dict:
    """Results with every goal's figure exactly at its bound, measured at 1M dossiers."""
    return {"scale_dossiers": 1_000_000, **{g.figure: g.target for g in goals.GOALS}}


def test_every_goal_of_the_issue_is_checked():
    figures = {g.figure for g in goals.GOALS}
    assert {"facade_sqlite_inst_per_s", "facade_vs_naive_ratio", "history_facade_ratio_1000_to_1",
            "web_journeys_per_s", "web_p95_ms", "web_errors", "web_worker_peak_rss_mb",
            "scale_inbox_p95_ms", "scale_lookup_p95_ms", "scale_my_dossiers_p95_ms"} <= figures
    assert len({g.key for g in goals.GOALS}) == len(goals.GOALS)


def test_a_figure_at_its_bound_meets_the_goal_and_one_past_it_does_not():
    verdicts, problems = goals.evaluate(at_bounds())
    assert problems == []
    assert all(v["met"] is True for v in verdicts.values())
    for goal in goals.GOALS:
        results = at_bounds()
        results[goal.figure] = goal.target + (-0.01 if goal.op == ">=" else 0.01)
        verdicts, _ = goals.evaluate(results)
        assert verdicts[goal.key]["met"] is False, goal.key
        assert [k for k, v in verdicts.items() if v["met"] is False] == [goal.key]


def test_one_web_error_fails_its_goal():
    results = {**at_bounds(), "web_errors": 1}
    assert goals.evaluate(results)[0]["web_errors"]["met"] is False


@pytest.mark.parametrize("value", [None, float("nan"), "12", True])
def test_a_missing_or_unreadable_figure_is_not_met_nor_unmet(value):
    results = at_bounds()
    if value is None:
        del results["web_journeys_per_s"]
    else:
        results["web_journeys_per_s"] = value
    verdicts, problems = goals.evaluate(results)
    assert verdicts["web_journeys_per_s"]["met"] is None
    assert any("web_journeys_per_s" in p for p in problems)


def test_data_scale_goals_need_a_million_dossiers():
    verdicts, problems = goals.evaluate({**at_bounds(), "scale_dossiers": 10_000})
    scale = [g.key for g in goals.GOALS if g.scale]
    assert scale and all(verdicts[k]["met"] is None for k in scale)
    assert len(problems) == len(scale)
    assert all(verdicts[g.key]["met"] for g in goals.GOALS if not g.scale)


def test_main_merges_the_verdicts_and_fails_only_on_an_incomplete_run(tmp_path, capsys):
    out = tmp_path / "results.json"
    results = {**at_bounds(), "web_journeys_per_s": 5.5, "other": {"kept": 1}}
    out.write_text(json.dumps(results))
    assert goals.main(["--results", str(out)]) == 0  # an unmet goal is reported, not an error
    merged = json.loads(out.read_text())
    assert merged["other"] == {"kept": 1}
    assert merged["goals"]["web_journeys_per_s"] == {
        "label": "web journeys/s", "figure": "web_journeys_per_s", "measured": 5.5, "op": ">=", "target": 20,
        "unit": "/s", "met": False}
    assert (merged["goals_met"], merged["goals_checked"]) == (len(goals.GOALS) - 1, len(goals.GOALS))
    printed = capsys.readouterr().out
    assert "web journeys/s" in printed and "NO" in printed

    del results["scale_inbox_p95_ms"]
    out.write_text(json.dumps(results))
    assert goals.main(["--results", str(out)]) == 1
    assert "scale_inbox_p95_ms" in capsys.readouterr().err
    assert goals.main(["--results", str(tmp_path / "none.json")]) == 1
