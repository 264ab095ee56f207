"""Where a web worker spends its time: the web benchmark's journeys against the app in this process, under
pyinstrument.

The app serves requests on the main thread (Werkzeug's single-threaded server, SQLite in a temporary
directory) while ``web_client.py``'s journeys run from another thread, so the profile holds only the server's
work, and of it only what happens inside Flask's ``wsgi_app`` is counted (not the server reading requests or
waiting for them). Prints the share of time by library and the milliseconds per journey in each kind of work (the
signed-in user, engine calls, template rendering, password hashing, Flask and Werkzeug) and by route (each
page's requests per journey and their time, so that the pages a journey spends most on stand out), and merges
them into ``benchmarks/results.json`` under ``profile_web``. ``--html FILE`` also writes pyinstrument's report.

Figures include the profiler's own overhead; compare shares, not absolute times, with ``web_bench.py``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import web_client  # noqa: E402
from engine_bench import _facade_engine  # noqa: E402
from profile_step import LIBRARIES, by_library, by_part  # noqa: E402

WEB_LIBRARIES = (  # checked before profile_step's groups
    ("templates (Jinja, govuk-frontend macros, MarkupSafe)", ("/jinja2/", "/markupsafe/", "govuk_frontend_jinja",
                                                              "web/templating.py", "/templates/")),
    ("Werkzeug (HTTP server, routing, cookies)", ("/werkzeug/",)),
    ("Flask and its extensions", ("/flask/", "/flask_", "/wtforms/", "/itsdangerous/", "/babel/")),
    ("password hashing (argon2)", ("/argon2/",)),
    ("our web views", ("/web/",)),
)
#: kinds of work by the function doing them (outermost call counted)
PARTS = (
    ("signed-in user (Flask-Login's loader)", "web/__init__.py", "load_user"),
    ("engine facade calls", "engine/api.py", None),
    ("template rendering", "flask/templating.py", "render_template"),
    ("password hashing", "argon2/_password_hasher.py", None),
)


def app_frames(root: Any) -> list[Any]:
    """The outermost calls of Flask's ``wsgi_app``: the app's work, without the server waiting for requests."""
    found, stack = [], [root]
    while stack:
        frame = stack.pop()
        if frame.function == "wsgi_app" and "flask/app.py" in (frame.file_path or ""):
            found.append(frame)
        else:
            stack.extend(frame.children)
    return found


def timed_by_route(app: Any, wsgi_app: Any, by_route: dict[str, list[float]]) -> Any:
    """``wsgi_app`` timing each request into ``by_route`` under its method and URL rule (``/cong-viec/<int:task_id>``,
    not each task's path)."""
    adapter_for = app.url_map.bind_to_environ

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        try:
            return wsgi_app(environ, start_response)
        finally:
            try:
                rule = adapter_for(environ).match(return_rule=True)[0].rule
            except Exception:  # noqa: BLE001 - a 404 or a redirect of the router: counted under its path
                rule = environ.get("PATH_INFO", "?")
            by_route[f"{environ['REQUEST_METHOD']} {rule}"].append(time.perf_counter() - started)

    return timed


def web_groups(root: Any) -> Counter[str]:
    """profile_step's grouping, with the web's own libraries told apart first."""
    return by_library(root, tuple((name, f) for name, fragments in WEB_LIBRARIES for f in fragments) + LIBRARIES)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=40, help="journeys profiled")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    args = parser.parse_args()

    from werkzeug.serving import make_server

    from engine.config import DEFAULT_ROOT
    from web import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        engine = _facade_engine(f"sqlite:///{Path(tmp) / 'web.db'}", DEFAULT_ROOT)
        # every journey registers a new citizen from this one address: the limit of accounts per address is lifted
        engine.settings = dataclasses.replace(engine.settings, registrations_per_address=10**9)
        app = create_app(engine=engine, SECRET_KEY="profile-" + "x" * 32, TESTING=False)
        by_route: dict[str, list[float]] = defaultdict(list)  # wall time of each request inside the app, by route
        app.wsgi_app = timed_by_route(app, app.wsgi_app, by_route)
        server = make_server("127.0.0.1", 0, app, threaded=False)
        base = f"http://127.0.0.1:{server.server_port}"
        recorder = web_client.Recorder()
        profiler = Profiler(interval=0.001)
        measuring, done = threading.Event(), threading.Event()
        failure: list[Exception] = []

        def clients() -> None:
            client = web_client.Client(base, recorder)
            try:
                for _ in range(5):  # warm up
                    client.journey()
                measuring.set()
                for _ in range(args.n):
                    client.journey()
            except Exception as exc:  # noqa: BLE001 - reported below
                failure.append(exc)
            finally:
                client.close()
                done.set()

        thread = threading.Thread(target=clients, daemon=True)
        thread.start()
        server.timeout = 0.05
        started = False
        while not done.is_set():  # the server runs on this thread, the only one the profiler samples
            if measuring.is_set() and not started:
                profiler.start()
                started = True
                by_route.clear()  # the warm-up's requests are not counted
            server.handle_request()
        if started:
            profiler.stop()
        server.server_close()
        engine.db.dispose()
    if failure or not started:
        print(f"profile_web: the journeys failed: {failure}", file=sys.stderr)
        return 1
    requests = app_frames(profiler.last_session.root_frame())
    total = sum(frame.time for frame in requests)
    libraries, parts = Counter(), Counter()
    for frame in requests:
        libraries.update(web_groups(frame))
        parts.update(by_part(frame, PARTS))
    print(f"profiled {args.n} journeys, {total / args.n * 1000:.0f} ms in the Flask app per journey (with sampling)")
    print(f"\n{'time by library':54} {'share':>7}")
    for name, seconds in libraries.most_common():
        print(f"{name:54} {seconds / total * 100:6.1f}%")
    print(f"\n{'time by kind of work':54} {'ms/journey':>10} {'share':>7}")
    for label, _fragment, _name in PARTS:
        if label in parts:
            print(f"{label:54} {parts[label] / args.n * 1000:10.1f} {parts[label] / total * 100:6.1f}%")
    routes = sorted(by_route.items(), key=lambda kv: -sum(kv[1]))
    print(f"\n{'time by route (wall, with sampling)':54} {'ms/journey':>10} {'per journey':>11} {'ms each':>8}")
    for route, seconds in routes:
        print(f"{route:54} {sum(seconds) / args.n * 1000:10.1f} {len(seconds) / args.n:11.1f} "
              f"{sum(seconds) / len(seconds) * 1000:8.2f}")
    if args.html:
        Path(args.html).write_text(profiler.output_html())
    out = Path(args.out)
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged["profile_web"] = {
        "ms_per_journey_sampled": total / args.n * 1000,
        "share_by_library": {k: v / total for k, v in libraries.most_common()},
        "ms_per_journey_by_part": {k: v / args.n * 1000 for k, v in parts.items()},
        "by_route": {route: {"ms_per_journey": sum(v) / args.n * 1000, "requests_per_journey": len(v) / args.n}
                     for route, v in routes},
    }
    out.write_text(json.dumps(merged, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
