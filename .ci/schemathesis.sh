#!/usr/bin/env bash
# API contract test: schemathesis runs every check against the OpenAPI document the server
# serves, on a throwaway data directory holding the fixture PDFs (published where the
# publication rules allow). Any failure fails CI. Bounded: a few dozen examples per
# operation, well under two minutes.
#
# Usage: .ci/schemathesis.sh   (from anywhere; builds the debug binary if needed)
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 100), SCHEMATHESIS_SEED (optional).
set -euo pipefail
cd "$(dirname "$0")/.."

# schemathesis 4.x: the one on PATH, else a private venv under /tmp.
ST=$(command -v schemathesis || true)
if [ -z "$ST" ]; then
  VENV=/tmp/vanban-schemathesis-venv
  if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
  fi
  ST="$VENV/bin/schemathesis"
fi
"$ST" --version

cargo build --quiet --bin vanban
BIN=target/debug/vanban
WORK=$(mktemp -d /tmp/vanban-schemathesis.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# One producer's rendering of each fixture document (the others are the same documents:
# a second copy is refused by the registry key and would fail the ingest).
"$BIN" --data-dir "$WORK/data" ingest --publish tests/fixtures/pdf/*.cairo.pdf >"$WORK/ingest.log" 2>&1 || {
  cat "$WORK/ingest.log" >&2
  exit 1
}
# A token so that the admin routes are exercised past authentication as well.
"$BIN" --data-dir "$WORK/data" admin token --name schemathesis --scope '*' >"$WORK/token.txt"
TOKEN=$(grep -o 'vb_[0-9a-f]*' "$WORK/token.txt" | head -n 1)
ENTRY=$(grep -o 'schemathesis:\*:[0-9a-f]*' "$WORK/token.txt" | head -n 1)
VANBAN__ADMIN__TOKENS="$ENTRY" VANBAN__SYNC__SCHEDULER=false \
  "$BIN" --data-dir "$WORK/data" serve --listen 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

URL=
for _ in $(seq 1 300); do
  URL=$(sed -n 's/^listening on //p' "$WORK/serve.log" 2>/dev/null | head -n 1 || true)
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "the server did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }
python3 - "$URL/healthz" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit("healthz never answered")
PY

# The admin writes check business rules no schema can state (a symbol's type code against
# the chosen type, a reason required for some actions, the registry's publication rule):
# a schema-valid request may be refused there with 409 or 422, never anywhere else.
cat >"$WORK/schemathesis.toml" <<'TOML'
[[operations]]
include-path-regex = "^/api/v1/admin/(documents|holds)"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
TOML

status=0
# From the scratch directory: schemathesis and hypothesis keep caches in the working one.
cd "$WORK"
"$ST" --config-file "$WORK/schemathesis.toml" run "$URL/api/v1/openapi.json" --url "$URL" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" \
  ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
  --phases examples,coverage,fuzzing \
  --header "Authorization: Bearer $TOKEN" \
  --request-timeout 30 \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status); server log:" >&2
  tail -n 50 "$WORK/serve.log" >&2
fi
exit "$status"
