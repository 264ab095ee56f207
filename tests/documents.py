"""Files for the documents a procedure asks for, attached the way the portal attaches them (through the engine)."""
from __future__ import annotations

import io
from typing import Any

from PIL import Image

from engine.api import Engine
from engine.scenarios import placeholder_pdf


def attach_required(engine: Engine, session: Any, dossier_id: int, applicant: Any) -> list[Any]:
    """A one-page PDF for every required document of the dossier's procedure; the views of the files attached."""
    return [engine.attach(session, dossier_id, applicant, c.code, f"{c.code}.pdf", placeholder_pdf(c.code))
            for c in engine.components(session, dossier_id, applicant) if c.required]


def picture(kind: str, size: tuple[int, int] = (40, 30), **save: Any) -> bytes:
    """A small picture (a JPEG or PNG, as Pillow writes it; ``save`` adds e.g. its ``exif``)."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, kind, **save)
    return out.getvalue()
