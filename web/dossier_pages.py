"""What the citizen's and the officials' pages of a dossier share: the dossier page itself, the downloads of its
files, slips and diagram, and the answer to an upload too large; each side's routes call these with its own
endpoints (``side``: "citizen" or "officer")."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.attachments import RESULT, too_large

from . import db, get_engine
from .ui import t


def too_large_response(upload_endpoint: str, page_endpoint: str):  # noqa: ANN201
    """A file over the limit is refused before it is read: whoever sent it is told so on the page they came from
    (the task's ``page_endpoint``); any other request too large gets the error page."""
    task_id = (request.view_args or {}).get("task_id")
    if request.endpoint != upload_endpoint or task_id is None:
        from .errors import page

        return page(413, _("Dữ liệu gửi lên quá lớn"), _("Dữ liệu gửi lên vượt quá giới hạn cho phép."))
    flash(t(too_large(get_engine().settings.upload_max_bytes)), "error")
    return redirect(url_for(page_endpoint, task_id=task_id), code=303)


def slip_response(dossier_id: int, kind: str):  # noqa: ANN201
    """One of the dossier's standard slips, shown in the browser's PDF viewer, saved under a telling name."""
    from engine.slips import KINDS

    engine = get_engine()
    data = engine.slip(db(), dossier_id, current_user, kind)  # NotFound for a slip it does not have
    name = f"{KINDS[kind].file_stem}-{engine.dossier(db(), dossier_id, current_user).code}.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "inline", filename=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def documents(dossier_id: int) -> tuple[list[tuple[Any, list[Any]]], list[Any]]:
    """The files of the dossier that the user may see, read once: the procedure's documents, each with the files
    attached for it, and the electronic result's files (the applicant sees them once given)."""
    engine = get_engine()
    files = engine.documents(db(), dossier_id, current_user)
    components = engine.components(db(), dossier_id, current_user)
    return ([(c, [f for f in files if f.component == c.code]) for c in components],
            [f for f in files if f.component == RESULT])


def document_response(view: Any, data: bytes):  # noqa: ANN201
    """A file attached to a dossier, as a download under its name; never shown as a page of this site."""

    response = Response(data, mimetype=view.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=view.filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def diagram_response(view: Any):  # noqa: ANN201

    return Response(view.xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=300"})


def dossier_page(dossier_id: int, side: str):  # noqa: ANN201
    """A dossier's page as the applicant (``side`` "citizen") or an official ("officer") sees it: its facts, where
    it stands in its diagram, its documents, slips, mail, rating and history; links go to that side's routes."""
    engine = get_engine()
    view = engine.dossier(db(), dossier_id, current_user)
    timeline = engine.timeline(db(), dossier_id, current_user)
    groups, results = documents(dossier_id)
    return render_template("dossier.html", dossier=view, timeline=timeline,
                           for_official=side == "officer", diagram=engine.diagram(db(), dossier_id, current_user),
                           diagram_url=url_for(f"{side}.diagram", dossier_id=dossier_id),
                           notices=engine.mail_notices(db(), dossier_id, current_user),
                           rating=engine.rating(db(), dossier_id, current_user),
                           document_groups=groups, document_endpoint=f"{side}.document",
                           slips=engine.slips(db(), dossier_id, current_user, timeline), slip_endpoint=f"{side}.slip",
                           slip_signer=engine.signing_key.subject if engine.signing_key else None,
                           results=results, fee=engine.fee(db(), dossier_id, current_user))
