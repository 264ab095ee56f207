"""What keeps a page cheap: a request reads each row once, and the template environment behaves as Jinja's."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import jinja2
import pytest
from flask import Flask
from jinja2 import TemplateRuntimeError
from markupsafe import Markup
from sqlalchemy import event

from engine.api import Engine
from web import ui

from .test_journey import PAGES, register, start_birth_registration


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split()))

    pools = (engine.db.engine, engine.db.read_engine)  # a GET reads through the second
    for pool in pools:
        event.listen(pool, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for pool in pools:
            event.remove(pool, "before_cursor_execute", record)


def test_a_task_page_reads_its_task_once(people, engine: Engine) -> None:
    """The view asks the engine for the task, its form, its prefill and its dossier: one read of the task row."""
    citizen = register(people)
    task_id = start_birth_registration(citizen)
    for page_id in PAGES:
        with statements(engine) as seen:
            page = citizen.get(f"/cong-viec/{task_id}/trang/{page_id}")
        assert page.has('name="csrf_token"')
        task_reads = [s for s in seen if s.startswith("SELECT") and re.search(r"FROM human_task\b.*WHERE human_task\.id = ", s)]
        assert len(task_reads) == 1, seen


def test_an_officer_task_page_reads_its_task_once(people, engine: Engine) -> None:
    from .test_journey import RECEPTION, submit_declaration

    citizen = register(people)
    task_id = start_birth_registration(citizen)
    code = submit_declaration(citizen, task_id)
    official = people()
    official.login(RECEPTION)
    page = official.get("/can-bo/")
    tid = re.search(rf'data-task-id="(\d+)" data-dossier-code="{re.escape(code)}"', page.html).group(1)
    official.post(f"/can-bo/cong-viec/{tid}/nhan")
    with statements(engine) as seen:
        page = official.get(f"/can-bo/cong-viec/{tid}")
    assert page.has(code, "Hoàn thành")
    task_reads = [s for s in seen if s.startswith("SELECT") and re.search(r"FROM human_task\b.*WHERE human_task\.id = ", s)]
    dossier_reads = [s for s in seen if s.startswith("SELECT") and re.search(r"FROM dossier\b.*WHERE dossier\.id = ", s)]
    assert len(task_reads) == 1 and not dossier_reads, seen


TEMPLATE = """
{%- set d = {"items": [1, 2], "classes": "c", "value": none} -%}
[{{ d.classes }}][{{ d.missing }}][{{ d.missing is defined }}][{{ d["items"] | length }}][{{ d.items is callable }}]
[{{ d.get("classes") }}][{{ d.value is none }}][{{ d.keys() | list | length }}][{{ obj.name }}][{{ obj.nothing is defined }}]
[{{ text.upper() }}][{{ (d.missing or "fallback") }}][{{ "x" in d }}][{{ d.classes ~ "-" ~ d.missing }}]
"""


class Obj:
    name = "object"


def test_the_template_environment_renders_as_jinja_does(app: Flask) -> None:
    plain = jinja2.Environment()
    ours = app.jinja_env
    values = {"obj": Obj(), "text": "abc"}
    expected = plain.from_string(TEMPLATE).render(**values)
    with app.test_request_context("/"):
        assert ours.from_string(TEMPLATE).render(**values) == expected
    assert "[c][][False][2][True]" in expected


def test_translations_follow_the_request_language(app: Flask) -> None:
    template = '{{ _("Tiếp tục") }}|{{ lang() }}|{{ ngettext("%(num)d thủ tục phù hợp", "%(num)d thủ tục phù hợp", 2) }}'
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert app.jinja_env.from_string(template).render() == "Continue|en|2 matching services"
    with app.test_request_context("/", headers={"Accept-Language": "vi"}):
        assert app.jinja_env.from_string(template).render() == "Tiếp tục|vi|2 thủ tục phù hợp"


def test_a_kept_fragment_is_rendered_once_per_key(app: Flask) -> None:
    """``fragment`` renders its block at the first use of a key and then gives that output back; another key, or
    another template environment (an overlay, as the markup tests use), renders its own."""
    template = '{% call fragment("t", key) %}{{ key }}:{{ value }}{% endcall %}'
    with app.test_request_context("/"):
        first = app.jinja_env.from_string(template)
        assert first.render(key=1, value="a") == "1:a"
        assert first.render(key=1, value="b") == "1:a"  # kept: what the block reads outside the key is not seen
        assert first.render(key=2, value="b") == "2:b"
        assert app.jinja_env.overlay().from_string(template).render(key=1, value="c") == "1:c"
        # templates reloaded from changed files (debug mode) keep nothing
        reloading = app.jinja_env.overlay(auto_reload=True).from_string(template)
        assert [reloading.render(key=1, value=v) for v in "de"] == ["1:d", "1:e"]


def test_a_kept_fragment_takes_this_requests_fill_escaped_in_its_one_place(app: Flask) -> None:
    template = '{% call(fill) fragment("f", fill=value) %}<p>{{ fill }}</p>{% endcall %}'
    with app.test_request_context("/"):
        render = app.jinja_env.from_string(template).render
        assert render(value="<b>") == "<p>&lt;b&gt;</p>"  # plain text is escaped, as {{ }} would
        assert render(value=Markup("<b>x</b>")) == "<p><b>x</b></p>"  # markup is written as it is
        for body in ("<p>{{ fill }}{{ fill }}</p>", "<p></p>"):
            with pytest.raises(TemplateRuntimeError, match="not once"):
                app.jinja_env.from_string(
                    f'{{% call(fill) fragment("g", {len(body)}, fill=value) %}}{body}{{% endcall %}}').render(value="x")


def test_kept_fragments_are_bounded(app: Flask) -> None:
    """A key with an open-ended value (a mistake) does not grow the memory without end: past FRAGMENTS_KEPT,
    fragments are rendered each time, still right."""
    template = app.jinja_env.overlay().from_string('{% call fragment("n", n) %}{{ n }}{% endcall %}')
    with app.test_request_context("/"):
        assert [template.render(n=n) for n in range(ui.FRAGMENTS_KEPT + 20)] == [
            str(n) for n in range(ui.FRAGMENTS_KEPT + 20)]
        assert len(ui._FRAGMENTS[template.environment]) == ui.FRAGMENTS_KEPT


def test_answer_rows_show_the_readers_language_then_vietnamese_then_a_dash() -> None:
    rows = [({"vi": "Họ tên", "en": "Full name"}, {"vi": "An", "en": "An"}),
            ("Ghi chú", {"vi": "có", "en": ""}), ({"vi": "Số"}, {"vi": "", "en": ""}), ("Khác", None), ("X", "y")]
    assert [(r["key"]["text"], r["value"]["text"]) for r in ui.answer_rows(rows, "en")] == [
        ("Full name", "An"), ("Ghi chú", "có"), ("Số", "–"), ("Khác", "–"), ("X", "–")]
