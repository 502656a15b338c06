#!/usr/bin/env bash
# The whole suite, as CI runs it: lint, format, types, then every test.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
step() { echo "== $*" >&2; "$@" || status=1; }

step .venv/bin/ruff check src tests bench
step .venv/bin/ruff format --check src tests bench
step .venv/bin/mypy

.venv/bin/pytest -p no:cacheprovider "$@"
rc=$?
if (( rc == 5 )); then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  status=1
elif (( rc != 0 )); then
  status=1
fi
exit $status
