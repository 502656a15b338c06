#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Hotline needs, when they are missing.
#   run:  python3-venv (to bootstrap uv), espeak-ng and sox (the voice prompts are
#         rendered with them at first start), fonts-dejavu-core (PDF reports)
#   test: also the real peers the tests talk to: SIPp (sip-tester), baresip, chromium,
#         poppler-utils (pdftoppm), rtpengine (the second media backend).
# As root with apt-get it installs them; otherwise it says which are missing and the tests
# that need them fail with the package name (they are never silently skipped in CI).
set -euo pipefail
mode="${1:-test}"

declare -A need=()
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then need[python3-venv]=1; fi
command -v espeak-ng  >/dev/null || need[espeak-ng]=1
command -v sox        >/dev/null || need[sox]=1
# PDF reports embed DejaVu Sans for Cyrillic (web/api/report_pdf.py)
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need[fonts-dejavu-core]=1
if [[ "$mode" == "test" ]]; then
  command -v sipp       >/dev/null || need[sip-tester]=1
  command -v baresip    >/dev/null || need[baresip]=1
  command -v chromium   >/dev/null || need[chromium]=1
  command -v pdftoppm   >/dev/null || need[poppler-utils]=1
  command -v rtpengine  >/dev/null || need[rtpengine-daemon]=1
fi
(( ${#need[@]} == 0 )) && exit 0

pkgs="${!need[*]}"
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
  echo "system-deps: installing $pkgs" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
else
  echo "system-deps: missing Debian packages: $pkgs (run: sudo apt-get install $pkgs)" >&2
  [[ "$mode" == "run" ]] && exit 1
fi
exit 0
