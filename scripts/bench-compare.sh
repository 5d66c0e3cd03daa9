#!/usr/bin/env bash
# Before/after in one run (issue 14: the fixes must not cost intake, desk and page figures more
# than 10 %; issue 15: the refactoring must not cost intake, pages, ledger or locate more than
# 5 %). Builds the release binaries of two revisions in worktrees under bench-data/, then runs
# them interleaved on the same machine: report intake on SQLite (twice each) and PostgreSQL
# (both orders), the pages over CASES cases on both backends (both orders), the ledger's appends
# and proofs over LEDGER_ENTRIES entries (both orders), and point → grid lookups over the demo
# district's grids (both orders). ONLY=intake,pages,ledger,locate picks parts.
#
#   scripts/bench-compare.sh BEFORE_REV [AFTER_REV]      # AFTER_REV defaults to HEAD
#   CASES=100000 REPEAT=50 scripts/bench-compare.sh da5dfb0
#
# Results: bench-data/compare/*.md (one file per run, named by revision, backend and round).
set -euo pipefail
cd "$(dirname "$0")/.."

before_rev=${1:?usage: scripts/bench-compare.sh BEFORE_REV [AFTER_REV]}
after_rev=${2:-HEAD}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/test}
CASES=${CASES:-100000}
REPEAT=${REPEAT:-50}
RATES=${RATES:-2000,5000}
SECONDS_PER_STEP=${SECONDS_PER_STEP:-10}
LEDGER_ENTRIES=${LEDGER_ENTRIES:-1000000}
PG_LEDGER_ENTRIES=${PG_LEDGER_ENTRIES:-200000}
POINTS=${POINTS:-1000000}
ONLY=${ONLY:-intake,pages,ledger,locate}
out=bench-data/compare
mkdir -p "$out"

# A revision with crates/civgrid-bench/src/main.rs has the harness as its own binary
# (`civgrid-bench intake …`, starting the `civgrid` beside it); older ones (e.g. 4004c54) ship it
# inside the server (`civgrid bench intake …`).
build() { # REV NAME → the worktree
  local dir="bench-data/compare-$2"
  if [ ! -d "$dir" ]; then git worktree add -q --detach "$dir" "$1"; else git -C "$dir" checkout -q --detach "$1"; fi
  # The other revision's build, when there is one, saves compiling the dependencies again.
  if [ ! -d "$dir/target" ] && [ -n "${SEED_TARGET:-}" ] && [ -d "$SEED_TARGET" ]; then cp -a "$SEED_TARGET" "$dir/target"; fi
  if [ -f "$dir/crates/civgrid-bench/src/main.rs" ]; then
    (cd "$dir" && CARGO_TARGET_DIR="$PWD/target" cargo build --release -p civgrid -p civgrid-bench -q) >&2
  else
    (cd "$dir" && CARGO_TARGET_DIR="$PWD/target" cargo build --release -p civgrid -q) >&2
  fi
  echo "$dir"
}
bench() { # WORKTREE SUBCOMMAND ARGS… → runs that revision's benchmark
  local dir=$1
  shift
  if [ -f "$dir/crates/civgrid-bench/src/main.rs" ]; then
    "$dir/target/release/civgrid-bench" "$@"
  else
    "$dir/target/release/civgrid" bench "$@"
  fi
}
before=$(build "$before_rev" before)
after=$(SEED_TARGET="$before/target" build "$after_rev" after)
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

intake() { # WORKTREE NAME BACKEND LABEL ROUND
  rm -rf "$out/work-$2"
  bench "$1" intake --backend "$3" --work "$out/work-$2/intake" --rates "$RATES" --seconds "$SECONDS_PER_STEP" \
    --connections 64 --markdown "$out/intake-$4-$2-$5.md" --json "$out/intake-$4-$2-$5.json"
}
pages() { # WORKTREE NAME BACKEND LABEL ROUND
  rm -rf "$out/work-$2"
  bench "$1" pages --backend "$3" --work "$out/work-$2/pages" --cases "$CASES" --repeat "$REPEAT" \
    --browser-runs 0 --markdown "$out/pages-$4-$2-$5.md" --json "$out/pages-$4-$2-$5.json"
}
if wants intake; then
  for round in 1 2; do
    intake "$before" before sqlite sqlite "$round"
    intake "$after" after sqlite sqlite "$round"
  done
  intake "$before" before "$PGURL" postgres 1
  intake "$after" after "$PGURL" postgres 1
  intake "$after" after "$PGURL" postgres 2
  intake "$before" before "$PGURL" postgres 2
fi
if wants pages; then
  for backend in sqlite "$PGURL"; do
    label=$([ "$backend" = sqlite ] && echo sqlite || echo postgres)
    pages "$before" before "$backend" "$label" 1
    pages "$after" after "$backend" "$label" 1
    pages "$after" after "$backend" "$label" 2
    pages "$before" before "$backend" "$label" 2
  done
fi
ledger() { # WORKTREE NAME ROUND
  bench "$1" ledger --entries "$LEDGER_ENTRIES" --postgres "$PGURL" --postgres-entries "$PG_LEDGER_ENTRIES" \
    --markdown "$out/ledger-$2-$3.md" --json "$out/ledger-$2-$3.json"
}
if wants ledger; then
  ledger "$before" before 1
  ledger "$after" after 1
  ledger "$after" after 2
  ledger "$before" before 2
fi
locate() { # WORKTREE NAME ROUND
  bench "$1" locate --grids "$grids" --points "$POINTS" --markdown "$out/locate-$2-$3.md" --json "$out/locate-$2-$3.json"
}
if wants locate; then
  # The demo district's 1,046 grids, exported once by the "after" server.
  grids="$out/grids-demo.geojson"
  if [ ! -f "$grids" ]; then
    rm -rf "$out/work-grids"
    "$after/target/release/civgrid" demo --data "$out/work-grids" --seed-only >/dev/null
    "$after/target/release/civgrid" --database "sqlite://$out/work-grids/civgrid.db" export grids --out "$grids"
  fi
  locate "$before" before 1
  locate "$after" after 1
  locate "$after" after 2
  locate "$before" before 2
fi
echo "results in $out/"
