"""Web throughput and memory: full journeys per second over HTTP against gunicorn (2 workers) and PostgreSQL.

1. A fresh schema in the PostgreSQL at ``MOTCUA_BENCH_POSTGRES_URL`` (default
   ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), prepared with ``motcua setup``, dropped at the end.
2. ``gunicorn -w 2 'web:create_app()'`` on a free local port.
3. The load generator (``benchmarks/web_client.py``) runs in another process: first the same client against
   two trivial endpoints for a same-run baseline (a static file, then GET /), then ``--clients`` concurrent
   clients running full journeys (see web_client.py) for ``--duration`` seconds.
4. Meanwhile the RSS of each gunicorn worker is sampled from /proc; the peak is reported. Over the journeys, the
   CPU time of the workers, of the local PostgreSQL (all its processes) and of the load process is read from
   /proc, and with it the most journeys/s the machine's CPUs could serve at that cost if they did nothing else.

Figures are printed and merged into ``benchmarks/results.json`` (other benchmarks' keys are kept):
``web_journeys_per_s``, ``web_p50_ms``/``web_p95_ms``/``web_p99_ms`` (every HTTP request of the journeys; a
POST and the GET of its redirect count as two), ``web_errors`` (failed journeys: a status other than the
expected one, or an expected text missing), ``web_worker_peak_rss_mb``, ``web_static_get_per_s`` and
``web_index_get_per_s`` (requests/s of the baselines), and ratios against them, among them
``web_static_floor_journeys_per_s`` (the journeys/s if every request of a journey cost what the static file
costs: what the server stack and the client allow before any page does any work); ``web_worker_cpu_ms_per_journey``,
``web_postgres_cpu_ms_per_journey``, ``web_load_cpu_ms_per_journey``, their sum ``web_cpu_ms_per_journey``,
``web_cpu_bound_journeys_per_s`` (CPUs × 1000 / that sum), ``web_journeys_vs_cpu_bound_ratio`` and
``web_machine_busy_share`` (the share of all CPUs busy during the journeys, whatever ran) and
``web_other_cpu_share`` (the share of all CPUs that other processes used meanwhile: busy time minus the
workers', PostgreSQL's and the load process's).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent


def fail(message: str, code: int = 2) -> None:
    print(f"web_bench: {message}", file=sys.stderr)
    sys.exit(code)


# --- PostgreSQL ---------------------------------------------------------------------------------------------

def create_schema(url: str) -> tuple[str, str]:
    """A fresh schema; returns (schema, URL whose search path is pinned to it) as tests/conftest.py does."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        fail(f"PostgreSQL is unreachable at {url} (set MOTCUA_BENCH_POSTGRES_URL): {str(exc.orig).strip()}")
    finally:
        admin.dispose()
    sep = "&" if "?" in url else "?"
    return schema, f"{url}{sep}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


# --- gunicorn and /proc -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> list[str]:
    exe = BIN / name
    return [str(exe)] if exe.exists() else [sys.executable, "-m", {"motcua": "engine.cli"}.get(name, name)]


def wait_until_up(base: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            fail(f"gunicorn exited with code {proc.returncode} before answering; its log:\n{log.read_text()[-3000:]}", 1)
        try:
            with urllib.request.urlopen(base + "/static/css/app.css", timeout=2) as resp:
                if resp.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    fail(f"gunicorn did not answer at {base} within {timeout:.0f} s", 1)
    return 0.0


def children(pid: int) -> list[int]:
    try:
        found = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        return found
    except OSError:
        return []


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name: [1] is the parent, [11:15] utime, stime, cutime,
    cstime (fields 4 and 14 to 17 of proc(5))."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            total += sum(int(f) for f in _stat(pid)[11:13])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(url: str) -> float | None:
    """CPU seconds used so far by the local PostgreSQL: its postmaster (with the children it has reaped, so that a
    backend that ends during the run still counts) and its live processes (backends, WAL writer, checkpointer…).
    None when the database at ``url`` is not on this machine, or no postmaster runs here. With several local
    clusters, the first postmaster found counts."""
    from sqlalchemy.engine import make_url

    if (make_url(url).host or "localhost") not in ("localhost", "127.0.0.1", "::1"):
        return None
    postgres = set()
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                postgres.add(int(entry))
        except OSError:
            pass
    for pid in postgres:
        try:
            fields = _stat(pid)
            if int(fields[1]) in postgres:
                continue  # a child: the postmaster is the one whose parent is not PostgreSQL
            own = sum(int(f) for f in fields[11:15])
        except (OSError, IndexError, ValueError):
            continue
        return own / os.sysconf("SC_CLK_TCK") + cpu_s(children(pid))
    return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), sum(fields) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Samples VmRSS (and the kernel's own peak, VmHWM) of the gunicorn master's children every ``interval`` s."""

    def __init__(self, master: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.master, self.interval = master, interval
        self.stop = threading.Event()
        self.peak_rss: dict[int, int] = defaultdict(int)
        self.peak_hwm: dict[int, int] = defaultdict(int)
        self.first_rss: dict[int, int] = {}
        self.samples = 0

    def sample(self) -> None:
        for pid in children(self.master):
            kb = status_kb(pid)
            if "VmRSS" in kb:
                self.first_rss.setdefault(pid, kb["VmRSS"])
                self.peak_rss[pid] = max(self.peak_rss[pid], kb["VmRSS"])
                self.peak_hwm[pid] = max(self.peak_hwm[pid], kb.get("VmHWM", 0))
        self.samples += 1

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


# --- load ---------------------------------------------------------------------------------------------------

def load(mode: str, base: str, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "web_client.py"), mode, "--base", base, *extra]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"the load process failed ({done.returncode}):\n{done.stderr[-3000:]}", 1)
    return json.loads(done.stdout)


def load_measured(base: str, at_mark: Any, *extra: str) -> dict[str, Any]:
    """The journeys, calling ``at_mark("start")`` and ``at_mark("end")`` when the load process says its measured
    journeys begin and end, so that CPU times read then leave out its start, warm-up and logins."""
    cmd = [sys.executable, str(HERE / "web_client.py"), "journeys", "--marks", "--base", base, *extra]
    with tempfile.TemporaryFile("w+") as err, \
            subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
        assert proc.stdout is not None
        for word in ("start", "end"):
            line = proc.stdout.readline()
            if line.strip() != word:
                rest = proc.stdout.read()  # (drained first: a child blocked on a full pipe would never end)
                proc.wait()
                err.seek(0)
                fail(f"the load process failed ({proc.returncode}; expected {word!r}, read {line!r} "
                     f"then {rest[-300:]!r}):\n{err.read()[-3000:]}", 1)
            at_mark(word)
        out = proc.stdout.read()
        proc.wait()
        if proc.returncode != 0:
            err.seek(0)
            fail(f"the load process failed ({proc.returncode}):\n{err.read()[-3000:]}", 1)
    return json.loads(out)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return (ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Full journeys per second over HTTP (gunicorn, PostgreSQL) and "
                                                 "the peak RSS of a web worker.")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of journeys (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--journeys", type=int, help="stop after this many journeys instead (still capped by --duration)")
    parser.add_argument("--baseline-duration", type=float, default=5.0, help="seconds of each baseline (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--out", default=str(HERE / "results.json"), help="JSON file to merge the figures into")
    parser.add_argument("--keep-schema", action="store_true", help="do not drop the schema (to inspect it)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    pg = os.environ.get("MOTCUA_BENCH_POSTGRES_URL") or DEFAULT_URL
    schema, url = create_schema(pg)
    server: subprocess.Popen | None = None
    try:
        # every journey registers a new citizen, all from this one machine: the limit of accounts per address
        # (engine.logins) is lifted for the run
        env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_SECRET_KEY": secrets.token_hex(32),
               "MOTCUA_REGISTRATIONS_PER_ADDRESS": "1000000000"}
        env.pop("MOTCUA_DEV", None)
        setup = subprocess.run([*tool("motcua"), "setup"], cwd=REPO, env=env, capture_output=True, text=True)
        if setup.returncode != 0:
            fail(f"motcua setup failed:\n{setup.stdout[-2000:]}{setup.stderr[-3000:]}", 1)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = Path(tempfile.gettempdir()) / f"motcua_web_bench_{schema}.log"
        log = open(log_path, "w")  # noqa: SIM115 - the server's output; kept for a look after a failure
        server = subprocess.Popen([*tool("gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                                   "--timeout", "120", "web:create_app()"],
                                  cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        boot_s = wait_until_up(base, server, log_path)
        # the timer worker runs beside the web workers, as in production; its peak RSS is reported too
        timer_worker = subprocess.Popen([*tool("motcua"), "worker", "--interval", "1"], cwd=REPO, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sampler = RssSampler(server.pid)
        sampler.start()
        time.sleep(0.3)
        idle_rss = {pid: status_kb(pid).get("VmRSS", 0) for pid in children(server.pid)}

        print(f"gunicorn {args.workers} workers at {base} (up in {boot_s:.1f} s), schema {schema}; "
              f"baselines {args.baseline_duration:.0f} s each, then {args.clients} clients for {args.duration:.0f} s",
              flush=True)
        static = load("get", base, "--path", "/static/css/app.css", "--clients", str(args.clients),
                      "--duration", str(args.baseline_duration))
        index = load("get", base, "--path", "/", "--clients", str(args.clients),
                     "--duration", str(args.baseline_duration))
        extra = ["--clients", str(args.clients), "--duration", str(args.duration)]
        if args.journeys:
            extra += ["--journeys", str(args.journeys)]
        load_before = os.getloadavg()[0]
        pids = children(server.pid)
        at: dict[str, tuple[float, float | None, tuple[float, float]]] = {}
        run = load_measured(base, lambda word: at.__setitem__(word, (cpu_s(pids), postgres_cpu_s(pg), machine_cpu())),
                            *extra)
        (cpu_before, pg_before, machine_before), (cpu_after, pg_after, machine_after) = at["start"], at["end"]
        worker_cpu = cpu_after - cpu_before
        pg_cpu = pg_after - pg_before if pg_before is not None and pg_after is not None else float("nan")
        machine_busy = (machine_after[0] - machine_before[0]) / ((machine_after[1] - machine_before[1]) or 1)
        # what the rest of the machine ran meanwhile: the timer worker, this script, anything else. Measured, unlike
        # the load average, which still counts for a minute what a benchmark run before this one did
        other_cpu = (machine_after[0] - machine_before[0] - worker_cpu - run["client_cpu_s"]
                     - (0.0 if math.isnan(pg_cpu) else pg_cpu))
        other_share = max(0.0, other_cpu) / ((machine_after[1] - machine_before[1]) or 1)
        load_after = os.getloadavg()[0]
        sampler.stop.set()
        sampler.join()
        sampler.sample()
        workers_now = children(server.pid)
        timer_worker_hwm_kb = status_kb(timer_worker.pid).get("VmHWM", 0) if timer_worker.poll() is None else 0
    finally:
        if "timer_worker" in locals() and timer_worker.poll() is None:
            timer_worker.terminate()
            timer_worker.wait(timeout=20)
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep_schema:
            drop_schema(pg, schema)

    samples = run["samples"]
    lat = [s for _, _, s in samples]
    by_kind = {k: [s for m, _, s in samples if m == k] for k in ("GET", "POST")}
    by_route: dict[str, list[float]] = defaultdict(list)
    for m, r, s in samples:
        by_route[f"{m} {r}"].append(s)
    p95_all = pct(lat, 0.95) / 1000
    journeys_per_s = run["journeys"] / run["elapsed_s"]
    static_per_s = static["requests"] / static["elapsed_s"]
    index_per_s = index["requests"] / index["elapsed_s"]
    peak_kb = max(list(sampler.peak_rss.values()) + [0])
    peak_hwm_kb = max(list(sampler.peak_hwm.values()) + [0])

    figures: dict[str, Any] = {
        "web_journeys_per_s": journeys_per_s,
        "web_p50_ms": pct(lat, 0.50),
        "web_p95_ms": pct(lat, 0.95),
        "web_p99_ms": pct(lat, 0.99),
        "web_get_p95_ms": pct(by_kind["GET"], 0.95),
        "web_post_p95_ms": pct(by_kind["POST"], 0.95),
        "web_errors": run["failed_journeys"] + static["errors"] + index["errors"],
        "web_worker_peak_rss_mb": peak_kb / 1024,
        "web_worker_peak_hwm_mb": peak_hwm_kb / 1024,
        "timer_worker_peak_rss_mb": timer_worker_hwm_kb / 1024,
        "web_static_get_per_s": static_per_s,
        "web_index_get_per_s": index_per_s,
        "web_worker_cpu_ms_per_journey": worker_cpu * 1000 / run["journeys"] if run["journeys"] else float("nan"),
        # where the machine's CPU goes per journey, and the journeys/s it could serve if all of it went to them
        "web_postgres_cpu_ms_per_journey": pg_cpu * 1000 / run["journeys"] if run["journeys"] else float("nan"),
        "web_load_cpu_ms_per_journey": run["client_cpu_s"] * 1000 / run["journeys"] if run["journeys"] else float("nan"),
        "web_machine_busy_share": machine_busy,
        "web_other_cpu_share": other_share,
        "web_requests_per_journey": len(lat) / run["journeys"] if run["journeys"] else float("nan"),
        "web_journey_vs_static_ratio": journeys_per_s / static_per_s if static_per_s else float("nan"),
        "web_journey_requests_vs_index_ratio": (len(lat) / run["elapsed_s"]) / index_per_s if index_per_s else float("nan"),
        # the journeys/s if every request of a journey cost what serving the static file costs, through the same
        # stack (gunicorn, Flask, the load client): what the stack itself allows, before any page does anything
        "web_static_floor_journeys_per_s": (static_per_s * run["journeys"] / len(lat)) if lat else float("nan"),
        "web_meta": {
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
            "gunicorn_workers": args.workers, "clients": args.clients, "duration_s": args.duration,
            "journeys": run["journeys"], "journey_requests": len(lat), "journey_elapsed_s": run["elapsed_s"],
            "load_process_cpu_s": run["client_cpu_s"], "worker_cpu_s": worker_cpu,
            "loadavg_1min_before_after": [load_before, load_after], "rss_samples": sampler.samples,
            "worker_idle_rss_mb": {str(k): v / 1024 for k, v in idle_rss.items()},
            "worker_peak_rss_mb": {str(k): v / 1024 for k, v in sampler.peak_rss.items()},
            "workers_restarted": sorted(set(sampler.peak_rss)) != sorted(set(workers_now)),
            "wall_s": time.perf_counter() - t_start, "argv": sys.argv[1:] if argv is None else argv,
        },
    }

    spent = (figures["web_worker_cpu_ms_per_journey"] + figures["web_postgres_cpu_ms_per_journey"]
             + figures["web_load_cpu_ms_per_journey"])
    figures["web_cpu_ms_per_journey"] = spent
    # the most journeys/s these CPUs could serve at this cost per journey, with nothing else running
    figures["web_cpu_bound_journeys_per_s"] = (os.cpu_count() or 1) * 1000 / spent if not math.isnan(spent) else spent
    figures["web_journeys_vs_cpu_bound_ratio"] = journeys_per_s / figures["web_cpu_bound_journeys_per_s"]
    rows = [("journeys/s", f"{journeys_per_s:.2f}", f"{run['journeys']} journeys in {run['elapsed_s']:.1f} s, "
             f"{figures['web_requests_per_journey']:.1f} requests each"),
            ("requests/s in journeys", f"{len(lat) / run['elapsed_s']:.1f}", ""),
            ("GET /static/css/app.css /s", f"{static_per_s:.1f}", f"{static['requests']} requests, baseline"),
            ("GET / /s", f"{index_per_s:.1f}", f"{index['requests']} requests, baseline (catalog, database)"),
            ("journeys/s at the static file's cost", f"{figures['web_static_floor_journeys_per_s']:.1f}",
             "if each of a journey's requests cost what the static file costs"),
            ("latency p50 / p95 / p99 ms", f"{figures['web_p50_ms']:.0f} / {figures['web_p95_ms']:.0f} / "
             f"{figures['web_p99_ms']:.0f}", "every request of the journeys"),
            ("GET p50 / p95 ms", f"{pct(by_kind['GET'], .5):.0f} / {pct(by_kind['GET'], .95):.0f}",
             f"{len(by_kind['GET'])} requests"),
            ("POST p50 / p95 ms", f"{pct(by_kind['POST'], .5):.0f} / {pct(by_kind['POST'], .95):.0f}",
             f"{len(by_kind['POST'])} requests"),
            ("errors", str(figures["web_errors"]), "failed journeys + failed baseline requests"),
            ("worker peak RSS MB", f"{peak_kb / 1024:.1f}", f"VmHWM {peak_hwm_kb / 1024:.1f}; idle "
             + ", ".join(f"{v / 1024:.1f}" for v in idle_rss.values())),
            ("worker CPU ms per journey", f"{figures['web_worker_cpu_ms_per_journey']:.0f}",
             f"{worker_cpu:.1f} s in both workers (PostgreSQL not counted); machine noise affects it least"),
            ("PostgreSQL CPU ms per journey", f"{figures['web_postgres_cpu_ms_per_journey']:.0f}",
             "all its processes, backends that ended included (nan: not on this machine)"),
            ("load generator CPU ms per journey", f"{figures['web_load_cpu_ms_per_journey']:.0f}", ""),
            ("CPU ms per journey, all three", f"{spent:.0f}",
             f"so {os.cpu_count()} CPUs could serve at most {figures['web_cpu_bound_journeys_per_s']:.1f} journeys/s"),
            ("machine busy during the journeys", f"{machine_busy:.0%}", "of all CPUs (/proc/stat)"),
            ("other processes' CPU meanwhile", f"{figures['web_other_cpu_share']:.0%}",
             "of all CPUs: the timer worker, this script, anything else"
             + ("; something else competed: journeys/s is low" if figures["web_other_cpu_share"] > 0.1 else "")),
            ("load process CPU s", f"{run['client_cpu_s']:.1f}", f"of {run['elapsed_s']:.1f} s (shares the machine)")]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>16}  {note}")

    print("\nslowest routes by p95 (count, p50, p95, share of all request time):")
    total = sum(lat) or 1.0
    ranked = sorted(by_route.items(), key=lambda kv: pct(kv[1], .95), reverse=True)
    for route, values in ranked[:10]:
        print(f"  {route:<44} {len(values):>6}  {pct(values, .5):7.0f} ms  {pct(values, .95):7.0f} ms  "
              f"{sum(values) / total:6.1%}")
    slow = [m for m, _, s in samples if s >= p95_all]
    if slow:
        print(f"requests at or above the overall p95: {slow.count('POST')} POST, {slow.count('GET')} GET")
    for message in (run["errors"] + run["warmup_errors"])[:10]:
        print(f"error: {message}")
    if run["warmup_errors"]:
        print(f"({len(run['warmup_errors'])} warm-up journey(s) failed; not counted)")

    out = Path(args.out)
    merged: dict[str, Any] = {}
    if out.exists():
        try:
            merged = json.loads(out.read_text())
        except json.JSONDecodeError:
            print(f"warning: {out} was not valid JSON; rewriting it", file=sys.stderr)
    merged.update(figures)
    out.write_text(json.dumps(merged, indent=2) + "\n")
    print(f"\nmerged into {out} (wall time {figures['web_meta']['wall_s']:.0f} s)")
    return 1 if run["journeys"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
