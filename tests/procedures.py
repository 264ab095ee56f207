"""A copy of the shipped procedures (workflows/, bpmn/, forms/) for a test to change, as a designer would."""
from __future__ import annotations

import shutil
from pathlib import Path

from engine.config import DEFAULT_ROOT


def copy_procedures(target: Path) -> Path:
    """The procedures' three folders copied under ``target``; returns ``target``."""
    for part in ("workflows", "bpmn", "forms"):
        shutil.copytree(DEFAULT_ROOT / part, target / part)
    return target
