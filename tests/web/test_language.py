"""Vietnamese first, English on request: the interface, the procedures' texts and the form messages."""
from __future__ import annotations

from tests.web.test_journey import register, start_birth_registration


def test_vietnamese_by_default_english_on_request(people) -> None:  # noqa: ANN001
    visitor = people()
    page = visitor.get("/")
    assert page.has('<html lang="vi"', "Thủ tục hành chính", "Đăng ký khai sinh")
    page = visitor.get("/ngon-ngu/en?next=/thu-tuc/birth_registration")
    assert page.url == "/thu-tuc/birth_registration"
    assert page.has('<html lang="en"', "Birth registration", "Birth notice", "Sign in")
    assert "Đăng ký khai sinh" not in page.html
    page = visitor.get("/ngon-ngu/vi?next=https://evil.example/")  # never sends anyone off-site
    assert page.url == "/" and page.has('<html lang="vi"')
    visitor.get("/ngon-ngu/fr", status=404)


def test_a_browser_asking_for_english_gets_it(people) -> None:  # noqa: ANN001
    visitor = people()
    response = visitor.client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in response.get_data(as_text=True)


def test_form_errors_follow_the_language(people) -> None:  # noqa: ANN001
    citizen = register(people)
    task = start_birth_registration(citizen)
    citizen.get("/ngon-ngu/en?next=/ho-so")
    citizen.get(f"/cong-viec/{task}")
    page = citizen.post(f"/cong-viec/{task}", {}, status=400)
    assert page.has("There is a problem", "Enter the child&#39;s full name", "The child")


def test_each_kind_of_account_lands_on_its_own_page(people) -> None:  # noqa: ANN001
    assert people().login("congdan@demo.motcua.vn").url == "/ho-so"
    assert people().login("hotich@demo.motcua.vn").url == "/can-bo/"
    assert people().login("quantri@demo.motcua.vn").url == "/quan-tri/"


def test_every_interface_string_has_an_english_translation() -> None:
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    with (root / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(f) if m.id}
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
    missing, seen = set(), set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(root), method_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2)}):
        msgid = message if isinstance(message, str) else message[0]
        seen.add(msgid)
        if not translated.get(msgid):
            missing.add(msgid)
    assert len(seen) > 100  # the extraction itself works
    assert not missing, f"run scripts/update_translations.sh and translate: {sorted(missing)}"


def test_switching_language_on_a_page_shown_after_a_failed_form_stays_on_that_page(people) -> None:  # noqa: ANN001
    import re

    visitor = people()
    visitor.get("/dang-nhap")
    page = visitor.post("/dang-nhap", {"email": "", "password": ""}, status=400)
    switch = re.search(r'href="(/ngon-ngu/en[^"]*)"', page.html).group(1)
    assert "next=/dang-nhap" in switch
    page = visitor.get(switch.replace("&amp;", "&"))
    assert page.url == "/dang-nhap" and page.has('<html lang="en"', "Sign in")
    citizen = register(people)
    task = start_birth_registration(citizen)
    page = citizen.post(f"/cong-viec/{task}/trang/child", {"child_full_name": ""}, status=400)
    assert f"next=/cong-viec/{task}/trang/child" in re.search(r'href="(/ngon-ngu/en[^"]*)"', page.html).group(1)
    # an address that only takes a form (starting a dossier, here at an agency that does not exist) comes back
    # to the home page
    citizen.get("/thu-tuc/birth_registration")
    response = citizen.client.post("/thu-tuc/birth_registration/bat-dau",
                                   data={"agency_id": "999999", "csrf_token": citizen.token()})
    switch = re.search(r'href="(/ngon-ngu/en[^"]*)"', response.get_data(as_text=True)).group(1)
    assert response.status_code >= 400 and "next=" not in switch
