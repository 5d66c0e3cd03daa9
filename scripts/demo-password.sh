#!/usr/bin/env bash
# Prints the demo accounts' password as the demo seeds it (civgrid::demo::DEMO_PASSWORD), for
# the scripts that sign in to a demo server (schemathesis.sh, crash-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
password="$(sed -n 's/^pub const DEMO_PASSWORD: &str = "\(.*\)";$/\1/p' crates/civgrid/src/demo/mod.rs)"
if [ -z "$password" ]; then
  echo "DEMO_PASSWORD not found in crates/civgrid/src/demo/mod.rs" >&2
  exit 1
fi
printf '%s\n' "$password"
