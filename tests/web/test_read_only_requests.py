"""A GET or HEAD only reads: its session holds no transaction and the database refuses a write in it (web.db,
engine.db.Database.read_session); a POST writes as before."""
from __future__ import annotations

import re
import sqlite3
import threading

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from engine.api import Engine
from engine.models import User
from web import db

from .test_journey import register, start_birth_registration, submit_declaration


def test_a_get_cannot_write_and_a_post_can(app: Flask, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A view that tried to write during a GET would fail loudly (the error page, the database's refusal
    logged), with nothing stored."""

    def rename() -> str:
        db().execute(update(User).where(User.email == "congdan@demo.motcua.vn").values(full_name="Đổi tên"))
        db().commit()
        return "renamed"

    app.add_url_rule("/_test/rename", "test_rename", rename, methods=["GET", "HEAD", "POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    for method in (client.get, client.head):
        caplog.clear()
        assert method("/_test/rename").status_code == 500
        refusals = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], DBAPIError)]
        assert refusals and re.search("(?i)read-only|readonly", str(refusals[0].exc_info[1]))
    with engine.session() as s:
        assert s.scalar(select(User.full_name).where(User.email == "congdan@demo.motcua.vn")) != "Đổi tên"
    assert client.post("/_test/rename").get_data(as_text=True) == "renamed"
    with engine.session() as s:
        assert s.scalar(select(User.full_name).where(User.email == "congdan@demo.motcua.vn")) == "Đổi tên"
    # one app context kept over several requests (a script, a test): the POST after a GET still writes
    with app.app_context():
        assert client.get("/_test/rename").status_code == 500
        assert client.post("/_test/rename").get_data(as_text=True) == "renamed"
        db().execute(update(User).where(User.email == "congdan@demo.motcua.vn").values(full_name="Ngoài yêu cầu"))
        db().commit()  # outside any request: an ordinary session
    with engine.session() as s:
        assert s.scalar(select(User.full_name).where(User.email == "congdan@demo.motcua.vn")) == "Ngoài yêu cầu"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # PostgreSQL's readers never wait for writers
def test_pages_answer_while_another_request_holds_the_write_lock(people, engine: Engine) -> None:  # noqa: ANN001
    """SQLite: a step being saved holds the database's write lock; pages are read meanwhile instead of waiting
    for it (every transaction there takes the lock up front, with BEGIN IMMEDIATE)."""
    assert engine.db.is_sqlite
    citizen = register(people)
    submit_declaration(citizen, start_birth_registration(citizen))
    dossier_url = re.search(r'href="(/ho-so/\d+)"', citizen.get("/ho-so").html).group(1)
    writer = sqlite3.connect(engine.db.engine.url.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    answered = threading.Event()
    try:
        # the pages on a thread of their own, so that a page that waits for the lock cannot hang the test run
        def read_pages() -> None:
            for url in ("/", "/ho-so", dossier_url, dossier_url + "/so-do.bpmn"):
                citizen.get(url)
            answered.set()

        reader = threading.Thread(target=read_pages, daemon=True)
        reader.start()
        reader.join(timeout=10)
        assert answered.is_set(), "a page waited for the write lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
