//! The PostGIS side of `civgrid-bench locate`.

use crate::report::{Comparison, Disagreement, JoinRun, PostgisReport};
use anyhow::Context;
use civgrid_geo::locator::BOUNDARY_TOLERANCE_DEG;
use civgrid_geo::MultiPolygon;
use sqlx::{Connection, PgConnection, Row};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

/// Untimed queries before the one-query-per-point run (statement preparation, cache warm-up).
const WARM_UP: usize = 100;
/// COPY chunk size.
const CHUNK: usize = 4 << 20;
const MAX_EXAMPLES: usize = 5;

/// Loads the grids into a fresh schema, runs both query modes, compares, and drops the schema
/// (also when a step fails).
pub(crate) async fn run(
    url: &str,
    codes: &[String],
    geoms: &[MultiPolygon<f64>],
    pts: &[(f64, f64)],
    answers: &[Option<u32>],
    per_point: usize,
) -> anyhow::Result<PostgisReport> {
    let mut conn = PgConnection::connect(url).await.with_context(|| format!("connecting to {url}"))?;
    sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        .execute(&mut conn)
        .await
        .context("CREATE EXTENSION postgis (is postgresql-15-postgis-3 installed?)")?;
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let schema = format!("civgrid_bench_{}_{nanos}", std::process::id());
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("CREATE SCHEMA {schema}"))?;
    let result = run_in(&mut conn, &schema, codes, geoms, pts, answers, per_point).await;
    let dropped = sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("DROP SCHEMA {schema}"));
    let report = result?;
    dropped?;
    conn.close().await.ok();
    Ok(report)
}

async fn run_in(
    conn: &mut PgConnection,
    schema: &str,
    codes: &[String],
    geoms: &[MultiPolygon<f64>],
    pts: &[(f64, f64)],
    answers: &[Option<u32>],
    per_point: usize,
) -> anyhow::Result<PostgisReport> {
    let server: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut *conn).await?;
    let lib: String = sqlx::query_scalar("SELECT postgis_lib_version()").fetch_one(&mut *conn).await?;
    let mut settings = Vec::new();
    for s in ["shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"] {
        let v: String = sqlx::query_scalar(&format!("SHOW {s}")).fetch_one(&mut *conn).await?;
        settings.push(format!("{s}={v}"));
    }

    // The grids: the very polygons the Locator got, as EWKT with round-trip float formatting.
    sqlx::raw_sql(&format!(
        "CREATE TABLE {schema}.grids (id integer PRIMARY KEY, code text NOT NULL, \
         geom geometry(MultiPolygon, 4326) NOT NULL)"
    ))
    .execute(&mut *conn)
    .await?;
    let t = Instant::now();
    let mut copy = conn.copy_in_raw(&format!("COPY {schema}.grids (id, code, geom) FROM STDIN")).await?;
    let mut buf = String::with_capacity(CHUNK + (1 << 16));
    for (i, (code, g)) in codes.iter().zip(geoms).enumerate() {
        let _ = write!(buf, "{i}\t");
        copy_escape(&mut buf, code);
        buf.push('\t');
        ewkt_multipolygon(&mut buf, g);
        buf.push('\n');
        if buf.len() >= CHUNK {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await.context("COPY grids")?;
    let load_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    sqlx::raw_sql(&format!("CREATE INDEX grids_geom_gist ON {schema}.grids USING GIST (geom)"))
        .execute(&mut *conn)
        .await?;
    let index_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    sqlx::raw_sql(&format!("ANALYZE {schema}.grids")).execute(&mut *conn).await?;
    let analyze_seconds = t.elapsed().as_secs_f64();

    let by_code: HashMap<&str, u32> = codes.iter().enumerate().rev().map(|(i, c)| (c.as_str(), i as u32)).collect();
    let mut examples = Vec::new();

    // (a) One query per point, over loopback, on one connection with a prepared statement.
    let per_point = per_point.min(pts.len());
    let sql = format!(
        "SELECT code FROM {schema}.grids \
         WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1"
    );
    for &(x, y) in pts.iter().rev().take(WARM_UP.min(pts.len())) {
        sqlx::query_scalar::<_, String>(&sql).bind(x).bind(y).fetch_optional(&mut *conn).await?;
    }
    let mut pp = Vec::with_capacity(per_point);
    let t = Instant::now();
    for &(x, y) in &pts[..per_point] {
        let code: Option<String> = sqlx::query_scalar(&sql).bind(x).bind(y).fetch_optional(&mut *conn).await?;
        pp.push(code);
    }
    let per_point_seconds = t.elapsed().as_secs_f64();
    let per_point_cmp = compare(
        "per-point",
        pp.iter().enumerate().map(|(i, c)| (i, c.as_deref())),
        codes,
        geoms,
        &by_code,
        pts,
        answers,
        &mut examples,
    );

    // (b) One set-based join of all points.
    sqlx::raw_sql(&format!("CREATE TABLE {schema}.pts (id integer PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)"))
        .execute(&mut *conn)
        .await?;
    let t = Instant::now();
    let mut copy = conn.copy_in_raw(&format!("COPY {schema}.pts (id, geom) FROM STDIN")).await?;
    buf.clear();
    for (i, (x, y)) in pts.iter().enumerate() {
        let _ = writeln!(buf, "{i}\tSRID=4326;POINT({x} {y})");
        if buf.len() >= CHUNK {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await.context("COPY pts")?;
    sqlx::raw_sql(&format!("ANALYZE {schema}.pts")).execute(&mut *conn).await?;
    let points_load_seconds = t.elapsed().as_secs_f64();

    let join = format!(
        "SELECT p.id, min(g.code) FROM {schema}.pts p JOIN {schema}.grids g \
         ON ST_Contains(g.geom, p.geom) GROUP BY p.id"
    );
    let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {join}")).fetch_all(&mut *conn).await?;
    let join_plan = plan
        .iter()
        .map(|l| {
            let l = l.trim().trim_start_matches("->").trim();
            l.split("  (cost=").next().unwrap_or(l).to_string()
        })
        .take_while(|l| !l.starts_with("JIT"))
        .filter(|l| !l.is_empty())
        .collect();
    // The join as the server is configured (JIT on by default in Debian's PostgreSQL 15), then
    // with JIT off; the faster run counts, to give PostGIS its best showing.
    let mut join_runs = Vec::new();
    let mut joined: Vec<Option<String>> = vec![None; pts.len()];
    let mut join_rows = 0;
    for (label, setting) in [("server settings", None), ("jit=off", Some("SET jit = off"))] {
        if let Some(set) = setting {
            sqlx::raw_sql(set).execute(&mut *conn).await?;
        }
        let t = Instant::now();
        let rows = sqlx::query(&join).fetch_all(&mut *conn).await?;
        let seconds = t.elapsed().as_secs_f64();
        join_runs.push(JoinRun { setting: label.to_string(), seconds, rows: rows.len() });
        if setting.is_none() {
            join_rows = rows.len();
            for r in rows {
                let id: i32 = r.try_get(0)?;
                let code: String = r.try_get(1)?;
                let slot = usize::try_from(id)
                    .ok()
                    .and_then(|i| joined.get_mut(i))
                    .with_context(|| format!("the join returned an unknown point id {id}"))?;
                *slot = Some(code);
            }
        }
    }
    sqlx::raw_sql("RESET jit").execute(&mut *conn).await?;
    let join_seconds = join_runs.iter().map(|r| r.seconds).fold(f64::INFINITY, f64::min);
    let join_cmp = compare(
        "join",
        joined.iter().enumerate().map(|(i, c)| (i, c.as_deref())),
        codes,
        geoms,
        &by_code,
        pts,
        answers,
        &mut examples,
    );

    Ok(PostgisReport {
        version: format!("PostgreSQL {server}, PostGIS {lib}"),
        settings: settings.join(", "),
        load_seconds,
        index_seconds,
        analyze_seconds,
        per_point_queries: per_point,
        per_point_seconds,
        per_point_qps: per_point as f64 / per_point_seconds,
        per_point: per_point_cmp,
        points_load_seconds,
        join_seconds,
        join_points_per_sec: pts.len() as f64 / join_seconds,
        join_rows,
        join_runs,
        join: join_cmp,
        join_plan,
        disagreements: examples,
    })
}

/// Compares PostGIS's answers with the Locator's, point by point.
#[allow(clippy::too_many_arguments)]
fn compare<'a>(
    mode: &str,
    postgis: impl Iterator<Item = (usize, Option<&'a str>)>,
    codes: &[String],
    geoms: &[MultiPolygon<f64>],
    by_code: &HashMap<&str, u32>,
    pts: &[(f64, f64)],
    answers: &[Option<u32>],
    examples: &mut Vec<Disagreement>,
) -> Comparison {
    let mut c = Comparison::default();
    for (i, pg) in postgis {
        c.compared += 1;
        let ours = answers.get(i).copied().flatten().and_then(|id| codes.get(id as usize)).map(String::as_str);
        if ours == pg {
            c.agree += 1;
            continue;
        }
        c.disagree += 1;
        let (x, y) = pts[i];
        let on_boundary = [ours, pg].into_iter().flatten().any(|code| {
            by_code
                .get(code)
                .and_then(|&id| geoms.get(id as usize))
                .is_some_and(|g| boundary_distance(g, x, y) <= BOUNDARY_TOLERANCE_DEG)
        });
        if on_boundary {
            c.disagree_on_boundary += 1;
        } else {
            c.disagree_unexplained += 1;
        }
        // Unexplained ones first in the examples: they matter most.
        if examples.len() < MAX_EXAMPLES || !on_boundary {
            let d = Disagreement {
                mode: mode.to_string(),
                point: i,
                lng: x,
                lat: y,
                civgrid: ours.map(str::to_string),
                postgis: pg.map(str::to_string),
                on_boundary,
            };
            if examples.len() < MAX_EXAMPLES {
                examples.push(d);
            } else if let Some(slot) = examples.iter_mut().find(|e| e.on_boundary) {
                *slot = d;
            }
        }
    }
    c
}

/// Distance in degrees from (x, y) to the nearest edge of any ring of `mp`.
fn boundary_distance(mp: &MultiPolygon<f64>, x: f64, y: f64) -> f64 {
    let mut best = f64::INFINITY;
    for p in &mp.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in ring.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                let (dx, dy) = (b.x - a.x, b.y - a.y);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 { (((x - a.x) * dx + (y - a.y) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
                let (ex, ey) = (a.x + t * dx - x, a.y + t * dy - y);
                best = best.min((ex * ex + ey * ey).sqrt());
            }
        }
    }
    best
}

/// Appends `s` escaped for COPY's text format.
fn copy_escape(buf: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

/// Appends `SRID=4326;MULTIPOLYGON(...)`; `{}` on `f64` prints the shortest string that reads
/// back as the same double, so PostGIS gets bit-identical coordinates.
fn ewkt_multipolygon(buf: &mut String, mp: &MultiPolygon<f64>) {
    buf.push_str("SRID=4326;MULTIPOLYGON(");
    for (pi, p) in mp.0.iter().enumerate() {
        if pi > 0 {
            buf.push(',');
        }
        buf.push('(');
        for (ri, ring) in std::iter::once(p.exterior()).chain(p.interiors()).enumerate() {
            if ri > 0 {
                buf.push(',');
            }
            buf.push('(');
            for (ci, c) in ring.0.iter().enumerate() {
                if ci > 0 {
                    buf.push(',');
                }
                let _ = write!(buf, "{} {}", c.x, c.y);
            }
            buf.push(')');
        }
        buf.push(')');
    }
    buf.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn ewkt_and_copy_escaping() {
        let mp = MultiPolygon::new(vec![polygon![
            (x: 0.1, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.1, y: 0.0)
        ]]);
        let mut s = String::new();
        ewkt_multipolygon(&mut s, &mp);
        assert_eq!(s, "SRID=4326;MULTIPOLYGON(((0.1 0,1 0,1 1,0.1 0)))");
        let mut e = String::new();
        copy_escape(&mut e, "a\tb\\c\n");
        assert_eq!(e, "a\\tb\\\\c\\n");
    }
}
