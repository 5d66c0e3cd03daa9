#!/usr/bin/env bash
# Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).
#
#   scripts/schemathesis.sh [MAX_EXAMPLES]      default 20 examples per operation
#
# Installs schemathesis from PyPI into a virtualenv under the cargo target folder (kept between
# runs), starts the demo server (`civgrid demo`) on a free port over a temporary SQLite
# database, signs in as the demo district administrator and runs schemathesis against
# /api/v1/openapi.json with that bearer token. Fails on any 5xx (`not_a_server_error`), on
# answers whose body does not match the operation's response schema
# (`response_schema_conformance`) and on answers the document does not describe (status codes,
# media types, response headers).
#
# Left out of the run: operations that would end the fuzzer's own session or stream forever
# (logout, ending an account's sessions, editing accounts — the fuzzer could stop its own —, the
# event stream).
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${1:-20}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target/schemathesis-venv"
# Pinned to the 3.x command line this script speaks; hypothesis 6.125+ breaks schemathesis 3.39
# ("'many' object has no attribute 'more'").
spec=(schemathesis'>=3.39,<4' hypothesis'>=6.108,<6.125')

if ! "$venv/bin/python" -c 'import schemathesis, hypothesis, sys; sys.exit(hypothesis.__version_info__ >= (6, 125))' \
  >/dev/null 2>&1; then
  echo "schemathesis: installing ${spec[*]} into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${spec[@]}"
fi

cargo build -p civgrid --bin civgrid --locked -q
bin="$target/debug/civgrid"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
echo "schemathesis: seeding and starting the demo on $base"
CIVGRID_LOG_FORMAT=json "$bin" demo --data "$work/data" --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 900); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis: the demo server stopped; its log:" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

# The demo accounts' password, as the demo seeds it (civgrid::demo::DEMO_PASSWORD).
password="$(scripts/demo-password.sh)"
token="$(curl -fsS -H 'content-type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$password\"}" "$base/api/v1/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

status=0
# Hypothesis keeps its caches (e.g. unicode data) under the target folder, not in the checkout.
PYTHONPATH="$PWD/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks HYPOTHESIS_STORAGE_DIRECTORY="$target/hypothesis" \
  "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
  --base-url "$base" \
  --experimental=openapi-3.1 \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance \
  --data-generation-method all \
  --hypothesis-max-examples "$max_examples" \
  --hypothesis-deadline None \
  --hypothesis-database none \
  --hypothesis-seed "${SCHEMATHESIS_SEED:-14}" \
  --generation-allow-x00 false \
  --workers 2 \
  --request-timeout 20000 \
  --exclude-operation-id logout \
  --exclude-operation-id revoke_sessions \
  --exclude-operation-id update_staff \
  --exclude-operation-id events \
  --no-color || status=$?

# How the server answered: a run where nothing was accepted would test only the refusals.
python3 - "$work/server.log" <<'PY'
import collections, json, sys
seen = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        status = json.loads(line).get("fields", {}).get("status")
    except ValueError:
        continue
    if isinstance(status, int):
        seen[f"{status // 100}xx"] += 1
print("schemathesis: the server answered " + ", ".join(f"{n} {k}" for k, n in sorted(seen.items())))
PY
if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "schemathesis: the server logged errors:" >&2
  grep '"level":"ERROR"' "$work/server.log" | tail -n 20 >&2
  status=1
fi
exit "$status"
