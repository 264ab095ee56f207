"""The Flask app over a real database, and a small browser-like client that carries CSRF tokens."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from engine.demo import DEMO_PASSWORD
from web import create_app

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def english_catalog() -> None:
    """`make install` compiles the English catalog; compile it here too when pytest runs on its own."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as src:
            catalog = read_po(src, locale="en")
        with mo.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=True)


@pytest.fixture
def app(engine: Engine) -> Iterator[Flask]:
    yield create_app(engine=engine, SECRET_KEY="test-secret-key", TESTING=True)


@pytest.fixture
def limited_app(engine):  # noqa: ANN001, ANN201
    """Makes the app of a web worker whose API limits are the settings given (over the same database)."""
    made: list[Engine] = []

    def make(**settings: str):  # noqa: ANN202
        made.append(Engine(replace(engine.settings, **settings)))
        return create_app(engine=made[-1], SECRET_KEY="k", TESTING=True)

    yield make
    for other in made:
        other.db.dispose()


@dataclass
class Page:
    status: int
    url: str
    html: str

    def has(self, *texts: str) -> bool:
        return all(t in self.html for t in texts)


class User:
    """One person in one browser: follows redirects, submits forms with the token of the last page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.page: Page | None = None

    def _page(self, response: Any) -> Page:
        url = response.request.path + (f"?{response.request.query_string.decode()}" if response.request.query_string else "")
        self.page = Page(response.status_code, url, response.get_data(as_text=True))
        return self.page

    def get(self, url: str, status: int = 200) -> Page:
        page = self._page(self.client.get(url, follow_redirects=True))
        assert page.status == status, f"GET {url}: {page.status}\n{page.html[:2000]}"
        return page

    def token(self) -> str:
        assert self.page is not None
        found = TOKEN.search(self.page.html)
        assert found, "the last page has no form with a CSRF token"
        return found.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, status: int = 200, csrf: bool = True) -> Page:
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token()
        page = self._page(self.client.post(url, data=data, follow_redirects=True))
        assert page.status == status, f"POST {url}: {page.status}\n{page.html[:3000]}"
        return page

    def upload(self, url: str, data: dict[str, Any], content: bytes, filename: str, status: int = 200) -> Page:
        """Post a form with a file (multipart, as a browser does), with the token of the last page."""
        import io

        fields = {**data, "csrf_token": self.token(), "file": (io.BytesIO(content), filename)}
        page = self._page(self.client.post(url, data=fields, content_type="multipart/form-data",
                                           follow_redirects=True))
        assert page.status == status, f"POST {url}: {page.status}\n{page.html[:3000]}"
        return page

    def login(self, email: str, password: str = DEMO_PASSWORD) -> Page:
        self.get("/dang-nhap")
        return self.post("/dang-nhap", {"email": email, "password": password})

    def logout(self) -> None:
        self.post("/dang-xuat")


@pytest.fixture
def people(app: Flask):  # noqa: ANN201
    """``people()`` opens a fresh browser (its own cookies)."""
    return lambda: User(app.test_client())
