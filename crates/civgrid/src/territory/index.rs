//! The in-memory point → grid index, rebuilt whenever the territory revision in the database
//! moves on. The revision is read on every lookup (one indexed single-row read), which keeps
//! several nodes on one PostgreSQL consistent without any message bus: a node never answers
//! from geometry older than the last committed change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use civgrid_geo::{Datum, LngLat, Locator};
use serde::Serialize;
use tokio::sync::Mutex;

use super::codes::GridCode;
use super::{store, TerritoryError};
use crate::db::Db;

/// A code with its name.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NamedCode {
    pub code: String,
    pub name: String,
}

/// The answer to "where is this point": the grid and every area above it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Located {
    pub grid: NamedCode,
    pub community: NamedCode,
    pub subdistrict: NamedCode,
    pub district: NamedCode,
    /// The point as located, converted to the storage datum.
    pub lng_gcj02: f64,
    pub lat_gcj02: f64,
}

/// One built index for one territory revision.
#[derive(Debug)]
pub struct TerritoryIndex {
    revision: i64,
    locator: Locator,
    /// Parallel to the locator's ids, sorted by grid code (the shared-edge rule relies on it).
    grids: Vec<(GridCode, String)>,
    area_names: HashMap<String, String>,
}

impl TerritoryIndex {
    pub fn revision(&self) -> i64 {
        self.revision
    }

    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    pub fn locate(&self, p: LngLat) -> Option<Located> {
        let id = self.locator.locate(p.lng(), p.lat())?;
        let (code, name) = self.grids.get(id as usize)?;
        let named =
            |c: &str| NamedCode { code: c.to_owned(), name: self.area_names.get(c).cloned().unwrap_or_default() };
        Some(Located {
            grid: NamedCode { code: code.to_string(), name: name.clone() },
            community: named(code.community().as_str()),
            subdistrict: named(code.subdistrict().as_str()),
            district: named(code.district().as_str()),
            lng_gcj02: p.lng(),
            lat_gcj02: p.lat(),
        })
    }

    async fn load(db: &Db, revision: i64) -> Result<TerritoryIndex, TerritoryError> {
        let rows = store::all_grids(db).await?;
        let area_names = store::list_areas(db).await?.into_iter().map(|a| (a.code, a.name)).collect();
        let mut grids = Vec::with_capacity(rows.len());
        let mut shapes = Vec::with_capacity(rows.len());
        for row in rows {
            let shape = civgrid_geo::import::parse_boundary(row.geometry.as_bytes(), Datum::Gcj02).map_err(|r| {
                sqlx::Error::Decode(format!("stored geometry of grid {} is unreadable: {r}", row.code).into())
            })?;
            grids.push((GridCode::parse(&row.code)?, row.name));
            shapes.push(shape);
        }
        // Rows come ordered by code, so the locator's "smallest id" tie rule is "smallest code".
        let locator = tokio::task::spawn_blocking(move || Locator::build(&shapes))
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("index build failed: {e}")))?;
        metrics::counter!("civgrid_locator_rebuilds_total").increment(1);
        metrics::gauge!("civgrid_territory_grids").set(grids.len() as f64);
        Ok(TerritoryIndex { revision, locator, grids, area_names })
    }
}

/// Holds the current index and rebuilds it when the database says it is stale.
#[derive(Debug, Default)]
pub struct IndexCache {
    current: RwLock<Option<Arc<TerritoryIndex>>>,
    /// Serialises rebuilds so a burst of requests after a change builds once.
    rebuild: Mutex<()>,
}

impl IndexCache {
    pub async fn current(&self, db: &Db) -> Result<Arc<TerritoryIndex>, TerritoryError> {
        let revision = store::revision(db).await?;
        if let Some(index) = self.cached(revision) {
            return Ok(index);
        }
        let _guard = self.rebuild.lock().await;
        if let Some(index) = self.cached(revision) {
            return Ok(index);
        }
        let index = Arc::new(TerritoryIndex::load(db, revision).await?);
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(index.clone());
        }
        Ok(index)
    }

    /// The index this node holds, without asking the database whether it is current (built
    /// first if there is none). Its revision is for the caller to check in a read it makes
    /// anyway; see [`super::Territory::locate_held`].
    pub async fn held(&self, db: &Db) -> Result<Arc<TerritoryIndex>, TerritoryError> {
        let held = self.current.read().ok().and_then(|slot| slot.clone());
        match held {
            Some(index) => Ok(index),
            None => self.current(db).await,
        }
    }

    fn cached(&self, revision: i64) -> Option<Arc<TerritoryIndex>> {
        let slot = self.current.read().ok()?;
        slot.as_ref().filter(|i| i.revision >= revision).cloned()
    }
}
