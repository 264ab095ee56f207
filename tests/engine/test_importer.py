"""A spiff-arena process model (tests/engine/data/spiff_arena/leave-request: process_model.json, a BPMN file whose
initiator's task is in no lane, react-jsonschema-form forms) imported as a procedure, valid, deployed and run to
its end; a folder that is not a process model, or a procedure that exists, is refused before anything is written;
what the import cannot make valid is listed by file and element."""
from __future__ import annotations

import io
import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import accounts as account_ops
from engine import demo
from engine.api import Engine
from engine.cli import main
from engine.config import Settings
from engine.errors import Forbidden
from engine.importer import ImportRefused, import_spiff_arena
from engine.models import Agency, User
from tests.procedures import copy_procedures

MODEL = Path(__file__).parent / "data" / "spiff_arena" / "leave-request"
ADMIN_EMAIL = "quantri@demo.motcua.vn"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_procedures(tmp_path / "procedures")


def test_a_process_model_is_imported_valid_and_runs(root: Path, database_url: str) -> None:
    result = import_spiff_arena(MODEL, root)
    assert result.code == "leave_request" and result.problems == []
    assert set(result.written) == {"bpmn/leave_request.bpmn", "workflows/leave_request.toml",
                                   "forms/leave_request/request.schema.json", "forms/leave_request/request.uischema.json",
                                   "forms/leave_request/approval.schema.json",
                                   "forms/leave_request/approval.uischema.json"}
    assert any("'applicant'" in c for c in result.changes) and any("'manager'" in c for c in result.changes)
    manifest = tomllib.loads((root / "workflows" / "leave_request.toml").read_text())
    assert manifest["lanes"] == {"Manager": "manager", "applicant": "applicant"}
    assert manifest["bpmn"] == {"file": "leave_request.bpmn", "process": "Process_leave_request"}
    ui = json.loads((root / "forms" / "leave_request" / "approval.uischema.json").read_text())
    assert ui["decision"]["ui:enumLabels"]["refuse"] == {"vi": "Refuse", "en": "Refuse"}
    schema = json.loads((root / "forms" / "leave_request" / "approval.schema.json").read_text())
    assert schema["properties"]["decision"]["enum"] == ["approve", "refuse"] and "oneOf" not in schema["properties"]["decision"]

    eng = Engine(Settings(database_url=database_url, root=root))
    eng.upgrade_database()
    try:
        with eng.session() as s:
            assert "leave_request" in [d.code for d in eng.deploy(s)]
            demo.seed(s)
            agency = s.scalar(select(Agency).where(Agency.code == demo.AGENCY["code"]))
            account_ops.create_official(s, "truongphong@demo.motcua.vn", "x" * 12, "Trưởng Phòng", agency, ["manager"])
            s.commit()
            citizen = s.scalar(select(User).where(User.email == "congdan@demo.motcua.vn"))
            view = eng.start_dossier(s, "leave_request", citizen)
            (task,) = view.open_tasks
            assert task.title["vi"] == "Ask for leave"
            done = eng.complete(s, task.id, citizen, {"start_date": "2026-12-01", "days": "7", "kind": "annual",
                                                      "reason": "Về quê"})
            assert done.submitted and done.dossier.status == "receiving" and done.dossier.code
            assert done.dossier.data["long_leave"] is True  # the model's script ran in the sandbox
            manager = s.scalar(select(User).where(User.email == "truongphong@demo.motcua.vn"))
            (approve,) = eng.queue(s, manager)
            eng.claim(s, approve.id, manager)
            finished = eng.complete(s, approve.id, manager, {"decision": "approve"})
            s.commit()
            assert finished.dossier.status == "done" and finished.dossier.completed
    finally:
        eng.db.dispose()


def test_what_cannot_be_imported_is_refused_before_anything_is_written(root: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(ImportRefused, match="process_model.json"):
        import_spiff_arena(tmp_path, root)  # not a process model
    with pytest.raises(ImportRefused, match="exists already"):
        import_spiff_arena(MODEL, root, code="birth_registration")
    with pytest.raises(ImportRefused, match="not a procedure code"):
        import_spiff_arena(MODEL, root, code="Leave Request")
    broken = tmp_path / "broken"
    shutil.copytree(MODEL, broken)
    (broken / "leave-request.bpmn").write_text("<bpmn:definitions")
    with pytest.raises(ImportRefused, match="cannot be read as BPMN"):
        import_spiff_arena(broken, root)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_a_model_reads_only_the_files_in_its_folder(root: Path, tmp_path: Path) -> None:
    """A model naming a file outside its folder (``..``, an absolute path) is not read from there: its diagram is
    refused, a form is reported missing and its contents are not copied into the project."""
    secret = tmp_path / "secret-schema.json"
    secret.write_text(json.dumps({"type": "object", "properties": {"password": {"type": "string", "title": "leaked"}}}))
    model = tmp_path / "models" / "sneaky"
    shutil.copytree(MODEL, model)
    bpmn = (model / "leave-request.bpmn").read_text()
    assert 'value="request-schema.json"' in bpmn
    (model / "leave-request.bpmn").write_text(bpmn.replace('value="request-schema.json"',
                                                           'value="../../secret-schema.json"'))
    result = import_spiff_arena(model, root)
    assert "form file ../../secret-schema.json is not in the model's folder" in result.changes
    assert not any("leaked" in p.read_text() for p in (root / "forms" / "sneaky").iterdir())

    meta = json.loads((model / "process_model.json").read_text())
    for outside in ("../../secret-schema.json", str(secret), "."):
        (model / "process_model.json").write_text(json.dumps({**meta, "primary_file_name": outside}))
        with pytest.raises(ImportRefused, match="is not in the model's folder"):
            import_spiff_arena(model, root, code="sneaky_two")
    assert not (root / "workflows" / "sneaky_two.toml").exists()


def test_what_the_import_cannot_fix_is_listed(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A nested object field (this portal's forms are flat) is reported by the command, which exits 1."""
    model = tmp_path / "nested-model"
    shutil.copytree(MODEL, model)
    schema = json.loads((model / "request-schema.json").read_text())
    schema["properties"]["address"] = {"type": "object", "title": "Address", "properties": {"street": {"type": "string"}}}
    (model / "request-schema.json").write_text(json.dumps(schema))
    assert main(["procedures", "import", str(model), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "imported 'nested_model'" in out
    assert "ERROR forms/nested_model/request.schema.json" in out and "type 'object' is not supported" in out
    assert main(["procedures", "import", str(model), "--root", str(root)]) == 2  # exists now
    assert main(["procedures", "import", str(model), "--root", str(root), "--force"]) == 1


def zipped(folder: Path, prefix: str = "leave-request/", extra: dict[str, bytes] | None = None) -> bytes:
    """``folder`` as a ZIP archive, its files under ``prefix`` (spiff-arena's download keeps the folder)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.iterdir()):
            bundle.writestr(prefix + path.name, path.read_bytes())
        for name, data in (extra or {}).items():
            bundle.writestr(name, data)
    return out.getvalue()


def test_a_model_sent_as_an_archive_is_imported_when_valid(root: Path, engine: Engine) -> None:
    from engine.designs import import_archive

    with engine.session() as s:
        designer = s.scalar(select(User).where(User.email == "thietke@demo.motcua.vn"))
        result = import_archive(s, designer, root, zipped(MODEL))
        s.commit()
        assert result.code == "leave_request" and result.problems == [] and "bpmn/leave_request.bpmn" in result.written
        assert (root / "workflows" / "leave_request.toml").is_file()
        assert [e.action for e in engine.design_log(s, designer)][:1] == ["design.imported"]
        # at the archive's top, and under another code
        assert import_archive(s, designer, root, zipped(MODEL, prefix=""), code="nghi_phep").code == "nghi_phep"
        with pytest.raises(Forbidden):
            import_archive(s, s.scalar(select(User).where(User.email == ADMIN_EMAIL)), root, zipped(MODEL))


def test_an_archive_with_problems_leaves_nothing_behind(root: Path, engine: Engine, tmp_path: Path) -> None:
    from engine.designs import import_archive

    model = tmp_path / "nested"
    shutil.copytree(MODEL, model)
    schema = json.loads((model / "request-schema.json").read_text())
    schema["properties"]["address"] = {"type": "object", "properties": {"street": {"type": "string"}}}
    (model / "request-schema.json").write_text(json.dumps(schema))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with engine.session() as s:
        designer = s.scalar(select(User).where(User.email == "thietke@demo.motcua.vn"))
        result = import_archive(s, designer, root, zipped(model, prefix="nested/"))
        assert result.problems and result.written == []
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


@pytest.mark.parametrize(("archive", "why"), [
    (b"PK\x03\x04 not really", "not a ZIP archive"),
    (b"%PDF-1.4", "not a ZIP archive"),
    ("escape", "would be written outside"),
    ("absolute", "would be written outside"),
    ("none", "no process_model.json"),
    ("two", "more than one process model"),
    ("bomb", "unpacks to more than 20 MB"),
    ("many", "more than 200 files"),
])
def test_what_is_not_a_model_archive_is_refused_before_anything_is_written(
        archive: object, why: str, tmp_path: Path) -> None:
    from engine.importer import unpack_model

    made = {
        "escape": lambda: zipped(MODEL, extra={"leave-request/../../../evil.txt": b"x"}),
        "absolute": lambda: zipped(MODEL, extra={"/tmp/evil.txt": b"x"}),
        "none": lambda: zipped(MODEL, extra={}).replace(b"process_model.json", b"process_model.txt!"),
        "two": lambda: zipped(MODEL, extra={"other/process_model.json": b"{}"}),
        "bomb": lambda: zipped(MODEL, extra={"leave-request/big.bin": bytes(21 * 1024 * 1024)}),
        "many": lambda: zipped(MODEL, extra={f"leave-request/f{i}.txt": b"" for i in range(200)}),
    }
    data = made[archive]() if isinstance(archive, str) else archive
    into = tmp_path / "unpacked"
    into.mkdir()
    with pytest.raises(ImportRefused, match=why):
        unpack_model(data, into)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
