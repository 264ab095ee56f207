"""The documents of a dossier ("thành phần hồ sơ"): files the applicant attaches for the components its
procedure's manifest lists (``[[components]]``: a birth notice, an identity document …).

The applicant attaches and removes files while the dossier is a draft, or while the agency waits for a
supplement. A file is read for what it is, not for what its name or the browser says: a PDF, a JPEG or a PNG,
at most ``Settings.upload_max_bytes``, and at most :data:`MAX_FILES` per dossier; it must be whole and a PDF
without active content, and a picture's metadata (where a photo was taken…) are removed (engine.filecheck). The
first submission needs a file for every required component. When the applicant's step goes (the dossier
submitted, or a supplement sent), the files attached until then are marked sent: from then on they cannot be
removed, and the agency's officials see them. Contents are kept in the database, in the transaction of the upload,
and read only when a file is downloaded.

The agency's electronic result goes the other way: on an official's task that takes it (``resultFile`` in the
diagram), the official who holds the task attaches the result (component :data:`RESULT`); completing the task
needs one when the diagram says so ("required", or "online" when the applicant chose the result online), and
sends it: from then on the applicant downloads it from the dossier's page.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import filetype
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import filecheck
from .dossiers import audit
from .errors import Forbidden, FormInvalid, NotFound
from .i18n import Text, text
from .models import Attachment, Dossier, Person, utcnow
from .procedures import RESULT_COMPONENT as RESULT
from .views import Component

#: the kinds of file accepted, by the MIME type read from the content: the extension a file gets
ACCEPTED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
#: files attached to one dossier at most
MAX_FILES = 30
#: the statuses in which the applicant may attach or remove files: before submitting, and when asked for more
EDITABLE = ("draft", "waiting")
MAX_NAME = 120


def key(component: str) -> str:
    """The key of a component's errors in FormInvalid (apart from the form's field names)."""
    return f"doc-{component}"

RESULT_NAME = text("Kết quả giải quyết (bản điện tử)", "The result (electronic copy)")
NO_FILE = text("Không tìm thấy tệp.", "File not found.")
NOT_NOW = text("Chỉ thêm hoặc bỏ giấy tờ được khi hồ sơ chưa nộp hoặc khi cơ quan yêu cầu bổ sung.",
               "Documents can be added or removed only before the application is submitted, or when the agency "
               "asks for more.")

COLUMNS = (Attachment.id, Attachment.component, Attachment.filename, Attachment.content_type, Attachment.size,
           Attachment.uploaded_at, Attachment.sent_at)
OF_DOSSIER = select(*COLUMNS).where(Attachment.dossier_id == bindparam("dossier_id")).order_by(Attachment.id)
SAME = (select(*COLUMNS).where(Attachment.dossier_id == bindparam("dossier_id"),
                               Attachment.component == bindparam("component"),
                               Attachment.sha256 == bindparam("sha256")).limit(1))
COUNT = select(func.count()).select_from(Attachment).where(Attachment.dossier_id == bindparam("dossier_id"))
SEND = (update(Attachment).where(Attachment.dossier_id == bindparam("of_dossier"), Attachment.sent_at.is_(None),
                                 Attachment.component != RESULT).values(sent_at=bindparam("now")))
SEND_RESULTS = (update(Attachment).where(Attachment.dossier_id == bindparam("of_dossier"), Attachment.sent_at.is_(None),
                                         Attachment.component == RESULT).values(sent_at=bindparam("now")))
HAS_RESULT = (select(Attachment.id).where(Attachment.dossier_id == bindparam("dossier_id"),
                                          Attachment.component == RESULT).limit(1))


@dataclass(frozen=True)
class AttachmentView:
    id: int
    component: str
    filename: str
    content_type: str
    size: int
    uploaded_at: dt.datetime
    sent: bool


def of_dossier(session: Session, dossier: Dossier, actor: Person) -> list[AttachmentView]:
    """The dossier's files that the actor may see, in the order attached: the applicant sees their own documents
    and the results sent; officials (who may see the dossier) the documents sent and every result."""
    rows = session.execute(OF_DOSSIER, {"dossier_id": dossier.id}).all()
    views = [AttachmentView(r.id, r.component, r.filename, r.content_type, r.size, r.uploaded_at,
                            r.sent_at is not None) for r in rows]
    return [v for v in views if _visible(v.component, v.sent, dossier, actor)]


def _visible(component: str, sent: bool, dossier: Dossier, actor: Person) -> bool:
    """(The actor may see the dossier.) Unsent files are their side's own: the applicant's documents being
    prepared, the agency's result being prepared."""
    return sent or (component == RESULT) != _is_applicant(dossier, actor)


def attach(session: Session, components: tuple[Component, ...], dossier: Dossier, applicant: Person,
           component: str, filename: str | None, data: bytes, max_bytes: int) -> AttachmentView:
    """Keep a file the applicant attached for ``component`` (the same content for the same component again: the
    file kept the first time). Raises NotFound (not their dossier), Forbidden
    (the dossier is not open to documents now) or FormInvalid (keyed by the component: no file, an empty or too
    large one, one that is not a PDF, JPEG or PNG, too many files)."""
    _lock(session, dossier)
    _check_editable(dossier, applicant)
    if component not in {c.code for c in components}:
        raise NotFound(text("Thủ tục này không có loại giấy tờ đó.", "This procedure has no such document."))
    return _kept(session, dossier, applicant, component, filename, data, max_bytes)


def store(session: Session, dossier: Dossier, uploader: Person, component: str, filename: str | None, data: bytes,
          max_bytes: int) -> AttachmentView:
    """Keep a file for the dossier once its uploader's right to add it was checked (the same content for the same
    component again: the file kept the first time). Raises FormInvalid (keyed by the component) for a file that
    is empty, too large, not a PDF, JPEG or PNG, or one too many."""
    _lock(session, dossier)
    return _kept(session, dossier, uploader, component, filename, data, max_bytes)


def _lock(session: Session, dossier: Dossier) -> None:
    """Lock the dossier's row until the transaction ends, and read it afresh: files are added, removed and sent
    with a step one transaction at a time, so that two uploads cannot both pass the count of files, and an upload
    racing the step that submits the dossier is either sent with it or refused (the step waits for the lock to
    write the dossier, then marks the files sent). On PostgreSQL, ``SELECT … FOR UPDATE``; SQLite's writing
    transactions hold the database's lock from their start (engine.db). The checks that follow read the status."""
    status = session.scalar(select(Dossier.status).where(Dossier.id == dossier.id).with_for_update())
    set_committed_value(dossier, "status", status)  # (what the checks read: as the lock found it)


def _kept(session: Session, dossier: Dossier, uploader: Person, component: str, filename: str | None, data: bytes,
          max_bytes: int) -> AttachmentView:
    error = problem_with(data, max_bytes)
    if error is None and session.scalar(COUNT, {"dossier_id": dossier.id}) >= MAX_FILES:
        error = text(f"Mỗi hồ sơ đính kèm được tối đa {MAX_FILES} tệp. Hãy bỏ bớt tệp không cần thiết.",
                     f"An application can have at most {MAX_FILES} files. Remove the files you do not need.")
    content_type = kind_of(data) if error is None else None
    if content_type is not None:  # (problem_with said it is one of ours: now what it holds, engine.filecheck)
        checked = filecheck.check(data, content_type)
        error, data = checked.problem, checked.content
    if error is not None:
        raise FormInvalid({key(component): error})
    assert content_type is not None  # (problem_with said so)
    digest = hashlib.sha256(data).hexdigest()
    same = session.execute(SAME, {"dossier_id": dossier.id, "component": component, "sha256": digest}).first()
    if same is not None:  # the same file again (a second click, a second tab): kept once
        return AttachmentView(same.id, same.component, same.filename, same.content_type, same.size, same.uploaded_at,
                              same.sent_at is not None)
    now = utcnow()
    row = Attachment(dossier_id=dossier.id, component=component, filename=clean_name(filename, ACCEPTED[content_type]),
                     content_type=content_type, size=len(data), sha256=digest,
                     uploaded_at=now, uploaded_by_id=uploader.id, content=data)
    session.add(row)
    session.flush()
    return AttachmentView(row.id, component, row.filename, content_type, row.size, now, sent=False)


def remove(session: Session, dossier: Dossier, applicant: Person, attachment_id: int) -> str:
    """Take back a file not sent yet; returns its name. Raises NotFound or Forbidden (sent already, or the
    dossier is not open to documents now)."""
    _lock(session, dossier)
    _check_editable(dossier, applicant)
    return _unsent_removed(session, dossier, attachment_id, result=False, sent=text(
        "Tệp này đã được nộp cho cơ quan nên không bỏ được.",
        "This file has been sent to the agency and cannot be removed."))


def remove_result(session: Session, dossier: Dossier, attachment_id: int) -> str:
    """Take back a result file not sent yet (the caller checked that the official holds the result's task)."""
    _lock(session, dossier)
    return _unsent_removed(session, dossier, attachment_id, result=True, sent=text(
        "Kết quả này đã được trả cho người nộp nên không bỏ được.",
        "This result has been given to the applicant and cannot be removed."))


def _unsent_removed(session: Session, dossier: Dossier, attachment_id: int, result: bool, sent: Text) -> str:
    """Delete one of the dossier's files, a result or not, unless sent (Forbidden with ``sent``); its name."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.dossier_id != dossier.id or (row.component == RESULT) != result:
        raise NotFound(NO_FILE)
    if row.sent_at is not None:
        raise Forbidden(sent)
    name = row.filename
    session.delete(row)
    session.flush()
    return name


def result_needed(mode: str | None, dossier: Dossier) -> bool:
    """Whether a task with this ``resultFile`` mode needs the result to be completed, for this dossier."""
    return mode == "required" or (mode == "online" and dossier.delivery_method == "online")


def missing_result(session: Session, mode: str | None, dossier: Dossier) -> dict[str, Text]:
    if not result_needed(mode, dossier) or session.scalar(HAS_RESULT, {"dossier_id": dossier.id}) is not None:
        return {}
    return {key(RESULT): text("Đính kèm bản điện tử của kết quả giải quyết",
                              "Attach the electronic copy of the result")}


def send_results(session: Session, dossier: Dossier, actor: Person) -> int:
    """Give the result files attached so far to the applicant, with the official's step."""
    count = session.execute(SEND_RESULTS, {"of_dossier": dossier.id, "now": utcnow()}).rowcount
    if count:
        audit(session, dossier, actor, "result.sent",
              text(f"Trả kết quả điện tử ({count} tệp)", f"The electronic result was sent ({count} file"
                   f"{'s' if count > 1 else ''})"), detail={"files": count})
    return count


def content(session: Session, dossier: Dossier, actor: Person, attachment_id: int) -> tuple[AttachmentView, bytes]:
    """A file of the dossier and its content, for whoever may see it (see :func:`of_dossier`)."""
    row = session.get(Attachment, attachment_id)
    if (row is None or row.dossier_id != dossier.id
            or not _visible(row.component, row.sent_at is not None, dossier, actor)):
        raise NotFound(NO_FILE)
    view = AttachmentView(row.id, row.component, row.filename, row.content_type, row.size, row.uploaded_at,
                          row.sent_at is not None)
    return view, row.content


def missing(session: Session, components: tuple[Component, ...], dossier: Dossier) -> dict[str, Text]:
    """The required components without a file, as form errors (see :func:`key`)."""
    required = [c for c in components if c.required]
    if not required:
        return {}
    have = {r.component for r in session.execute(OF_DOSSIER, {"dossier_id": dossier.id})}
    return {key(c.code): text(f"Đính kèm {c.name['vi']}", f"Attach a file for “{c.name['en']}”")
            for c in required if c.code not in have}


def send(session: Session, dossier: Dossier, actor: Person) -> int:
    """Mark the files attached so far as sent with the applicant's step; returns how many were."""
    count = session.execute(SEND, {"of_dossier": dossier.id, "now": utcnow()}).rowcount
    if count:
        audit(session, dossier, actor, "documents.sent",
              text(f"Nộp kèm {count} tệp giấy tờ", f"Sent {count} document file{'s' if count > 1 else ''}"),
              detail={"files": count})
    return count


# -- reading a file -------------------------------------------------------------------------------------------

def kind_of(data: bytes) -> str | None:
    """The accepted MIME type the content is, read from its first bytes, or None."""
    guess = filetype.guess(data[:8192])
    return guess.mime if guess is not None and guess.mime in ACCEPTED else None


def problem_with(data: bytes, max_bytes: int) -> Text | None:
    if not data:
        return text("Tệp đã chọn không có nội dung. Hãy chọn lại tệp.", "The selected file is empty. Choose it again.")
    if len(data) > max_bytes:
        return too_large(max_bytes)
    if kind_of(data) is None:
        return text("Tệp phải là PDF, JPG hoặc PNG. Tệp đã chọn không phải là một trong các loại này.",
                    "The file must be a PDF, JPG or PNG. The selected file is none of these.")
    return None


def too_large(max_bytes: int) -> Text:
    size = f"{max_bytes / (1024 * 1024):g} MB"
    return text(f"Tệp phải nhỏ hơn {size}. Hãy chụp hoặc quét lại với độ phân giải thấp hơn.",
                f"The file must be smaller than {size}. Scan or photograph it again at a lower resolution.")


def clean_name(filename: str | None, extension: str) -> str:
    """A name to show and to download the file as: the base name the browser sent, without control characters
    or path, shortened, ending in the extension of what the file is."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name).strip(" .")[:MAX_NAME] or "tep"
    return f"{stem}.{extension}"


def _is_applicant(dossier: Dossier, actor: Person) -> bool:
    return actor.is_citizen and dossier.applicant_id == actor.id


def _check_editable(dossier: Dossier, applicant: Person) -> None:
    if not _is_applicant(dossier, applicant):
        raise NotFound(text("Không tìm thấy hồ sơ.", "Dossier not found."))
    if dossier.status not in EDITABLE:
        raise Forbidden(NOT_NOW)

