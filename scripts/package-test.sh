#!/usr/bin/env bash
# The Debian package, end to end (issue 19): build it with cargo-deb, install it with dpkg,
# check its files, owners and modes, verify the installed systemd unit, start the installed
# binary with the installed configuration as the unit would (no systemd as PID 1 here), check
# it answers, stop it with SIGTERM, purge the package. Run as root (dpkg). Leaves the machine as
# it found it, and first removes a package that an earlier, failed run left installed; it
# refuses to touch a civgrid that it did not install itself.
#
# Build time of `cargo deb --profile deb` (release at opt-level 2, no debug info; Cargo.toml)
# from a cold target dir on the 2-core machine: 710 s user + 44 s system CPU (48 min of wall
# time there, shared with four other builds); about 7 minutes with both cores to itself.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
TOOLS=target/tools
CONFIG=/etc/civgrid/civgrid.toml
DATA=/var/lib/civgrid
# Written into $DATA by this script: a civgrid found installed without it is not ours.
MARK="$DATA/.package-test"
WORK=target/package-test
PKG=civgrid
server_pid=""

say() { echo "package-test: $*"; }
fail() {
  echo "package-test: FAILED: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root: the test installs the package with dpkg"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing: apt-get install systemd"
command -v curl >/dev/null || fail "curl is missing: apt-get install curl"

# Removes everything the package and this script made: the package (purge), and what purge
# deliberately keeps (the data folder and the civgrid user, see packaging/debian/postrm).
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    sleep 2
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv 'not-installed'; then
    dpkg --purge "$PKG" >/dev/null
  fi
  rm -rf "$DATA"
  if getent passwd civgrid >/dev/null; then userdel civgrid; fi
  if getent group civgrid >/dev/null; then groupdel civgrid; fi
}

# A civgrid on this machine: ours from a failed run (marked), or someone's real one (refuse).
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv 'not-installed' || [ -e "$DATA" ]; then
  if [ -e "$MARK" ]; then
    say "removing the package a previous run left installed"
    cleanup
  else
    fail "civgrid is installed here (or $DATA exists) and package-test.sh did not install it; refusing to purge it"
  fi
fi
trap cleanup EXIT

# --- build --------------------------------------------------------------------------------
if ! "$TOOLS/bin/cargo-deb" --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  say "installing cargo-deb $CARGO_DEB_VERSION into $TOOLS"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --root "$TOOLS"
fi
mkdir -p "$WORK"
start=$(date +%s)
deb=$(PATH="$PWD/$TOOLS/bin:$PATH" cargo deb -p civgrid --profile deb --locked | tail -n 1)
say "built $deb in $(($(date +%s) - start)) s"
[ -f "$deb" ] || fail "cargo deb did not name a .deb (got: $deb)"

# --- install ------------------------------------------------------------------------------
dpkg -i "$deb" 2>&1 | tee "$WORK/install.log"
touch "$MARK"
# A maintainer script's shell error (a command not found, a syntax error) does not fail dpkg
# when it happens before `set -e`; the shell names the script in the message.
if grep -E "$PKG\.(preinst|postinst|prerm|postrm): " "$WORK/install.log"; then
  fail "a maintainer script failed during dpkg -i (above)"
fi

# Owner, group and mode of a path, compared with what the package promises.
expect_stat() {
  local path=$1 want=$2 got
  got=$(stat -c '%U:%G %a' "$path") || fail "$path is missing"
  [ "$got" = "$want" ] || fail "$path is $got, expected $want"
}
expect_stat /usr/bin/civgrid "root:root 755"
expect_stat /etc/civgrid "root:civgrid 750"
expect_stat "$CONFIG" "root:civgrid 640"
expect_stat "$DATA" "civgrid:civgrid 750"
expect_stat "$DATA/ledger-keys" "civgrid:civgrid 700"
dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q " $CONFIG " || fail "$CONFIG is not a conffile"

IFS=: read -r _ _ uid _ _ home shell < <(getent passwd civgrid)
[ "$uid" -lt 1000 ] || fail "civgrid is not a system user (uid $uid)"
[ "$home" = "$DATA" ] || fail "civgrid's home is $home, expected $DATA"
[ "$shell" = /usr/sbin/nologin ] || fail "civgrid's shell is $shell, expected /usr/sbin/nologin"

version=$(dpkg-query -W -f='${Version}' "$PKG")
/usr/bin/civgrid --version | grep -qx "civgrid ${version%%-*}" || fail "civgrid --version is not the package's $version"

# --- the unit -----------------------------------------------------------------------------
unit=$(dpkg -L "$PKG" | grep '/civgrid\.service$') || fail "the package has no civgrid.service"
# verify checks the unit's syntax, its binary and its user; other units' complaints are not ours.
if ! systemd-analyze verify "$unit" >"$WORK/verify.log" 2>&1 || grep -i civgrid "$WORK/verify.log"; then
  cat "$WORK/verify.log" >&2
  fail "systemd-analyze verify $unit"
fi
# The exposure score (0 safest, 10 unsafe); above 2.0 means a hardening option was lost.
systemd-analyze security --offline=true --threshold=20 "$unit" >"$WORK/security.log" 2>&1 || {
  cat "$WORK/security.log" >&2
  fail "systemd-analyze security: exposure above 2.0"
}
say "$(grep -i 'overall exposure' "$WORK/security.log")"

# The unit's own command, user, directory and umask: the test runs what systemd would.
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
exec_start=$(unit_value ExecStart)
user=$(unit_value User)
workdir=$(unit_value WorkingDirectory)
mask=$(unit_value UMask)
[ -n "$exec_start" ] && [ -n "$user" ] || fail "ExecStart or User missing from $unit"

# Runs the installed binary as the service's user with the installed configuration: every
# step below uses it, so new files get the owner and mode the service gives them.
civgrid_as_service() {
  (cd "$workdir" && umask "$mask" && runuser -u "$user" -- /usr/bin/civgrid --config "$CONFIG" "$@")
}

# --- start as the unit would, on a free port ----------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
say "starting: $exec_start --addr 127.0.0.1:$port (as $user)"
# shellcheck disable=SC2086 # ExecStart is split into words as systemd does (no quoting in it).
(cd "$workdir" && umask "$mask" && exec runuser -u "$user" -- $exec_start --addr "127.0.0.1:$port") \
  >"$WORK/serve.log" 2>&1 &
runner=$!
for _ in $(seq 1 60); do
  server_pid=$(pgrep -P "$runner" -x civgrid || true)
  curl -fsS "http://127.0.0.1:$port/healthz" >"$WORK/healthz.json" 2>/dev/null && break
  kill -0 "$runner" 2>/dev/null || {
    cat "$WORK/serve.log" >&2
    fail "the installed civgrid exited at start"
  }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >"$WORK/healthz.json" || {
  cat "$WORK/serve.log" >&2
  fail "/healthz does not answer"
}
[ -n "$server_pid" ] || server_pid=$(pgrep -P "$runner" -x civgrid) || fail "no civgrid process under runuser"
[ "$(ps -o user= -p "$server_pid")" = civgrid ] || fail "civgrid is not running as the civgrid user"
say "/healthz answers: $(cat "$WORK/healthz.json")"
expect_stat "$DATA/civgrid.db" "civgrid:civgrid 600"
expect_stat "$DATA/ledger-keys/log.key" "civgrid:civgrid 600"
grep -q '"level":"INFO"' "$WORK/serve.log" || fail "the log is not JSON lines (log_format = json)"

# --- steps on the running installation ----------------------------------------------------
# Add steps here (admin init, roster, district import, TLS, backup, restore, audit): the server
# answers on http://127.0.0.1:$port, the installed config is $CONFIG, and
# `civgrid_as_service ARGS…` runs the installed binary as the service's user with it.
civgrid_as_service migrate --check >"$WORK/migrate-check.log" || fail "migrate --check after serve: $(cat "$WORK/migrate-check.log")"
grep -q "no pending migrations" "$WORK/migrate-check.log" || fail "serve did not migrate the database"
civgrid_as_service audit >"$WORK/audit.log" || fail "civgrid audit on the installed database: $(cat "$WORK/audit.log")"

# --- stop ----------------------------------------------------------------------------------
kill -TERM "$server_pid"
status=0
wait "$runner" || status=$?
server_pid=""
[ "$status" -eq 0 ] || {
  cat "$WORK/serve.log" >&2
  fail "civgrid exited with status $status on SIGTERM"
}
say "stopped cleanly on SIGTERM"

# --- purge ---------------------------------------------------------------------------------
dpkg --purge "$PKG" 2>&1 | tee "$WORK/purge.log"
if grep -E "$PKG\.(preinst|postinst|prerm|postrm): " "$WORK/purge.log"; then
  fail "a maintainer script failed during dpkg --purge (above)"
fi
for gone in /usr/bin/civgrid "$CONFIG" /etc/civgrid "$unit"; do
  [ ! -e "$gone" ] || fail "$gone is still there after purge"
done
# Purge keeps the records and the ledger keys (packaging/debian/postrm); the trap removes them.
[ -f "$DATA/civgrid.db" ] || fail "purge removed the database; it must keep $DATA"
say "ok: built, installed, verified, served, stopped and purged"
