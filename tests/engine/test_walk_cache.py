"""Where a dossier stands in its diagram is kept per process for the version read (``VersionCache.walks``), so
that drawing it again reads and restores nothing; a kept walk is never served for another version of the
dossier, and one read by a session that wrote (and may roll back) is never kept."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.api import Engine
from engine.models import Dossier
from engine.runtime import WalkCache

from ..conftest import deployed_engine
from .test_birth_registration import CITIZEN, ROLE_EMAIL, Journey, declaration, fixed_clock, user  # noqa: F401
from .test_saved_state import CHOICES


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database, as two processes: the first keeps walks, the second never does."""
    first = deployed_engine(database_url)
    second = Engine(first.settings)
    second.versions.walks = WalkCache(0)
    yield first, second
    first.db.dispose()
    second.db.dispose()


def drawn(eng: Engine, dossier_id: int) -> Any:
    """The dossier's diagram as a page shows it: read through a read-only session, as the web does for a GET."""
    with eng.db.read_session() as s:
        view = eng.diagram(s, dossier_id, user(s, CITIZEN))
        return view.current, view.done, view.current_titles


def row_version(eng: Engine, dossier_id: int) -> int:
    with eng.session() as s:
        return s.get(Dossier, dossier_id).row_version


def test_a_kept_walk_is_what_the_stored_state_shows_after_every_step(pair: tuple[Engine, Engine]) -> None:
    first, second = pair
    journey = Journey(first)
    for bpmn_id, raw in [(None, None), *CHOICES]:
        if bpmn_id:
            journey.step(bpmn_id, raw)
        version = row_version(first, journey.dossier_id)
        assert first.versions.walks.get(journey.dossier_id, version) is None  # a new version: nothing kept yet
        fresh = drawn(first, journey.dossier_id)
        assert first.versions.walks.get(journey.dossier_id, version) is not None, "kept after the first drawing"
        assert drawn(first, journey.dossier_id) == fresh == drawn(second, journey.dossier_id), bpmn_id
    assert len(second.versions.walks) == 0


def test_a_change_made_elsewhere_is_drawn(pair: tuple[Engine, Engine]) -> None:
    first, second = pair
    journey = Journey(first)
    journey.step("declaration", declaration())
    before = drawn(first, journey.dossier_id)
    other = Journey.__new__(Journey)  # the same dossier, driven by the other engine
    other.engine, other.steps, other.dossier_id = second, [], journey.dossier_id
    other.step(*CHOICES[1])
    after = drawn(first, journey.dossier_id)
    assert after != before
    assert after == drawn(second, journey.dossier_id)


def test_a_walk_read_by_a_session_that_wrote_is_not_kept(pair: tuple[Engine, Engine]) -> None:
    first, _ = pair
    journey = Journey(first)
    with first.session() as s:  # a step stored but not committed, drawn in its own transaction, then undone
        (task,) = first.my_tasks(s, user(s, CITIZEN))
        first.complete(s, task.id, user(s, CITIZEN), declaration())
        written = s.get(Dossier, journey.dossier_id).row_version
        inside = first.diagram(s, journey.dossier_id, user(s, CITIZEN))
        assert inside.current != drawn(first, journey.dossier_id)[0]  # it saw its own step
        s.rollback()
    assert first.versions.walks.get(journey.dossier_id, written) is None
    journey.step("declaration", declaration())  # the real step takes the same version number
    assert row_version(first, journey.dossier_id) == written
    assert drawn(first, journey.dossier_id)[0] == ("reception_check",)


def test_the_walk_cache_is_bounded_and_keeps_the_newest_version() -> None:
    walks = WalkCache(2)
    walks.put(1, 3, (["a"], ["b"]))
    walks.put(1, 2, (["old"], ["old"]))  # an older read never replaces a newer walk
    assert walks.get(1, 3) == (["a"], ["b"]) and walks.get(1, 2) is None
    kept = walks.get(1, 3)
    kept[0].append("changed by a caller")
    assert walks.get(1, 3) == (["a"], ["b"])  # callers get copies
    walks.put(2, 1, ([], ["x"]))
    walks.put(3, 1, ([], ["y"]))
    assert len(walks) == 2 and walks.get(1, 3) is None  # the least recently used went
    walks.clear()
    assert len(walks) == 0 and walks.get(3, 1) is None
    assert WalkCache(0).get(5, 1) is None
    off = WalkCache(0)
    off.put(5, 1, ([], []))
    assert len(off) == 0
