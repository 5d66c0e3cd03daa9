#!/usr/bin/env python3
"""The crash test's client (scripts/crash-test.sh): Python's standard library only.

  load   --base URL --acks FILE --seconds S --workers N
         Signs in as the demo grid worker and sends reports from N threads for S seconds.
         Every report the server acknowledged (201 or 200 with a case) is appended to FILE as
         "id number" and flushed to disk before the next request: the list of writes the server
         promised to keep. Refused connections (the server was killed) are counted, not fatal.
  verify --base URL --acks FILE
         Signs in as the demo administrator and reads every acknowledged case back: exits 1
         when one is missing or has another number.
"""

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

# The demo accounts' password (crash-test.sh passes civgrid::demo::DEMO_PASSWORD).
PASSWORD = os.environ["CIVGRID_DEMO_PASSWORD"]
# Grids of the four subdistricts (祖庙, 石湾, 张槎, 南庄), so reports spread over the district.
GRIDS = ["44060401000101", "44060401100101", "44060401200101", "44060410000101",
         "44060401000201", "44060401100201", "44060401200201", "44060410000201"]


def call(base, method, path, body=None, token=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode("utf-8", "replace")


def login(base, username):
    status, body = call(base, "POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD})
    if status != 200:
        sys.exit(f"crash client: sign-in as {username} failed: {status} {body}")
    return body["token"]


def point_in(base, grid):
    """A point inside the grid: the mean of its outer ring, kept only if the server agrees."""
    status, g = call(base, "GET", f"/api/v1/grids/{grid}")
    if status != 200:
        return None
    geom = g["geometry"]
    ring = geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"][0][0]
    lng = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    status, where = call(base, "GET", f"/api/v1/locate?lng={lng}&lat={lat}&datum=gcj02")
    return (lng, lat) if status == 200 and where.get("grid", {}).get("code") == grid else None


def load(args):
    token = login(args.base, "gridworker")
    points = [p for p in (point_in(args.base, g) for g in GRIDS) if p]
    if not points:
        sys.exit("crash client: no usable report location")
    acks = open(args.acks, "a", encoding="utf-8")
    lock = threading.Lock()
    counts = {"acked": 0, "refused": 0, "failed": 0}
    deadline = time.monotonic() + args.seconds

    def worker(w):
        n = 0
        while time.monotonic() < deadline:
            n += 1
            lng, lat = points[(w + n) % len(points)]
            body = {"description": f"压力测试 {w}-{n}：路灯损坏", "class_code": "1102", "lng": lng, "lat": lat,
                    "datum": "gcj02", "idempotency_key": f"crash-{os.getpid()}-{w}-{n}"}
            try:
                status, v = call(args.base, "POST", "/api/v1/reports", body, token, timeout=10)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                with lock:
                    counts["failed"] += 1
                time.sleep(0.05)
                continue
            if status in (200, 201) and isinstance(v, dict) and "case" in v:
                with lock:
                    acks.write(f"{v['case']['id']} {v['case']['number']}\n")
                    acks.flush()
                    os.fsync(acks.fileno())
                    counts["acked"] += 1
            else:
                with lock:
                    counts["refused"] += 1
                if status >= 500:
                    print(f"crash client: server error {status}: {v}", file=sys.stderr)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks.close()
    print(f"crash client: {counts['acked']} reports acknowledged, {counts['refused']} refused, "
          f"{counts['failed']} lost with the connection")


def verify(args):
    token = login(args.base, "admin")
    with open(args.acks, encoding="utf-8") as f:
        acked = [line.split() for line in f if line.strip()]
    missing = []
    for case_id, number in acked:
        status, v = call(args.base, "GET", f"/api/v1/cases/{case_id}", token=token)
        if status != 200 or v.get("number") != number:
            missing.append(f"{case_id} {number}: {status}")
    if missing:
        print(f"crash client: {len(missing)} of {len(acked)} acknowledged reports are gone:", file=sys.stderr)
        for m in missing[:20]:
            print("  " + m, file=sys.stderr)
        sys.exit(1)
    print(f"crash client: all {len(acked)} acknowledged reports survived")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["load", "verify"])
    p.add_argument("--base", required=True)
    p.add_argument("--acks", required=True)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--workers", type=int, default=8)
    args = p.parse_args()
    load(args) if args.mode == "load" else verify(args)


if __name__ == "__main__":
    main()
