//! SQL for the territory context. Every function takes an executor or the caller's
//! transaction; none decides transaction boundaries.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{at, now_text, Db, Tx};

/// An area row as stored.
#[derive(Debug, Clone)]
pub struct AreaRow {
    pub code: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn area_from(r: &AnyRow) -> Result<AreaRow, sqlx::Error> {
    Ok(AreaRow {
        code: r.try_get("code")?,
        level: r.try_get("level")?,
        parent_code: r.try_get("parent_code")?,
        name: r.try_get("name")?,
        created_at: at(r, "created_at")?,
        updated_at: at(r, "updated_at")?,
    })
}

const AREA_COLUMNS: &str = "code, level, parent_code, name, created_at, updated_at";

pub async fn list_areas(db: &Db) -> Result<Vec<AreaRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {AREA_COLUMNS} from area order by code")).fetch_all(db.pool()).await?;
    rows.iter().map(area_from).collect()
}

pub async fn list_areas_tx(tx: &mut Tx<'_>) -> Result<Vec<AreaRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {AREA_COLUMNS} from area order by code")).fetch_all(&mut **tx).await?;
    rows.iter().map(area_from).collect()
}

pub async fn find_area(tx: &mut Tx<'_>, code: &str) -> Result<Option<AreaRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {AREA_COLUMNS} from area where code = $1"))
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(area_from).transpose()
}

pub async fn find_area_db(db: &Db, code: &str) -> Result<Option<AreaRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {AREA_COLUMNS} from area where code = $1"))
        .bind(code)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(area_from).transpose()
}

pub async fn insert_area(
    tx: &mut Tx<'_>,
    code: &str,
    level: &str,
    parent: Option<&str>,
    name: &str,
    boundary: Option<&str>,
) -> Result<AreaRow, sqlx::Error> {
    // Stored to the millisecond, and answered as stored.
    let text = now_text();
    let now = crate::db::parse_at("created_at", &text)?;
    sqlx::query(
        "insert into area (code, level, parent_code, name, boundary, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(code)
    .bind(level)
    .bind(parent)
    .bind(name)
    .bind(boundary)
    .bind(&text)
    .execute(&mut **tx)
    .await?;
    Ok(AreaRow {
        code: code.to_owned(),
        level: level.to_owned(),
        parent_code: parent.map(str::to_owned),
        name: name.to_owned(),
        created_at: now,
        updated_at: now,
    })
}

pub async fn rename_area(tx: &mut Tx<'_>, code: &str, name: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update area set name = $1, updated_at = $2 where code = $3")
        .bind(name)
        .bind(now_text())
        .bind(code)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// The district (there is one territory per installation) with its outline, if set.
pub async fn district(tx: &mut Tx<'_>) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
    let row = sqlx::query("select code, name, boundary from area where level = 'district' order by code limit 1")
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("code")?, r.try_get("name")?, r.try_get("boundary")?))).transpose()
}

/// A grid row as stored (geometry as GeoJSON text).
#[derive(Debug, Clone)]
pub struct GridRow {
    pub code: String,
    pub community_code: String,
    pub name: String,
    pub geometry: String,
    pub area_m2: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn grid_from(r: &AnyRow) -> Result<GridRow, sqlx::Error> {
    Ok(GridRow {
        code: r.try_get("code")?,
        community_code: r.try_get("community_code")?,
        name: r.try_get("name")?,
        geometry: r.try_get("geometry")?,
        area_m2: r.try_get("area_m2")?,
        created_at: at(r, "created_at")?,
        updated_at: at(r, "updated_at")?,
    })
}

const GRID_COLUMNS: &str = "code, community_code, name, geometry, area_m2, created_at, updated_at";

pub async fn all_grids(db: &Db) -> Result<Vec<GridRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {GRID_COLUMNS} from grid order by code")).fetch_all(db.pool()).await?;
    rows.iter().map(grid_from).collect()
}

pub async fn all_grids_tx(tx: &mut Tx<'_>) -> Result<Vec<GridRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {GRID_COLUMNS} from grid order by code")).fetch_all(&mut **tx).await?;
    rows.iter().map(grid_from).collect()
}

pub async fn find_grid(db: &Db, code: &str) -> Result<Option<GridRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {GRID_COLUMNS} from grid where code = $1"))
        .bind(code)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(grid_from).transpose()
}

pub async fn find_grid_tx(tx: &mut Tx<'_>, code: &str) -> Result<Option<GridRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {GRID_COLUMNS} from grid where code = $1"))
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(grid_from).transpose()
}

/// Bounding box of a grid, stored beside the geometry.
#[derive(Debug, Clone, Copy)]
pub struct Bbox {
    pub min_lng: f64,
    pub min_lat: f64,
    pub max_lng: f64,
    pub max_lat: f64,
}

#[allow(clippy::too_many_arguments)]
pub async fn upsert_grid(
    tx: &mut Tx<'_>,
    code: &str,
    community: &str,
    name: &str,
    datum: &str,
    geometry: &str,
    area_m2: f64,
    bbox: Bbox,
) -> Result<(), sqlx::Error> {
    let now = now_text();
    sqlx::query(
        "insert into grid (code, community_code, name, datum, geometry, area_m2, min_lng, min_lat, max_lng, max_lat, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         on conflict (code) do update set community_code = excluded.community_code, name = excluded.name,
           datum = excluded.datum, geometry = excluded.geometry, area_m2 = excluded.area_m2,
           min_lng = excluded.min_lng, min_lat = excluded.min_lat, max_lng = excluded.max_lng,
           max_lat = excluded.max_lat, updated_at = excluded.updated_at",
    )
    .bind(code)
    .bind(community)
    .bind(name)
    .bind(datum)
    .bind(geometry)
    .bind(area_m2)
    .bind(bbox.min_lng)
    .bind(bbox.min_lat)
    .bind(bbox.max_lng)
    .bind(bbox.max_lat)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn rename_grid(tx: &mut Tx<'_>, code: &str, name: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update grid set name = $1, updated_at = $2 where code = $3")
        .bind(name)
        .bind(now_text())
        .bind(code)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// The stored revision as a scalar subquery (for reads elsewhere that check it in passing).
pub const REVISION_SQL: &str = "(select revision from territory_revision where id = 1)";

pub async fn revision(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("select {REVISION_SQL}")).fetch_one(db.pool()).await
}

pub async fn revision_tx(tx: &mut Tx<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("select {REVISION_SQL}")).fetch_one(&mut **tx).await
}

/// Whether a staff account exists.
pub async fn staff_exists(tx: &mut Tx<'_>, staff_id: i64) -> Result<bool, sqlx::Error> {
    let id: Option<i64> =
        sqlx::query_scalar("select id from staff where id = $1").bind(staff_id).fetch_optional(&mut **tx).await?;
    Ok(id.is_some())
}

/// Moves the revision on, so every node rebuilds its locator.
pub async fn bump_revision(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("update territory_revision set revision = revision + 1 where id = 1").execute(&mut **tx).await?;
    Ok(())
}

pub async fn assign_worker(tx: &mut Tx<'_>, grid: &str, staff_id: i64, kind: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into grid_assignment (grid_code, staff_id, kind, created_at) values ($1, $2, $3, $4)
         on conflict (grid_code, staff_id) do update set kind = excluded.kind",
    )
    .bind(grid)
    .bind(staff_id)
    .bind(kind)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn unassign_worker(tx: &mut Tx<'_>, grid: &str, staff_id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("delete from grid_assignment where grid_code = $1 and staff_id = $2")
        .bind(grid)
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// A grid worker assignment with the worker's names.
#[derive(Debug, Clone)]
pub struct WorkerRow {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub kind: String,
}

pub async fn grid_workers(db: &Db, grid: &str) -> Result<Vec<WorkerRow>, sqlx::Error> {
    let rows = sqlx::query(
        "select s.id, s.username, s.display_name, a.kind from grid_assignment a
         join staff s on s.id = a.staff_id where a.grid_code = $1 order by s.id",
    )
    .bind(grid)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WorkerRow {
                staff_id: r.try_get("id")?,
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                kind: r.try_get("kind")?,
            })
        })
        .collect()
}

/// A staff member's grid assignments: (grid code, kind), by grid code.
pub async fn assignments_of(tx: &mut Tx<'_>, staff_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("select grid_code, kind from grid_assignment where staff_id = $1 order by grid_code")
        .bind(staff_id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("grid_code")?, r.try_get("kind")?))).collect()
}

/// Every grid assignment: (staff id, grid code, kind), by staff and grid.
pub async fn all_assignments(db: &Db) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let rows = sqlx::query("select staff_id, grid_code, kind from grid_assignment order by staff_id, grid_code")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| Ok((r.try_get("staff_id")?, r.try_get("grid_code")?, r.try_get("kind")?))).collect()
}

pub async fn grids_of_worker(db: &Db, staff_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select grid_code from grid_assignment where staff_id = $1 order by grid_code")
        .bind(staff_id)
        .fetch_all(db.pool())
        .await
}
