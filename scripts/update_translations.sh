#!/usr/bin/env bash
# Re-extract gettext msgids (Vietnamese source strings) from web/*.py and
# web/templates/**/*.html and merge them into every catalogue under
# web/translations. New strings arrive untranslated; fill them in, then run
# `make` (or `.venv/bin/pybabel compile -d web/translations`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
PYTHON="${PYTHON:-.venv/bin/python}"
POT="$(mktemp "${TMPDIR:-/tmp}/motcua-messages.XXXXXX.pot")"
trap 'rm -f "$POT"' EXIT

"$PYBABEL" --quiet extract -F babel.cfg \
  -k _ -k gettext -k ngettext:1,2 \
  --project=motcua --version=0.1.0 \
  -o "$POT" .

"$PYBABEL" --quiet update -i "$POT" -d web/translations --no-fuzzy-matching

# Report untranslated (and fuzzy) messages per catalogue.
"$PYTHON" - <<'PY'
import glob
from babel.messages.pofile import read_po

status = 0
for path in sorted(glob.glob("web/translations/*/LC_MESSAGES/messages.po")):
    with open(path, "rb") as f:
        cat = read_po(f)
    msgs = [m for m in cat if m.id]
    untranslated = [m for m in msgs if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    fuzzy = [m for m in msgs if m.fuzzy]
    print(f"{path}: {len(msgs)} messages, {len(untranslated)} untranslated, {len(fuzzy)} fuzzy")
    for m in untranslated:
        print(f"  untranslated: {m.id if isinstance(m.id, str) else m.id[0]!r}")
    if cat.obsolete:
        print(f"  {len(cat.obsolete)} obsolete (#~) entries kept at the end of the file")
PY
