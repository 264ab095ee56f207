#!/usr/bin/env bash
# Build front-end assets for motcua.
#   - compiles web/assets/app.scss -> web/static/css/app.css
#   - vendors govuk-frontend JS + assets and the bpmn-js viewer into web/static/vendor/
# Requires `npm ci` to have been run first (see Makefile). Works from any cwd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NM=node_modules
SASS="$NM/.bin/sass"
GOVUK="$NM/govuk-frontend/dist/govuk"
BPMN="$NM/bpmn-js/dist"
VENDOR=web/static/vendor

die() { echo "build_assets: $*" >&2; exit 1; }
[[ -x "$SASS" ]] || die "$SASS not found; run 'npm ci' first"
[[ -d "$GOVUK" ]] || die "$GOVUK not found; run 'npm ci' first"
[[ -d "$BPMN" ]] || die "$BPMN not found; run 'npm ci' first"

# 1. Stylesheet
mkdir -p web/static/css
"$SASS" --no-source-map --style=compressed --load-path="$NM" \
  web/assets/app.scss web/static/css/app.css

# 2. govuk-frontend: JS + images/manifest (fonts deliberately skipped:
#    GDS Transport is for GOV.UK services only and we don't use it)
rm -rf "$VENDOR/govuk"
mkdir -p "$VENDOR/govuk/assets"
cp "$GOVUK/govuk-frontend.min.js" "$VENDOR/govuk/"
cp -R "$GOVUK/assets/images" "$VENDOR/govuk/assets/"
cp "$GOVUK/assets/manifest.json" "$VENDOR/govuk/assets/"

# 3. bpmn-js prebuilt navigated viewer and modeler (the designers' page) + their css and icon font
rm -rf "$VENDOR/bpmn-js"
#    -> vendor/bpmn-js/{bpmn-navigated-viewer.production.min.js,bpmn-modeler.production.min.js,diagram-js.css,
#       bpmn-js.css,bpmn-font/css/bpmn.css,bpmn-font/font/*} (bpmn.css uses ../font/)
mkdir -p "$VENDOR/bpmn-js"
cp "$BPMN/bpmn-navigated-viewer.production.min.js" "$BPMN/bpmn-modeler.production.min.js" "$VENDOR/bpmn-js/"
cp "$BPMN/assets/diagram-js.css" "$BPMN/assets/bpmn-js.css" "$VENDOR/bpmn-js/"
cp -R "$BPMN/assets/bpmn-font" "$VENDOR/bpmn-js/"

echo "build_assets: wrote web/static/css/app.css ($(wc -c < web/static/css/app.css) bytes) and $VENDOR/{govuk,bpmn-js}"
