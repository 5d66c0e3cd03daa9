#!/usr/bin/env bash
# Page-speed benchmark (issue 6): server render time of the busiest pages — the desk's queues
# (intake, filing, dispatch), the handler's queue, the command page and the command map's data
# (live cases, recent cases, grids) — with 1,000,000 cases in the database (target: p99 ≤ 50 ms),
# and the command map of all 1,046 demo grids with 10,000 live cases in headless Chromium
# (target: drawn and answering a zoom and a pan within 1 s of navigation). The million cases are
# made as `civgrid-bench indicators` makes them (demo cases replayed through the workflow, then
# copied inside the database).
#
# Runs end-to-end on a fresh machine of the project's kind (Debian 12, PostgreSQL 15 on
# 127.0.0.1:5432 with trust auth, the Rust toolchain, chromium and chromium-driver from apt).
# Everything it writes goes to bench-data/ (git-ignored; never commit it). PostgreSQL runs use a
# scratch schema that is dropped afterwards.
#
#   scripts/bench-pages.sh                                   # everything
#   CASES=20000 REPEAT=50 BROWSER_RUNS=2 scripts/bench-pages.sh   # quicker
#   ONLY=sqlite scripts/bench-pages.sh                       # or ONLY=postgres
#
# Results: bench-data/pages-{sqlite,postgres}.md / .json.
set -euo pipefail
cd "$(dirname "$0")/.."

PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/test}
CASES=${CASES:-1000000}
TEMPLATES=${TEMPLATES:-1000}
REPEAT=${REPEAT:-200}
BROWSER_RUNS=${BROWSER_RUNS:-5}
ONLY=${ONLY:-all}
DATA=bench-data
mkdir -p "$DATA"

if [ "$BROWSER_RUNS" != 0 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  apt-get install -y chromium chromium-driver fonts-noto-cjk
fi
if [ "$ONLY" != sqlite ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

cargo build --release -p civgrid -p civgrid-bench
BIN=${CARGO_TARGET_DIR:-target}/release/civgrid-bench

for backend in sqlite "$PGURL"; do
  name=$([ "$backend" = sqlite ] && echo sqlite || echo postgres)
  if [ "$ONLY" != all ] && [ "$ONLY" != "$name" ]; then
    continue
  fi
  "$BIN" pages --backend "$backend" --work "$DATA/pages" --cases "$CASES" --templates "$TEMPLATES" \
    --repeat "$REPEAT" --browser-runs "$BROWSER_RUNS" \
    --markdown "$DATA/pages-$name.md" --json "$DATA/pages-$name.json"
done
