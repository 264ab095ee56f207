"""Every shipped procedure, end to end in the portal: a citizen files it and the demo officials take it to the
result, with the data of the procedure's own happy-path scenario (the designer's test, replayed over HTTP) at the
scenario's times: the portal's clock starts at the scenario's start and moves to each step's time, so that dates
in its data (a promotion's start, a birth date) mean the same whatever day the test runs."""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any

import pytest

from engine import clock, demo, scenarios
from engine.config import DEFAULT_ROOT
from engine.scenarios import placeholder_pdf
from tests.web.test_journey import attach, register, required_documents

TERMINAL = {"done": "Đã trả kết quả", "releasing": "Có kết quả"}


def happy_path(code: str) -> tuple[str, dict[str, Any]] | None:
    """The first scenario that ends with the result returned, needs no clock and has no refused step."""
    for path in scenarios.scenario_files(DEFAULT_ROOT, code):
        scenario = tomllib.loads(path.read_text(encoding="utf-8"))
        shared = path.parent / "_fixtures.toml"
        if shared.exists():
            scenario["fixtures"] = {**tomllib.loads(shared.read_text(encoding="utf-8")).get("fixtures", {}),
                                    **scenario.get("fixtures", {})}
        steps = scenario.get("step", [])
        if not steps or any(k in s for s in steps for k in ("wait_until", "withdraw")):
            continue
        if steps[-1].get("status") == "done":
            return path.stem, scenario
    return None


def as_form(data: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in data.items():
        if isinstance(value, bool):
            if value:
                out[key] = "true"
        elif isinstance(value, (dt.date, dt.datetime)):
            out[key] = value.isoformat()
        elif value not in (None, ""):
            out[key] = str(value)
    return out


def official_for(role: str, level: str) -> str:
    for acc in demo.ACCOUNTS:
        if role in acc.roles and acc.level == level:
            return acc.email
    raise AssertionError(f"no demo official for role {role} at {level} level")


@pytest.mark.parametrize("code", scenarios.procedures_with_manifests(DEFAULT_ROOT))
def test_each_procedure_end_to_end_in_the_portal(code: str, people, engine) -> None:  # noqa: ANN001
    found = happy_path(code)
    assert found, f"{code} has no scenario that ends with the result returned without a clock"
    _name, scenario = found
    manual = clock.ManualClock(scenarios.start_of(scenario))
    with clock.use(manual):  # the test client serves requests on this thread
        journey(code, scenario, manual, people, engine)


def journey(code: str, scenario: dict[str, Any], manual: clock.ManualClock, people, engine) -> None:  # noqa: ANN001
    with engine.session() as s:
        level = engine.procedure(s, code).agency_level
    citizen = register(people, f"{code}@example.com")
    page = citizen.get(f"/thu-tuc/{code}")
    agency = re.search(r'name="agency_id" value="(\d+)"', page.html)
    citizen.post(f"/thu-tuc/{code}/bat-dau", {"agency_id": agency.group(1)} if agency else {})
    dossier_url = None
    code_seen = None
    result_sent = False
    for number, step in enumerate(scenario["step"], start=1):
        if "errors" in step:  # refused input is the engine tests' business; here only the journey
            continue
        if "at" in step:
            manual.move_to(scenarios.moment(step["at"]))
        data = {}
        if "data_from" in step:
            data.update(scenario["fixtures"][step["data_from"]])
        data.update(step.get("data", {}))
        form = as_form(data)
        role = step.get("as", "applicant")
        if role == "applicant":
            page = citizen.get("/ho-so")
            link = re.search(r'href="/cong-viec/(\d+)"', page.html)
            assert link, f"step {number}: the citizen has no task to do"
            url = f"/cong-viec/{link.group(1)}"
            page = citizen.get(url)
            for _ in range(12):  # each page of the form reads its own fields from the whole data
                page = citizen.post(page.url.split("#")[0].split("?")[0], form)
                if page.url.endswith("/kiem-tra"):
                    break
            assert page.url.endswith("/kiem-tra"), f"step {number}: stuck on {page.url}"
            if page.has("Gửi hồ sơ"):  # not submitted yet: the documents the procedure requires go with it
                attach(citizen, page.url.split("/")[2], *required_documents(engine, code))
            page = citizen.post(page.url)
            found_code = re.search(r'data-testid="dossier-code">([^<]+)<', page.html)
            if found_code:
                code_seen = found_code.group(1)
            if dossier_url is None:
                link = re.search(r'href="(/ho-so/\d+)"', page.html)
                assert link, f"step {number}: not sent: {page.html[:2000]}"
                dossier_url = link.group(1)
        else:
            assert code_seen, "an official's step before the dossier was submitted"
            official = people()
            page = official.login(official_for(role, level))
            task = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code_seen)}"', page.html)
            assert task, f"step {number}: {role} does not see the dossier in the queue"
            page = official.post(f"/can-bo/cong-viec/{task.group(1)}/nhan")
            if page.has("Bắt buộc: người nộp nhận kết quả trực tuyến"):  # the result goes online: its copy first
                page = official.upload(f"/can-bo/cong-viec/{task.group(1)}/ket-qua", {}, placeholder_pdf("result"),
                                       "ket-qua.pdf")
                assert page.has("Đã tải lên ket-qua.pdf."), page.html[:3000]
                result_sent = True
            page = official.post(f"/can-bo/cong-viec/{task.group(1)}", form)
            assert page.url == "/can-bo/", f"step {number} ({step.get('task')}): {page.html[:2000]}"
    page = citizen.get(dossier_url)
    assert page.has(TERMINAL["done"]), page.html[:3000]
    # the result is given online where the applicant chose it, and where the procedure gives it only online
    online = scenario["fixtures"].get("declaration", {}).get("delivery_method") == "online" or code == "promotion_notice"
    assert result_sent == online
    assert page.has("Kết quả giải quyết (bản điện tử)", ">ket-qua.pdf<") == online


def test_a_declaration_the_process_sends_back_is_not_called_sent(people, engine) -> None:  # noqa: ANN001
    """The promotion notice's process checks its dates after the declaration; dates in the wrong order send the
    trader to a correction page with the dossier still a draft: no "sent" banner, the reason on the page."""
    path = next(p for p in scenarios.scenario_files(DEFAULT_ROOT, "promotion_notice") if p.stem == "end_before_start_corrected")
    scenario = tomllib.loads(path.read_text(encoding="utf-8"))
    fixtures = tomllib.loads((path.parent / "_fixtures.toml").read_text(encoding="utf-8"))["fixtures"]
    step = scenario["step"][0]
    form = as_form({**fixtures[step["data_from"]], **step["data"]})
    with clock.use(clock.ManualClock(scenarios.start_of(scenario))):
        citizen = register(people, "khuyenmai@example.com")
        page = citizen.get("/thu-tuc/promotion_notice")
        agency = re.search(r'name="agency_id" value="(\d+)"', page.html)
        page = citizen.post("/thu-tuc/promotion_notice/bat-dau", {"agency_id": agency.group(1)} if agency else {})
        for _ in range(12):
            page = citizen.post(page.url.split("#")[0].split("?")[0], form)
            if page.url.endswith("/kiem-tra"):
                break
        declaration_url = page.url
        attach(citizen, page.url.split("/")[2], *required_documents(engine, "promotion_notice"))
        page = citizen.post(page.url)
    assert page.url.startswith("/cong-viec/") and page.url != declaration_url
    assert page.has("Hồ sơ chưa được nộp", "ngày kết thúc không được trước ngày bắt đầu")
    assert "Đã gửi" not in page.html and "govuk-notification-banner--success" not in page.html
    assert citizen.get("/ho-so").has("Đang soạn")


def test_a_house_built_on_more_than_its_plot_is_caught_at_the_check_and_leads_back(people, engine) -> None:  # noqa: ANN001
    """The plot's area and the ground floor's are on different pages: each page passes alone, the check-answers
    page compares them and links to the ground floor's box on its page."""
    path = next(p for p in scenarios.scenario_files(DEFAULT_ROOT, "housing_construction_permit") if p.stem == "granted")
    scenario = tomllib.loads(path.read_text(encoding="utf-8"))
    fixtures = tomllib.loads((path.parent / "_fixtures.toml").read_text(encoding="utf-8"))["fixtures"]
    form = as_form({**fixtures["declaration"], "building_area": "130", "total_floor_area": "260"})
    with clock.use(clock.ManualClock(scenarios.start_of(scenario))):
        citizen = register(people, "xaynha@example.com")
        page = citizen.get("/thu-tuc/housing_construction_permit")
        agency = re.search(r'name="agency_id" value="(\d+)"', page.html)
        page = citizen.post("/thu-tuc/housing_construction_permit/bat-dau", {"agency_id": agency.group(1)})
        for _ in range(12):
            page = citizen.post(page.url.split("#")[0].split("?")[0], form)
            if page.url.endswith("/kiem-tra"):
                break
        assert page.url.endswith("/kiem-tra")
        task_url = page.url.removesuffix("/kiem-tra")
        page = citizen.post(page.url, status=400)
        assert page.has("Diện tích xây dựng tầng 1 không được lớn hơn diện tích lô đất",
                        f'href="{task_url}/trang/house?tu=kiem-tra#building_area"')
        page = citizen.post(f"{task_url}/trang/house?tu=kiem-tra", {**form, "building_area": "100,5"})
        assert page.url.endswith("/kiem-tra")
        attach(citizen, page.url.split("/")[2], *required_documents(engine, "housing_construction_permit"))
        page = citizen.post(page.url)
    assert page.has("Đã nộp hồ sơ")
