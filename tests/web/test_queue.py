"""The officials' group queue comes in pages, oldest first (or by the nearest due time), and says how many tasks
wait in all."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from engine.api import Engine
from engine.demo import ACCOUNTS, DEMO_PASSWORD
from engine.models import Dossier, HumanTask
from tests.engine.test_birth_registration import declaration
from tests.web.test_journey import RECEPTION
from tests.web.test_render_cost import statements
from tests.documents import attach_required


def submit_dossiers(engine: Engine, count: int) -> None:
    """``count`` birth registrations submitted by the demo citizen through the engine (quicker than pages)."""
    with engine.session() as s:
        citizen = engine.user(s, engine.authenticate(s, ACCOUNTS[0].email, DEMO_PASSWORD).id)
        for _ in range(count):
            (task,) = engine.start_dossier(s, "birth_registration", citizen).open_tasks
            attach_required(engine, s, task.dossier_id, citizen)
            engine.complete(s, task.id, citizen, declaration())
        s.commit()


def queued_codes(html: str) -> list[str]:
    table = html.split('id="queue-caption"', 1)[1]
    return re.findall(r'data-task-id="\d+" data-dossier-code="([^"]+)"', table)


def test_the_queue_comes_in_pages_of_fifty_oldest_first(people, engine: Engine) -> None:  # noqa: ANN001
    submit_dossiers(engine, 53)
    official = people()
    page = official.login(RECEPTION)
    first = queued_codes(page.html)
    assert len(first) == 50 and first == sorted(first)  # codes follow the daily sequence: oldest first
    assert page.has("Việc chờ nhận (53) · 1–50", 'rel="next"') and 'rel="prev"' not in page.html
    page = official.get("/can-bo/?trang=2")
    second = queued_codes(page.html)
    assert len(second) == 3 and second[0] > first[-1]
    assert page.has("Việc chờ nhận (53) · 51–53", 'rel="prev"') and 'rel="next"' not in page.html
    # a page past the end is the last page (tasks taken meanwhile may have shortened the queue); a nonsense page
    # number is the first page
    assert queued_codes(official.get("/can-bo/?trang=9").html) == second
    assert queued_codes(official.get("/can-bo/?trang=abc").html) == first
    assert queued_codes(official.get(f"/can-bo/?trang={10**30}").html) == second  # beyond any offset: the last


def test_a_queue_that_fits_on_its_first_page_is_counted_from_the_page(people, engine: Engine) -> None:  # noqa: ANN001
    """Up to fifty waiting tasks: the count is the rows on the page, without a count query; fifty-one: counted."""
    official = people()
    official.login(RECEPTION)
    for submitted, total in ((1, 1), (49, 50), (1, 51)):
        submit_dossiers(engine, submitted)
        with statements(engine) as seen:
            page = official.get("/can-bo/")
        counted = [s for s in seen if re.search(r"SELECT count\(\*\) AS count_1\s+FROM human_task", s)]
        assert len(counted) == (total > 50), seen
        assert page.has(f"Việc chờ nhận ({total}) · 1–50" if total > 50 else f"Việc chờ nhận ({total})<")
        assert len(queued_codes(page.html)) == min(total, 50)
        assert ('rel="next"' in page.html) == (total > 50)


def test_the_queue_is_ordered_by_the_nearest_due_time_when_asked(people, engine: Engine) -> None:  # noqa: ANN001
    submit_dossiers(engine, 52)
    with engine.session() as s:  # the newest task due first, as one of a procedure with a shorter time limit
        newest = max(s.scalars(select(HumanTask.id).where(HumanTask.state == "open")))
        s.execute(update(HumanTask).where(HumanTask.id == newest).values(due_at=dt.datetime(2026, 1, 1)))
        code = s.scalar(select(Dossier.code).join(HumanTask).where(HumanTask.id == newest))
        s.commit()
    official = people()
    page = official.login(RECEPTION)
    assert code not in queued_codes(page.html)  # oldest first: on the second page
    page = official.get("/can-bo/?sap-xep=han")
    assert queued_codes(page.html)[0] == code and '<option value="han" selected>' in page.html
    assert 'href="/can-bo/?trang=2&amp;sap-xep=han"' in page.html  # the next page keeps the order
    page = official.get("/can-bo/?trang=2&sap-xep=han")
    assert code not in queued_codes(page.html) and len(queued_codes(page.html)) == 2
    assert queued_codes(official.get("/can-bo/?sap-xep=%3Cb%3E").html)[0] != code  # an unknown order: the oldest
