#!/usr/bin/env bash
# Before/after in one run (issue 14: the fixes must not cost intake, desk and page figures more
# than 10 %). Builds the release binaries of two revisions in worktrees under bench-data/, then
# runs them interleaved on the same machine: report intake on SQLite (twice each) and
# PostgreSQL (both orders), then the pages over CASES cases on both backends (both orders).
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
out=bench-data/compare
mkdir -p "$out"

# A revision with crates/civgrid-bench/src/main.rs has the harness as its own binary
# (`civgrid-bench intake …`, starting the `civgrid` beside it); older ones (e.g. 4004c54) ship it
# inside the server (`civgrid bench intake …`).
build() { # REV NAME → the worktree
  local dir="bench-data/compare-$2"
  if [ ! -d "$dir" ]; then git worktree add -q --detach "$dir" "$1"; else git -C "$dir" checkout -q --detach "$1"; fi
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
after=$(build "$after_rev" after)

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
for round in 1 2; do
  intake "$before" before sqlite sqlite "$round"
  intake "$after" after sqlite sqlite "$round"
done
intake "$before" before "$PGURL" postgres 1
intake "$after" after "$PGURL" postgres 1
intake "$after" after "$PGURL" postgres 2
intake "$before" before "$PGURL" postgres 2
for backend in sqlite "$PGURL"; do
  label=$([ "$backend" = sqlite ] && echo sqlite || echo postgres)
  pages "$before" before "$backend" "$label" 1
  pages "$after" after "$backend" "$label" 1
  pages "$after" after "$backend" "$label" 2
  pages "$before" before "$backend" "$label" 2
done
echo "results in $out/"
