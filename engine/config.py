"""Engine settings, all from the environment (documented here, in one place)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: the project checkout: workflows/, bpmn/ and forms/ live here
DEFAULT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL. MOTCUA_DATABASE_URL; default: embedded SQLite under instance/
    database_url: str
    #: where procedures are read from. MOTCUA_ROOT; default: the checkout
    root: Path = DEFAULT_ROOT
    #: restored workflows kept per process (0: none). MOTCUA_WORKFLOW_CACHE; default 128
    workflow_cache_size: int = 128

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        root = Path(os.environ.get("MOTCUA_ROOT") or DEFAULT_ROOT)
        url = os.environ.get("MOTCUA_DATABASE_URL") or f"sqlite:///{root / 'instance' / 'motcua.db'}"
        values: dict[str, object] = {"database_url": url, "root": root,
                                     "workflow_cache_size": int(os.environ.get("MOTCUA_WORKFLOW_CACHE") or 128)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
