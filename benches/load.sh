#!/usr/bin/env bash
# Load test of the public API: a registry of DOCS generated records served by
# `vanban serve` on loopback, then `wrk` for DURATION with CONNECTIONS connections on a
# mix of /api/v1/documents queries. Prints wrk's report (throughput, latency percentiles,
# errors). Needs Debian's `wrk`.
#   benches/load.sh [DOCS=20000] [DURATION=60s] [CONNECTIONS=200]
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-20000}
DURATION=${2:-60s}
CONNECTIONS=${3:-200}
cargo build --release -q
DATA=$(mktemp -d /tmp/vanban-load.XXXXXX)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DATA"' EXIT
./target/release/vanban --data-dir "$DATA" bench seed --docs "$DOCS"
./target/release/vanban --data-dir "$DATA" reindex
./target/release/vanban --data-dir "$DATA" serve --listen 127.0.0.1:18181 > "$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18181/healthz >/dev/null && break; sleep 0.2; done
cat > "$DATA/mix.lua" <<'LUA'
local paths = {
  "/api/v1/documents?q=kien+toan+ban+bien+tap",
  "/api/v1/documents?q=phong+chong+thien+tai&per_page=10",
  "/api/v1/documents?q=120%2FQD-UBND",
  "/api/v1/documents?q=qd+45",
  "/api/v1/documents?q=chuyeenr+ddooir+soos",
  "/api/v1/documents?q=nguyen+van+an",
  "/api/v1/documents?q=sot+xuat+huyet&year=2023",
  "/api/v1/documents?type=Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh",
  "/api/v1/documents",
  "/api/v1/documents?q=tiep+cong+dan&unit=000.46.24.H44",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$DATA/mix.lua" http://127.0.0.1:18181
