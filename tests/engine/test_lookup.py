"""The public lookup of a dossier (engine.lookup): by its code and its applicant's ID number together; wrong pairs
from one address make it wait for the window, then it may look up again; other addresses never wait for it."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine import clock, lookup
from engine.api import Engine
from engine.errors import FormInvalid, NotFound
from engine.models import Dossier
from tests.engine import test_facade
from tests.engine.test_facade import submit

eng, root = test_facade.eng, test_facade.root
ID_NUMBER = "001190012345"  # the demo citizen's


def test_wrong_pairs_from_one_address_make_it_wait_for_the_window(eng: Engine) -> None:
    manual = clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))
    with clock.use(manual):
        dossier_id, _task = submit(eng)
        with eng.session() as s:
            code = s.scalar(select(Dossier.code).where(Dossier.id == dossier_id))
            found = eng.look_up(s, f" {code.lower()} ", "0011 9001 2345", "203.0.113.7")
            assert (found.code, found.status, [e.label["vi"] for e in found.history]) == (
                code, "receiving", ["Mới đăng ký"])
            assert [step["vi"] for step in found.steps] == ["Bước 2"]  # where it stands in its process
            with pytest.raises(FormInvalid) as refused:
                eng.look_up(s, "", "12345678901", "203.0.113.7")
            assert set(refused.value.errors) == {"ma", "so-dinh-danh"}
            for _ in range(lookup.PER_SOURCE):
                with pytest.raises(NotFound):
                    eng.look_up(s, code, "001190012346", "203.0.113.7")
            s.commit()
        with eng.session() as s:
            with pytest.raises(lookup.TooManyLookups) as waiting:
                eng.look_up(s, code, ID_NUMBER, "203.0.113.7")
            assert 0 < waiting.value.retry_after <= 15 * 60
            assert eng.look_up(s, code, ID_NUMBER, "198.51.100.9").code == code  # another address
        manual.advance(dt.timedelta(minutes=16))
        with eng.session() as s:
            assert eng.look_up(s, code, ID_NUMBER, "203.0.113.7").code == code
