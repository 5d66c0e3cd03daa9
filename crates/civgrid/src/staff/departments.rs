//! Departments: created or renamed by an administrator of their area, checked by the other
//! contexts when they name one.

use serde_json::json;

use super::{forbidden, store, validate_department_code, validate_display_name, Principal, Role, Staff, StaffError};
use crate::audit::{self, Actor, Change};
use crate::db::{self, BoxFuture};
use crate::territory::codes::AreaCode;
pub use store::DepartmentRow;

impl Staff {
    pub async fn departments(&self) -> Result<Vec<DepartmentRow>, StaffError> {
        Ok(store::list_departments(&self.db).await?)
    }

    /// Creates or renames a department (keyed by its code) within an area. With `by`, an
    /// administrator acting through the API: the department's area, before and after, must
    /// be theirs (a subdistrict admin cannot take over a district department).
    pub async fn put_department(
        &self,
        actor: &Actor,
        by: Option<&Principal>,
        code: &str,
        name: &str,
        area_code: &str,
        request_id: Option<&str>,
    ) -> Result<DepartmentRow, StaffError> {
        validate_department_code(code)?;
        let name = validate_display_name(name)?;
        let area = AreaCode::parse(area_code)?;
        if by.is_some_and(|p| !p.can(Role::Admin, area.as_str())) {
            return Err(forbidden("managing departments in this area"));
        }
        let (actor, by, code) = (actor.clone(), by.cloned(), code.to_owned());
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<DepartmentRow, StaffError>> {
                Box::pin(async move {
                    if !crate::territory::area_exists(tx, area.as_str()).await? {
                        return Err(StaffError::AreaNotFound(area.to_string()));
                    }
                    let before = store::find_department(tx, &code).await?;
                    if let (Some(p), Some(b)) = (&by, &before) {
                        if !p.can(Role::Admin, &b.area_code) {
                            return Err(forbidden("changing a department outside your areas"));
                        }
                    }
                    match &before {
                        Some(_) => store::update_department(tx, &code, &name, area.as_str()).await?,
                        None => store::insert_department(tx, &code, &name, area.as_str()).await?,
                    }
                    let after = store::find_department(tx, &code)
                        .await?
                        .ok_or_else(|| StaffError::DepartmentNotFound(code.clone()))?;
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: if before.is_some() { "department.update" } else { "department.create" },
                            entity: "department",
                            entity_id: &code,
                            before: before.map(|b| json!(b)),
                            after: Some(json!(after)),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(after)
                })
            })
            .await
    }
}

/// The department with this code, read in the caller's transaction: cases, services and
/// certificates check a department they are about to name in the same transaction.
pub async fn find_department(tx: &mut db::Tx<'_>, code: &str) -> Result<Option<DepartmentRow>, sqlx::Error> {
    store::find_department(tx, code).await
}
