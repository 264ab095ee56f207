"""Bulk data for measuring queries at scale: a province's year of dossiers, generated fast.

``motcua seed --dossiers N`` creates (or reuses) 50 commune and 3 province agencies, officials for every role
of the deployed procedures, about N/20 citizens, and N dossiers spread over agencies, procedures (their current
versions, at the agency level their manifest names), statuses and a year of submissions, each with its
applicant's completed declaration, an open human task when it is not final, and a few audit events.

The first ``real`` dossiers (100 by default) run through the engine facade along the procedures' own scenario
files, so real workflow state exists; every other dossier is written with SQLAlchemy Core in batches (COPY on
PostgreSQL) and holds only a placeholder workflow state: they are for measuring queries (inboxes, look-ups,
"my dossiers", reports), not for being advanced by the engine: a step on one is refused with a message that
says so (``errors.NotRunnable``), and its page draws the diagram from its task rows and audit trail.
"""
from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text as sql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import calendar, procedures, runtime, scenarios
from .api import Engine
from .bulk import BATCH, Progress, Writer
from .catalog import current_version
from .i18n import folded_name
from .models import Agency, AuditEvent, DailySequence, Dossier, HumanTask, ProcedureVersion, User, UserRole
from .procedures import APPLICANT_ROLE
from .statuses import STATUSES

PASSWORD = "matkhau-seed-2026"  # every seeded account; hashed once
EMAIL_DOMAIN = "seed.motcua.vn"

# how often each procedure is filed in a province's year (relative weights; others deployed get 1)
PROCEDURE_WEIGHTS = {
    "birth_registration": 30, "marital_status_certificate": 22, "civil_status_extract_copy": 20,
    "housing_construction_permit": 10, "promotion_notice": 12, "diploma_copy": 6,
}
FINAL_MIX = (("done", 0.925), ("denied", 0.035), ("cancelled", 0.025), ("unresolved", 0.015))
OPEN_MIX = (("receiving", 0.30), ("new", 0.05), ("processing", 0.40), ("waiting", 0.10), ("releasing", 0.15))

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Hữu", "Thanh", "Quang", "Xuân", "Hồng", "Kim")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt", "Yến")


@dataclass
class Report:
    dossiers: int = 0
    real: int = 0
    real_failures: int = 0
    citizens: int = 0
    officials: int = 0
    agencies: int = 0
    human_tasks: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


# -- procedures ----------------------------------------------------------------------------------------------

@dataclass
class TaskShape:
    bpmn_id: str
    title_vi: str
    title_en: str
    lane: str | None
    role: str
    form_key: str | None


@dataclass
class ProcShape:
    code: str
    version_id: int
    level: str
    name: dict[str, str]
    working_days: int
    cutoff: dt.time | None
    weight: float
    declaration: TaskShape
    by_status: dict[str, list[TaskShape]]
    delivery: list[str]


def _shapes(session: Any, eng: Engine) -> list[ProcShape]:
    codes = sorted(session.scalars(select(ProcedureVersion.procedure_code).where(ProcedureVersion.current.is_(True))))
    shapes = []
    for code in codes:
        rt = eng.versions.get(current_version(session, code))
        tasks = []
        for spec in procedures._all_task_specs(rt.spec, rt.subprocess_specs):
            if not getattr(spec, "manual", False):
                continue
            props = runtime.properties(spec)
            title = spec.bpmn_name or spec.bpmn_id
            tasks.append(TaskShape(spec.bpmn_id, title, props.get("nameEn", title), spec.lane, rt.role_of(spec.lane),
                                   props.get("formJsonSchemaFilename")))
        applicant = [t for t in tasks if t.role == APPLICANT_ROLE]
        reception = [t for t in tasks if t.role == "reception_officer"]
        others = [t for t in tasks if t.role not in (APPLICANT_ROLE, "reception_officer")] or reception
        if not applicant or not reception:
            continue
        supplement = [t for t in applicant[1:] if "supplement" in t.bpmn_id] or applicant[1:] or applicant
        returning = [t for t in reception if "return" in t.bpmn_id] or reception[-1:]
        checking = [t for t in reception if t not in returning] or reception
        limit = rt.manifest.get("time_limit", {})
        cutoff = limit.get("same_day_cutoff")
        shapes.append(ProcShape(
            code=code, version_id=rt.id, level=rt.info.agency_level, name=dict(rt.info.name),
            working_days=int(limit.get("working_days", 0)), cutoff=dt.time.fromisoformat(cutoff) if cutoff else None,
            weight=PROCEDURE_WEIGHTS.get(code, 1), declaration=applicant[0],
            by_status={"receiving": checking, "new": others, "processing": others, "waiting": supplement,
                       "releasing": returning},
            delivery=[d["code"] for d in rt.manifest.get("delivery", [])] or ["online"],
        ))
    return shapes


# -- agencies and accounts -----------------------------------------------------------------------------------

def _agency_rows() -> list[dict[str, str]]:
    rows = []
    for i in range(50):  # communes of one province: {commune}.{district}.{province}.H14-style e-ID codes
        rows.append({"code": f"000.{40 + i:02d}.{27 + i // 25:02d}.H14", "name_vi": f"UBND xã Mẫu {i + 1:02d}",
                     "name_en": f"Mau {i + 1:02d} Commune People's Committee", "level": "commune"})
    for i, (vi, en) in enumerate((("Sở Tư pháp tỉnh Mẫu", "Mau Province Department of Justice"),
                                  ("Sở Công Thương tỉnh Mẫu", "Mau Province Department of Industry and Trade"),
                                  ("Sở Giáo dục và Đào tạo tỉnh Mẫu", "Mau Province Department of Education"))):
        rows.append({"code": f"000.00.{21 + i:02d}.H14", "name_vi": vi, "name_en": en, "level": "province"})
    return rows


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- seeding -------------------------------------------------------------------------------------------------

def seed(eng: Engine, dossiers: int, real: int = 100, seed_value: int = 2026, now: dt.datetime | None = None,
         progress: bool = True, log: Callable[[str], None] | None = None) -> Report:
    """Seed ``dossiers`` dossiers (``real`` of them through the engine) into a migrated, deployed database."""
    say = log or (lambda m: print(m, file=sys.stderr, flush=True))
    rng = random.Random(seed_value)
    report = Report()
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    writer = Writer(eng)
    real = min(real, dossiers)

    # agencies, officials, citizens ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    with eng.session() as s:
        shapes = _shapes(s, eng)
        if not shapes:
            raise RuntimeError("no deployed procedures: run `motcua setup` first")
        for values in _agency_rows():
            if s.scalar(select(Agency.id).where(Agency.code == values["code"])) is None:
                s.add(Agency(**values))
        s.commit()
        agencies = {lvl: [(a.id, a.code) for a in
                          s.scalars(select(Agency).where(Agency.level == lvl).order_by(Agency.id))]
                    for lvl in ("commune", "province")}
        report.agencies = sum(len(v) for v in agencies.values())
        roles_at = {lvl: sorted({t.role for sh in shapes if sh.level == lvl for ts in sh.by_status.values() for t in ts
                                 if t.role != APPLICANT_ROLE}) for lvl in agencies}
        from .accounts import HASHER

        password_hash = HASHER.hash(PASSWORD)
        existing = set(s.scalars(select(User.email).where(User.email.like(f"%@{EMAIL_DOMAIN}"))))
    official_rows, role_rows = [], []
    for lvl, items in agencies.items():
        for agency_id, code in items:
            for role in roles_at[lvl]:
                for k in range(3 if role == "reception_officer" else 2):
                    email = f"{role}.{k + 1}.{code}@{EMAIL_DOMAIN}".lower()
                    if email not in existing:
                        official_rows.append((email, role, agency_id))
    n_citizens = max(real, dossiers // 20, 1)
    citizen_emails = [f"congdan{i + 1}@{EMAIL_DOMAIN}" for i in range(n_citizens)]
    new_citizens = [e for e in citizen_emails if e not in existing]
    user_cols = ["id", "email", "password_hash", "full_name", "name_folded", "kind", "agency_id", "phone", "id_number",
                 "birth_date", "address", "active", "created_at", "notify_by_mail"]
    first_user = writer.reserve_ids(User.__table__, len(official_rows) + len(new_citizens))

    def users() -> Iterator[tuple]:
        uid = first_user
        for email, role, agency_id in official_rows:
            role_rows.append((uid, role))
            name = f"Cán bộ {_name(rng)}"
            yield (uid, email, password_hash, name, folded_name(name), "official", agency_id, None, None, None, None,
                   True, now, False)
            uid += 1
        for email in new_citizens:
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
            name = _name(rng)
            yield (uid, email, password_hash, name, folded_name(name), "citizen", None, f"09{rng.randrange(10**8):08d}",
                   f"0{rng.randrange(10**11):011d}", birth, f"Thôn {rng.randrange(1, 30)}, tỉnh Mẫu", True, now,
                   False)  # made-up accounts get no mail about their dossiers
            uid += 1

    bar = Progress(len(official_rows) + len(new_citizens), "accounts", progress)
    writer.write(User.__table__, user_cols, users(), bar)
    bar.close()
    writer.write(UserRole.__table__, ["user_id", "role"], iter(role_rows))
    with eng.session() as s:
        rows = s.execute(select(User.id, User.email).where(User.kind == "citizen",
                                                           User.email.like(f"congdan%@{EMAIL_DOMAIN}")))
        citizen_ids = {email: uid for uid, email in rows}
        citizens = [citizen_ids[e] for e in citizen_emails]
        officials: dict[tuple[int, str], list[int]] = {}
        for uid, agency_id, role in s.execute(
                select(User.id, User.agency_id, UserRole.role).join(UserRole, UserRole.user_id == User.id)
                .where(User.kind == "official", User.email.like(f"%@{EMAIL_DOMAIN}"))):
            officials.setdefault((agency_id, role), []).append(uid)
    report.citizens, report.officials = len(citizens), sum(len(v) for v in officials.values())
    report.phases["accounts"] = time.perf_counter() - t0

    # real dossiers through the facade ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    if real:
        bar = Progress(real, "real", progress)
        for i in range(real):
            shape = shapes[i % len(shapes)]
            agency_id = rng.choice(agencies[shape.level])[0]
            ok = _real_dossier(eng, shape.code, i, citizens[i], agency_id, officials)
            report.real += 1
            report.real_failures += not ok
            bar.update(1)
        bar.close()
    report.phases["real"] = time.perf_counter() - t0

    # bulk dossiers ------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    bulk = dossiers - real
    report.dossiers = dossiers
    with eng.session() as s:
        sequences = {(a, d): last for a, d, last in s.execute(select(DailySequence.agency_code, DailySequence.day,
                                                                       DailySequence.last))}
    weights_acc = _cumulative([sh.weight for sh in shapes])
    agency_weight = {lvl: _cumulative([0.3 + rng.random() * 1.7 for _ in items]) for lvl, items in agencies.items()}
    first_dossier = writer.reserve_ids(Dossier.__table__, bulk)
    year = 365 * 86400
    # submissions over the past year, in time order (ids and daily numbers follow time as they would)
    moments = sorted(_submission(rng, now, year) for _ in range(bulk))
    appointment_cache: dict[tuple, dt.datetime] = {}
    tasks_out: list[tuple] = []
    audit_out: list[tuple] = []

    def appointment(shape: ProcShape, at: dt.datetime) -> dt.datetime:
        local = calendar.to_local(at)
        key = (local.date(), local.time() >= (shape.cutoff or calendar.OFFICE_CLOSE),
               local.time() >= calendar.OFFICE_CLOSE, shape.working_days, shape.cutoff)
        found = appointment_cache.get(key)
        if found is None:
            found = appointment_cache[key] = calendar.appointment(at, shape.working_days, shape.cutoff)
        return found

    status_label = {k: v.label for k, v in STATUSES.items()}

    def dossier_rows() -> Iterator[tuple]:
        did = first_dossier
        for at in moments:
            shape = shapes[bisect.bisect(weights_acc, rng.random() * weights_acc[-1])]
            items = agencies[shape.level]
            acc = agency_weight[shape.level]
            agency_id, agency_code = items[bisect.bisect(acc, rng.random() * acc[-1])]
            applicant = citizens[min(int(len(citizens) * rng.random() ** 1.5), len(citizens) - 1)]
            local = calendar.to_local(at)
            day = local.strftime("%y%m%d")
            number = sequences.get((agency_code, day), 0) + 1
            sequences[(agency_code, day)] = number
            code = f"{agency_code}-{day}-{number:04d}"
            due = appointment(shape, at)
            age_days = (now - at).total_seconds() / 86400
            open_chance = 0.75 if age_days < 2 else 0.45 if age_days < 10 else 0.15 if age_days < 30 else 0.005
            status = _pick(rng, OPEN_MIX if rng.random() < open_chance else FINAL_MIX)
            final = STATUSES[status].final
            delivery = rng.choice(shape.delivery)
            created = at - dt.timedelta(minutes=rng.randrange(3, 90))
            finished = paused = None
            if final:
                span = (due - at).total_seconds()
                if status == "done":
                    span = span * rng.uniform(0.2, 1.0) if rng.random() < 0.93 else span + rng.uniform(3600, 5 * 86400)
                else:
                    span = max(span, 3600) * rng.uniform(0.05, 0.8)
                finished = min(at + dt.timedelta(seconds=max(span, 600)), now)
            elif status == "waiting":
                paused = min(at + dt.timedelta(hours=rng.uniform(1, 48)), now)
            data = {"delivery_method": delivery}
            changed = at if status == "receiving" else finished or min(at + dt.timedelta(hours=2), now)
            yield (did, code, shape.code, shape.version_id, applicant, agency_id, status, created, at, due, finished,
                   delivery, paused, 0, None, _json(data), runtime.PLACEHOLDER_STATE, runtime.SERIALIZER_VERSION, 1,
                   changed)
            # the applicant's declaration, completed at submission
            d = shape.declaration
            tasks_out.append((did, str(uuid.UUID(int=rng.getrandbits(128))), d.bpmn_id, d.title_vi, d.title_en, d.lane,
                              d.role, agency_id, d.form_key, "completed", created, None, None, None, applicant, at))
            if not final:
                t = rng.choice(shape.by_status[status])
                claimer = None
                if t.role != APPLICANT_ROLE and rng.random() < (0.2 if status == "receiving" else 0.5):
                    pool = officials.get((agency_id, t.role))
                    claimer = rng.choice(pool) if pool else None
                opened = min(at + dt.timedelta(minutes=rng.randrange(1, 600)), now)
                tasks_out.append((did, str(uuid.UUID(int=rng.getrandbits(128))), t.bpmn_id, t.title_vi, t.title_en,
                                  t.lane, t.role, agency_id, t.form_key, "open", opened,
                                  due if t.role != APPLICANT_ROLE else None, claimer,
                                  opened if claimer else None, None, None))
            name = shape.name
            audit_out.append((did, created, applicant, "Công dân", "dossier.started", None,
                              f"Bắt đầu khai hồ sơ {name.get('vi', '')}", f"Started a dossier for {name.get('en', '')}",
                              "{}"))
            audit_out.append((did, at, applicant, "Công dân", "status.changed", None,
                              f"Trạng thái: {status_label['receiving']['vi']}",
                              f"Status: {status_label['receiving']['en']}",
                              '{"from":"draft","to":"receiving"}'))
            if status != "receiving":
                audit_out.append((did, changed, None, "Cán bộ", "status.changed", None,
                                  f"Trạng thái: {status_label[status]['vi']}", f"Status: {status_label[status]['en']}",
                                  _json({"from": "receiving", "to": status})))
            did += 1

    dossier_cols = ["id", "code", "procedure_code", "version_id", "applicant_id", "agency_id", "status", "created_at",
                    "submitted_at", "appointment_at", "finished_at", "delivery_method", "clock_paused_at",
                    "extended_days", "next_timer_at", "data", "workflow", "serializer_version", "row_version",
                    "status_changed_at"]
    task_cols = ["dossier_id", "task_guid", "bpmn_id", "title_vi", "title_en", "lane", "role", "agency_id", "form_key",
                 "state", "created_at", "due_at", "claimed_by_id", "claimed_at", "completed_by_id", "completed_at"]
    audit_cols = ["dossier_id", "at", "actor_id", "actor_name", "action", "element", "label_vi", "label_en", "detail"]
    bar = Progress(bulk, "dossiers", progress)
    # in chunks, so that the tasks and events of a chunk are written after its dossiers (foreign keys)
    gen = dossier_rows()
    chunk = 100_000
    written = 0
    while written < bulk:
        size = min(chunk, bulk - written)
        writer.write(Dossier.__table__, dossier_cols, _take(gen, size), bar)
        report.human_tasks += writer.write(HumanTask.__table__, task_cols, iter(tasks_out))
        report.audit_events += writer.write(AuditEvent.__table__, audit_cols, iter(audit_out))
        tasks_out.clear()
        audit_out.clear()
        written += size
    bar.close()
    # the daily sequences continue after the seeded numbers, so new dossiers get fresh codes
    _save_sequences(eng, sequences)
    report.phases["bulk"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if writer.pg:
        with eng.db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("user_account", "user_role", "agency", "dossier", "human_task", "audit_event",
                          "daily_sequence"):
                conn.execute(sql(f'ANALYZE "{table}"'))
    report.phases["analyze"] = time.perf_counter() - t0
    report.seconds = time.perf_counter() - started
    say(f"seeded {report.dossiers:,} dossiers ({report.real} through the engine, "
        f"{report.real_failures} stopped early), "
        f"{report.human_tasks:,} human tasks, {report.audit_events:,} audit events, {report.citizens:,} citizens, "
        f"{report.officials} officials, {report.agencies} agencies in {report.seconds:.1f} s")
    return report


def _take(gen: Iterator[tuple], n: int) -> Iterator[tuple]:
    for _ in range(n):
        try:
            yield next(gen)
        except StopIteration:
            return


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(w for _, w in mix)
    for value, w in mix:
        r -= w
        if r <= 0:
            return value
    return mix[-1][0]


def _submission(rng: random.Random, now: dt.datetime, span: int) -> dt.datetime:
    """A submission time (naive UTC) in the past ``span`` seconds: mostly on weekdays in office hours."""
    while True:
        at = now - dt.timedelta(seconds=rng.randrange(span))
        local = calendar.to_local(at)
        if rng.random() < 0.8:  # filed in office hours, on a weekday
            if local.weekday() >= 5:
                continue
            minute = rng.randrange(7 * 60 + 30, 17 * 60)
            local = local.replace(hour=minute // 60, minute=minute % 60)
            at = calendar.to_utc(local)
            if at > now:
                continue
        return at.replace(microsecond=0)


def _save_sequences(eng: Engine, sequences: dict[tuple[str, str], int]) -> None:
    rows = [{"agency_code": a, "day": d, "last": n} for (a, d), n in sequences.items()]
    pg = eng.db.engine.dialect.name == "postgresql"
    insert = pg_insert if pg else sqlite_insert
    with eng.db.engine.begin() as conn:
        for i in range(0, len(rows), BATCH):
            stmt = insert(DailySequence)
            highest = func.greatest if pg else func.max  # SQLite's two-argument max() is greatest()
            stmt = stmt.on_conflict_do_update(index_elements=["agency_code", "day"],
                                              set_={"last": highest(stmt.excluded.last, DailySequence.last)})
            conn.execute(stmt, rows[i:i + BATCH])


# -- real dossiers -------------------------------------------------------------------------------------------

def _scenario_steps(code: str, index: int, root: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    directory = root / "workflows" / code / "scenarios"
    files = sorted(p for p in directory.glob("*.toml") if not p.name.startswith("_"))
    if not files:
        return [], {}
    scenario = tomllib.loads(files[index % len(files)].read_text(encoding="utf-8"))
    shared = directory / "_fixtures.toml"
    fixtures = tomllib.loads(shared.read_text(encoding="utf-8")).get("fixtures", {}) if shared.exists() else {}
    return scenario.get("step", []), {**fixtures, **scenario.get("fixtures", {})}


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for k, v in data.items()}


def _real_dossier(eng: Engine, code: str, index: int, citizen_id: int, agency_id: int,
                  officials: dict[tuple[int, str], list[int]]) -> bool:
    """Start a dossier through the facade and follow one of the procedure's scenarios part of the way."""
    from .errors import EngineError

    steps, fixtures = _scenario_steps(code, index // 6, eng.settings.root)
    stop_after = 1 + (index * 7) % max(len(steps), 1)
    try:
        with eng.session() as s:
            dossier_id = eng.start_dossier(s, code, s.get(User, citizen_id), agency_id).id
            s.commit()
        for step in steps[:stop_after]:
            if "wait_until" in step or "errors" in step:
                break  # timers and refused input are the scenario runner's business
            with eng.session() as s:
                if "withdraw" in step:
                    eng.withdraw(s, dossier_id, s.get(User, citizen_id), str(step["withdraw"]))
                    s.commit()
                    continue
                if "task" not in step:
                    continue
                role = str(step.get("as", APPLICANT_ROLE))
                if role == APPLICANT_ROLE:
                    actor = s.get(User, citizen_id)
                else:
                    pool = officials.get((agency_id, role))
                    if not pool:
                        return False
                    actor = s.get(User, pool[0])
                view = eng.dossier(s, dossier_id, s.get(User, citizen_id))
                matches = [t for t in view.open_tasks if t.bpmn_id == step["task"]]
                if not matches:
                    return False
                # the files the step goes with: the applicant's documents, or the official's result
                dossier = s.get(Dossier, dossier_id)
                if role == APPLICANT_ROLE:
                    scenarios.attach_documents(eng, s, step, dossier, actor)
                else:
                    eng.claim(s, matches[0].id, actor)
                    s.commit()
                    scenarios.attach_result(eng, s, step, matches[0].id, s.get(Dossier, dossier_id), actor)
                data: dict[str, Any] = {}
                if "data_from" in step:
                    data.update(_plain(fixtures.get(step["data_from"], {})))
                data.update(_plain(step.get("data", {})))
                eng.complete(s, matches[0].id, actor, data)
                s.commit()
        return True
    except (EngineError, scenarios.StepFailed):
        return False
