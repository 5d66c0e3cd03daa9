#!/usr/bin/env bash
# Crash test: acknowledged writes survive a kill -9.
#
#   scripts/crash-test.sh            full size: 32 concurrent reporters, killed after 30 s
#   scripts/crash-test.sh --short    what test.sh runs in CI: 8 reporters, killed after 3 s
#   scripts/crash-test.sh SECONDS WORKERS
#
# Starts the demo server on SQLite (a temporary folder, a free port), loads it with concurrent
# reports from scripts/crash_client.py (which writes every acknowledged case number to disk
# before sending the next report), kills the server with SIGKILL in the middle of the load,
# starts it again on the same database, checks that every acknowledged case is there, and runs
# `civgrid audit` (records, ledger entries, tree and checkpoints must agree).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
workers=32
case "${1:-}" in
  --short) seconds=3; workers=8 ;;
  "") ;;
  *) seconds="$1"; workers="${2:-32}" ;;
esac

target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -p civgrid --bin civgrid --locked -q
bin="$target/debug/civgrid"

work="$(mktemp -d)"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export CIVGRID_LOG_FORMAT="${CIVGRID_LOG_FORMAT:-json}"

start_server() {
  "$bin" demo --data "$work/data" --addr "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    if curl -fsS "$base/healthz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "crash test: the server did not start; its log:" >&2
  tail -n 40 "$work/server.log" >&2
  exit 1
}

echo "crash test: seeding the demo district in $work/data"
"$bin" demo --data "$work/data" --seed-only >"$work/seed.log" 2>&1 || { cat "$work/seed.log" >&2; exit 1; }
start_server
echo "crash test: $workers reporters for ${seconds}s against $base; kill -9 after $((seconds / 2 > 0 ? seconds / 2 : 1))s"
export CIVGRID_DEMO_PASSWORD="$(scripts/demo-password.sh)"
python3 scripts/crash_client.py load --base "$base" --acks "$work/acks" --seconds "$seconds" --workers "$workers" &
client_pid=$!
sleep "$(python3 -c "print(max($seconds / 2, 1))")"
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo "crash test: server killed mid-load"
wait "$client_pid"
acked="$(wc -l <"$work/acks" 2>/dev/null || echo 0)"
if [ "$acked" -eq 0 ]; then
  echo "crash test: no report was acknowledged before the kill; nothing was tested" >&2
  tail -n 40 "$work/server.log" >&2
  exit 1
fi

start_server
python3 scripts/crash_client.py verify --base "$base" --acks "$work/acks"
stop_server

echo "crash test: civgrid audit"
"$bin" --database "sqlite://$work/data/civgrid.db" audit
echo "crash test: passed ($acked acknowledged reports survived a kill -9; the audit is clean)"
