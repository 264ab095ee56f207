"""The load generator of ``web_bench.py``: browser-like HTTP clients (stdlib only), run in their own process.

    python benchmarks/web_client.py journeys --base http://127.0.0.1:8000 --clients 4 --duration 60
    python benchmarks/web_client.py get --base http://127.0.0.1:8000 --path /static/css/app.css --duration 5

Each client is a thread with its own cookie jar and connection. It follows redirects like a browser, times every
HTTP request on its own (a POST and the GET of its redirect are two requests), and posts forms with the CSRF token
of the last page. The result is one JSON object on stdout.

A *journey* is ``test_citizen_to_officials_to_result`` in tests/web/test_journey.py without the error and supplement
parts: a new citizen registers, starts a birth registration, answers every page, uploads a small PDF for each of
the two documents it requires, sends it; the reception officer
accepts, the civil-status officer approves, the chairman signs, the reception officer returns the result. Each
client logs its three officials in once and reuses their sessions.
"""
from __future__ import annotations

import argparse
import http.client
import json
import re
import resource
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from engine.scenarios import placeholder_pdf

DEMO_PASSWORD = "matkhau-demo-2026"  # engine/demo.py
#: the documents birth registration requires (workflows/birth_registration.toml), and the file sent for each: a
#: small one-page PDF (the portal reads it: engine.filecheck), as a phone's scan of one page would be a larger one
DOCUMENTS = ("birth_notice", "requester_id")
SCAN = placeholder_pdf("Giay to")
RECEPTION, OFFICER, CHAIRMAN = "motcua@demo.motcua.vn", "hotich@demo.motcua.vn", "chutich@demo.motcua.vn"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r'data-testid="dossier-code">(000\.31\.27\.H14-\d{6}-\d{4})<')
AGENCY = re.compile(r'name="agency_id" value="(\d+)"')
NUMBER = re.compile(r"/\d+(?=/|$)")
NEXT = re.compile(r'href="([^"]+)" rel="next"')

# The same pages and answers as tests/web/test_journey.py (PAGES) and tests/engine/test_birth_registration.py
# (declaration()); copied so that the load process imports neither pytest nor the engine.
PAGES = {
    "child": ["child_full_name", "child_sex", "child_birth_date", "child_birth_place", "child_home_town",
              "child_ethnicity", "child_nationality"],
    "mother": ["mother_full_name", "mother_birth_date", "mother_ethnicity", "mother_nationality", "mother_id_number",
               "mother_residence"],
    "father": ["father_known", "father_full_name", "father_birth_date", "father_ethnicity", "father_nationality",
               "father_id_number", "father_residence"],
    "requester": ["requester_full_name", "requester_relationship", "requester_id_number", "requester_phone",
                  "requester_email"],
    "notice": ["birth_notice_number", "birth_notice_date", "copies_requested", "delivery_method", "postal_address",
               "declaration_confirmed"],
}
DECLARATION = {
    "child_full_name": "Nguyễn Minh An", "child_sex": "male", "child_birth_date": "2026-11-02",
    "child_birth_place": "Trạm y tế xã Mẫu Sơn", "child_home_town": "Mẫu Sơn", "child_ethnicity": "Kinh",
    "child_nationality": "Việt Nam",
    "mother_full_name": "Nguyễn Thị Lan", "mother_birth_date": "1995-04-12", "mother_ethnicity": "Kinh",
    "mother_nationality": "Việt Nam", "mother_id_number": "001190012345", "mother_residence": "Thôn Đông, xã Mẫu Sơn",
    "father_known": "yes", "father_full_name": "Nguyễn Văn Bình", "father_birth_date": "1993-01-30",
    "father_ethnicity": "Kinh", "father_nationality": "Việt Nam", "father_id_number": "001093054321",
    "father_residence": "Thôn Đông, xã Mẫu Sơn",
    "requester_full_name": "Nguyễn Thị Lan", "requester_relationship": "mother", "requester_id_number": "001190012345",
    "requester_phone": "0912345678", "requester_email": "congdan@demo.motcua.vn",
    "birth_notice_number": "CS-2026-118", "birth_notice_date": "2026-11-03", "copies_requested": "2",
    "delivery_method": "post", "postal_address": "Thôn Đông, xã Mẫu Sơn, tỉnh Mẫu", "declaration_confirmed": "true",
}
OFFICIAL_STEPS = [  # (who, form data, text the queue shows afterwards)
    (RECEPTION, {"reception_decision": "accept"}, "Đang xử lý"),
    (OFFICER, {"review_decision": "approve", "register_number": "118/2026"}, "Đang xử lý"),
    (CHAIRMAN, {"sign_decision": "sign"}, "Có kết quả"),
    (RECEPTION, {"result_returned": "true", "payment_method": "cash"}, "Đã trả kết quả"),
]


def as_inputs(values: dict[str, str]) -> dict[str, str]:
    """What a browser posts: dates as three boxes (as tests/web/test_journey.py ``as_inputs``)."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if name.endswith("_date") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            y, m, d = value.split("-")
            out.update({f"{name}-day": str(int(d)), f"{name}-month": str(int(m)), f"{name}-year": y})
        elif value != "":
            out[name] = value
    return out


class JourneyFailed(Exception):
    pass


class Recorder:
    """Latencies (seconds) by request kind and by route, shared by the threads of one process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[tuple[str, str, float]] = []  # (method, route, seconds)
        self.errors: list[str] = []

    def add(self, method: str, path: str, seconds: float) -> None:
        route = NUMBER.sub("/<id>", urlsplit(path).path)
        with self.lock:
            self.samples.append((method, route, seconds))

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message[:300])


@dataclass
class Page:
    status: int
    url: str
    html: str

    def has(self, *texts: str) -> bool:
        return all(t in self.html for t in texts)


class Browser:
    """One person in one browser: a cookie jar, one connection, redirects followed, CSRF token of the last page."""

    def __init__(self, base: str, recorder: Recorder, timeout: float = 60.0) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.recorder, self.timeout = recorder, timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.page: Page | None = None

    def _request(self, method: str, path: str, body: bytes | None,
                 content_type: str = "application/x-www-form-urlencoded") -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Language": "vi", "User-Agent": "motcua-web-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile is retried once
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            self.recorder.add(method, path, time.perf_counter() - started)
            for header in resp.msg.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                attrs = rest.lower()
                if value in ("", '""') or "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
            if resp.will_close:
                self.conn.close()
                self.conn = None
            return resp.status, {"location": resp.getheader("Location") or ""}, data
        raise AssertionError("unreachable")

    def _go(self, method: str, path: str, body: bytes | None, status: int, content_type: str | None = None) -> Page:
        code, headers, data = (self._request(method, path, body, content_type) if content_type
                               else self._request(method, path, body))
        hops = 0
        while code in (301, 302, 303, 307, 308) and hops < 10:
            target = urlsplit(urljoin(f"http://{self.host}:{self.port}{path}", headers["location"]))
            path = target.path + (f"?{target.query}" if target.query else "")
            code, headers, data = self._request("GET", path, None)
            hops += 1
        self.page = Page(code, path, data.decode("utf-8", "replace"))
        if code != status:
            raise JourneyFailed(f"{method} {path}: HTTP {code} (expected {status})")
        return self.page

    def get(self, path: str, status: int = 200) -> Page:
        return self._go("GET", path, None, status)

    def _token(self, path: str) -> str:
        found = TOKEN.search(self.page.html if self.page else "")
        if not found:
            raise JourneyFailed(f"POST {path}: the last page ({self.page.url if self.page else '-'}) has no CSRF token")
        return found.group(1)

    def post(self, path: str, data: dict[str, str] | None = None, status: int = 200) -> Page:
        data = {**(data or {}), "csrf_token": self._token(path)}
        return self._go("POST", path, urlencode(data).encode(), status)

    def upload(self, path: str, data: dict[str, str], filename: str, content: bytes, status: int = 200) -> Page:
        """Post a form with one file in its field ``file`` (multipart/form-data, as a browser does)."""
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in {**data, "csrf_token": self._token(path)}.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     "Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self._go("POST", path, body, status, f"multipart/form-data; boundary={boundary}")

    def login(self, email: str) -> Page:
        self.get("/dang-nhap")
        return self.post("/dang-nhap", {"email": email, "password": DEMO_PASSWORD})

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def expect(page: Page, *texts: str, url: str | None = None) -> Page:
    if url is not None and not (page.url == url or (url.endswith("*") and page.url.startswith(url[:-1]))):
        raise JourneyFailed(f"landed on {page.url}, expected {url}")
    missing = [t for t in texts if t not in page.html]
    if missing:
        raise JourneyFailed(f"{page.url}: missing {missing!r}")
    return page


class Client:
    """One load client: a new citizen per journey, three official sessions logged in once."""

    def __init__(self, base: str, recorder: Recorder) -> None:
        self.base, self.recorder = base, recorder
        self.officials: dict[str, Browser] = {}

    def official(self, email: str) -> Browser:
        if email not in self.officials:
            b = Browser(self.base, self.recorder)
            expect(b.login(email), url="/can-bo/")
            self.officials[email] = b
        return self.officials[email]

    def journey(self) -> None:
        citizen = Browser(self.base, self.recorder)
        try:
            citizen.get("/dang-ky")
            email = f"bench-{uuid.uuid4().hex[:16]}@example.com"
            page = citizen.post("/dang-ky", {"full_name": "Trần Thị An", "email": email, "password": "mat-khau-rat-dai",
                                             "phone": "0987654321", "id_number": "001195000111", "address": "Xóm Tây"})
            expect(page, url="/")
            page = expect(citizen.get("/thu-tuc/birth_registration"), "Bắt đầu nộp hồ sơ")
            agency = AGENCY.search(page.html)
            if not agency:
                raise JourneyFailed("the procedure page has no agency_id")
            page = citizen.post("/thu-tuc/birth_registration/bat-dau", {"agency_id": agency.group(1)})
            expect(page, "Thông tin người được khai sinh", url="/cong-viec/*")
            task_id = page.url.split("/")[2]
            for page_id, names in PAGES.items():  # each POST redirects to the next page, as in a browser
                page = citizen.post(f"/cong-viec/{task_id}/trang/{page_id}",
                                    as_inputs({n: DECLARATION[n] for n in names}))
            expect(page, "Kiểm tra thông tin trước khi gửi", "Nguyễn Minh An", url=f"/cong-viec/{task_id}/kiem-tra")
            for component in DOCUMENTS:
                page = citizen.upload(f"/cong-viec/{task_id}/giay-to", {"component": component}, f"{component}.pdf",
                                      SCAN)
                expect(page, f"Đã tải lên {component}.pdf", url=f"/cong-viec/{task_id}/kiem-tra")
            page = expect(citizen.post(f"/cong-viec/{task_id}/kiem-tra"), "Đã nộp hồ sơ", "Ngày hẹn trả kết quả")
            found = CODE.search(page.html)
            if not found:
                raise JourneyFailed("no dossier code on the confirmation page")
            code = found.group(1)
        finally:
            citizen.close()
        queued = re.compile(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"')
        for email, data, shows in OFFICIAL_STEPS:
            official = self.official(email)
            page = official.get("/can-bo/")
            task = queued.search(page.html)
            while not task and NEXT.search(page.html):  # the queue comes in pages, oldest first
                page = official.get(NEXT.search(page.html).group(1).replace("&amp;", "&"))
                task = queued.search(page.html)
            if not task:
                raise JourneyFailed(f"{email}: no task for {code} in the queue")
            tid = task.group(1)
            expect(official.post(f"/can-bo/cong-viec/{tid}/nhan"), "Hoàn thành", url=f"/can-bo/cong-viec/{tid}")
            expect(official.post(f"/can-bo/cong-viec/{tid}", data), code, shows, url="/can-bo/")

    def close(self) -> None:
        for b in self.officials.values():
            b.close()


def run_journeys(base: str, clients: int, duration: float, journeys: int | None, warmup: int,
                 marks: Any = None) -> dict[str, Any]:
    """``clients`` threads run journeys until ``duration`` seconds have passed (or ``journeys`` are done in all);
    journeys under way at the deadline finish and count. ``warmup`` journeys per client run first, unrecorded.
    ``marks``, if given, is called with "start" and "end" around the measured journeys (the warm-up and the
    officials' logins come before "start")."""
    warm = Recorder()
    recorder = Recorder()
    done = [0]
    started_journeys = [0]
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    go = threading.Event()
    deadline = [0.0]

    def worker() -> None:
        client = Client(base, warm)
        try:
            for _ in range(warmup):
                try:
                    client.journey()
                except Exception as exc:  # noqa: BLE001
                    warm.error(f"warm-up: {type(exc).__name__}: {exc}")
            for b in client.officials.values():
                b.recorder = recorder
            client.recorder = recorder
        finally:
            ready.wait()
        go.wait()
        while time.perf_counter() < deadline[0]:
            with lock:
                if journeys is not None and started_journeys[0] >= journeys:
                    break
                started_journeys[0] += 1
            try:
                client.journey()
            except Exception as exc:  # noqa: BLE001 - a failed journey is counted, the client goes on
                recorder.error(f"{type(exc).__name__}: {exc}")
                client.close()
                client.officials.clear()  # log in again: the failure may have left a session half-way
            else:
                with lock:
                    done[0] += 1
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    if marks:
        marks("start")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    deadline[0] = t0 + duration
    go.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    if marks:
        marks("end")
    return {
        "journeys": done[0],
        "failed_journeys": len(recorder.errors),
        "elapsed_s": elapsed,
        "samples": recorder.samples,
        "errors": recorder.errors,
        "warmup_errors": warm.errors,
        "client_cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
    }


def run_gets(base: str, path: str, clients: int, duration: float) -> dict[str, Any]:
    """``clients`` threads GET ``path`` (same client code, cookies and all) for ``duration`` seconds."""
    recorder = Recorder()
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        b = Browser(base, recorder)
        while time.perf_counter() < deadline:
            try:
                b.get(path)
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors[0] += 1
                recorder.error(f"{type(exc).__name__}: {exc}")
        b.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"requests": len(recorder.samples), "errors": errors[0], "elapsed_s": elapsed,
            "samples": recorder.samples, "error_messages": recorder.errors[:20]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["journeys", "get"])
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--journeys", type=int, help="stop after this many journeys in all (default: by duration)")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded journeys per client first (default 1)")
    parser.add_argument("--path", default="/", help="for mode get")
    parser.add_argument("--marks", action="store_true",
                        help="journeys: print a line 'start' and a line 'end' around the measured journeys, "
                             "before the JSON (web_bench.py reads CPU times then)")
    args = parser.parse_args(argv)
    if args.mode == "journeys":
        def mark(word: str) -> None:
            print(word, flush=True)

        result = run_journeys(args.base, args.clients, args.duration, args.journeys, args.warmup,
                              mark if args.marks else None)
    else:
        result = run_gets(args.base, args.path, args.clients, args.duration)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
