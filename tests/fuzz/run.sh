#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), seeded from the repository's own
# fixtures: the generated PDFs and the header-table snippets. Needs cargo-fuzz and a nightly
# toolchain (`cargo install cargo-fuzz`; `rustup toolchain install nightly`).
# Findings land in tests/fuzz/artifacts/<target>/; reproduce one with
#   cargo +nightly fuzz run --fuzz-dir tests/fuzz <target> <file>
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-600}
CORPUS=$(mktemp -d /tmp/vanban-fuzz-corpus.XXXXXX)
mkdir -p "$CORPUS/pdf_reader" "$CORPUS/header_parser" "$CORPUS/edxml_parse" "$CORPUS/signature"
cp tests/fixtures/pdf/*.pdf "$CORPUS/pdf_reader/"
# Signature seeds: each signed fixture as a whole file (mode byte 0) and its CMS (mode 1).
python3 - "$CORPUS/signature" <<'PY'
import pathlib, re, sys
out = pathlib.Path(sys.argv[1])
for i, pdf in enumerate(sorted(pathlib.Path("tests/fixtures/signed").glob("*.pdf"))):
    data = pdf.read_bytes()
    (out / f"file{i:02}").write_bytes(b"\x00" + data)
    m = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)", data)
    if m:
        hexdigits = data[int(m.group(1)) + 1:int(m.group(2)) - 1].rstrip(b"0")
        if len(hexdigits) % 2:
            hexdigits += b"0"
        (out / f"cms{i:02}").write_bytes(b"\x01" + bytes.fromhex(hexdigits.decode()))
PY
python3 - "$CORPUS/header_parser" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for i, case in enumerate(json.load(open("tests/data/header_cases.json"))):
    (out / f"case{i:03}.txt").write_text(case["input"])
PY
for target in pdf_reader header_parser edxml_parse signature; do
  cargo +nightly fuzz run --fuzz-dir tests/fuzz "$target" "$CORPUS/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
    2>&1 | tee "/tmp/vanban-fuzz-$target.log" | grep -E "^(#[0-9]+ +DONE|Done|==|SUMMARY)" || true
done
echo "logs: /tmp/vanban-fuzz-{pdf_reader,header_parser,edxml_parse,signature}.log"
