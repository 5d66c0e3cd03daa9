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
  rm -rf /etc/civgrid/tls
  if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv 'not-installed'; then
    dpkg --purge "$PKG" >/dev/null
  fi
  rm -rf "$DATA"
  rmdir /etc/civgrid 2>/dev/null || true
  if [ -n "${pg_created:-}" ]; then
    psql "$PG_ADMIN" -qc 'drop database if exists civgrid_pkgtest' -c 'drop database if exists civgrid_pkgtest_restored' >/dev/null || true
  fi
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
# start_server SCHEME: runs the unit's ExecStart as its user on a free port, waits for /healthz.
start_server() {
  local scheme=$1
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local url="$scheme://localhost:$port/healthz" trust=()
  [ "$scheme" = https ] && trust=(--cacert /etc/civgrid/tls/ca.pem)
  say "starting: $exec_start --addr 127.0.0.1:$port (as $user, $scheme)"
  # shellcheck disable=SC2086 # ExecStart is split into words as systemd does (no quoting in it).
  (cd "$workdir" && umask "$mask" && exec runuser -u "$user" -- $exec_start --addr "127.0.0.1:$port") \
    >"$WORK/serve.log" 2>&1 &
  runner=$!
  for _ in $(seq 1 120); do
    server_pid=$(pgrep -P "$runner" -x civgrid || true)
    curl -fsS "${trust[@]}" "$url" >"$WORK/healthz.json" 2>/dev/null && break
    kill -0 "$runner" 2>/dev/null || {
      cat "$WORK/serve.log" >&2
      fail "the installed civgrid exited at start"
    }
    sleep 0.5
  done
  curl -fsS "${trust[@]}" "$url" >"$WORK/healthz.json" || {
    cat "$WORK/serve.log" >&2
    fail "/healthz does not answer"
  }
  [ -n "$server_pid" ] || server_pid=$(pgrep -P "$runner" -x civgrid) || fail "no civgrid process under runuser"
  [ "$(ps -o user= -p "$server_pid")" = civgrid ] || fail "civgrid is not running as the civgrid user"
  say "/healthz answers: $(cat "$WORK/healthz.json")"
}

# stop_server: SIGTERM, which must drain and exit 0.
stop_server() {
  local status=0
  kill -TERM "$server_pid"
  wait "$runner" || status=$?
  server_pid=""
  [ "$status" -eq 0 ] || {
    cat "$WORK/serve.log" >&2
    fail "civgrid exited with status $status on SIGTERM"
  }
}

start_server http
expect_stat "$DATA/civgrid.db" "civgrid:civgrid 600"
expect_stat "$DATA/ledger-keys/log.key" "civgrid:civgrid 600"
grep -q '"level":"INFO"' "$WORK/serve.log" || fail "the log is not JSON lines (log_format = json)"

civgrid_as_service migrate --check >"$WORK/migrate-check.log" || fail "migrate --check after serve: $(cat "$WORK/migrate-check.log")"
grep -q "no pending migrations" "$WORK/migrate-check.log" || fail "serve did not migrate the database"
civgrid_as_service audit >"$WORK/audit.log" || fail "civgrid audit on the installed database: $(cat "$WORK/audit.log")"
stop_server
say "stopped cleanly on SIGTERM"

# --- the first hour of an installation (issue 19 "done means"), on SQLite, then PostgreSQL ----
# As docs/OPERATIONS.md tells an operator: TLS from the intranet CA's files, the district, the
# three administrators, the roster; the system administrator signs in over HTTPS (one-time
# password first); a backup while serving; a restore into a new database; audit clean.
walk_dir="$DATA/walk"
install -d -o civgrid -g civgrid -m 700 "$walk_dir"
install -d -o root -g civgrid -m 750 /etc/civgrid/tls
(
  cd /etc/civgrid/tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=package-test intranet CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout key.pem -out req.csr 2>/dev/null
  printf "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" >ext.cnf
  openssl x509 -req -in req.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 -extfile ext.cnf \
    -out cert.pem 2>/dev/null
  chown root:civgrid key.pem cert.pem && chmod 640 key.pem && rm -f ca-key.pem req.csr ext.cnf
)
cat >>"$CONFIG" <<'TOML'

# package-test: native TLS from the intranet CA's files
tls_cert = "/etc/civgrid/tls/cert.pem"
tls_key = "/etc/civgrid/tls/key.pem"
TOML
for who in sysadmin secadmin auditadmin; do
  # Passwords the policy accepts: ten characters or more of three kinds, not the username.
  printf '%s\n' "Walk-$(printf '%s' "$who" | rev | cut -c1-3)-Key-2026!" >"$walk_dir/init-$who"
done
printf '部门编码,部门名称,所属区域\ncgj,城市管理和综合执法局,440604\n' >"$walk_dir/部门.csv"
printf '用户名,姓名,部门编码,角色,区域\nzhang.san,张三,cgj,专业部门处置人员,440604\nli.si,李四,,派遣员；值班长,440604\n' \
  >"$walk_dir/人员.csv"
cp data/boundaries/440604.geojson "$walk_dir/district.geojson"
chown civgrid:civgrid "$walk_dir"/*

# One walk against the configured database; the backup is restored into $1.
walk() {
  local label=$1 restored=$2 base login status new_pw token
  mkdir -p "$walk_dir/pw" && chown civgrid:civgrid "$walk_dir/pw"
  for who in sysadmin secadmin auditadmin; do cp "$walk_dir/init-$who" "$walk_dir/pw/$who"; done
  chown civgrid:civgrid "$walk_dir/pw"/* && chmod 600 "$walk_dir/pw"/*
  civgrid_as_service migrate >"$WORK/$label-migrate.log" 2>&1 || fail "$label: migrate: $(cat "$WORK/$label-migrate.log")"
  civgrid_as_service import district "$walk_dir/district.geojson" --code 440604 --name 禅城区 --datum gcj02 \
    >"$WORK/$label-district.log" 2>&1 || fail "$label: import district: $(cat "$WORK/$label-district.log")"
  civgrid_as_service admin init --passwords-from "$walk_dir/pw" >"$WORK/$label-init.log" 2>&1 ||
    fail "$label: admin init: $(cat "$WORK/$label-init.log")"
  civgrid_as_service admin init --passwords-from "$walk_dir/pw" >"$WORK/$label-init2.log" 2>&1 &&
    fail "$label: a second admin init was not refused"
  grep -q administrators_exist "$WORK/$label-init2.log" || fail "$label: second admin init: $(cat "$WORK/$label-init2.log")"
  rm -f "$walk_dir/roster-passwords.csv"
  civgrid_as_service import roster "$walk_dir/部门.csv" "$walk_dir/人员.csv" --passwords-out "$walk_dir/roster-passwords.csv" \
    >"$WORK/$label-roster.log" 2>&1 || fail "$label: import roster: $(cat "$WORK/$label-roster.log")"
  expect_stat "$walk_dir/roster-passwords.csv" "civgrid:civgrid 600"
  say "$label: district, administrators and roster in"

  start_server https
  base="https://localhost:$port"
  # The one-time password only changes itself.
  status=$(curl -sS --cacert /etc/civgrid/tls/ca.pem -o "$WORK/$label-login1.json" -w '%{http_code}' \
    -H 'content-type: application/json' -d "{\"username\":\"sysadmin\",\"password\":\"$(cat "$walk_dir/init-sysadmin")\"}" \
    "$base/api/v1/auth/login")
  grep -q password_change_required "$WORK/$label-login1.json" || fail "$label: first sign-in answered $status $(cat "$WORK/$label-login1.json")"
  new_pw="Chg-${label}-Kept-7431!"
  curl -fsS --cacert /etc/civgrid/tls/ca.pem -o /dev/null -H 'content-type: application/json' \
    -d "{\"username\":\"sysadmin\",\"old_password\":\"$(cat "$walk_dir/init-sysadmin")\",\"new_password\":\"$new_pw\"}" \
    "$base/api/v1/auth/password" || fail "$label: changing the one-time password"
  curl -fsS --cacert /etc/civgrid/tls/ca.pem -D "$WORK/$label-login2.headers" -o "$WORK/$label-login2.json" \
    -H 'content-type: application/json' -d "{\"username\":\"sysadmin\",\"password\":\"$new_pw\"}" \
    "$base/api/v1/auth/login" || fail "$label: signing in with the new password"
  grep -i '^set-cookie:.*; Secure' "$WORK/$label-login2.headers" >/dev/null || fail "$label: the session cookie is not Secure"
  grep -i '^strict-transport-security: max-age=' "$WORK/$label-login2.headers" >/dev/null || fail "$label: no HSTS over TLS"
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/$label-login2.json")
  curl -fsS --cacert /etc/civgrid/tls/ca.pem -H "authorization: Bearer $token" "$base/api/v1/auth/me" >"$WORK/$label-me.json"
  grep -q '"admin"' "$WORK/$label-me.json" || fail "$label: sysadmin does not hold admin: $(cat "$WORK/$label-me.json")"
  curl -fsS --cacert /etc/civgrid/tls/ca.pem -H "authorization: Bearer $token" "$base/api/v1/admin/staff" >"$WORK/$label-staff.json" || fail "$label: listing the staff as sysadmin"
  grep -q 'zhang.san' "$WORK/$label-staff.json" || fail "$label: the roster's staff are not listed"
  curl -sS -o /dev/null "http://localhost:$port/healthz" 2>/dev/null && fail "$label: plain HTTP answered on the TLS port"
  say "$label: sysadmin signed in over HTTPS (Secure cookie, HSTS)"

  rm -f "$walk_dir/backup.civgrid"
  civgrid_as_service backup --out "$walk_dir/backup.civgrid" >"$WORK/$label-backup.log" 2>&1 ||
    fail "$label: backup while serving: $(cat "$WORK/$label-backup.log")"
  stop_server
  civgrid_as_service --database "$restored" restore "$walk_dir/backup.civgrid" >"$WORK/$label-restore.log" 2>&1 ||
    fail "$label: restore: $(cat "$WORK/$label-restore.log")"
  civgrid_as_service --database "$restored" audit >"$WORK/$label-audit-restored.log" 2>&1 ||
    fail "$label: audit of the restored database: $(cat "$WORK/$label-audit-restored.log")"
  grep -q '^clean' "$WORK/$label-audit-restored.log" || fail "$label: audit not clean: $(cat "$WORK/$label-audit-restored.log")"
  civgrid_as_service audit >"$WORK/$label-audit.log" 2>&1 || fail "$label: audit: $(cat "$WORK/$label-audit.log")"
  say "$label: backed up while serving, restored into a new database, audit clean"
}

# SQLite, the installed default; a fresh database for the walk.
sed -i 's|^database_url = .*|database_url = "sqlite:///var/lib/civgrid/walk.db"|' "$CONFIG"
walk sqlite "sqlite:///var/lib/civgrid/walk/restored.db"

# PostgreSQL: the same walk with database_url pointing there (trust auth on this machine).
PG_ADMIN=${CIVGRID_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_base=${PG_ADMIN%/*}
psql "$PG_ADMIN" -qc 'drop database if exists civgrid_pkgtest' -c 'drop database if exists civgrid_pkgtest_restored' \
  -c 'create database civgrid_pkgtest' -c 'create database civgrid_pkgtest_restored' >/dev/null
pg_created=1
sed -i "s|^database_url = .*|database_url = \"$pg_base/civgrid_pkgtest\"|" "$CONFIG"
walk postgres "$pg_base/civgrid_pkgtest_restored"

# --- purge ---
rm -rf /etc/civgrid/tls   # made by this test, not the package------------------------------------------------------------------------------
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
