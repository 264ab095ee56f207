"""Files for the documents a procedure asks for, attached the way the portal attaches them (through the engine)."""
from __future__ import annotations

from typing import Any

from engine.api import Engine
from engine.scenarios import placeholder_pdf


def attach_required(engine: Engine, session: Any, dossier_id: int, applicant: Any) -> list[Any]:
    """A one-page PDF for every required document of the dossier's procedure; the views of the files attached."""
    return [engine.attach(session, dossier_id, applicant, c.code, f"{c.code}.pdf", placeholder_pdf(c.code))
            for c in engine.components(session, dossier_id, applicant) if c.required]
