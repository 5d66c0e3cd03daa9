//! A new report's checks: duplicates near it, its reporter's photo key.

use super::*;

/// Where to look for a new report's duplicates: open cases of its class reported since
/// `since` inside `bbox` (min lng, min lat, max lng, max lat; GCJ-02), narrowed by the caller
/// with the exact distance.
#[derive(Debug, Clone, Copy)]
pub struct Near<'a> {
    pub since: &'a str,
    pub bbox: (f64, f64, f64, f64),
}

/// What [`check_report`] read.
#[derive(Debug, Default)]
pub struct Checked {
    /// The stored territory revision, when its subquery was given.
    pub territory_revision: Option<i64>,
    /// The newest version of the class, when a class was given and it exists.
    pub class_version: Option<i64>,
    /// The duplicate candidates, when a [`Near`] was given (at most 20, oldest first).
    pub nearby: Vec<Nearby>,
}

/// One read for a new report: the territory revision (`revision_sql`, a scalar subquery the
/// territory module gives), the newest version of its class, and the duplicate candidates near
/// it. A report is routed with the territory index and the class this node holds; this read
/// says whether they are still current while it fetches what it needs anyway. From the pool:
/// suggestions are advisory, so intake reads them outside its write transaction.
pub async fn check_report(
    db: &Db,
    revision_sql: Option<&str>,
    class: Option<(&str, Option<Near<'_>>)>,
) -> Result<Checked, sqlx::Error> {
    let none = "cast(null as bigint)";
    let version = match class {
        Some(_) => "(select max(version) from case_class where code = $1)",
        None => none,
    };
    let head = format!("select {} as territory_revision, {version} as class_version", revision_sql.unwrap_or(none));
    let near = class.and_then(|(_, near)| near);
    let sql = match near {
        None => head,
        Some(_) => format!(
            "select k.territory_revision, k.class_version, n.id, n.number, n.lng, n.lat, n.grid_code from ({head}) k
             left join (select id, number, lng, lat, grid_code from case_record where class_code = $1 and created_at >= $2
               and lng between $3 and $4 and lat between $5 and $6
               and {OPEN_CASE} order by id limit {CANDIDATES_PER_PROBE}) n on true"
        ),
    };
    let mut q = sqlx::query(&sql);
    if let Some((code, _)) = class {
        q = q.bind(code);
    }
    if let Some(n) = near {
        q = q.bind(n.since).bind(n.bbox.0).bind(n.bbox.2).bind(n.bbox.1).bind(n.bbox.3);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let mut checked = Checked::default();
    for r in &rows {
        checked.territory_revision = r.try_get("territory_revision")?;
        checked.class_version = r.try_get("class_version")?;
        if near.is_none() {
            continue;
        }
        if r.try_get::<Option<i64>, _>("id")?.is_some() {
            checked.nearby.push(nearby_from(r)?);
        }
    }
    checked.nearby.sort_by_key(|n| n.id);
    Ok(checked)
}

/// Where to look for one queued case's duplicates (see [`nearby_open_cases_of`]).
#[derive(Debug, Clone)]
pub struct Probe {
    pub case_id: i64,
    pub class_code: String,
    /// Earliest report time of a candidate.
    pub since: String,
    /// (min lng, min lat, max lng, max lat), GCJ-02.
    pub bbox: (f64, f64, f64, f64),
}

/// An open case, as both duplicate looks write it: exactly the condition of the partial index
/// `case_duplicate_open` (migration 20261206000004), or the planner will not use it.
const OPEN_CASE: &str = "state not in ('refused', 'merged', 'closed')";

/// Most candidates read for one probe (the nearest are chosen from these by the caller).
const CANDIDATES_PER_PROBE: i64 = 20;

/// For every probe at once, the open cases of its class inside its box, reported since its
/// `since` and before its case (a lower id): (probe's case id, candidate). One query for a whole
/// page of queues, each probe a range of the `case_duplicate_open` index (class, lat, lng),
/// which holds the open cases only and every column read here.
pub async fn nearby_open_cases_of(db: &Db, probes: &[Probe]) -> Result<Vec<(i64, Nearby)>, sqlx::Error> {
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = db.backend();
    let near = format!(
        "o.class_code = p.class_code and o.lat between p.y0 and p.y1 and o.lng between p.x0 and p.x1
         and o.created_at >= p.since and o.id < p.case_id and o.{OPEN_CASE}"
    );
    let values = dialect.values(probes.len(), 7);
    let sql = match dialect {
        Dialect::Sqlite => {
            format!(
                "with p (case_id, class_code, since, x0, y0, x1, y1) as (values {values})
             select case_id, id, number, lng, lat, grid_code from (
               select p.case_id, o.id, o.number, o.lng, o.lat, o.grid_code,
                      row_number() over (partition by p.case_id order by o.id desc) as k
               from p join case_record o on {near}
             ) as near where k <= {CANDIDATES_PER_PROBE} order by case_id, id"
            )
        }
        Dialect::Postgres => {
            // PostgreSQL hashes the probes and scans every open case for the join above (90 ms at
            // 200,000 cases, growing with the table); a lateral subquery per probe is a range of the
            // `case_duplicate_open` index each (SQLite has no LATERAL, and plans the join that way itself).
            format!(
                "with p (case_id, class_code, since, x0, y0, x1, y1) as (values {values})
             select p.case_id, n.id, n.number, n.lng, n.lat, n.grid_code from p cross join lateral (
               select o.id, o.number, o.lng, o.lat, o.grid_code from case_record o where {near}
               order by o.id desc limit {CANDIDATES_PER_PROBE}
             ) n order by p.case_id, n.id"
            )
        }
    };
    let mut q = sqlx::query(&sql);
    for p in probes {
        q = q
            .bind(p.case_id)
            .bind(p.class_code.as_str())
            .bind(p.since.as_str())
            .bind(p.bbox.0)
            .bind(p.bbox.1)
            .bind(p.bbox.2)
            .bind(p.bbox.3);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("case_id")?, nearby_from(r)?))).collect()
}

fn nearby_from(r: &AnyRow) -> Result<Nearby, sqlx::Error> {
    Ok(Nearby {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        lng: r.try_get("lng")?,
        lat: r.try_get("lat")?,
        grid_code: r.try_get("grid_code")?,
    })
}

/// SHA-256 (hex) of the key the case's reporter attaches photos with, if they reported
/// without a session.
pub async fn reporter_photo_key(tx: &mut Tx<'_>, case_id: i64) -> Result<Option<String>, sqlx::Error> {
    let key: Option<Option<String>> = sqlx::query_scalar("select reporter_photo_key from case_record where id = $1")
        .bind(case_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(key.flatten())
}

/// An open case near a new report (a duplicate candidate).
#[derive(Debug)]
pub struct Nearby {
    pub id: i64,
    pub number: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub grid_code: Option<String>,
}
