//! Territory (网格化): the district → subdistrict → community → grid hierarchy, grid geometry,
//! grid workers, and point → grid routing.
//!
//! Public face: [`Territory`] (the service every other context calls), the validated codes in
//! [`codes`], and [`TerritoryError`]. Geometry itself (datums, validation, the locator) lives in
//! the `civgrid-geo` crate; SQL lives in `store` (private: other contexts call the service, or
//! the few functions below that take their transaction).

pub mod codes;
mod index;
mod store;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use civgrid_geo::import::{self, FeatureProblem, ImportLimits};
use civgrid_geo::{Datum, LngLat, MultiPolygon};
use geo::BoundingRect;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::db::{BoxFuture, Db};
use codes::{AreaCode, AreaLevel, CodeError, GridCode};
use index::IndexCache;
pub use index::{Located, NamedCode};
pub use store::{AreaRow, GridRow, WorkerRow};

/// Everything that can go wrong in the territory context. `code()` is the stable API code.
#[derive(Debug, thiserror::Error)]
pub enum TerritoryError {
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error("the point ({lng}, {lat}) in GCJ-02 is outside the territory")]
    OutsideTerritory { lng: f64, lat: f64 },
    #[error("no territory has been set up yet: import the district and its grids first")]
    NoTerritory,
    #[error("area {0} does not exist")]
    AreaNotFound(String),
    #[error("grid {0} does not exist")]
    GridNotFound(String),
    #[error("area {0} already exists")]
    AreaExists(String),
    #[error("the parent area {0} does not exist: create it first")]
    ParentMissing(String),
    #[error("this installation already governs district {0}; a second district is not supported")]
    SecondDistrict(String),
    #[error("a name must be 1–64 characters without control characters")]
    InvalidName,
    #[error("the grid file was refused: {} problem(s); nothing was imported", .0.len())]
    ImportRefused(Vec<FeatureProblem>),
    #[error("staff member {0} does not exist")]
    StaffNotFound(i64),
    #[error("grid worker kind must be full_time or part_time")]
    InvalidWorkerKind,
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

impl TerritoryError {
    pub fn code(&self) -> &'static str {
        match self {
            TerritoryError::Code(e) => e.code(),
            TerritoryError::OutsideTerritory { .. } => "outside_territory",
            TerritoryError::NoTerritory => "no_territory",
            TerritoryError::AreaNotFound(_) => "area_not_found",
            TerritoryError::GridNotFound(_) => "grid_not_found",
            TerritoryError::AreaExists(_) => "area_exists",
            TerritoryError::ParentMissing(_) => "parent_missing",
            TerritoryError::SecondDistrict(_) => "second_district",
            TerritoryError::InvalidName => "invalid_name",
            TerritoryError::ImportRefused(_) => "import_refused",
            TerritoryError::StaffNotFound(_) => "staff_not_found",
            TerritoryError::InvalidWorkerKind => "invalid_worker_kind",
            TerritoryError::Store(_) => "internal",
        }
    }
}

/// Names are shown on maps and forms: keep them short and printable.
pub fn validate_name(name: &str) -> Result<String, TerritoryError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(TerritoryError::InvalidName);
    }
    Ok(n.to_owned())
}

/// How an import treats grids whose code already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExistingGrids {
    /// A code that already exists is a problem (`grid_exists`).
    #[default]
    Refuse,
    /// The new geometry and name replace the stored ones (a redrawn grid).
    Replace,
}

/// What an accepted import did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub created: usize,
    pub replaced: usize,
    pub areas_created: usize,
    pub revision: i64,
}

/// Properties a grid feature may carry. Anything else is refused so that a misspelt property
/// never silently drops data. The `*_code` properties are what `export` writes; on import they
/// must agree with the grid code.
const GRID_PROPERTIES: [&str; 9] = [
    "code",
    "name",
    "community_code",
    "community_name",
    "subdistrict_code",
    "subdistrict_name",
    "district_code",
    "district_name",
    "area_m2",
];

/// `p` (storage datum) in `index`, or why not.
fn located(index: &index::TerritoryIndex, p: LngLat) -> Result<Located, TerritoryError> {
    match index.locate(p) {
        Some(found) => Ok(found),
        None if index.is_empty() => Err(TerritoryError::NoTerritory),
        None => Err(TerritoryError::OutsideTerritory { lng: p.lng(), lat: p.lat() }),
    }
}

/// An area as the change record keeps it (the row's columns, times as stored).
fn area_record(a: &AreaRow) -> serde_json::Value {
    json!({
        "code": a.code,
        "level": a.level,
        "parent_code": a.parent_code,
        "name": a.name,
        "created_at": crate::db::at_text(&a.created_at),
        "updated_at": crate::db::at_text(&a.updated_at),
    })
}

/// The territory service.
#[derive(Debug, Clone)]
pub struct Territory {
    db: Db,
    index: Arc<IndexCache>,
}

impl Territory {
    pub fn new(db: Db) -> Territory {
        Territory { db, index: Arc::new(IndexCache::default()) }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Resolves a point in any datum to its grid, community, subdistrict and district.
    ///
    /// Checks the territory revision in the database first, so a grid imported through
    /// another node is honoured on the very next lookup.
    pub async fn locate(&self, point: LngLat, datum: Datum) -> Result<Located, TerritoryError> {
        let index = self.index.current(&self.db).await?;
        located(&index, civgrid_geo::datum::to_storage(point, datum))
    }

    /// Resolves a point with the index this node holds, without reading the territory
    /// revision, and says which revision answered. For a caller that reads the database anyway
    /// and can fold the check into that read ([`Territory::REVISION_SQL`]): if the stored
    /// revision is newer than the one returned, the answer may be stale and the caller must
    /// locate again with [`Territory::locate`]. Errors are never from a stale index: a point
    /// the held index does not cover is looked up again the checked way.
    pub async fn locate_held(&self, point: LngLat, datum: Datum) -> Result<(Located, i64), TerritoryError> {
        let held = self.index.held(&self.db).await?;
        let p = civgrid_geo::datum::to_storage(point, datum);
        if let Some(found) = held.locate(p) {
            return Ok((found, held.revision()));
        }
        // Outside the held index: make sure it is current before saying so.
        let index = self.index.current(&self.db).await?;
        Ok((located(&index, p)?, index.revision()))
    }

    /// A scalar subquery giving the stored territory revision, for [`Territory::locate_held`]'s
    /// callers to put in their own read.
    pub const REVISION_SQL: &'static str = store::REVISION_SQL;

    /// Every grid as a GeoJSON FeatureCollection (GCJ-02), sorted by code.
    pub async fn export_geojson(&self) -> Result<geojson::FeatureCollection, TerritoryError> {
        let areas: HashMap<String, String> =
            store::list_areas(&self.db).await?.into_iter().map(|a| (a.code, a.name)).collect();
        let grids = store::all_grids(&self.db).await?;
        let mut features = Vec::with_capacity(grids.len());
        for g in grids {
            let geometry: geojson::Geometry = serde_json::from_str(&g.geometry)
                .map_err(|e| sqlx::Error::Decode(format!("grid {} geometry: {e}", g.code).into()))?;
            let code = GridCode::parse(&g.code)?;
            let name_of = |c: &AreaCode| areas.get(c.as_str()).cloned().unwrap_or_default();
            let mut props = serde_json::Map::new();
            props.insert("code".into(), json!(g.code));
            props.insert("name".into(), json!(g.name));
            props.insert("community_code".into(), json!(code.community().as_str()));
            props.insert("community_name".into(), json!(name_of(&code.community())));
            props.insert("subdistrict_code".into(), json!(code.subdistrict().as_str()));
            props.insert("subdistrict_name".into(), json!(name_of(&code.subdistrict())));
            props.insert("district_code".into(), json!(code.district().as_str()));
            props.insert("district_name".into(), json!(name_of(&code.district())));
            props.insert("area_m2".into(), json!((g.area_m2 * 10.0).round() / 10.0));
            features.push(geojson::Feature {
                bbox: None,
                geometry: Some(geometry),
                id: None,
                properties: Some(props),
                foreign_members: None,
            });
        }
        let mut foreign = serde_json::Map::new();
        foreign.insert("datum".into(), json!(Datum::Gcj02.as_str()));
        Ok(geojson::FeatureCollection { bbox: None, features, foreign_members: Some(foreign) })
    }

    /// Creates the district with its outline. There is one district per installation.
    pub async fn create_district(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        boundary_geojson: &[u8],
        datum: Datum,
        request_id: Option<&str>,
    ) -> Result<(), TerritoryError> {
        let code = AreaCode::parse_at(code, AreaLevel::District)?;
        let name = validate_name(name)?;
        let outline =
            import::parse_boundary(boundary_geojson, datum).map_err(|r| TerritoryError::ImportRefused(r.problems))?;
        let outline_text = serde_json::to_string(&import::to_geojson_geometry(&outline))
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let boundary_m2 = civgrid_geo::measure::area_m2(&outline);
        let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), TerritoryError>> {
                Box::pin(async move {
                    if let Some((existing, _, _)) = store::district(tx).await? {
                        if existing != code.as_str() {
                            return Err(TerritoryError::SecondDistrict(existing));
                        }
                        return Err(TerritoryError::AreaExists(existing));
                    }
                    let row =
                        store::insert_area(tx, code.as_str(), "district", None, &name, Some(&outline_text)).await?;
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "area.create",
                            entity: "area",
                            entity_id: code.as_str(),
                            before: None,
                            after: Some(json!({"area": area_record(&row), "boundary_m2": boundary_m2})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    store::bump_revision(tx).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Creates a subdistrict or community under an existing parent.
    pub async fn create_area(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        request_id: Option<&str>,
    ) -> Result<store::AreaRow, TerritoryError> {
        let code = AreaCode::parse(code)?;
        let name = validate_name(name)?;
        let Some(parent) = code.parent() else {
            return Err(TerritoryError::Code(CodeError::WrongLevel {
                code: code.to_string(),
                expected: "subdistrict or community (create the district with its boundary)",
                digits: 9,
            }));
        };
        let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<AreaRow, TerritoryError>> {
                Box::pin(async move {
                    if store::find_area(tx, code.as_str()).await?.is_some() {
                        return Err(TerritoryError::AreaExists(code.to_string()));
                    }
                    if store::find_area(tx, parent.as_str()).await?.is_none() {
                        return Err(TerritoryError::ParentMissing(parent.to_string()));
                    }
                    let level = code.level().as_str();
                    let row = store::insert_area(tx, code.as_str(), level, Some(parent.as_str()), &name, None).await?;
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "area.create",
                            entity: "area",
                            entity_id: code.as_str(),
                            before: None,
                            after: Some(area_record(&row)),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(row)
                })
            })
            .await
    }

    pub async fn rename_area(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        request_id: Option<&str>,
    ) -> Result<store::AreaRow, TerritoryError> {
        let code = AreaCode::parse(code)?;
        let name = validate_name(name)?;
        let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<AreaRow, TerritoryError>> {
                Box::pin(async move {
                    let missing = || TerritoryError::AreaNotFound(code.to_string());
                    let before = store::find_area(tx, code.as_str()).await?.ok_or_else(missing)?;
                    store::rename_area(tx, code.as_str(), &name).await?;
                    let after = store::find_area(tx, code.as_str()).await?.ok_or_else(missing)?;
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "area.rename",
                            entity: "area",
                            entity_id: code.as_str(),
                            before: Some(area_record(&before)),
                            after: Some(area_record(&after)),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    // Locate answers carry area names.
                    store::bump_revision(tx).await?;
                    Ok(after)
                })
            })
            .await
    }

    pub async fn rename_grid(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        request_id: Option<&str>,
    ) -> Result<(), TerritoryError> {
        let code = GridCode::parse(code)?;
        let name = validate_name(name)?;
        let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), TerritoryError>> {
                Box::pin(async move {
                    let before = store::find_grid_tx(tx, code.as_str())
                        .await?
                        .ok_or_else(|| TerritoryError::GridNotFound(code.to_string()))?;
                    store::rename_grid(tx, code.as_str(), &name).await?;
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "grid.rename",
                            entity: "grid",
                            entity_id: code.as_str(),
                            before: Some(json!({"name": before.name})),
                            after: Some(json!({"name": name})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    store::bump_revision(tx).await?;
                    Ok(())
                })
            })
            .await
    }

    pub async fn areas(&self) -> Result<Vec<store::AreaRow>, TerritoryError> {
        Ok(store::list_areas(&self.db).await?)
    }

    pub async fn area(&self, code: &str) -> Result<store::AreaRow, TerritoryError> {
        let code = AreaCode::parse(code)?;
        store::find_area_db(&self.db, code.as_str())
            .await?
            .ok_or_else(|| TerritoryError::AreaNotFound(code.to_string()))
    }

    pub async fn grid(&self, code: &str) -> Result<store::GridRow, TerritoryError> {
        let code = GridCode::parse(code)?;
        store::find_grid(&self.db, code.as_str()).await?.ok_or_else(|| TerritoryError::GridNotFound(code.to_string()))
    }

    /// Every grid assignment: (staff id, grid code, kind).
    pub async fn assignments(&self) -> Result<Vec<(i64, String, String)>, TerritoryError> {
        Ok(store::all_assignments(&self.db).await?)
    }

    /// The grids a grid worker is assigned to.
    pub async fn grids_of_worker(&self, staff_id: i64) -> Result<Vec<String>, TerritoryError> {
        Ok(store::grids_of_worker(&self.db, staff_id).await?)
    }

    pub async fn grid_workers(&self, code: &str) -> Result<Vec<store::WorkerRow>, TerritoryError> {
        let grid = self.grid(code).await?;
        Ok(store::grid_workers(&self.db, &grid.code).await?)
    }

    /// Assigns a grid worker (full-time or part-time 兼职网格员) to a grid.
    pub async fn assign_worker(
        &self,
        actor: &Actor,
        grid: &str,
        staff_id: i64,
        kind: &str,
        request_id: Option<&str>,
    ) -> Result<(), TerritoryError> {
        let grid = GridCode::parse(grid)?;
        if !matches!(kind, "full_time" | "part_time") {
            return Err(TerritoryError::InvalidWorkerKind);
        }
        let (actor, kind, request_id) = (actor.clone(), kind.to_owned(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), TerritoryError>> {
                Box::pin(async move {
                    if store::find_grid_tx(tx, grid.as_str()).await?.is_none() {
                        return Err(TerritoryError::GridNotFound(grid.to_string()));
                    }
                    if !store::staff_exists(tx, staff_id).await? {
                        return Err(TerritoryError::StaffNotFound(staff_id));
                    }
                    store::assign_worker(tx, grid.as_str(), staff_id, &kind).await?;
                    let id = format!("{grid}/{staff_id}");
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "grid.assign_worker",
                            entity: "grid_assignment",
                            entity_id: &id,
                            before: None,
                            after: Some(json!({"grid": grid.as_str(), "staff_id": staff_id, "kind": kind})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    pub async fn unassign_worker(
        &self,
        actor: &Actor,
        grid: &str,
        staff_id: i64,
        request_id: Option<&str>,
    ) -> Result<(), TerritoryError> {
        let grid = GridCode::parse(grid)?;
        let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), TerritoryError>> {
                Box::pin(async move {
                    if store::unassign_worker(tx, grid.as_str(), staff_id).await? == 0 {
                        return Err(TerritoryError::StaffNotFound(staff_id));
                    }
                    let id = format!("{grid}/{staff_id}");
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "grid.unassign_worker",
                            entity: "grid_assignment",
                            entity_id: &id,
                            before: Some(json!({"grid": grid.as_str(), "staff_id": staff_id})),
                            after: None,
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Imports a GeoJSON FeatureCollection of grids, all or nothing.
    ///
    /// Every problem found is reported (which feature, what is wrong); if there is any, nothing
    /// is written. Missing subdistricts and communities are created when the feature names them
    /// (`subdistrict_name`, `community_name`).
    ///
    /// The file is checked against a snapshot of the territory outside the write (the geometry
    /// checks take long, and on SQLite a write holds up every other writer), and written only if
    /// the territory revision is still the snapshot's; otherwise it is checked again.
    pub async fn import_grids(
        &self,
        actor: &Actor,
        bytes: &[u8],
        datum: Datum,
        existing: ExistingGrids,
        request_id: Option<&str>,
    ) -> Result<ImportSummary, TerritoryError> {
        let features = import::parse_grid_collection(bytes, datum, &ImportLimits::default())
            .map_err(|r| TerritoryError::ImportRefused(r.problems))?;
        for _ in 0..IMPORT_ATTEMPTS {
            let plan = self.plan_import(&features, datum, existing).await?;
            let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
            let written = self
                .db
                .write(move |tx| -> BoxFuture<'_, Result<Option<ImportSummary>, TerritoryError>> {
                    Box::pin(async move { write_import(tx, plan, &actor, request_id.as_deref()).await })
                })
                .await?;
            if let Some(summary) = written {
                return Ok(summary);
            }
        }
        Err(TerritoryError::Store(sqlx::Error::Protocol(format!(
            "the territory changed during each of {IMPORT_ATTEMPTS} attempts to import; try again"
        ))))
    }

    /// Checks the features against the stored territory and says what to write.
    async fn plan_import(
        &self,
        features: &[import::GridFeature],
        datum: Datum,
        existing: ExistingGrids,
    ) -> Result<ImportPlan, TerritoryError> {
        // One snapshot: the revision and everything checked against it.
        let mut tx = self.db.begin_read().await?;
        let revision = store::revision_tx(&mut tx).await?;
        let Some((district_code, _, boundary)) = store::district(&mut tx).await? else {
            return Err(TerritoryError::NoTerritory);
        };
        let areas: HashMap<String, String> =
            store::list_areas_tx(&mut tx).await?.into_iter().map(|a| (a.code, a.name)).collect();
        let stored = store::all_grids_tx(&mut tx).await?;
        tx.rollback().await?;
        let district_outline: Option<MultiPolygon<f64>> = match boundary {
            Some(text) => Some(
                import::parse_boundary(text.as_bytes(), Datum::Gcj02)
                    .map_err(|r| TerritoryError::ImportRefused(r.problems))?,
            ),
            None => None,
        };
        let stored_codes: HashSet<&str> = stored.iter().map(|g| g.code.as_str()).collect();

        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        let mut plans = Vec::with_capacity(features.len());
        // Areas to create: code → (name, level); BTreeMap so parents come before children.
        let mut new_areas: BTreeMap<String, String> = BTreeMap::new();
        for f in features {
            let problem = |code: &'static str, message: String| FeatureProblem {
                feature: Some(f.index),
                feature_id: f.id.clone(),
                code,
                message,
            };
            if let Some(unknown) = f.properties.keys().find(|k| !GRID_PROPERTIES.contains(&k.as_str())) {
                problems.push(problem(
                    "unknown_property",
                    format!("unknown property `{unknown}`; allowed: {}", GRID_PROPERTIES.join(", ")),
                ));
                continue;
            }
            let text =
                |key: &str| -> Option<String> { f.properties.get(key).and_then(|v| v.as_str()).map(|s| s.to_owned()) };
            let Some(raw_code) = text("code") else {
                problems.push(problem(
                    "missing_code",
                    "property `code` (a 14-digit grid code, as a string) is required".into(),
                ));
                continue;
            };
            let code = match GridCode::parse(&raw_code) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(problem(e.code(), e.to_string()));
                    continue;
                }
            };
            if code.district().as_str() != district_code {
                problems.push(problem(
                    "outside_district",
                    format!("grid code {code} does not belong to district {district_code}"),
                ));
                continue;
            }
            let name = match text("name").as_deref().map(validate_name) {
                Some(Ok(n)) => n,
                _ => {
                    problems
                        .push(problem("invalid_name", "property `name` must be a string of 1–64 characters".into()));
                    continue;
                }
            };
            let mut consistent = true;
            for (key, expected) in [
                ("community_code", code.community().to_string()),
                ("subdistrict_code", code.subdistrict().to_string()),
                ("district_code", code.district().to_string()),
            ] {
                if let Some(v) = f.properties.get(key) {
                    if v.as_str() != Some(expected.as_str()) {
                        problems.push(problem(
                            "inconsistent_code",
                            format!("`{key}` is {v} but grid code {code} implies {expected}"),
                        ));
                        consistent = false;
                    }
                }
            }
            if !consistent {
                continue;
            }
            if !seen.insert(code.clone()) {
                problems
                    .push(problem("duplicate_code", format!("grid code {code} appears more than once in the file")));
                continue;
            }
            if existing == ExistingGrids::Refuse && stored_codes.contains(code.as_str()) {
                problems.push(problem(
                    "grid_exists",
                    format!("grid {code} already exists (import with replace to redraw it)"),
                ));
                continue;
            }
            for (area, name_key) in [(code.subdistrict(), "subdistrict_name"), (code.community(), "community_name")] {
                if areas.contains_key(area.as_str()) || new_areas.contains_key(area.as_str()) {
                    continue;
                }
                match text(name_key).as_deref().map(validate_name) {
                    Some(Ok(n)) => {
                        new_areas.insert(area.to_string(), n);
                    }
                    _ => {
                        problems.push(problem(
                            "unknown_area",
                            format!("area {area} does not exist; create it first or give `{name_key}`"),
                        ));
                        consistent = false;
                        break;
                    }
                }
            }
            if consistent {
                plans.push((f, code, name));
            }
        }

        // Geometry against what stays: grids not being replaced, and the district outline.
        let replaced: HashSet<&str> = plans.iter().map(|(_, c, _)| c.as_str()).collect();
        let mut keep = Vec::new();
        for g in stored.iter().filter(|g| !replaced.contains(g.code.as_str())) {
            let mp = import::parse_boundary(g.geometry.as_bytes(), Datum::Gcj02)
                .map_err(|r| TerritoryError::ImportRefused(r.problems))?;
            keep.push((g.code.clone(), mp));
        }
        let planned: Vec<import::GridFeature> = plans.iter().map(|(f, _, _)| (*f).clone()).collect();
        problems.extend(import::check_against(&planned, &keep, district_outline.as_ref()));
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.feature);
            return Err(TerritoryError::ImportRefused(problems));
        }

        let mut new_area_rows = Vec::with_capacity(new_areas.len());
        for (code, name) in new_areas {
            let code = AreaCode::parse(&code)?;
            let parent = code.parent().map(|p| p.to_string());
            new_area_rows.push(NewArea { level: code.level().as_str(), code: code.to_string(), parent, name });
        }
        let by_code: HashMap<&str, &store::GridRow> = stored.iter().map(|g| (g.code.as_str(), g)).collect();
        let mut grids = Vec::with_capacity(plans.len());
        for (f, code, name) in plans {
            let geometry = import::to_geojson_geometry(&f.geometry);
            let geometry_text = serde_json::to_string(&geometry).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            let area_m2 = civgrid_geo::measure::area_m2(&f.geometry);
            let Some(rect) = f.geometry.bounding_rect() else {
                continue; // parse_grid_collection refuses empty geometry
            };
            let bbox = store::Bbox {
                min_lng: rect.min().x,
                min_lat: rect.min().y,
                max_lng: rect.max().x,
                max_lat: rect.max().y,
            };
            let before = by_code
                .get(code.as_str())
                .map(|g| json!({"name": g.name, "area_m2": g.area_m2, "geometry_sha256": sha256_hex(&g.geometry)}));
            let after = json!({"name": name, "area_m2": area_m2, "source_datum": datum.as_str(), "geometry_sha256": sha256_hex(&geometry_text)});
            grids.push(PlannedGrid {
                community: code.community().to_string(),
                code: code.to_string(),
                name,
                geometry_text,
                area_m2,
                bbox,
                before,
                after,
            });
        }
        Ok(ImportPlan { revision, new_areas: new_area_rows, grids })
    }
}

/// How many times an import is checked again when the territory changed under it.
const IMPORT_ATTEMPTS: usize = 5;

/// An area an import creates.
#[derive(Debug)]
struct NewArea {
    code: String,
    level: &'static str,
    parent: Option<String>,
    name: String,
}

/// A checked grid, ready to write, with its change record.
#[derive(Debug)]
struct PlannedGrid {
    code: String,
    community: String,
    name: String,
    geometry_text: String,
    area_m2: f64,
    bbox: store::Bbox,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
}

/// What a checked import writes, valid while the territory is at `revision`.
#[derive(Debug)]
struct ImportPlan {
    revision: i64,
    new_areas: Vec<NewArea>,
    grids: Vec<PlannedGrid>,
}

/// Writes a plan; `None` (nothing written) when the territory moved on since it was checked.
async fn write_import(
    tx: &mut crate::db::Tx<'_>,
    plan: ImportPlan,
    actor: &Actor,
    request_id: Option<&str>,
) -> Result<Option<ImportSummary>, TerritoryError> {
    if store::revision_tx(tx).await? != plan.revision {
        return Ok(None);
    }
    let mut areas_created = 0;
    for a in &plan.new_areas {
        // Creating an area does not move the revision: one made meanwhile is simply there.
        if store::find_area(tx, &a.code).await?.is_some() {
            continue;
        }
        let row = store::insert_area(tx, &a.code, a.level, a.parent.as_deref(), &a.name, None).await?;
        audit::record(
            tx,
            Change {
                actor,
                action: "area.create",
                entity: "area",
                entity_id: &a.code,
                before: None,
                after: Some(area_record(&row)),
                request_id,
            },
        )
        .await?;
        areas_created += 1;
    }
    let (mut created, mut replaced) = (0, 0);
    for g in plan.grids {
        store::upsert_grid(
            tx,
            &g.code,
            &g.community,
            &g.name,
            Datum::Gcj02.as_str(),
            &g.geometry_text,
            g.area_m2,
            g.bbox,
        )
        .await?;
        if g.before.is_some() {
            replaced += 1;
        } else {
            created += 1;
        }
        audit::record(
            tx,
            Change {
                actor,
                action: if g.before.is_some() { "grid.replace" } else { "grid.create" },
                entity: "grid",
                entity_id: &g.code,
                before: g.before,
                after: Some(g.after),
                request_id,
            },
        )
        .await?;
    }
    store::bump_revision(tx).await?;
    let revision = store::revision_tx(tx).await?;
    Ok(Some(ImportSummary { created, replaced, areas_created, revision }))
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

// The staff context changes an account's areas and grid assignments in the account's own
// transaction (atomically with the account), so it reads and writes these through `tx`.

/// Whether the area exists, read in the caller's transaction.
pub async fn area_exists(tx: &mut crate::db::Tx<'_>, code: &str) -> Result<bool, sqlx::Error> {
    Ok(store::find_area(tx, code).await?.is_some())
}

/// Whether the grid exists, read in the caller's transaction.
pub async fn grid_exists(tx: &mut crate::db::Tx<'_>, code: &str) -> Result<bool, sqlx::Error> {
    Ok(store::find_grid_tx(tx, code).await?.is_some())
}

/// A staff member's grid assignments: (grid code, kind), by grid code.
pub async fn assignments_of(tx: &mut crate::db::Tx<'_>, staff_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    store::assignments_of(tx, staff_id).await
}

/// Assigns a grid worker (`kind`: full_time or part_time) in the caller's transaction.
pub async fn assign_worker_in(
    tx: &mut crate::db::Tx<'_>,
    grid: &str,
    staff_id: i64,
    kind: &str,
) -> Result<(), sqlx::Error> {
    store::assign_worker(tx, grid, staff_id, kind).await
}

/// Ends a grid worker's assignment in the caller's transaction.
pub async fn unassign_worker_in(tx: &mut crate::db::Tx<'_>, grid: &str, staff_id: i64) -> Result<u64, sqlx::Error> {
    store::unassign_worker(tx, grid, staff_id).await
}
