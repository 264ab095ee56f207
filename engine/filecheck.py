"""What an uploaded file holds, beyond its first bytes (engine.attachments reads those for its kind): a file is kept
only if it is whole and harmless to the officials who open it, and without what the applicant did not mean to send.

- An image (JPEG, PNG) must decode, whole, and have at most :data:`MAX_PIXELS` pixels (a picture that would take
  gigabytes once decoded is refused, as Pillow's decompression-bomb check does). Its metadata are removed: a phone
  photo's EXIF says where and when it was taken and on which device, which the agency has no use for. Only what
  shows the picture right is kept: the orientation, the colour profile and the resolution (a scan printed at its
  size). A JPEG is written again with its own quantisation tables and subsampling (``quality="keep"``), so that
  it looks the same; a file without such metadata is kept as it came, byte for byte.
- A PDF must be readable (pypdf), not protected by a password (the officials could not open it), and hold no
  active content: JavaScript, an action launching a program, embedded files, rich media or an XFA form, which a
  PDF reader on an official's computer would run or offer to open. Every object reachable from the document's
  trailer is looked at (names as pypdf decodes them, so ``/J#53`` is ``/JS``); stream contents are not decoded.

Nothing here scans for viruses: this is what can be checked without an antivirus's signatures.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .i18n import Text, text

if TYPE_CHECKING:
    from PIL import Image

#: the largest picture, in pixels: a page scanned at 600 dpi is about 35 million
MAX_PIXELS = 60_000_000
#: PDF names that make a document active
ACTIVE = {"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA"}
#: objects of a PDF looked at, at most (a 10 MB file holds far fewer); past it, the file is refused as unreadable
MAX_OBJECTS = 500_000
#: what a PNG's or JPEG's info may hold and be kept (Pillow's names): how the picture shows
KEPT_INFO = {"dpi", "icc_profile", "gamma", "srgb", "chromaticity", "transparency", "aspect", "jfif", "jfif_version",
             "jfif_unit", "jfif_density", "adobe", "adobe_transform", "progressive", "progression", "interlace",
             "exif"}
ORIENTATION = 0x0112

UNREADABLE_IMAGE = text("Không đọc được ảnh này (tệp hỏng hoặc không trọn vẹn). Hãy chụp hoặc xuất lại ảnh.",
                        "This picture cannot be read (the file is damaged or incomplete). Take or export it again.")
HUGE_IMAGE = text("Ảnh quá lớn (quá nhiều điểm ảnh). Hãy chụp hoặc quét lại với độ phân giải thấp hơn.",
                  "The picture is too large (too many pixels). Take or scan it again at a lower resolution.")
UNREADABLE_PDF = text("Không đọc được tệp PDF này (tệp hỏng hoặc không trọn vẹn). Hãy xuất hoặc quét lại.",
                      "This PDF cannot be read (the file is damaged or incomplete). Export or scan it again.")
LOCKED_PDF = text("Tệp PDF có mật khẩu nên cơ quan không mở được. Hãy gửi bản không đặt mật khẩu.",
                  "The PDF is protected by a password, so the agency cannot open it. Send it without a password.")
ACTIVE_PDF = text("Tệp PDF có chứa mã chạy (JavaScript), tệp nhúng hoặc lệnh mở chương trình. Hãy in lại thành PDF "
                  "(“In ra PDF”) hoặc quét lại giấy tờ.",
                  "The PDF holds code (JavaScript), embedded files or an action that starts a program. Print it to "
                  "PDF again (“Print to PDF”) or scan the paper again.")


@dataclass(frozen=True)
class Checked:
    """A file that passed: its content as kept (metadata removed), or the problem that refused it."""

    content: bytes
    problem: Text | None = None
    cleaned: bool = False  # metadata were removed


def check(data: bytes, mime: str) -> Checked:
    """Check (and for an image, clean) a file whose first bytes say it is ``mime`` (a PDF, a JPEG or a PNG)."""
    if mime == "application/pdf":
        return Checked(data, pdf_problem(data))
    return _image(data, mime)


# -- images ------------------------------------------------------------------------------------------------------

def _image(data: bytes, mime: str) -> Checked:
    from PIL import Image, UnidentifiedImageError  # (imported by the first upload: a process without any saves it)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    return Checked(data, HUGE_IMAGE)
                probe.verify()
            with Image.open(io.BytesIO(data)) as picture:
                picture.load()  # (the whole picture decoded: a truncated one fails here)
                if not _private(picture):
                    return Checked(data)
                return Checked(_without_metadata(picture, mime), cleaned=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Checked(data, HUGE_IMAGE)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return Checked(data, UNREADABLE_IMAGE)


def _private(picture: Image.Image) -> bool:
    """Whether the picture carries metadata beyond how it shows: EXIF tags besides the orientation, text chunks,
    comments, XMP or IPTC."""
    return bool(set(picture.info) - KEPT_INFO) or bool(set(picture.getexif()) - {ORIENTATION})


def _without_metadata(picture: Image.Image, mime: str) -> bytes:
    from PIL import Image

    kept = Image.Exif()
    orientation = picture.getexif().get(ORIENTATION)
    if orientation:
        kept[ORIENTATION] = orientation
    options: dict[str, object] = {"exif": kept.tobytes()} if orientation else {}
    for name in ("dpi", "icc_profile"):
        if picture.info.get(name):
            options[name] = picture.info[name]
    out = io.BytesIO()
    if mime == "image/jpeg":
        picture.save(out, "JPEG", quality="keep", subsampling="keep", qtables="keep",
                     progressive=bool(picture.info.get("progressive")), **options)
    else:
        picture.save(out, "PNG", **options)
    return out.getvalue()


# -- PDF ---------------------------------------------------------------------------------------------------------

def pdf_problem(data: bytes) -> Text | None:
    """Why a PDF is refused, or None."""
    from pypdf import PdfReader  # (some 20 MB a process: imported by the first PDF sent)

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return LOCKED_PDF
        if len(reader.pages) == 0:
            return UNREADABLE_PDF
        return ACTIVE_PDF if _active(reader) else None
    except RecursionError:
        return UNREADABLE_PDF
    except Exception:  # noqa: BLE001  (a parser of whatever was sent: anything it raises means "cannot be read")
        return UNREADABLE_PDF


def _active(reader: Any) -> bool:
    """Whether any object reachable from the trailer names active content (as a key or as a value)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    looked = 0
    while stack:
        item = stack.pop()
        looked += 1
        if looked > MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            stack.append(item.get_object())
        elif isinstance(item, DictionaryObject):  # (a stream's dictionary too; its data is not decoded)
            for name, value in item.items():
                if name in ACTIVE:
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and item in ACTIVE:
            return True
    return False
