"""Query latency at data scale: the facade's read paths with a province's year of dossiers in PostgreSQL.

In a fresh schema of ``MOTCUA_BENCH_POSTGRES_URL`` (dropped at the end unless ``--keep``): migrate, deploy, demo
accounts, seed ``--small`` dossiers and measure, then seed up to ``--dossiers`` and measure again. Measured,
each ~``--calls`` times with random actors (p50/p95 in ms, one session per call as a web request would):

* ``inbox``: ``Engine.queue(session, official)``: a random seeded official's group queue
* ``my_tasks``: ``Engine.my_tasks(session, official)``: tasks a random seeded official has claimed
* ``lookup``: ``Engine.dossier_by_code(session, code, applicant)``: a random dossier by its code
* ``my_dossiers``: ``Engine.dossiers_of(session, citizen)``: a random citizen's dossiers

and the pages that show them, each a whole request through the Flask app in this process (its test client; the
session cookie, the signed-in user's read, the engine's calls and the template), signed in as the same actors:

* ``inbox_page``: ``GET /can-bo/`` (the group queue and the official's own tasks)
* ``lookup_page``: ``GET /tra-cuu?ma=<code>`` and the dossier page it redirects to (details, timeline, diagram),
  for dossiers seeded through the engine (the bulk-copied ones hold no workflow state to draw). These are few, so
  a dossier comes up more than once: the walks the engine keeps for redrawing a dossier (``VersionCache.walks``)
  are cleared before each page, which is timed as the dossier's first drawing in the process
* ``my_dossiers_page``: ``GET /ho-so`` (a page of the citizen's dossiers and their open tasks)
* ``agency_applicant_page``: ``GET /can-bo/ho-so?nguoi-nop=<personal ID number>``: an official of a random dossier's
  agency finds its applicant's dossiers; ``agency_applicant_name_page``: the same by the applicant's full name typed
  without diacritics (the seeded names are drawn from few words: one name is tens of accounts, a worst case)
* ``statistics_month_page``, ``statistics_year_page``: ``GET /can-bo/thong-ke`` (the official's agency's figures
  for this month) and the same for this year (engine.statistics; an agency's year is tens of thousands of dossiers)
* ``public_statistics_month``, ``public_statistics_year``: every agency's figures for this month and this year, as
  the public statistics page counts them (``engine.statistics.by_agency``) when it has none kept, five times each
* ``agency_dossiers_page``, ``agency_overdue_page``: ``GET /can-bo/ho-so`` (a page of the agency's dossiers, newest
  first) and the same with only those still open past their due date

Each kind of call is warmed up with its first 20 actors before timing. The small size is the same-run baseline;
ratios are large/small. ``--explain`` prints EXPLAIN ANALYZE of each
query's SQL for one sample actor. Figures are merged into ``benchmarks/results.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from engine import demo, runtime, seed  # noqa: E402
from engine.api import Engine  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.i18n import fold  # noqa: E402
from engine.models import Dossier, HumanTask, User, UserRole  # noqa: E402
from engine.procedures import APPLICANT_ROLE  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULTS = Path(__file__).resolve().parent / "results.json"
CALLS = ("inbox", "my_tasks", "lookup", "my_dossiers")
#: page → (the calls' sample it takes its actors from, the signed-in user of a sample, its URL, a text it shows)
PAGES: dict[str, tuple[str, Callable[[Any], int], Callable[[Any], str], Callable[[Any], str]]] = {
    "inbox_page": ("inbox", lambda uid: uid, lambda uid: "/can-bo/", lambda uid: "app-task-table"),
    "lookup_page": ("lookup_page", lambda pair: pair[1], lambda pair: f"/tra-cuu?ma={pair[0]}",
                    lambda pair: f'<span class="app-code">{pair[0]}</span>'),
    "my_dossiers_page": ("my_dossiers", lambda uid: uid, lambda uid: "/ho-so", lambda uid: "Hồ sơ của tôi</h1>"),
    "statistics_month_page": ("inbox", lambda uid: uid, lambda uid: "/can-bo/thong-ke",
                              lambda uid: "Thống kê giải quyết hồ sơ"),
    "statistics_year_page": ("inbox", lambda uid: uid, lambda uid: f"/can-bo/thong-ke?thang=&nam={_this_year()}",
                             lambda uid: "Thống kê giải quyết hồ sơ"),
    "agency_dossiers_page": ("inbox", lambda uid: uid, lambda uid: "/can-bo/ho-so", lambda uid: "data-dossier-code"),
    "agency_overdue_page": ("inbox", lambda uid: uid, lambda uid: "/can-bo/ho-so?qua-han=1",
                            lambda uid: "Hồ sơ của cơ quan"),
    # an official of the dossier's agency finds the applicant's dossiers by their personal ID number
    "agency_applicant_page": ("applicant_page", lambda pair: pair[0], lambda pair: f"/can-bo/ho-so?nguoi-nop={pair[1]}",
                              lambda pair: "data-dossier-code"),
    "agency_applicant_name_page": ("applicant_name_page", lambda pair: pair[0],
                                   lambda pair: "/can-bo/ho-so?" + urlencode({"nguoi-nop": pair[1]}),
                                   lambda pair: "data-dossier-code"),
}


def _this_year() -> int:
    from engine import calendar, clock

    return calendar.to_local(clock.now()).year
WARMUP = 20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def samples(eng: Engine, rng: random.Random, n: int) -> dict[str, list[Any]]:
    with eng.session() as s:
        seeded = User.email.like(f"%@{seed.EMAIL_DOMAIN}")
        officials = s.scalars(select(User.id).where(User.kind == "official", seeded)).all()
        citizens = s.scalars(select(User.id).where(User.kind == "citizen", seeded)).all()
        top = s.scalar(select(func.max(Dossier.id)))
        ids = [rng.randint(1, top) for _ in range(n * 3)]
        codes = s.execute(select(Dossier.code, Dossier.applicant_id)
                          .where(Dossier.id.in_(ids), Dossier.code.is_not(None))).all()
        # the dossier page draws the workflow's state: only the dossiers seeded through the engine have one
        real = s.execute(select(Dossier.code, Dossier.applicant_id).where(
            Dossier.workflow != runtime.PLACEHOLDER_STATE, Dossier.code.is_not(None))).all()
        official_of = dict(s.execute(select(User.agency_id, User.id).where(User.kind == "official", seeded)).all())
        found = s.execute(select(Dossier.agency_id, User.id_number, User.full_name)
                          .join(User, User.id == Dossier.applicant_id)
                          .where(Dossier.id.in_(ids), Dossier.submitted_at.is_not(None),
                                 User.id_number.is_not(None))).all()
        applicants = [(official_of[agency], number) for agency, number, _name in found if agency in official_of]
        named = [(official_of[agency], fold(name)) for agency, _number, name in found if agency in official_of]
    rng.shuffle(codes)
    return {"inbox": [rng.choice(officials) for _ in range(n)], "my_tasks": [rng.choice(officials) for _ in range(n)],
            "lookup": [tuple(c) for c in codes[:n]], "my_dossiers": [rng.choice(citizens) for _ in range(n)],
            "lookup_page": [tuple(rng.choice(real)) for _ in range(n)], "applicant_page": applicants[:n],
            "applicant_name_page": named[:n]}


def measure(eng: Engine, picks: dict[str, list[Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    calls: dict[str, Callable[[Any, Any], int]] = {
        "inbox": lambda s, uid: len(eng.queue(s, eng.user(s, uid))),
        "my_tasks": lambda s, uid: len(eng.my_tasks(s, eng.user(s, uid))),
        "lookup": lambda s, pair: len(eng.dossier_by_code(s, pair[0], eng.user(s, pair[1])).code),
        "my_dossiers": lambda s, uid: len(eng.dossiers_of(s, eng.user(s, uid))),
    }
    for name in CALLS:
        times, sizes = [], []
        for arg in picks[name][:WARMUP]:  # warm the version cache, the pool and PostgreSQL's buffers first
            with eng.session() as s:
                calls[name](s, arg)
                s.rollback()
        for arg in picks[name]:
            with eng.session() as s:
                # the actor is loaded before the clock starts (a request has it from its login session)
                actor_id = arg[1] if name == "lookup" else arg
                eng.user(s, actor_id).roles  # noqa: B018 - load the roles as Flask-Login's loader would
                started = time.perf_counter()
                size = calls[name](s, arg)
                times.append((time.perf_counter() - started) * 1000)
                sizes.append(size)
                s.rollback()
        out[name] = {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95), "max_ms": max(times),
                     "mean_rows": statistics.fmean(sizes) if name != "lookup" else 1.0,
                     "max_rows": max(sizes) if name != "lookup" else 1, "calls": len(times)}
    return out


#: what the public statistics page counts when its figures are not kept (engine.statistics.by_agency: every
#: agency's dossiers of the period), timed without the page's ten-minute keeping
COUNTS = ("public_statistics_month", "public_statistics_year")
COUNT_RUNS = 5


def measure_counts(eng: Engine) -> dict[str, dict[str, float]]:
    from engine import calendar, clock
    from engine import statistics as figures

    today = calendar.to_local(clock.now())
    out: dict[str, dict[str, float]] = {}
    for name, month in zip(COUNTS, (today.month, None)):
        bounds = figures.period(today.year, month)
        times = []
        for _ in range(COUNT_RUNS + 1):  # (the first warms PostgreSQL's buffers: not timed)
            with eng.session() as s:
                started = time.perf_counter()
                figures.by_agency(s, *bounds)
                times.append((time.perf_counter() - started) * 1000)
        out[name] = {"p50_ms": pct(times[1:], 0.5), "p95_ms": pct(times[1:], 0.95), "max_ms": max(times[1:]),
                     "calls": COUNT_RUNS}
    return out


def measure_pages(eng: Engine, picks: dict[str, list[Any]]) -> dict[str, dict[str, float]]:
    """The pages of :data:`PAGES`: the time of the whole request, redirects followed, in ms."""
    from web import create_app

    app = create_app(engine=eng, SECRET_KEY="scale-bench-" + uuid.uuid4().hex)
    out: dict[str, dict[str, float]] = {}

    def get(user_id: int, url: str, shows: str) -> float:
        client = app.test_client()
        with eng.session() as s:
            kept = eng.user(s, user_id).get_id()
        with client.session_transaction() as session:  # signed in as Flask-Login keeps it, before the clock
            session["_user_id"], session["_fresh"] = kept, True
        client.get("/")  # (a first request settles the session cookie: the timed one is a returning user's)
        eng.versions.walks.clear()  # each dossier drawn as if for the first time in this process (the worst case)
        started = time.perf_counter()
        response = client.get(url, follow_redirects=True)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or shows not in response.get_data(as_text=True):
            raise RuntimeError(f"{url} as user {user_id}: {response.status_code}, without {shows!r}")
        return elapsed

    for name, (sample, user, url, shows) in PAGES.items():
        for arg in picks[sample][:WARMUP]:
            get(user(arg), url(arg), shows(arg))
        times = [get(user(arg), url(arg), shows(arg)) for arg in picks[sample]]
        out[name] = {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95), "max_ms": max(times), "calls": len(times)}
    return out


def explain(eng: Engine, picks: dict[str, list[Any]]) -> None:
    """EXPLAIN ANALYZE of each call's main query, for the heaviest sampled actor."""
    with eng.session() as s:
        heavy_official = s.execute(
            select(HumanTask.claimed_by_id, func.count())
            .where(HumanTask.state == "open", HumanTask.claimed_by_id.is_not(None))
            .group_by(HumanTask.claimed_by_id).order_by(func.count().desc()).limit(1)).first()
        heavy_citizen = s.execute(select(Dossier.applicant_id, func.count()).group_by(Dossier.applicant_id)
                                  .order_by(func.count().desc()).limit(1)).first()
        official = eng.user(s, picks["inbox"][0])
        roles = sorted(official.roles)
        code, _ = picks["lookup"][0]
        queries = {
            "inbox": (select(HumanTask.id).where(HumanTask.state == "open", HumanTask.agency_id == official.agency_id,
                                                 HumanTask.role.in_(roles), HumanTask.claimed_by_id.is_(None))
                      .order_by(HumanTask.created_at, HumanTask.id)),
            "my_tasks": (select(HumanTask.id)
                         .where(HumanTask.state == "open", HumanTask.claimed_by_id == heavy_official[0])
                         .order_by(HumanTask.created_at, HumanTask.id)),
            "my_tasks_citizen": (select(HumanTask.id).join(Dossier).where(
                HumanTask.state == "open", HumanTask.role == APPLICANT_ROLE, Dossier.applicant_id == heavy_citizen[0])
                .order_by(HumanTask.created_at, HumanTask.id)),
            "lookup": select(Dossier.id).where(Dossier.code == code),
            "my_dossiers": (select(Dossier.id).where(Dossier.applicant_id == heavy_citizen[0])
                            .order_by(Dossier.created_at.desc(), Dossier.id.desc())),
            "dossier_tasks": select(HumanTask.id).where(HumanTask.dossier_id == 12345).order_by(HumanTask.id),
        }
        print(f"\nheaviest claimer {heavy_official}, heaviest applicant {heavy_citizen}")
        for name, q in queries.items():
            compiled = q.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
            plan = s.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
            print(f"\n-- {name}: {compiled}".replace("\n", " "))
            print("\n".join("   " + line for line in plan))


def merge_results(figures: dict[str, Any]) -> None:
    current = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    current.update(figures)
    RESULTS.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")


def report(results: dict[str, dict[str, dict[str, float]]], heading: str, names: Iterable[str],
           with_rows: bool) -> dict[str, Any]:
    """Print a table of the measured ``names`` at both sizes; return their figures for results.json."""
    names = list(names)
    width = max(len(heading), *map(len, names)) + 1
    print(f"{heading:{width}} {'small p50':>10} {'small p95':>10} {'large p50':>10} {'large p95':>10} {'p95 ratio':>10}"
          + (f" {'rows small':>11} {'rows large':>11} {'max rows':>9}" if with_rows else ""))
    figures: dict[str, Any] = {}
    for name in names:
        sm, lg = results["small"][name], results["large"][name]
        ratio = lg["p95_ms"] / sm["p95_ms"] if sm["p95_ms"] else float("nan")
        print(f"{name:{width}} {sm['p50_ms']:10.2f} {sm['p95_ms']:10.2f} {lg['p50_ms']:10.2f} {lg['p95_ms']:10.2f}"
              f" {ratio:10.2f}" + (f" {sm['mean_rows']:11.1f} {lg['mean_rows']:11.1f} {lg['max_rows']:9}"
                                  if with_rows else ""))
        figures.update({
            f"scale_{name}_p50_ms": round(lg["p50_ms"], 2), f"scale_{name}_p95_ms": round(lg["p95_ms"], 2),
            f"scale_small_{name}_p50_ms": round(sm["p50_ms"], 2), f"scale_small_{name}_p95_ms": round(sm["p95_ms"], 2),
            f"scale_{name}_p95_ratio": round(ratio, 2),
        })
        if with_rows:
            figures.update({f"scale_{name}_mean_rows": round(lg["mean_rows"], 1),
                            f"scale_{name}_max_rows": lg["max_rows"]})
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dossiers", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=10_000, help="baseline size, measured first (default 10,000)")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the schema (its URL is printed)")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the queries at each size")
    ap.add_argument("--no-results", action="store_true", help="do not write benchmarks/results.json")
    args = ap.parse_args(argv)

    base = os.environ.get("MOTCUA_BENCH_POSTGRES_URL", DEFAULT_URL)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    print(f"schema {schema}", file=sys.stderr)
    rng = random.Random(7)
    eng = Engine(Settings(database_url=url))
    try:
        eng.upgrade_database()
        with eng.session() as s:
            eng.deploy(s)
            demo.seed(s)
            s.commit()
        small = min(args.small, args.dossiers)
        first = seed.seed(eng, small, real=100, seed_value=2026)
        picked = samples(eng, rng, args.calls)
        results = {"small": measure(eng, picked) | measure_pages(eng, picked) | measure_counts(eng)}
        if args.explain:
            explain(eng, samples(eng, rng, 1))
        seconds = first.seconds
        big = first
        if args.dossiers > small:
            big = seed.seed(eng, args.dossiers - small, real=0, seed_value=2027)
            seconds += big.seconds
            picked = samples(eng, rng, args.calls)
            results["large"] = measure(eng, picked) | measure_pages(eng, picked) | measure_counts(eng)
            if args.explain:
                explain(eng, samples(eng, rng, 1))
        else:
            results["large"] = results["small"]
        with eng.session() as s:
            counts = {t: s.scalar(text(f'SELECT count(*) FROM "{t}"'))
                      for t in ("dossier", "human_task", "audit_event", "user_account")}
            open_tasks = s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "open"))
            officials = s.scalar(select(func.count()).select_from(UserRole))
        print(f"\nrows: {counts}, open tasks {open_tasks:,}, official roles {officials}")
        print(f"seeded {args.dossiers:,} dossiers in {seconds:.1f} s ({args.dossiers / seconds:,.0f}/s; "
              f"small phase {first.seconds:.1f} s, large phase {big.seconds if big is not first else 0:.1f} s)\n")
        figures: dict[str, Any] = {"scale_dossiers": args.dossiers, "scale_small_dossiers": small,
                                   "scale_seed_seconds": round(seconds, 1),
                                   "scale_seed_dossiers_per_s": round(args.dossiers / seconds)}
        figures.update(report(results, "call", CALLS, with_rows=True))
        print()
        figures.update(report(results, "page", PAGES, with_rows=False))
        print()
        figures.update(report(results, "count", COUNTS, with_rows=False))
        figures["scale_meta"] = {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                                 "calls": args.calls, "rows": counts, "open_tasks": open_tasks, "argv": sys.argv[1:]}
        if not args.no_results:
            merge_results(figures)
            print(f"\nmerged into {RESULTS}")
    finally:
        eng.db.dispose()
        if args.keep:
            print(f"kept schema {schema}: {url}", file=sys.stderr)
        else:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
