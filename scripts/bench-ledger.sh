#!/usr/bin/env bash
# Trust-ledger benchmark (issue 4, "Speed"): durable appends/s on SQLite and PostgreSQL,
# append → signed checkpoint latency, inclusion proofs at 10 M entries (database, node cache,
# in-memory core), bundle verification and the SHA-256 ceiling, in one run of
# `civgrid-bench ledger`.
#
# Needs the Rust toolchain and, for the PostgreSQL column, PostgreSQL on 127.0.0.1:5432 with
# trust auth (the run creates a scratch schema there and drops it afterwards). The SQLite log
# (about 4 GB at 10 M entries) lives in a fresh folder under $TMPDIR that is deleted afterwards.
#
#   scripts/bench-ledger.sh                          # 10,000,000 entries; PostgreSQL 1,000,000
#   ENTRIES=1000000 scripts/bench-ledger.sh          # quicker
#   PGURL= scripts/bench-ledger.sh                   # SQLite only
#
# Results: bench-data/ledger.md and bench-data/ledger.json (git-ignored; never commit them).
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-10000000}
PG_ENTRIES=${PG_ENTRIES:-1000000}
PGURL=${PGURL-postgres://postgres@127.0.0.1:5432/test}
DATA=bench-data
mkdir -p "$DATA"

# Release build: this is where we measure. One build at a time on a small machine.
cargo build --release -p civgrid -p civgrid-bench
BIN=target/release/civgrid-bench

PG_ARGS=()
if [ -n "$PGURL" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  PG_ARGS=(--postgres "$PGURL" --postgres-entries "$PG_ENTRIES")
fi

"$BIN" ledger --entries "$ENTRIES" "${PG_ARGS[@]}" \
  --markdown "$DATA/ledger.md" --json "$DATA/ledger.json"
