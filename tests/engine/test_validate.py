"""`motcua validate` finds every problem by file and element, exits 1, and never shows a traceback."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.config import DEFAULT_ROOT

DATA_ROOT = Path(__file__).parent / "data" / "root"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "proj"
    shutil.copytree(DATA_ROOT, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def validate(target: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(target)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out


def test_shipped_procedures_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = validate(DEFAULT_ROOT, capsys)
    assert code == 0, out


def test_the_sample_root_is_valid(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(root, capsys)[0] == 0


BREAKAGES = [
    # (file, old, new, expected fragments)
    ("bpmn/five.bpmn", "</bpmn:process>", "</bpmn:proces>", ["bpmn/five.bpmn", "not well-formed XML"]),
    ("bpmn/five.bpmn", 'value="five/note.schema.json"/>\n        <spiffworkflow:property name="formUiSchemaFilename" value="five/note.uischema.json"/>\n        <spiffworkflow:property name="nameEn" value="Step 3"',
     'value="five/missing.schema.json"/>\n        <spiffworkflow:property name="formUiSchemaFilename" value="five/note.uischema.json"/>\n        <spiffworkflow:property name="nameEn" value="Step 3"',
     ["[t3]", "forms/five/missing.schema.json is missing"]),
    ("bpmn/five.bpmn", 'name="reception"', 'name="back_office"', ["[t2]", "lane 'back_office' has no role"]),
    ("forms/five/note.schema.json", '"maxLength": 200', '"maxLength": "two hundred"', ["forms/five/note.schema.json", "invalid JSON Schema"]),
    ("bpmn/five.bpmn", '<bpmn:userTask id="t4"', '<bpmn:scriptTask id="s0" name="S"><bpmn:script>import os\nx = (</bpmn:script></bpmn:scriptTask><bpmn:userTask id="t4"',
     ["[s0]", "does not compile"]),
    ("bpmn/five.bpmn", 'sourceRef="t2" targetRef="t3"', 'sourceRef="t2" targetRef="nowhere"', ["bpmn/five.bpmn"]),
    ("bpmn/five.bpmn", '<bpmn:endEvent id="end">', '<bpmn:endEvent id="end"><bpmn:errorEventDefinition errorRef="undefined_error"/>',
     ["bpmn/five.bpmn"]),
    ("workflows/five.toml", 'agency_level = "commune"', 'agency_level = "commune', ["workflows/five.toml", "not valid TOML"]),
    ("workflows/five.toml", "[bpmn]", '[[components]]\ncode = "id_card"\nname = { vi = "CCCD", en = "ID card" }\n\n'
     '[[components]]\ncode = "id_card"\nname = { vi = "Ảnh" }\n\n[[components]]\nname = { vi = "Ảnh", en = "Photo" }\n\n[bpmn]',
     ["[components[1] id_card]: the code is used twice", "[components[1] id_card]: needs a 'name' in Vietnamese and English",
      "[components[2]]: needs a 'code'"]),
    ("bpmn/five.bpmn", '<spiffworkflow:property name="nameEn" value="Step 2"/>',
     '<spiffworkflow:property name="nameEn" value="Step 2"/><spiffworkflow:property name="collectsFee" value="fee_total"/>'
     '<spiffworkflow:property name="resultFile" value="always"/>',
     ["[t2]: a task that collects fees needs the form fields payment_method and payment_reference",
      "[t2]: resultFile must be one of required, online, optional"]),
    ("workflows/five.toml", 'reception = "reception_officer"', 'reception = "supervisor"',
     ["workflows/five.toml", "[roles.supervisor]: 'supervisor' is the portal's own role"]),
]


@pytest.mark.parametrize("file,old,new,fragments", BREAKAGES, ids=[
    "malformed-xml", "missing-form", "lane-without-role", "invalid-schema", "script", "dangling-flow", "undefined-error",
    "toml", "components", "fees-and-result", "reserved-role"])
def test_each_problem_is_reported_by_file_and_element(root: Path, capsys: pytest.CaptureFixture[str], file: str,
                                                      old: str, new: str, fragments: list[str]) -> None:
    edit(root / file, old, new)
    code, out = validate(root, capsys)
    assert code == 1
    for fragment in fragments:
        assert fragment in out
    assert "ERROR" in out


def test_several_problems_at_once(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "forms/five/note.uischema.json").write_text(json.dumps({"note": {"ui:label": {"vi": "Ghi chú"}}}))
    edit(root / "bpmn/five.bpmn", 'name="reception"', 'name="back_office"')
    code, out = validate(root, capsys)
    assert code == 1
    assert "lacks en" in out and "back_office" in out


def test_a_copy_of_bpmn_dir_with_a_broken_file(tmp_path: Path) -> None:
    """The acceptance check: validate a copy of bpmn/ holding a broken file, through the real command."""
    copy = tmp_path / "bpmn"
    shutil.copytree(DEFAULT_ROOT / "bpmn", copy)
    (copy / "broken.bpmn").write_text(
        (DATA_ROOT / "bpmn/five.bpmn").read_text().replace('sourceRef="t2" targetRef="t3"', 'sourceRef="t2" targetRef="ghost"'))
    result = subprocess.run([sys.executable, "-m", "engine.cli", "validate", str(copy)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert "broken.bpmn" in result.stdout and "ghost" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
