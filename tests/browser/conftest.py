"""A real server (waitress, in a thread) over a real SQLite database, and Debian's Chromium through Playwright."""
from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import demo
from engine.api import Engine
from engine.config import DEFAULT_ROOT, Settings
from tests.conftest import TEST_DATA_KEY

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def procedures_root() -> Path:
    """The procedures the server deploys and its designers' pages read and write (a test may give a copy)."""
    return DEFAULT_ROOT


@pytest.fixture
def server(tmp_path: Path, procedures_root: Path) -> Iterator[str]:
    import waitress
    from waitress.server import create_server

    from web import create_app

    assert waitress
    if not (DEFAULT_ROOT / "web" / "static" / "css" / "app.css").exists():
        pytest.fail("web/static/css/app.css is missing: run `make install` (it builds the assets)")
    engine = Engine(Settings(database_url=f"sqlite:///{tmp_path / 'motcua.db'}", root=procedures_root,
                             data_keys=(TEST_DATA_KEY,)))
    engine.upgrade_database()
    with engine.session() as s:
        engine.deploy(s)
        demo.seed(s)
        s.commit()
    app = create_app(engine=engine, SECRET_KEY="browser-test-key")
    port = _free_port()
    srv = create_server(app, host="127.0.0.1", port=port, threads=4)
    stopping = threading.Event()

    def serve() -> None:
        try:
            srv.run()
        except (OSError, ValueError):  # its sockets closed under its loop's select(): how waitress stops
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    stopping.set()
    srv.close()
    thread.join(timeout=10)
    engine.db.dispose()


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """The test's own output folder under test-results/ (screenshots)."""
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "-")
    path = RESULTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(output_dir: Path, request: pytest.FixtureRequest) -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # a phone; tests that inject a checker (axe) into the page say so, the others run under the real CSP
        context = browser.new_context(locale="vi-VN", viewport={"width": 412, "height": 915},
                                      bypass_csp=request.node.get_closest_marker("inject_scripts") is not None)
        context.set_default_timeout(10_000)
        pg = context.new_page()
        try:
            yield pg
        finally:
            context.close()
            browser.close()
