"""Bad input never ends a request in a server error. For a visitor and each kind of account, every route is asked
with every id the database holds, ids past what a database can hold and nonsense in its query; the pages reached are
crawled for their links; and every form found is sent once per bad value with all its fields set to it (digits
int() refuses, numbers of thousands of digits, huge text, markup, injection, other scripts' digits, impossible
dates: the input that broke pages before). Every answer must be below 500. Nothing is random: each run sends the
same requests."""
from __future__ import annotations

import datetime as dt
import re
from collections import deque
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.api import Engine
from engine.demo import DEMO_PASSWORD
from engine.models import Dossier, HumanTask, User
from tests.documents import attach_required
from tests.engine.test_birth_registration import DECISIONS, ROLE_EMAIL, declaration
from web import create_app

NASTY = ("²", "9" * 5000, "x" * 20_000, "<script>alert(1)</script>", "../../etc/passwd", "-1", "0",
         "99999999999999999999", "١٢٣", "' OR 1=1 --", "𝟘𝟙", "NaN", "1e999", " ", "true", "[]", "null",
         "2026-02-30", "+84", "%")
BAD_IDS = ("99999999999999999999", "0")
WORDS = ("birth_registration", "x", "..", "%C2%B2")
QUERY = ("q", "trang", "ma", "nam", "thang", "nguoi-nop", "trang-thai", "thu-tuc", "linh-vuc", "co-quan", "next",
         "voi", "sau", "chua-nhan", "qua-han", "sap-xep")
ACCOUNTS = (None, "congdan@demo.motcua.vn", "motcua@demo.motcua.vn", "lanhdao@demo.motcua.vn",
            "quantri@demo.motcua.vn", "thietke@demo.motcua.vn")
#: not followed: signing out (the rest of the crawl would be a visitor's), the assets, the API (its own tests)
SKIP = ("/dang-xuat", "/static/", "/api/")
LINK = re.compile(r'href="(/[^"#]*)')
FORM = re.compile(r"<form([^>]*)>(.*?)</form>", re.S | re.I)
ACTION = re.compile(r'action="(/[^"]*)"')
FIELD = re.compile(r'name="([^"]+)"')
#: the pages found by crawling that are asked for, beyond the routes' own addresses
CRAWL_MORE = 300


@pytest.fixture
def fuzzed_app(engine: Engine) -> Any:
    """The app over a database with a dossier sent, one refused at reception (it may be rated), and a draft of every
    procedure (the citizen's form pages)."""
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))), engine.session() as s:
        citizen = s.scalar(select(User).where(User.email == "congdan@demo.motcua.vn"))
        for refused in (False, True):
            view = engine.start_dossier(s, "birth_registration", citizen)
            attach_required(engine, s, view.id, citizen)
            engine.complete(s, view.open_tasks[0].id, citizen, declaration())
            if refused:
                (task,) = engine.dossier(s, view.id, citizen).open_tasks
                official = s.scalar(select(User).where(User.email == ROLE_EMAIL[task.role]))
                engine.complete(s, task.id, official, DECISIONS["reception_check"]["refuse"])
        for procedure in engine.procedures(s):
            engine.start_dossier(s, procedure.code, citizen)
        s.commit()
        last = max(s.scalar(select(func.max(HumanTask.id))), s.scalar(select(func.max(Dossier.id))))
    app = create_app(engine=engine, SECRET_KEY="fuzz", TESTING=True, WTF_CSRF_ENABLED=False)
    app.config["FUZZ_IDS"] = (*(str(i) for i in range(1, last + 1)), *BAD_IDS)
    return app


def _addresses(rule: Any, ids: tuple[str, ...]) -> list[str]:
    """The rule's address with each of the ids (or words) in turn in its arguments."""
    args = sorted(rule.arguments)
    if not args:
        return [rule.rule]
    out = set()
    for turn in range(max(len(ids), len(WORDS))):
        url = rule.rule
        for i, arg in enumerate(args):
            pool = ids if f"<int:{arg}>" in rule.rule else WORDS
            url = re.sub(r"<(?:[^:>]+:)?%s>" % arg, pool[(turn + i) % len(pool)], url)
        out.add(url)
    return sorted(out)


@pytest.mark.parametrize("who", ACCOUNTS, ids=lambda who: (who or "visitor").split("@")[0])
def test_no_page_answers_bad_input_with_a_server_error(fuzzed_app: Any, who: str | None) -> None:
    client = fuzzed_app.test_client()
    if who:
        assert client.post("/dang-nhap", data={"email": who, "password": DEMO_PASSWORD}).status_code == 302
    failures: list[tuple[str, str, str, int]] = []
    rules = sorted((r for r in fuzzed_app.url_map.iter_rules() if not r.rule.startswith(SKIP)), key=lambda r: r.rule)
    queue = deque(url for r in rules if "GET" in r.methods for url in _addresses(r, fuzzed_app.config["FUZZ_IDS"]))
    queue.extend(url for r in rules if r.methods == {"POST", "OPTIONS"}
                 for url in _addresses(r, fuzzed_app.config["FUZZ_IDS"]))
    seen, forms, turn = set(queue), {}, 0
    limit = len(seen) + CRAWL_MORE
    while queue:
        url = queue.popleft()
        value = NASTY[turn % len(NASTY)][:300]
        turn += 1
        got = client.get(f"{url}{'&' if '?' in url else '?'}" + "&".join(f"{k}={value}" for k in QUERY))
        if got.status_code >= 500:
            failures.append(("GET", url, value[:20], got.status_code))
        page = client.get(url)
        if page.status_code == 405:  # (a form's address: sent below, once a page shows its form; else once here)
            forms.setdefault(url, set())
            continue
        html = page.get_data(as_text=True) if page.status_code == 200 and page.mimetype == "text/html" else ""
        for tag, body in FORM.findall(html):
            if 'method="post"' in tag.lower():  # (a form without an action posts to its page)
                action = unescape(ACTION.search(tag).group(1)) if ACTION.search(tag) else url
                forms.setdefault(action, set()).update(n for n in FIELD.findall(body) if n != "csrf_token")
        for link in map(unescape, LINK.findall(html)):
            if link not in seen and not link.startswith(SKIP) and len(seen) < limit:
                seen.add(link)
                queue.append(link)
    for action, names in sorted(forms.items()):
        if action.startswith(SKIP):
            continue
        for value in NASTY if names else NASTY[:1]:
            got = client.post(action, data={name: value for name in sorted(names)})
            if got.status_code >= 500:
                failures.append(("POST", action, value[:20], got.status_code))
    assert failures == []
