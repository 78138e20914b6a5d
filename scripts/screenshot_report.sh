#!/usr/bin/env bash
# Render a run report (OUTPUT/runs/RUN_ID.html) to a PNG with headless Chromium, e.g. to attach it to a
# message or to look at a run from a machine without a browser.
#
#   scripts/screenshot_report.sh output/runs/RUN_ID.html [OUT.png] [WIDTH] [HEIGHT]
#
# The PNG defaults to the report's path with .png; the window to 1280 x 3600 pixels (Chromium captures
# the window, not the whole page: raise HEIGHT for a run with many languages). CHROMIUM names the
# browser binary when it is not chromium, chromium-browser or google-chrome on the PATH.
set -euo pipefail

report="${1:?usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]}"
out="${2:-${report%.html}.png}"
width="${3:-1280}"
height="${4:-3600}"
[ -f "$report" ] || { echo "error: no report at $report" >&2; exit 1; }
browser="${CHROMIUM:-}"
if [ -z "$browser" ]; then
    for candidate in chromium chromium-browser google-chrome; do
        if command -v "$candidate" >/dev/null; then browser="$(command -v "$candidate")"; break; fi
    done
fi
[ -n "$browser" ] || { echo "error: no Chromium found (apt-get install chromium, or set CHROMIUM)" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
# The report needs nothing from the network; these flags keep the browser from reaching out on its own.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$(realpath -m "$out")" \
    --window-size="$width,$height" "file://$(realpath "$report")" >/dev/null 2>&1
[ -s "$out" ] || { echo "error: Chromium wrote no screenshot to $out" >&2; exit 1; }
echo "$out"
