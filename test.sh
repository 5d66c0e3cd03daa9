#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, that the server does not link the benchmark
# harness, unit and property tests, and the API tests
# against SQLite and against PostgreSQL (CIVGRID_TEST_POSTGRES_URL, default
# postgres://postgres@127.0.0.1:5432/test — it must be reachable); then the API fuzzed from its
# OpenAPI document (scripts/schemathesis.sh, schemathesis from PyPI into target/) and the short
# crash test (scripts/crash-test.sh --short: acknowledged reports survive a kill -9), and the
# Debian package installed, started and purged (scripts/package-test.sh; root, for dpkg).
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The server never links its benchmark harness (issue 15): benchmarks live in crates/civgrid-bench,
# which depends on civgrid, never the reverse.
server_deps=$(cargo tree -p civgrid -e normal --prefix none --locked)
if grep -E '^(civgrid-bench|indicatif) ' <<<"$server_deps"; then
  echo "test.sh: the civgrid server depends on the benchmark harness (above); move it to crates/civgrid-bench" >&2
  exit 1
fi
cargo test --workspace --locked
scripts/package-test.sh
scripts/schemathesis.sh
scripts/crash-test.sh --short
