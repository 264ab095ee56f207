"""The applicant rates the service once the dossier is decided: a score of 1 to 5 and a comment, once, seen by
the agency's officials on the dossier."""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from engine import clock
from engine.api import Engine
from engine.errors import Forbidden, FormInvalid, NotFound
from tests.engine.test_birth_registration import CITIZEN, Journey, declaration, user

RECEPTION = "motcua@demo.motcua.vn"


@pytest.fixture(autouse=True)
def monday() -> Any:
    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):  # (the declaration's dates count from it)
        yield


def decided(engine: Engine) -> int:
    j = Journey(engine)
    j.step("declaration", declaration())
    j.decide("reception_check", "refuse")  # a refusal is a decision: it may be rated too
    return j.dossier_id


def test_a_decided_dossier_is_rated_once_and_its_officials_see_it(engine: Engine) -> None:
    dossier_id = decided(engine)
    with engine.session() as s:
        assert engine.rating(s, dossier_id, user(s, CITIZEN)).may_rate
        assert not engine.rating(s, dossier_id, user(s, RECEPTION)).may_rate  # officials do not rate
        given = engine.rate(s, dossier_id, user(s, CITIZEN), "2", "  Chờ lâu.\nNhưng cán bộ giải thích rõ.  ")
        s.commit()
    assert (given.score, given.label["vi"], given.comment) == (2, "Không hài lòng", "Chờ lâu.\nNhưng cán bộ giải thích rõ.")
    with engine.session() as s:
        state = engine.rating(s, dossier_id, user(s, RECEPTION))
        assert state.given == given and not state.may_rate
        assert not engine.rating(s, dossier_id, user(s, CITIZEN)).may_rate
        with pytest.raises(Forbidden) as again:
            engine.rate(s, dossier_id, user(s, CITIZEN), 5)
        assert again.value.message["vi"] == "Bạn đã đánh giá hồ sơ này."
        events = [e for e in engine.timeline(s, dossier_id, user(s, RECEPTION)) if e.action == "dossier.rated"]
        assert [e.label["vi"] for e in events] == ["Người nộp đánh giá: Không hài lòng"]


def test_only_a_decided_dossier_of_ones_own_is_rated(engine: Engine) -> None:
    j = Journey(engine)
    j.step("declaration", declaration())  # sent, not decided
    with engine.session() as s:
        assert not engine.rating(s, j.dossier_id, user(s, CITIZEN)).may_rate
        with pytest.raises(Forbidden):
            engine.rate(s, j.dossier_id, user(s, CITIZEN), 5)
        engine.register_citizen(s, "khac@example.vn", "mat-khau-rat-dai", "Người Khác")
        s.commit()
    dossier_id = decided(engine)
    with engine.session() as s:
        with pytest.raises(NotFound):
            engine.rate(s, dossier_id, user(s, "khac@example.vn"), 5)
        with pytest.raises(NotFound):  # an official may see the dossier, not rate it
            engine.rate(s, dossier_id, user(s, RECEPTION), 5)


def test_a_rating_needs_a_score_and_a_comment_of_reasonable_length(engine: Engine) -> None:
    dossier_id = decided(engine)
    with engine.session() as s:
        for score in ("", "0", "6", "năm", None, "2.5", "²", "4" * 5000, True):
            with pytest.raises(FormInvalid) as refused:
                engine.rate(s, dossier_id, user(s, CITIZEN), score)
            assert refused.value.errors["score"]["vi"] == "Chọn mức độ hài lòng của bạn"
        with pytest.raises(FormInvalid) as refused:
            engine.rate(s, dossier_id, user(s, CITIZEN), 4, "x" * 1001)
        assert set(refused.value.errors) == {"comment"}
        assert engine.rate(s, dossier_id, user(s, CITIZEN), 4, "x" * 1000).score == 4


def test_the_form_sent_twice_at_once_keeps_one_rating(engine: Engine) -> None:
    dossier_id = decided(engine)
    first = engine.session()
    engine.rate(first, dossier_id, user(first, CITIZEN), 5)
    outcome: list[str] = []

    def second() -> None:
        with engine.session() as s:
            try:
                engine.rate(s, dossier_id, user(s, CITIZEN), 1)
                s.commit()
                outcome.append("rated")
            except Forbidden as exc:
                outcome.append(exc.message["vi"])

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    first.commit()
    first.close()
    thread.join(10)
    assert outcome == ["Bạn đã đánh giá hồ sơ này."]
    with engine.session() as s:
        assert engine.rating(s, dossier_id, user(s, CITIZEN)).given.score == 5
