"""The health checks: /healthz answers while the process runs; /readyz only when the database answers with the
schema this code was written for (503 with the reason otherwise: not set up, migrated by older code, unreachable).
Neither sets a cookie nor is cached."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from engine.api import Engine
from engine.config import Settings
from engine.db import migration_heads
from web import create_app


def checks(app: Flask) -> tuple[tuple[int, dict], tuple[int, dict]]:
    client = app.test_client()
    answers = [client.get("/healthz"), client.get("/readyz")]
    for answer in answers:
        assert "Set-Cookie" not in answer.headers and answer.headers["Cache-Control"] == "no-store"
    return tuple((a.status_code, a.get_json()) for a in answers)  # type: ignore[return-value]


def test_a_migrated_database_is_ready(app: Flask) -> None:
    assert checks(app) == ((200, {"status": "ok"}), (200, {"status": "ok"}))


def test_a_database_not_ready_is_told(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    for prepare, reason in ((None, "database unreachable or not set up"),
                            ("0016", f"schema at 0016, code at {', '.join(sorted(migration_heads()))}")):
        engine = Engine(Settings(database_url=url))
        if prepare:
            engine.db.upgrade(prepare)
        try:
            alive, ready = checks(create_app(engine=engine, SECRET_KEY="k", TESTING=True))
        finally:
            engine.db.dispose()
        assert alive == (200, {"status": "ok"})
        assert ready[0] == 503 and ready[1]["status"] == "unavailable" and ready[1]["reason"].startswith(reason)
    away = Engine(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test"))
    try:
        _, ready = checks(create_app(engine=away, SECRET_KEY="k", TESTING=True))
    finally:
        away.db.dispose()
    assert ready == (503, {"status": "unavailable", "reason": "database unreachable or not set up: OperationalError"})
