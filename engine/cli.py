"""The ``motcua`` command: validate procedures, set up the database, load procedures and demo data, serve."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import DEFAULT_ROOT, Settings


def cmd_validate(args: argparse.Namespace) -> int:
    from .procedures import check_bpmn_dir, manifest_bpmn_files, read_all

    target = Path(args.dir).resolve() if args.dir else DEFAULT_ROOT
    if not target.is_dir():
        print(f"error: {target} is not a directory", file=sys.stderr)
        return 2
    if (target / "workflows").is_dir():
        compiled, problems = read_all(target)
        problems += check_bpmn_dir(target / "bpmn", skip=manifest_bpmn_files(target))
    else:  # a directory of diagrams (e.g. a copy of bpmn/), checked with the checkout's manifests and forms
        compiled, problems = read_all(DEFAULT_ROOT, bpmn_dir=target)
        problems += check_bpmn_dir(target, skip=manifest_bpmn_files(DEFAULT_ROOT))
    unique = list(dict.fromkeys(problems))
    for problem in unique:
        print(f"ERROR {problem}")
    if unique:
        print(f"{len(unique)} problem(s) found.")
        return 1
    print(f"OK: {len(compiled)} procedure(s) valid: {', '.join(c.source.code for c in compiled)}")
    return 0


def cmd_procedures_test(args: argparse.Namespace) -> int:
    """Run the procedures' scenario files headlessly; with --coverage, list what of each diagram they missed."""
    from . import scenarios
    from .errors import ProcedureError

    root = Path(args.root).resolve() if args.root else DEFAULT_ROOT
    known = scenarios.procedures_with_manifests(root)
    codes = [args.procedure] if args.procedure else known
    if args.procedure and args.procedure not in known:
        print(f"error: no procedure '{args.procedure}' (known: {', '.join(known)})", file=sys.stderr)
        return 2
    try:
        results = scenarios.run(root, codes, args.database_url)
    except ProcedureError as exc:
        print(exc.message["en"], file=sys.stderr)
        return 1
    failed = gaps = 0
    for code, items in results.items():
        if not items:
            print(f"FAIL {code}: no scenarios in workflows/{code}/scenarios/")
            failed += 1
        for r in items:
            print(f"{'PASS' if r.passed else 'FAIL'} {code}/{r.name}: {r.title}" + ("" if r.passed else f"\n     {r.message}"))
            failed += not r.passed
        if args.coverage:
            cov = scenarios.coverage(root, code, items)
            for node in cov.unreached_nodes:
                print(f"  UNREACHED {code}: element {node}")
            for flow in cov.untaken_flows:
                print(f"  UNTAKEN   {code}: flow {flow}")
            gaps += len(cov.unreached_nodes) + len(cov.untaken_flows)
            if not cov.unreached_nodes and not cov.untaken_flows and items:
                print(f"  coverage {code}: every element and branch reached")
    total = sum(len(v) for v in results.values())
    print(f"{total - failed if failed <= total else 0} of {total} scenario(s) passed" + (f"; {gaps} gap(s) in coverage" if args.coverage else ""))
    return 1 if failed or gaps else 0


def cmd_procedures_import(args: argparse.Namespace) -> int:
    """Import a spiff-arena process model folder as a procedure, then check it as `motcua validate` does."""
    from .importer import ImportRefused, import_spiff_arena

    root = Path(args.root).resolve() if args.root else DEFAULT_ROOT
    try:
        result = import_spiff_arena(Path(args.dir).resolve(), root, args.code, overwrite=args.force)
    except ImportRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"imported '{result.code}': {', '.join(result.written)}")
    for change in result.changes:
        print(f"note: {change}")
    for problem in result.problems:
        print(f"ERROR {problem}")
    if result.problems:
        print(f"{len(result.problems)} problem(s) to fix before the procedure can be deployed.")
        return 1
    print("OK: the procedure is valid; review the notes, then deploy it (motcua setup, or the designers' page).")
    return 0


def _fire_timers(engine: Any) -> int:
    with engine.session() as session:
        fired = engine.fire_due_timers(session)
        session.commit()
    return fired


#: the worker's jobs, in the order of a run: (what it does, for the log; the job)
WORKER_JOBS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("firing timers", _fire_timers),
    ("sending notices", lambda engine: engine.send_due_notices()),
    ("sending account alerts", lambda engine: engine.send_due_alerts()),
    ("sending task notices", lambda engine: engine.send_due_task_notices()),
    ("sending reminders", lambda engine: engine.send_reminders()),
    ("posting webhooks", lambda engine: engine.deliver_webhooks()),
)


def _worker_run(engine: Any) -> list[Any]:
    """One run of every job: what each did, or None for one that failed (logged; a failed job, the database or
    the mail server away or a fault, must not end the worker or the server that runs it: the next run retries)."""
    done = []
    for what, job in WORKER_JOBS:
        try:
            done.append(job(engine))
        except Exception:  # noqa: BLE001
            logging.getLogger("motcua.worker").exception("%s failed; the next run retries", what)
            done.append(None)
    return done


def _worker_thread(args: argparse.Namespace) -> None:
    import time

    engine = _engine()
    while True:
        _worker_run(engine)
        time.sleep(args.interval)


def cmd_worker(args: argparse.Namespace) -> int:
    """Fire due BPMN timers (verification deadlines, silence-as-consent, …), send the mail owed to applicants
    (engine.notices), to people whose account's protection changed (engine.alerts) and to officials given a task
    (engine.task_mail), the officials' daily reminders (engine.reminders) and the API clients' webhooks
    (engine.webhooks) every ``--interval`` seconds."""
    import signal
    import time

    engine = _engine()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"motcua worker: firing due timers and sending notices every {args.interval} s (Ctrl+C to stop)",
          flush=True)
    while not stopping:
        done = _worker_run(engine)
        if None in done and args.once:
            return 1
        fired, sent, alerted, given, reminded, posted = done
        if fired:
            print(f"fired the due timers of {fired} dossier(s)", flush=True)
        for what, mails in (("notices", sent), ("account alerts", alerted), ("task notices", given)):
            if mails:
                print(f"{what}: {mails.sent} sent, {mails.skipped} not to be sent, {mails.retrying} to try again, "
                      f"{mails.failed} given up", flush=True)
        if reminded and reminded.sent:
            print(f"reminders: {reminded.sent} official(s) reminded of tasks due", flush=True)
        if posted and (posted.batches or posted.failed):
            print(f"webhooks: {posted.items} change(s) posted in {posted.batches} batch(es), {posted.failed} "
                  "batch(es) to post again", flush=True)
        if args.once:
            break
        for _ in range(int(args.interval * 10)):
            if stopping:
                break
            time.sleep(0.1)
    engine.db.dispose()
    return 0


def cmd_agency_day(args: argparse.Namespace) -> int:
    """An agency's own day off, or a make-up working day (deadlines of its dossiers count with it)."""
    import datetime as dt

    from sqlalchemy import select

    from .models import Agency, AgencyDay

    engine = _engine()
    with engine.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == args.agency))
        if agency is None:
            print(f"error: no agency with code {args.agency}", file=sys.stderr)
            return 2
        if args.date:
            try:
                day = dt.date.fromisoformat(args.date)
            except ValueError:
                print(f"error: {args.date} is not a date (YYYY-MM-DD)", file=sys.stderr)
                return 2
            row = session.get(AgencyDay, (agency.id, day)) or AgencyDay(agency_id=agency.id, day=day)
            row.working, row.note = args.working, args.note
            session.add(row)
            session.commit()
        for row in sorted(agency.days, key=lambda r: r.day):
            print(f"{row.day.isoformat()}  {'working day' if row.working else 'day off':11}  {row.note or ''}")
    return 0


def _engine():  # noqa: ANN202 - imported lazily so that `validate` needs no database
    from .api import Engine

    return Engine(Settings.from_env())


def cmd_setup(args: argparse.Namespace) -> int:
    """Migrate the database, deploy the procedures and (unless --no-demo) create the demo accounts."""
    from . import demo
    from .errors import ProcedureError

    engine = _engine()
    engine.upgrade_database()
    with engine.session() as session:
        try:
            deployed = engine.deploy(session)
        except ProcedureError as exc:
            print(exc.message["en"], file=sys.stderr)
            return 1
        created = [] if args.no_demo else demo.seed(session)
        session.commit()
    for d in deployed:
        print(f"procedure {d.code}: {'new version' if d.new else 'unchanged'} {d.content_hash[:12]}")
    if not args.no_demo:
        print(f"demo accounts (password {demo.DEMO_PASSWORD}):")
        for acc in demo.ACCOUNTS:
            print(f"  {acc.email:28} {acc.kind:9} {', '.join(acc.roles)}{'  (new)' if acc in created else ''}")
    return 0


def cmd_admin(args: argparse.Namespace) -> int:
    """Create an administrator (or set one's name and password): how the first one comes to be."""
    import getpass
    import os

    from . import administration
    from .errors import FormInvalid

    password = os.environ.get("MOTCUA_ADMIN_PASSWORD")
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    engine = _engine()
    with engine.session() as session:
        try:
            _user, new = administration.make_admin(session, args.email, args.name, password,
                                                   "designer" if args.designer else "admin")
        except FormInvalid as exc:
            for field, message in exc.errors.items():
                print(f"error: {field}: {message['en']}", file=sys.stderr)
            return 2
        session.commit()
    who = "process designer" if args.designer else "administrator"
    print(f"{who} {args.email.strip().lower()}: {'created' if new else 'updated'}")
    return 0


def cmd_two_step_off(args: argparse.Namespace) -> int:
    """Turn two-step login off for an account whose owner lost their phone and recovery codes (a citizen who came
    to the desk; staff are helped by an administrator on the portal's pages)."""
    from . import two_step

    engine = _engine()
    with engine.session() as session:
        account = two_step.turn_off(session, args.email)
        session.commit()
    engine.db.dispose()
    if account is None:
        print(f"error: no account {args.email}", file=sys.stderr)
        return 2
    print(f"two-step login off for {account.email}")
    return 0


def cmd_reseal(_args: argparse.Namespace) -> int:
    """Seal the two-step secrets again with the first key of MOTCUA_DATA_KEY (see engine.sealed)."""
    from . import sealed, two_step

    engine = _engine()
    try:
        with engine.session() as session:
            done, unreadable = two_step.reseal(session, engine.settings)
            session.commit()
    except sealed.NoKey:
        print("error: set MOTCUA_DATA_KEY (the new key first, then the old ones, comma separated)", file=sys.stderr)
        return 2
    finally:
        engine.db.dispose()
    print(f"{done} two-step secret(s) sealed again with the first key")
    if unreadable:
        print(f"error: no key of MOTCUA_DATA_KEY opens the secret of account(s) {', '.join(map(str, unreadable))}; "
              "add the key they were sealed with, or turn their two-step login off (motcua two-step-off)",
              file=sys.stderr)
        return 1
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Bulk-generate a province's year of dossiers for measuring queries at scale (see engine/seed.py)."""
    from . import seed
    from .api import Engine
    from .errors import ProcedureError

    if args.dossiers < 0:
        print("error: --dossiers must be 0 or more", file=sys.stderr)
        return 2
    engine = Engine(Settings.from_env(database_url=args.database_url))
    engine.upgrade_database()
    with engine.session() as session:
        try:
            engine.deploy(session)
        except ProcedureError as exc:
            print(exc.message["en"], file=sys.stderr)
            return 1
        session.commit()
    try:
        seed.seed(engine, args.dossiers, real=args.real, seed_value=args.seed, progress=not args.quiet)
    finally:
        engine.db.dispose()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import waitress

    from web import create_app

    os.environ.setdefault("MOTCUA_DEV", "1")
    port = int(args.port or os.environ.get("PORT", "5000"))
    # links in mail (printed to the console without a mail server) lead to this server
    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    os.environ.setdefault("MOTCUA_BASE_URL", f"http://{local}:{port}")
    if not os.environ.get("MOTCUA_SIGNING_P12"):  # the slips signed with a demonstration certificate
        from .signing import demo_key

        os.environ["MOTCUA_SIGNING_P12"] = str(demo_key(Settings.from_env().root / "instance"))
    app = create_app()
    if not args.no_worker:  # for a single-process set-up; production runs `motcua worker` on its own
        import threading

        worker_args = argparse.Namespace(interval=10.0, once=False)
        threading.Thread(target=_worker_thread, args=(worker_args,), daemon=True, name="worker").start()
    print(f"Serving motcua on http://{args.host}:{port}/  (Ctrl+C to stop)")
    waitress.serve(app, host=args.host, port=port, threads=8)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="motcua", description="Một cửa: online public services run as BPMN.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check procedures (manifests, BPMN, forms, scripts); exit 1 on problems")
    p.add_argument("dir", nargs="?", help="project root or a directory of .bpmn files (default: the checkout)")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("procedures", help="designer tools for procedures")
    psub = p.add_subparsers(dest="procedures_command", required=True)
    t = psub.add_parser("test", help="run the scenario files of every procedure (or one) against a fresh database")
    t.add_argument("procedure", nargs="?", help="a procedure code (default: all)")
    t.add_argument("--coverage", action="store_true", help="also list diagram elements and branches no scenario reached")
    t.add_argument("--database-url", help="run against this database instead of a temporary SQLite file")
    t.add_argument("--root", help=argparse.SUPPRESS)
    t.set_defaults(func=cmd_procedures_test)
    t = psub.add_parser("import", help="import a spiff-arena process model folder (process_model.json, BPMN, "
                                       "forms) as a procedure, and check it")
    t.add_argument("dir", help="the process model's folder")
    t.add_argument("--code", help="the procedure's code (default: from the folder's name)")
    t.add_argument("--force", action="store_true", help="overwrite a procedure of that code")
    t.add_argument("--root", help=argparse.SUPPRESS)
    t.set_defaults(func=cmd_procedures_import)
    p = sub.add_parser("agency-day", help="list or set an agency's own days off and make-up working days")
    p.add_argument("agency", help="the agency's code, e.g. 000.31.27.H14")
    p.add_argument("date", nargs="?", help="YYYY-MM-DD to set (omit to list)")
    p.add_argument("--working", action="store_true", help="a make-up working day (default: a day off)")
    p.add_argument("--note", help="why, e.g. the Saturday worked for a bridge day")
    p.set_defaults(func=cmd_agency_day)
    p = sub.add_parser("admin", help="create an administrator, or set one's name and password (the password from "
                                     "MOTCUA_ADMIN_PASSWORD, else asked for)")
    p.add_argument("email")
    p.add_argument("--name", required=True, help="the administrator's full name")
    p.add_argument("--designer", action="store_true",
                   help="a process designer's account instead (the designers' pages: versions, deploying, moving "
                        "dossiers)")
    p.set_defaults(func=cmd_admin)
    p = sub.add_parser("two-step-off", help="turn two-step login off for an account whose phone and recovery codes "
                                            "are lost (its other sessions end)")
    p.add_argument("email")
    p.set_defaults(func=cmd_two_step_off)
    p = sub.add_parser("reseal", help="seal two-step login's secrets again with the first key of MOTCUA_DATA_KEY "
                                      "(after putting a new key in front of the old one, or to seal secrets kept "
                                      "before sealing came in)")
    p.set_defaults(func=cmd_reseal)
    p = sub.add_parser("worker", help="fire due BPMN timers, send notices to applicants and reminders to officials, "
                                            "post webhooks, periodically")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between runs (default 30)")
    p.add_argument("--once", action="store_true", help="run once and exit")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("setup", help="migrate the database, deploy procedures, create demo accounts")
    p.add_argument("--no-demo", action="store_true", help="do not create the demo agency and accounts")
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser(
        "seed", help="bulk-generate dossiers for measuring queries at scale (placeholder workflow state)",
        description="Bulk-generate agencies, officials, citizens and N dossiers over a year, statuses and "
                    "procedures, for measuring queries at scale. Only the first --real dossiers run through the "
                    "engine; the others hold a placeholder workflow state and cannot be advanced.")
    p.add_argument("--dossiers", type=int, required=True, help="how many dossiers (e.g. 1000000)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: MOTCUA_DATABASE_URL or the SQLite file)")
    p.add_argument("--real", type=int, default=100, help="how many run through the engine facade (default 100)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("serve", help="serve the portal with waitress")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--no-worker", action="store_true", help="do not fire BPMN timers in this process")
    p.set_defaults(func=cmd_serve)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
