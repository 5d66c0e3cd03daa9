#!/usr/bin/env bash
# One-window services benchmark (issue 5): a year of a busy district — 1,500,000 applications,
# copies of applications replayed through the service — on SQLite and on PostgreSQL; the
# statistics queries (whole district by department, item, window and clerk, and one
# department, over the last 30, 90 and 365 days) through the service, and acceptance with
# material reuse (an e-licence and two earlier materials attached) over loopback HTTP against the
# release binary, one request at a time.
#
# Runs end-to-end on a fresh machine of the project's kind (Debian 12, PostgreSQL 15 on
# 127.0.0.1:5432 with trust auth, the Rust toolchain). Everything it writes goes to bench-data/
# (git-ignored; never commit it). PostgreSQL runs use a scratch schema that is dropped afterwards.
#
#   scripts/bench-services.sh                                  # everything
#   APPLICATIONS=100000 REQUESTS=500 scripts/bench-services.sh # quicker
#   ONLY=sqlite scripts/bench-services.sh                      # or ONLY=postgres
#
# Results: bench-data/services-{sqlite,postgres}.md / .json.
set -euo pipefail
cd "$(dirname "$0")/.."

PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/test}
APPLICATIONS=${APPLICATIONS:-1500000}
TEMPLATES=${TEMPLATES:-1500}
REPEAT=${REPEAT:-20}
REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-100}
ONLY=${ONLY:-all}
DATA=bench-data
mkdir -p "$DATA"

if [ "$ONLY" != sqlite ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

cargo build --release -p civgrid -p civgrid-bench
BIN=target/release/civgrid-bench

for backend in sqlite "$PGURL"; do
  name=$([ "$backend" = sqlite ] && echo sqlite || echo postgres)
  if [ "$ONLY" != all ] && [ "$ONLY" != "$name" ]; then
    continue
  fi
  "$BIN" services --backend "$backend" --work "$DATA/services" --applications "$APPLICATIONS" \
    --templates "$TEMPLATES" --repeat "$REPEAT" --requests "$REQUESTS" --warmup "$WARMUP" \
    --markdown "$DATA/services-$name.md" --json "$DATA/services-$name.json"
done
