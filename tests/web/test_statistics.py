"""The statistics page of the back office: an agency's officials see its figures for a month or a year."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from engine import clock
from tests.web.test_journey import RECEPTION, register, start_birth_registration, submit_declaration


@pytest.fixture(autouse=True)
def monday() -> clock.ManualClock:
    manual = clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))  # (the declaration's dates count from it)
    with clock.use(manual):
        yield manual


def cells(html: str, procedure: str) -> list[str]:
    row = re.search(rf'<tr class="govuk-table__row" data-procedure="{procedure}">(.*?)</tr>', html, re.DOTALL).group(1)
    return re.findall(r'<td class="govuk-table__cell govuk-table__cell--numeric">([^<]*)</td>', row)


def one_sent(people, monday):  # noqa: ANN001, ANN201
    """A citizen who sent a birth registration half an hour ago, and the reception official, signed in."""
    citizen = register(people)
    submit_declaration(citizen, start_birth_registration(citizen))
    monday.advance(dt.timedelta(minutes=30))
    official = people()
    official.login(RECEPTION)
    return citizen, official


def test_an_official_sees_the_month_and_the_year(people, monday) -> None:  # noqa: ANN001
    _, official = one_sent(people, monday)
    page = official.get("/can-bo/")
    assert 'href="/can-bo/thong-ke"' in page.html  # in the navigation
    page = official.get("/can-bo/thong-ke")
    assert page.has("Thống kê giải quyết hồ sơ – Tháng 11/2026", "Chưa có hồ sơ nào được giải quyết trong kỳ.")
    # received 1, nothing resolved (no share), 1 in progress within time
    assert cells(page.html, "birth_registration") == ["1", "0", "0", "0", "–", "1", "0", "0", "0", "0", "– (0)",
                                                      "0 đồng"]
    assert re.search(r'<option value="11" selected>Tháng 11</option>', page.html)
    page = official.get("/can-bo/thong-ke?thang=&nam=2026")
    assert page.has("Năm 2026") and cells(page.html, "birth_registration")[0] == "1"
    page = official.get("/can-bo/thong-ke?thang=10&nam=2026")
    assert page.has("Không có hồ sơ nào trong kỳ.")
    official.get("/ngon-ngu/en?next=/can-bo/thong-ke")
    assert official.page.has("Statistics of applications handled – November 2026", "Received in the period",
                             '<option value="11" selected>November</option>')
    official.get("/can-bo/thong-ke?thang=%C2%B2&nam=2026")  # (a superscript two: not a month, the year shown)
    official.get("/can-bo/thong-ke?nam=2026&thang=" + "1" * 5000)
    for wrong in ("thang=13&nam=2026", "thang=1&nam=1999", "nam=3000"):
        official.get(f"/can-bo/thong-ke?{wrong}", status=404)


def test_a_citizen_may_not_see_it(people) -> None:  # noqa: ANN001
    citizen = register(people)
    citizen.get("/can-bo/thong-ke", status=403)


def test_the_figures_download_as_a_spreadsheet(people, monday) -> None:  # noqa: ANN001
    import csv
    import io

    citizen, official = one_sent(people, monday)
    page = official.get("/can-bo/thong-ke")
    link = re.search(r'href="(/can-bo/thong-ke\.csv\?[^"]*)" download', page.html).group(1)
    response = official.client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="thong-ke-2026-11.csv"'
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    assert header[:3] == ["Mã thủ tục", "Thủ tục", "Nhận trong kỳ"] and len(header) == 15
    assert rows == [["birth_registration", "Đăng ký khai sinh", "1", "0", "0", "0", "", "1", "0", "0", "0", "0", "0", "",
                     "0"], ["", "Tổng cộng", "1", "0", "0", "0", "", "1", "0", "0", "0", "0", "0", "", "0"]]
    assert official.client.get("/can-bo/thong-ke.csv?nam=2026&thang=").headers["Content-Disposition"].endswith(
        'filename="thong-ke-2026.csv"')
    assert official.client.get("/can-bo/thong-ke.csv?nam=2026&thang=13").status_code == 404
    assert citizen.client.get("/can-bo/thong-ke.csv").status_code == 403
