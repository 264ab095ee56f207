"""The applicant rates the service once their dossier is decided (a result, a refusal or a stop): a score from
1 (very dissatisfied) to 5 (very satisfied) and, if they wish, a comment. Once per dossier; the agency's officials
see it on the dossier and in their statistics (the share satisfied: 4 or 5)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import number_from
from .dossiers import audit
from .errors import Forbidden, FormInvalid, NotFound
from .i18n import Text, text
from .models import Dossier, Person, Rating, utcnow

SCORES: dict[int, Text] = {
    5: text("Rất hài lòng", "Very satisfied"), 4: text("Hài lòng", "Satisfied"),
    3: text("Bình thường", "Neither satisfied nor dissatisfied"), 2: text("Không hài lòng", "Dissatisfied"),
    1: text("Rất không hài lòng", "Very dissatisfied"),
}
#: satisfied: a score of at least this
SATISFIED = 4
MAX_COMMENT = 1000
#: the statuses of a decided dossier (withdrawn or still open: nothing to rate yet)
RATEABLE = ("done", "denied", "unresolved")
ALREADY = text("Bạn đã đánh giá hồ sơ này.", "You have already rated this application.")
NOT_YET = text("Hồ sơ có kết quả rồi mới đánh giá được.", "An application can be rated once it is decided.")

OF_DOSSIER = select(Rating).where(Rating.dossier_id == bindparam("dossier_id"))


@dataclass(frozen=True)
class RatingView:
    score: int
    label: Text
    comment: str | None
    at: dt.datetime


@dataclass(frozen=True)
class RatingState:
    """A dossier's rating as its page shows it: the one given, if any, and whether the actor may give it now."""

    given: RatingView | None
    may_rate: bool


def state(session: Session, dossier: Dossier, actor: Person) -> RatingState:
    found = session.scalar(OF_DOSSIER, {"dossier_id": dossier.id})
    given = None if found is None else RatingView(found.score, SCORES[found.score], found.comment, found.created_at)
    return RatingState(given, given is None and actor.is_citizen and dossier.applicant_id == actor.id
                       and dossier.status in RATEABLE)


def rate(session: Session, dossier: Dossier, applicant: Person, score: Any, comment: str | None) -> RatingView:
    """Keep the applicant's rating. Raises NotFound (not their dossier), Forbidden (not decided yet, or rated
    already: a second request at once included) or FormInvalid (no score, a comment too long)."""
    if not (applicant.is_citizen and dossier.applicant_id == applicant.id):
        raise NotFound(text("Không tìm thấy hồ sơ.", "Dossier not found."))
    if dossier.status not in RATEABLE:
        raise Forbidden(NOT_YET)
    if session.scalar(OF_DOSSIER, {"dossier_id": dossier.id}) is not None:
        raise Forbidden(ALREADY)
    errors: dict[str, Text] = {}
    number = number_from(score, digits=1)
    if number not in SCORES:
        errors["score"] = text("Chọn mức độ hài lòng của bạn", "Choose how satisfied you are")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        errors["comment"] = text(f"Ý kiến không được quá {MAX_COMMENT} ký tự",
                                 f"The comment must be {MAX_COMMENT} characters or fewer")
    if errors:
        raise FormInvalid(errors)
    row = Rating(dossier_id=dossier.id, score=number, comment=comment, created_at=utcnow())
    try:
        with session.begin_nested():  # the form sent twice at once: one rating, and the second is told so
            session.add(row)
    except IntegrityError:
        raise Forbidden(ALREADY) from None
    label = SCORES[number]
    audit(session, dossier, applicant, "dossier.rated",
          text(f"Người nộp đánh giá: {label['vi']}", f"The applicant's rating: {label['en']}"),
          detail={"score": number})
    return RatingView(number, label, comment, row.created_at)
