//! Staff accounts: created by the system admin (or the demo seeder and the command line with a
//! password and roles), changed by the admin (organisation) and the security admin (roles,
//! one-time passwords, sessions), read by both within their areas.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    check_department_roles, forbidden, password, store, validate_display_name, validate_password, validate_username,
    Principal, Role, RoleGrant, Staff, StaffError, StaffView,
};
use crate::audit::{self, Actor, Change};
use crate::db::{self, BoxFuture};
use crate::territory::codes::{AreaCode, GridCode};

/// A new staff account.
#[derive(educe::Educe, Clone, Deserialize)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    pub password: String,
    #[serde(default)]
    pub department_code: Option<String>,
    #[serde(default)]
    pub roles: Vec<RoleGrant>,
}

/// A new account as an administrator creates it: who it is and where it belongs. Its roles
/// and password are the security administrator's to give; a body carrying them is refused
/// by name rather than as an unknown field.
#[derive(educe::Educe, Clone, Deserialize)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub department_code: Option<String>,
    /// The area whose administrators manage the account (default: the creator's broadest).
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    #[educe(Debug(method(crate::secret::redacted)))]
    pub password: Option<serde_json::Value>,
    #[serde(default)]
    pub roles: Option<serde_json::Value>,
}

/// A change to a staff account; absent fields stay as they are.
#[derive(educe::Educe, Clone, Default, Deserialize)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    pub display_name: Option<String>,
    /// `Some(None)` (JSON null) removes the department.
    #[serde(default, with = "double_option")]
    pub department_code: Option<Option<String>>,
    pub active: Option<bool>,
    #[educe(Debug(method(crate::secret::redacted)))]
    pub password: Option<String>,
    pub roles: Option<Vec<RoleGrant>>,
    /// The grids the account works in (网格员), replacing its assignments.
    pub grids: Option<Vec<GridAssignment>>,
}

/// A grid worker's assignment to a grid: full-time or part-time (兼职网格员).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridAssignment {
    pub code: String,
    pub kind: String,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

impl Staff {
    /// The accounts an administrator (admin or security admin) sees: those whose home area
    /// lies in one of their areas.
    pub async fn list_for(&self, by: &Principal) -> Result<Vec<StaffView>, StaffError> {
        let areas = by.administered_areas();
        let mut out = Vec::new();
        for id in store::staff_ids_under(&self.db, &areas).await? {
            out.push(self.get(id).await?);
        }
        Ok(out)
    }

    /// One account as an administrator sees it; outside their areas it does not exist.
    pub async fn get_for(&self, by: &Principal, id: i64) -> Result<StaffView, StaffError> {
        let view = self.get(id).await?;
        if by.sees_account(&view) {
            Ok(view)
        } else {
            Err(StaffError::StaffNotFound(id))
        }
    }

    /// Every account, unscoped: for the demo seeder and the command line (requests read
    /// through [`Staff::list_for`]).
    pub async fn list(&self) -> Result<Vec<StaffView>, StaffError> {
        let mut out = Vec::new();
        for s in store::list_staff(&self.db).await? {
            let roles = grants(store::roles(&self.db, s.id).await?);
            out.push(StaffView { staff: s, roles });
        }
        Ok(out)
    }

    /// One account, unscoped (requests read through [`Staff::get_for`]).
    pub async fn get(&self, id: i64) -> Result<StaffView, StaffError> {
        let s = store::find_staff_db(&self.db, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let roles = grants(store::roles(&self.db, id).await?);
        Ok(StaffView { staff: s, roles })
    }

    /// Creates a staff account with its password and roles in one transaction: the demo
    /// seeder and the command line only (an administrator's account is made with
    /// [`Staff::create_account`], its roles and password then given by the security admin).
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewStaff,
        request_id: Option<&str>,
    ) -> Result<StaffView, StaffError> {
        validate_username(&new.username)?;
        let display_name = validate_display_name(&new.display_name)?;
        validate_password(&new.password, &new.username)?;
        check_duties(&new.roles)?;
        let hash = password::hash(new.password.clone()).await?;
        let actor = actor.clone();
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<StaffView, StaffError>> {
                Box::pin(async move {
                    let department = match &new.department_code {
                        Some(d) => Some(
                            store::find_department(tx, d)
                                .await?
                                .ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?,
                        ),
                        None => None,
                    };
                    let grants = check_grants(tx, &new.roles).await?;
                    check_department_roles(&new.roles, new.department_code.as_deref())?;
                    // The account belongs to its broadest role's area, else its department's.
                    let area = grants
                        .iter()
                        .map(|(_, a)| a.clone())
                        .min_by_key(String::len)
                        .or_else(|| department.map(|d| d.area_code))
                        .ok_or(StaffError::AreaRequired)?;
                    let id = insert_account(
                        tx,
                        &new.username,
                        &display_name,
                        Some(&hash),
                        new.department_code.as_deref(),
                        &area,
                    )
                    .await?;
                    store::replace_roles(tx, id, &grants).await?;
                    let staff = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                    let view = StaffView { staff, roles: new.roles.clone() };
                    record_created(tx, &actor, id, &view, request_id.as_deref()).await?;
                    Ok(view)
                })
            })
            .await
    }

    /// An administrator creates an account in one of their areas: no password and no roles —
    /// those are the security administrator's to give.
    pub async fn create_account(
        &self,
        by: &Principal,
        new: NewAccount,
        request_id: Option<&str>,
    ) -> Result<StaffView, StaffError> {
        if new.password.is_some() {
            return Err(forbidden(
                "setting passwords: the security administrator (安全管理员) sets a one-time password",
            ));
        }
        if new.roles.is_some() {
            return Err(forbidden("granting roles: the security administrator (安全管理员) grants them"));
        }
        validate_username(&new.username)?;
        let display_name = validate_display_name(&new.display_name)?;
        let area = match &new.area_code {
            Some(a) => AreaCode::parse(a)?.to_string(),
            None => by.areas_of(Role::Admin).into_iter().min_by_key(String::len).ok_or(StaffError::AreaRequired)?,
        };
        if !by.can(Role::Admin, &area) {
            return Err(forbidden("creating accounts in this area"));
        }
        let by = by.clone();
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<StaffView, StaffError>> {
                Box::pin(async move {
                    if !crate::territory::area_exists(tx, &area).await? {
                        return Err(StaffError::AreaNotFound(area));
                    }
                    if let Some(d) = &new.department_code {
                        let dept = store::find_department(tx, d)
                            .await?
                            .ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?;
                        if !by.can(Role::Admin, &dept.area_code) {
                            return Err(forbidden("placing accounts in a department outside your areas"));
                        }
                    }
                    let id =
                        insert_account(tx, &new.username, &display_name, None, new.department_code.as_deref(), &area)
                            .await?;
                    let staff = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                    let view = StaffView { staff, roles: vec![] };
                    record_created(tx, &by.actor(), id, &view, request_id.as_deref()).await?;
                    Ok(view)
                })
            })
            .await
    }

    /// Changes an account. The organisation's part (name, department, active, grids) is the
    /// system admin's; roles and passwords are the security admin's. Nobody changes their
    /// own account here or one holding a role they do not administer. A password set here is
    /// one-time; setting it or deactivating the account ends its sessions and API tokens.
    pub async fn update(
        &self,
        by: &Principal,
        id: i64,
        patch: StaffPatch,
        request_id: Option<&str>,
    ) -> Result<StaffView, StaffError> {
        if id == by.staff_id {
            return Err(forbidden("changing your own account (change your password at /api/v1/auth/password)"));
        }
        let organisation = patch.display_name.is_some()
            || patch.department_code.is_some()
            || patch.active.is_some()
            || patch.grids.is_some();
        let security = patch.roles.is_some() || patch.password.is_some();
        if let Some(roles) = &patch.roles {
            check_duties(roles)?;
            for g in roles {
                if !(by.can(Role::SecurityAdmin, &g.area_code) && Role::SecurityAdmin.administers(g.role)) {
                    return Err(forbidden(&format!("granting {} in {}", g.role.as_str(), g.area_code)));
                }
            }
        }
        let before_view = self.get_for(by, id).await?;
        if organisation && !by.manages(Role::Admin, &before_view) {
            return Err(forbidden("managing this account (the system administrator's duty, in their areas)"));
        }
        if security && !by.manages(Role::SecurityAdmin, &before_view) {
            return Err(forbidden("roles and passwords of this account (the security administrator's duty)"));
        }
        if let Some(p) = &patch.password {
            validate_password(p, &before_view.staff.username)?;
        }
        for g in patch.grids.iter().flatten() {
            if !by.can(Role::Admin, g.code.trim()) {
                return Err(forbidden(&format!("assigning grid {}", g.code.trim())));
            }
        }
        let new_hash = match &patch.password {
            Some(p) => Some(password::hash(p.clone()).await?),
            None => None,
        };
        let by = by.clone();
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<StaffView, StaffError>> {
                Box::pin(async move {
                    let before = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                    let before_roles = grants(store::roles_tx(tx, id).await?);
                    // Read again inside the transaction: the account may have changed since the check.
                    if before_roles != before_view.roles || before.area_code != before_view.staff.area_code {
                        return Err(forbidden("changing an account that changed meanwhile; read it again"));
                    }
                    let display_name = match &patch.display_name {
                        Some(n) => validate_display_name(n)?,
                        None => before.display_name.clone(),
                    };
                    let department = match &patch.department_code {
                        Some(Some(d)) => {
                            let dept = store::find_department(tx, d)
                                .await?
                                .ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?;
                            if !by.can(Role::Admin, &dept.area_code) {
                                return Err(forbidden("placing accounts in a department outside your areas"));
                            }
                            Some(d.clone())
                        }
                        Some(None) => None,
                        None => before.department_code.clone(),
                    };
                    let active = patch.active.unwrap_or(before.active);
                    let roles_after = patch.roles.clone().unwrap_or_else(|| before_roles.clone());
                    check_department_roles(&roles_after, department.as_deref())?;
                    let grids_before = crate::territory::assignments_of(tx, id).await?;
                    let grids_after = match &patch.grids {
                        Some(grids) => Some(check_grids(tx, grids, &roles_after).await?),
                        None => None,
                    };
                    store::update_staff(tx, id, &display_name, department.as_deref(), active).await?;
                    if let Some(roles) = &patch.roles {
                        let g = check_grants(tx, roles).await?;
                        store::replace_roles(tx, id, &g).await?;
                    }
                    if let Some(grids) = &grids_after {
                        for (code, _) in grids_before.iter().filter(|(c, _)| !grids.iter().any(|g| &g.code == c)) {
                            crate::territory::unassign_worker_in(tx, code, id).await?;
                        }
                        for g in grids {
                            crate::territory::assign_worker_in(tx, &g.code, id, &g.kind).await?;
                        }
                    }
                    let (mut sessions_revoked, mut tokens_revoked) = (0, 0);
                    if let Some(h) = &new_hash {
                        store::set_password(tx, id, h, true).await?;
                    }
                    if new_hash.is_some() || !active {
                        (sessions_revoked, tokens_revoked) = end_access(tx, id).await?;
                    }
                    let after = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                    let after_roles = grants(store::roles_tx(tx, id).await?);
                    let view = StaffView { staff: after, roles: after_roles };
                    let grids_now = crate::territory::assignments_of(tx, id).await?;
                    let listed = |gs: &[(String, String)]| -> Vec<GridAssignment> {
                        gs.iter()
                            .map(|(code, kind)| GridAssignment { code: code.clone(), kind: kind.clone() })
                            .collect()
                    };
                    let mut before_json = json!(StaffView { staff: before, roles: before_roles });
                    before_json["grids"] = json!(listed(&grids_before));
                    audit::record(
            tx,
            Change {
                actor: &by.actor(),
                action: "staff.update",
                entity: "staff",
                entity_id: &id.to_string(),
                before: Some(before_json),
                after: Some(json!({"staff": view, "grids": listed(&grids_now), "password_changed": new_hash.is_some(),
                                   "sessions_revoked": sessions_revoked, "api_tokens_revoked": tokens_revoked})),
                request_id: request_id.as_deref(),
            },
        )
        .await?;
                    Ok(view)
                })
            })
            .await
    }

    /// Ends every session of an account (e.g. a lost phone): the security admin's.
    pub async fn revoke_sessions(&self, by: &Principal, id: i64, request_id: Option<&str>) -> Result<u64, StaffError> {
        let view = self.get_for(by, id).await?;
        if !by.manages(Role::SecurityAdmin, &view) {
            return Err(forbidden("ending this account's sessions (the security administrator's duty)"));
        }
        let by = by.clone();
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<u64, StaffError>> {
                Box::pin(async move {
                    store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                    let n = store::revoke_sessions_of(tx, id).await?;
                    audit::record(
                        tx,
                        Change {
                            actor: &by.actor(),
                            action: "staff.revoke_sessions",
                            entity: "staff",
                            entity_id: &id.to_string(),
                            before: None,
                            after: Some(json!({"sessions_revoked": n})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(n)
                })
            })
            .await
    }
}

/// Ends every session and API token of an account (a password set by someone else, a
/// deactivation): (sessions, tokens) ended.
pub(super) async fn end_access(tx: &mut db::Tx<'_>, id: i64) -> Result<(u64, u64), sqlx::Error> {
    let sessions = store::revoke_sessions_of(tx, id).await?;
    let tokens = crate::tokens::revoke_of_staff(tx, id).await?;
    Ok((sessions, tokens))
}

pub(super) async fn insert_account(
    tx: &mut db::Tx<'_>,
    username: &str,
    display_name: &str,
    hash: Option<&str>,
    department: Option<&str>,
    area: &str,
) -> Result<i64, StaffError> {
    match store::insert_staff(tx, username, display_name, hash, department, area).await {
        Ok(id) => Ok(id),
        Err(e) if db::is_unique_violation(&e) => Err(StaffError::UsernameTaken(username.to_owned())),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn record_created(
    tx: &mut db::Tx<'_>,
    actor: &Actor,
    id: i64,
    view: &StaffView,
    request_id: Option<&str>,
) -> Result<(), StaffError> {
    audit::record(
        tx,
        Change {
            actor,
            action: "staff.create",
            entity: "staff",
            entity_id: &id.to_string(),
            before: None,
            after: Some(json!(view)),
            request_id,
        },
    )
    .await?;
    Ok(())
}

/// 三权分立: one account holds at most one of the administrative roles.
pub(super) fn check_duties(roles: &[RoleGrant]) -> Result<(), StaffError> {
    let mut kinds: Vec<Role> = roles.iter().map(|g| g.role).filter(|r| r.is_administrative()).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.len() > 1 {
        return Err(StaffError::DutiesCombined);
    }
    Ok(())
}

pub(super) fn grants(rows: Vec<(String, String)>) -> Vec<RoleGrant> {
    rows.into_iter()
        .filter_map(|(role, area_code)| Role::parse(&role).map(|role| RoleGrant { role, area_code }))
        .collect()
}

/// The grids an account is to work in: each an existing grid, of a known kind, listed once,
/// and only for an account holding the grid worker role.
pub(super) async fn check_grids(
    tx: &mut db::Tx<'_>,
    grids: &[GridAssignment],
    roles: &[RoleGrant],
) -> Result<Vec<GridAssignment>, StaffError> {
    if !grids.is_empty() && !roles.iter().any(|g| g.role == Role::GridWorker) {
        return Err(StaffError::NotGridWorker);
    }
    let mut out: Vec<GridAssignment> = Vec::with_capacity(grids.len());
    for g in grids {
        let code = GridCode::parse(g.code.trim())?;
        if !matches!(g.kind.as_str(), "full_time" | "part_time") {
            return Err(StaffError::InvalidWorkerKind);
        }
        if !crate::territory::grid_exists(tx, code.as_str()).await? {
            return Err(StaffError::GridNotFound(code.to_string()));
        }
        if !out.iter().any(|o| o.code == code.as_str()) {
            out.push(GridAssignment { code: code.to_string(), kind: g.kind.clone() });
        }
    }
    Ok(out)
}

pub(super) async fn check_grants(
    tx: &mut db::Tx<'_>,
    roles: &[RoleGrant],
) -> Result<Vec<(String, String)>, StaffError> {
    let mut out = Vec::with_capacity(roles.len());
    for g in roles {
        let area = AreaCode::parse(&g.area_code)?;
        if !crate::territory::area_exists(tx, area.as_str()).await? {
            return Err(StaffError::AreaNotFound(area.to_string()));
        }
        let pair = (g.role.as_str().to_owned(), area.to_string());
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    Ok(out)
}
