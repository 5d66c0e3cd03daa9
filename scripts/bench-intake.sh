#!/usr/bin/env bash
# Case intake and indicators benchmark (issue 3): report intake end to end over loopback HTTP
# against the release binary on SQLite and on PostgreSQL (open-loop offered rates, a closed-loop
# saturation step, report → SSE push latency, the raw single-row insert ceiling of the same
# database), then indicator queries over a database of 1,000,000 cases on both.
#
# Runs end-to-end on a fresh machine of the project's kind (Debian 12, PostgreSQL 15 on
# 127.0.0.1:5432 with trust auth, the Rust toolchain). Everything it writes goes to bench-data/
# (git-ignored; never commit it). PostgreSQL runs use a scratch schema that is dropped afterwards.
#
#   scripts/bench-intake.sh                          # everything (about 30 minutes)
#   SECONDS_PER_STEP=5 CASES=100000 scripts/bench-intake.sh   # quicker
#   ONLY=intake scripts/bench-intake.sh              # or ONLY=indicators
#
# Results: bench-data/intake-{sqlite,postgres}.md / .json, bench-data/indicators-{sqlite,postgres}.md / .json.
set -euo pipefail
cd "$(dirname "$0")/.."

PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/test}
RATES=${RATES:-500,1000,2000,3000,5000}
SECONDS_PER_STEP=${SECONDS_PER_STEP:-15}
CONNECTIONS=${CONNECTIONS:-64}
CASES=${CASES:-1000000}
REPEAT=${REPEAT:-10}
ONLY=${ONLY:-all}
DATA=bench-data
mkdir -p "$DATA"

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

cargo build --release -p civgrid -p civgrid-bench
BIN=target/release/civgrid-bench

if [ "$ONLY" = all ] || [ "$ONLY" = intake ]; then
  for backend in sqlite "$PGURL"; do
    name=$([ "$backend" = sqlite ] && echo sqlite || echo postgres)
    "$BIN" intake --backend "$backend" --work "$DATA/intake" --rates "$RATES" \
      --seconds "$SECONDS_PER_STEP" --connections "$CONNECTIONS" \
      --markdown "$DATA/intake-$name.md" --json "$DATA/intake-$name.json"
  done
fi

if [ "$ONLY" = all ] || [ "$ONLY" = indicators ]; then
  for backend in sqlite "$PGURL"; do
    name=$([ "$backend" = sqlite ] && echo sqlite || echo postgres)
    "$BIN" indicators --backend "$backend" --work "$DATA/indicators" --cases "$CASES" --repeat "$REPEAT" \
      --markdown "$DATA/indicators-$name.md" --json "$DATA/indicators-$name.json"
  done
fi
