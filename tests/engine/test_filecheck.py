"""What an uploaded file holds: a phone photo loses where it was taken (and every other EXIF tag but its
orientation) and looks the same; a PNG loses its text; a picture without metadata is kept byte for byte; a broken
or gigantic picture, a broken, locked or active PDF (JavaScript, a launch action, an embedded file, even with its
names escaped) is refused with a message for whoever sent it; through the engine, what is kept is the cleaned file."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageChops, PngImagePlugin
from pypdf import PdfWriter

from engine import filecheck
from engine.scenarios import placeholder_pdf
from tests.documents import picture

GPS, MAKE, DATETIME, ORIENTATION = 0x8825, 0x010F, 0x0132, 0x0112


def phone_photo() -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[DATETIME] = "2026:11:20 08:15:00"
    exif[ORIENTATION] = 6
    exif.get_ifd(GPS).update({1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 51.0, 10.0)})
    return picture("JPEG", (64, 48), exif=exif.tobytes(), quality=90, dpi=(300, 300))


def test_a_photo_loses_its_whereabouts_and_keeps_how_it_shows() -> None:
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS) and before.getexif()[MAKE] == "PhoneMaker"
    checked = filecheck.check(original, "image/jpeg")
    assert checked.problem is None and checked.cleaned and checked.content != original
    with Image.open(io.BytesIO(checked.content)) as after, Image.open(io.BytesIO(original)) as before:
        exif = after.getexif()
        assert dict(exif) == {ORIENTATION: 6} and not exif.get_ifd(GPS)
        assert after.size == before.size and after.info["dpi"] == pytest.approx((300, 300))
        # the same quantisation: the pixels barely move
        bands = ImageChops.difference(after.convert("RGB"), before.convert("RGB")).getextrema()
        assert max(high for _, high in bands) <= 8
    assert b"PhoneMaker" not in checked.content and b"2026:11:20" not in checked.content
    assert filecheck.check(checked.content, "image/jpeg") == filecheck.Checked(checked.content)  # clean now


def test_a_png_loses_its_text_and_a_clean_picture_is_kept_as_it_came() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Nguyễn Văn A", zip=False)
    text.add_text("Location", "Mẫu Sơn", zip=True)
    tagged = picture("PNG", pnginfo=text)
    checked = filecheck.check(tagged, "image/png")
    assert checked.problem is None and checked.cleaned
    with Image.open(io.BytesIO(checked.content)) as after:
        assert "Author" not in after.info and "Location" not in after.info and after.size == (40, 30)
    for kind, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        clean = picture(kind)
        assert filecheck.check(clean, mime) == filecheck.Checked(clean)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (and whose data is a few bytes: it would decode huge)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def test_a_broken_or_gigantic_picture_is_refused() -> None:
    whole = picture("JPEG", (200, 150))
    assert filecheck.check(whole[: len(whole) // 2], "image/jpeg").problem == filecheck.UNREADABLE_IMAGE
    assert filecheck.check(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32), "image/jpeg").problem == \
        filecheck.UNREADABLE_IMAGE
    assert filecheck.check(png_claiming(100_000, 100_000), "image/png").problem == filecheck.HUGE_IMAGE
    assert filecheck.check(png_claiming(64, 64), "image/png").problem == filecheck.UNREADABLE_IMAGE  # too little data


def pdf_with(extra_catalog: bytes) -> bytes:
    """The placeholder PDF with ``extra_catalog`` added to its catalog (the cross-reference table's offsets are then
    off: PDF readers, and pypdf, find the objects all the same)."""
    return placeholder_pdf("x").replace(b"<< /Type /Catalog /Pages 2 0 R >>",
                                        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b" >>")


def test_a_pdf_must_be_readable_unlocked_and_inactive() -> None:
    assert filecheck.pdf_problem(placeholder_pdf("Giay chung sinh")) is None
    assert filecheck.pdf_problem(b"%PDF-1.4\n" + bytes(200)) == filecheck.UNREADABLE_PDF
    assert filecheck.pdf_problem(placeholder_pdf("x")[:200]) == filecheck.UNREADABLE_PDF
    for active in (b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>",
                   b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",  # names escaped
                   b"/OpenAction << /S /Launch /F (cmd.exe) >>",
                   b"/Names << /EmbeddedFiles << /Names [(a.exe) << /Type /Filespec >>] >> >>"):
        assert filecheck.pdf_problem(pdf_with(active)) == filecheck.ACTIVE_PDF, active

    locked = PdfWriter()
    locked.add_blank_page(595, 842)
    locked.encrypt("mat-khau")
    out = io.BytesIO()
    locked.write(out)
    assert filecheck.pdf_problem(out.getvalue()) == filecheck.LOCKED_PDF


def test_through_the_engine_what_is_kept_is_the_cleaned_file(engine) -> None:  # noqa: ANN001
    import datetime as dt

    from engine import clock
    from engine.errors import FormInvalid
    from tests.engine.test_attachments import draft
    from tests.engine.test_birth_registration import CITIZEN, user

    with clock.use(clock.ManualClock(dt.datetime(2026, 11, 23, 2, 0))):
        dossier_id = draft(engine)
        with engine.session() as s:
            citizen = user(s, CITIZEN)
            view = engine.attach(s, dossier_id, citizen, "birth_notice", "anh.jpg", phone_photo())
            s.commit()
            _, content = engine.document(s, dossier_id, citizen, view.id)
            assert b"PhoneMaker" not in content and view.size == len(content)
            with pytest.raises(FormInvalid) as refused:
                engine.attach(s, dossier_id, citizen, "birth_notice", "x.pdf",
                              pdf_with(b"/OpenAction << /S /JavaScript /JS (1) >>"))
            assert refused.value.errors == {"doc-birth_notice": filecheck.ACTIVE_PDF}
