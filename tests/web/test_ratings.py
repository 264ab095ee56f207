"""Rating the service on the portal: offered on a decided dossier's page, given once, shown to the officials."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from engine import clock
from engine.api import Engine
from tests.engine.test_birth_registration import DECISIONS, user
from tests.web.test_journey import RECEPTION, register, start_birth_registration, submit_declaration


@pytest.fixture(autouse=True)
def monday() -> None:
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):  # (the declaration's dates count from it)
        yield


def test_a_citizen_rates_a_decided_dossier_once(people, engine: Engine) -> None:  # noqa: ANN001
    citizen = register(people)
    submit_declaration(citizen, start_birth_registration(citizen))
    dossier_url = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    assert "Đánh giá dịch vụ" not in citizen.get(dossier_url).html  # not decided yet
    citizen.get(dossier_url + "/danh-gia")
    assert citizen.page.url == dossier_url and citizen.page.has("chưa đánh giá được")
    with engine.session() as s:  # the reception refuses it
        reception = user(s, RECEPTION)
        (task,) = engine.queue(s, reception)
        engine.claim(s, task.id, reception)
        engine.complete(s, task.id, reception, DECISIONS["reception_check"]["refuse"])
        s.commit()
    page = citizen.get(dossier_url)
    assert page.has("Bạn hài lòng với dịch vụ này không?", f'href="{dossier_url}/danh-gia"')
    page = citizen.get(dossier_url + "/danh-gia")
    assert page.has("Bạn hài lòng thế nào", "Rất hài lòng", "Rất không hài lòng")
    page = citizen.post(dossier_url + "/danh-gia", {"comment": "Trả lời nhanh."}, status=400)
    assert page.has("Chọn mức độ hài lòng của bạn", "Trả lời nhanh.")  # the comment is kept
    page = citizen.post(dossier_url + "/danh-gia", {"score": "4", "comment": "Trả lời nhanh."})
    assert page.url == dossier_url and page.has("Cảm ơn bạn đã đánh giá.", "Đánh giá của bạn", "Hài lòng", "(4/5)")
    assert "Bạn hài lòng với dịch vụ này không?" not in page.html
    citizen.get(dossier_url + "/danh-gia")  # a second time: back to the dossier, told why
    assert citizen.page.url == dossier_url and citizen.page.has("không đánh giá được nữa")
    official = people()
    official.login(RECEPTION)
    page = official.get("/can-bo" + dossier_url)
    assert page.has("Đánh giá của người nộp", "Hài lòng", "Trả lời nhanh.", "Người nộp đánh giá: Hài lòng")
    official.get(dossier_url + "/danh-gia", status=403)  # a citizen's page
    assert official.get("/can-bo/thong-ke").has("100,0% hài lòng trong 1 đánh giá")
