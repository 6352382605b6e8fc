#!/usr/bin/env bash
# Renders a report.html to PNG with headless Chromium and fails if the page logs an error.
#
#   scripts/render_report.sh [REPORT_HTML] [OUT_PNG]
#
# Defaults: runs `glider demo --out out/demo` (the embedded Adult data, CC BY 4.0) when
# out/demo/report.html is missing, and writes docs/report.png (the README's screenshot).
# Needs chromium (Debian: apt install chromium). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
html="${1:-out/demo/report.html}"
png="${2:-docs/report.png}"
if [ ! -f "$html" ]; then
    cargo run --release -- demo --out "$(dirname "$html")"
fi
mkdir -p "$(dirname "$png")"
profile="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$profile" "$log"' EXIT
url="file://$(realpath "$html")"
# The flags keep Chromium off the network (the page needs none: everything is inline).
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 \
    --hide-scrollbars --window-size=1300,2600 --screenshot="$png" "$url" 2>"$log" || {
    cat "$log" >&2
    echo "chromium failed on $html" >&2
    exit 1
}
# Page errors (a script error, a resource that failed to load) are logged as CONSOLE lines.
if grep -E "CONSOLE.*(Uncaught|Error|Failed)|net::ERR_" "$log" >&2; then
    echo "the page logged errors (above)" >&2
    exit 1
fi
echo "rendered $html -> $png ($(stat -c %s "$png") bytes), no page errors"
