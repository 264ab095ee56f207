"""Designer tests: every shipped procedure's scenarios pass and walk every element and branch of its diagram."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import scenarios
from engine.cli import main
from engine.config import DEFAULT_ROOT

PROCEDURES = scenarios.procedures_with_manifests(DEFAULT_ROOT)


@pytest.mark.parametrize("code", PROCEDURES)
def test_scenarios_pass_and_cover_the_diagram(code: str, database_url: str) -> None:
    results = scenarios.run(DEFAULT_ROOT, [code], database_url)[code]
    assert results, f"workflows/{code}/scenarios/ has no scenario"
    failures = [f"{r.name}: {r.message}" for r in results if not r.passed]
    assert not failures, "\n".join(failures)
    cov = scenarios.coverage(DEFAULT_ROOT, code, results)
    assert cov.unreached_nodes == [] and cov.untaken_flows == [], cov


def test_a_wrong_expectation_fails_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    for part in ("workflows", "bpmn", "forms"):
        shutil.copytree(DEFAULT_ROOT / part, root / part)
    folder = root / "workflows" / "birth_registration" / "scenarios"
    text = (folder / "refused_at_reception.toml").read_text(encoding="utf-8")
    (folder / "wrong.toml").write_text(text.replace('status = "denied"', 'status = "done"'), encoding="utf-8")
    assert main(["procedures", "test", "birth_registration", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "FAIL birth_registration/wrong" in out and "step 2: status 'denied', expected 'done'" in out
    assert "PASS birth_registration/refused_at_reception" in out


def test_coverage_names_what_no_scenario_reached(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    for part in ("workflows", "bpmn", "forms"):
        shutil.copytree(DEFAULT_ROOT / part, root / part)
    (root / "workflows" / "birth_registration" / "scenarios" / "refused_at_reception.toml").unlink()
    assert main(["procedures", "test", "birth_registration", "--coverage", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "UNREACHED birth_registration: element refused_at_reception" in out
    assert "UNTAKEN   birth_registration: flow f_refuse" in out
