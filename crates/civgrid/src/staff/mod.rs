//! Organisation and access: departments, staff accounts, roles scoped to areas, password login
//! with revocable server-side sessions, API tokens for other systems, and login throttling.
//!
//! Public face: [`Staff`] (the service), [`Principal`] (who is calling, with `can`), [`Role`],
//! [`StaffError`]. SQL lives in [`store`].

pub mod password;
pub mod roles;
pub mod store;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;

use crate::audit::{self, Actor, Change};
use crate::db::{self, now_ms, now_text, Db};
use crate::territory::codes::{AreaCode, GridCode};
use crate::territory::store as territory_store;
pub use roles::Role;

/// Failed logins per username before it is locked for [`THROTTLE_WINDOW_MS`].
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// Failed logins per client address (any usernames) before that address is locked.
pub const MAX_FAILURES_PER_IP: i64 = 30;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("username or password is wrong")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_s} s")]
    Throttled { retry_after_s: i64 },
    #[error("not signed in, or the session has ended")]
    Unauthenticated,
    #[error("username must be 3–32 characters of a–z, 0–9, `.`, `_` or `-`")]
    InvalidUsername,
    #[error("username `{0}` is taken")]
    UsernameTaken(String),
    #[error("password must be {}–{} characters", password::MIN_LENGTH, password::MAX_LENGTH)]
    WeakPassword,
    #[error("display name must be 1–64 characters")]
    InvalidDisplayName,
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    #[error("area {0} does not exist")]
    AreaNotFound(String),
    #[error("department {0} does not exist")]
    DepartmentNotFound(String),
    #[error("department {0} already exists")]
    DepartmentExists(String),
    #[error("department code must be 2–32 characters of a–z, 0–9, `_` or `-`")]
    InvalidDepartmentCode,
    #[error("staff member {0} does not exist")]
    StaffNotFound(i64),
    #[error("the {0} role needs a department: give department_code")]
    DepartmentRequired(&'static str),
    #[error("grid {0} does not exist")]
    GridNotFound(String),
    #[error("grid worker kind must be full_time or part_time")]
    InvalidWorkerKind,
    #[error("grids are assigned to grid workers only: give the grid_worker role too")]
    NotGridWorker,
    #[error("API token {0} does not exist or is already revoked")]
    TokenNotFound(i64),
    #[error(transparent)]
    Code(#[from] crate::territory::codes::CodeError),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl StaffError {
    pub fn code(&self) -> &'static str {
        match self {
            StaffError::InvalidCredentials => "invalid_credentials",
            StaffError::Throttled { .. } => "too_many_attempts",
            StaffError::Unauthenticated => "unauthenticated",
            StaffError::InvalidUsername => "invalid_username",
            StaffError::UsernameTaken(_) => "username_taken",
            StaffError::WeakPassword => "weak_password",
            StaffError::InvalidDisplayName => "invalid_display_name",
            StaffError::UnknownRole(_) => "unknown_role",
            StaffError::AreaNotFound(_) => "area_not_found",
            StaffError::DepartmentNotFound(_) => "department_not_found",
            StaffError::DepartmentExists(_) => "department_exists",
            StaffError::InvalidDepartmentCode => "invalid_department_code",
            StaffError::StaffNotFound(_) => "staff_not_found",
            StaffError::DepartmentRequired(_) => "department_required",
            StaffError::GridNotFound(_) => "grid_not_found",
            StaffError::InvalidWorkerKind => "invalid_worker_kind",
            StaffError::NotGridWorker => "not_grid_worker",
            StaffError::TokenNotFound(_) => "token_not_found",
            StaffError::Code(e) => e.code(),
            StaffError::Store(_) | StaffError::Internal(_) => "internal",
        }
    }
}

/// A role held within an area (and everything under it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleGrant {
    pub role: Role,
    pub area_code: String,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Credential {
    Session,
    ApiToken {
        token_id: i64,
    },
    /// The demo seeder acting in a staff member's name; its trace says so.
    DemoSeed,
}

/// The authenticated caller.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub department_code: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub credential: Credential,
}

impl Principal {
    /// Whether the caller holds `role` in an area that covers `area` (an area or grid code).
    pub fn can(&self, role: Role, area: &str) -> bool {
        self.roles.iter().any(|g| g.role == role && area.starts_with(&g.area_code))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|g| g.role == role)
    }

    /// Areas in which the caller sees every case: all roles except grid workers (who see their
    /// grids), handlers (their department's cases) and witnesses (no cases).
    pub fn case_areas(&self) -> Vec<String> {
        self.roles
            .iter()
            .filter(|g| !matches!(g.role, Role::GridWorker | Role::Handler | Role::Witness))
            .map(|g| g.area_code.clone())
            .collect()
    }

    /// The department whose cases the caller handles, if they are a handler.
    pub fn handler_department(&self) -> Option<&str> {
        self.department_code.as_deref().filter(|_| self.has_role(Role::Handler))
    }

    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::Session => Actor::staff(self.staff_id, &self.username),
            Credential::ApiToken { token_id } => Actor::api_token(token_id, self.staff_id, &self.username),
            Credential::DemoSeed => Actor::system(&format!("demo-seed:staff:{}:{}", self.staff_id, self.username)),
        }
    }
}

/// What a successful login hands back. The token is shown once.
#[derive(Debug, Clone, Serialize)]
pub struct LoginOutcome {
    pub token: String,
    pub expires_at: String,
    pub principal: Principal,
}

/// A staff account with its roles, as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StaffView {
    #[serde(flatten)]
    pub staff: store::StaffRow,
    pub roles: Vec<RoleGrant>,
}

/// A new staff account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub department_code: Option<String>,
    #[serde(default)]
    pub roles: Vec<RoleGrant>,
}

/// A change to a staff account; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    pub display_name: Option<String>,
    /// `Some(None)` (JSON null) removes the department.
    #[serde(default, with = "double_option")]
    pub department_code: Option<Option<String>>,
    pub active: Option<bool>,
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

/// Roles whose work is a department's (a handler's cases, an approver's steps): an account
/// holding one needs a department.
const DEPARTMENT_ROLES: [Role; 2] = [Role::Handler, Role::Approver];

fn check_department_roles(roles: &[RoleGrant], department: Option<&str>) -> Result<(), StaffError> {
    match roles.iter().find(|g| DEPARTMENT_ROLES.contains(&g.role)) {
        Some(g) if department.is_none() => Err(StaffError::DepartmentRequired(g.role.as_str())),
        _ => Ok(()),
    }
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// SHA-256 (hex) of a secret handed out once (a session, an API token, a reporter's photo
/// key): all that is stored of it.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

const SESSION_PREFIX: &str = "cgs_";
const API_TOKEN_PREFIX: &str = "cgt_";

fn validate_username(u: &str) -> Result<(), StaffError> {
    let ok = (3..=32).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StaffError::InvalidUsername)
    }
}

fn validate_display_name(n: &str) -> Result<String, StaffError> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(StaffError::InvalidDisplayName);
    }
    Ok(n.to_owned())
}

fn validate_password(p: &str) -> Result<(), StaffError> {
    let n = p.chars().count();
    if (password::MIN_LENGTH..=password::MAX_LENGTH).contains(&n) {
        Ok(())
    } else {
        Err(StaffError::WeakPassword)
    }
}

fn validate_department_code(c: &str) -> Result<(), StaffError> {
    let ok = (2..=32).contains(&c.len())
        && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StaffError::InvalidDepartmentCode)
    }
}

/// The staff service.
#[derive(Debug, Clone)]
pub struct Staff {
    db: Db,
    session_ttl_hours: i64,
}

impl Staff {
    pub fn new(db: Db, session_ttl_hours: i64) -> Staff {
        Staff { db, session_ttl_hours }
    }

    /// Checks a password and opens a session, refusing while the username or the address is
    /// throttled (even for the right password: that is what stops guessing).
    pub async fn login(&self, username: &str, password: &str, client_ip: &str) -> Result<LoginOutcome, StaffError> {
        let username: String = username.trim().chars().take(64).collect();
        let now = now_ms();
        let since = now - THROTTLE_WINDOW_MS;
        let (user_failures, user_oldest) = store::recent_failures_for_user(&self.db, &username, since).await?;
        let (ip_failures, ip_oldest) = store::recent_failures_for_ip(&self.db, client_ip, since).await?;
        let locked_until = [
            (user_failures >= MAX_FAILURES_PER_USER).then_some(user_oldest).flatten(),
            (ip_failures >= MAX_FAILURES_PER_IP).then_some(ip_oldest).flatten(),
        ]
        .into_iter()
        .flatten()
        .map(|oldest| oldest + THROTTLE_WINDOW_MS)
        .max();
        if let Some(until) = locked_until {
            return Err(StaffError::Throttled { retry_after_s: ((until - now) / 1000).max(1) });
        }
        if password.chars().count() > password::MAX_LENGTH {
            store::record_attempt(&self.db, &username, client_ip, now, false).await?;
            return Err(StaffError::InvalidCredentials);
        }
        let creds = store::credentials(&self.db, &username).await?;
        let (id, hash, active) = match creds {
            Some((id, hash, active)) => (Some(id), hash, active),
            None => (None, None, false),
        };
        let ok = password::verify(password.to_owned(), hash).await? && active;
        store::record_attempt(&self.db, &username, client_ip, now, ok).await?;
        let Some(staff_id) = id.filter(|_| ok) else {
            return Err(StaffError::InvalidCredentials);
        };
        let token = new_token(SESSION_PREFIX);
        let expires_at = (chrono::Utc::now() + chrono::Duration::hours(self.session_ttl_hours))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.db.begin().await?;
        store::insert_session(&mut tx, &token_hash(&token), staff_id, &expires_at).await?;
        tx.commit().await?;
        let principal = self.principal(staff_id, Credential::Session).await?;
        Ok(LoginOutcome { token, expires_at, principal })
    }

    /// Ends the session behind a token. Unknown tokens are not an error (logout is idempotent).
    pub async fn logout(&self, token: &str) -> Result<(), StaffError> {
        store::revoke_session(&self.db, &token_hash(token)).await?;
        Ok(())
    }

    /// Resolves a session or API token to the caller.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, StaffError> {
        let hash = token_hash(token);
        if token.starts_with(SESSION_PREFIX) {
            let id = store::session_staff(&self.db, &hash, &now_text()).await?.ok_or(StaffError::Unauthenticated)?;
            self.principal(id, Credential::Session).await
        } else if token.starts_with(API_TOKEN_PREFIX) {
            let (token_id, id) = store::api_token_staff(&self.db, &hash).await?.ok_or(StaffError::Unauthenticated)?;
            self.principal(id, Credential::ApiToken { token_id }).await
        } else {
            Err(StaffError::Unauthenticated)
        }
    }

    /// A staff member as the demo seeder acts for them (never reachable from a request).
    pub async fn demo_principal(&self, staff_id: i64) -> Result<Principal, StaffError> {
        self.principal(staff_id, Credential::DemoSeed).await
    }

    async fn principal(&self, staff_id: i64, credential: Credential) -> Result<Principal, StaffError> {
        let s = store::find_staff_db(&self.db, staff_id).await?.ok_or(StaffError::Unauthenticated)?;
        Ok(Principal {
            staff_id,
            username: s.username,
            display_name: s.display_name,
            department_code: s.department_code,
            roles: grants(store::roles(&self.db, staff_id).await?),
            credential,
        })
    }

    pub async fn departments(&self) -> Result<Vec<store::DepartmentRow>, StaffError> {
        Ok(store::list_departments(&self.db).await?)
    }

    /// Creates or renames a department (keyed by its code) within an area.
    pub async fn put_department(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        area_code: &str,
        request_id: Option<&str>,
    ) -> Result<store::DepartmentRow, StaffError> {
        validate_department_code(code)?;
        let name = validate_display_name(name)?;
        let area = AreaCode::parse(area_code)?;
        let mut tx = self.db.begin().await?;
        if crate::territory::store::find_area(&mut tx, area.as_str()).await?.is_none() {
            return Err(StaffError::AreaNotFound(area.to_string()));
        }
        let before = store::find_department(&mut tx, code).await?;
        match &before {
            Some(_) => store::update_department(&mut tx, code, &name, area.as_str()).await?,
            None => store::insert_department(&mut tx, code, &name, area.as_str()).await?,
        }
        let after =
            store::find_department(&mut tx, code).await?.ok_or_else(|| StaffError::DepartmentNotFound(code.into()))?;
        audit::record(
            &mut tx,
            Change {
                actor,
                action: if before.is_some() { "department.update" } else { "department.create" },
                entity: "department",
                entity_id: code,
                before: before.map(|b| json!(b)),
                after: Some(json!(after)),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn list(&self) -> Result<Vec<StaffView>, StaffError> {
        let mut out = Vec::new();
        for s in store::list_staff(&self.db).await? {
            let roles = grants(store::roles(&self.db, s.id).await?);
            out.push(StaffView { staff: s, roles });
        }
        Ok(out)
    }

    pub async fn get(&self, id: i64) -> Result<StaffView, StaffError> {
        let s = store::find_staff_db(&self.db, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let roles = grants(store::roles(&self.db, id).await?);
        Ok(StaffView { staff: s, roles })
    }

    /// Creates a staff account with its roles in one transaction.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewStaff,
        request_id: Option<&str>,
    ) -> Result<StaffView, StaffError> {
        validate_username(&new.username)?;
        let display_name = validate_display_name(&new.display_name)?;
        validate_password(&new.password)?;
        let hash = password::hash(new.password.clone()).await?;
        let mut tx = self.db.begin().await?;
        if let Some(d) = &new.department_code {
            store::find_department(&mut tx, d).await?.ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?;
        }
        let grants = check_grants(&mut tx, &new.roles).await?;
        check_department_roles(&new.roles, new.department_code.as_deref())?;
        let id = match store::insert_staff(
            &mut tx,
            &new.username,
            &display_name,
            Some(&hash),
            new.department_code.as_deref(),
        )
        .await
        {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => return Err(StaffError::UsernameTaken(new.username)),
            Err(e) => return Err(e.into()),
        };
        store::replace_roles(&mut tx, id, &grants).await?;
        let staff = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let view = StaffView { staff, roles: new.roles.clone() };
        audit::record(
            &mut tx,
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
        tx.commit().await?;
        Ok(view)
    }

    /// Changes an account. Deactivating it or changing its password ends all its sessions.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        patch: StaffPatch,
        request_id: Option<&str>,
    ) -> Result<StaffView, StaffError> {
        if let Some(p) = &patch.password {
            validate_password(p)?;
        }
        let new_hash = match &patch.password {
            Some(p) => Some(password::hash(p.clone()).await?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        let before = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let before_roles = grants(store::roles_tx(&mut tx, id).await?);
        let display_name = match &patch.display_name {
            Some(n) => validate_display_name(n)?,
            None => before.display_name.clone(),
        };
        let department = match &patch.department_code {
            Some(Some(d)) => {
                store::find_department(&mut tx, d).await?.ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?;
                Some(d.clone())
            }
            Some(None) => None,
            None => before.department_code.clone(),
        };
        let active = patch.active.unwrap_or(before.active);
        let roles_after = patch.roles.clone().unwrap_or_else(|| before_roles.clone());
        check_department_roles(&roles_after, department.as_deref())?;
        let grids_before = territory_store::assignments_of(&mut tx, id).await?;
        let grids_after = match &patch.grids {
            Some(grids) => Some(check_grids(&mut tx, grids, &roles_after).await?),
            None => None,
        };
        store::update_staff(&mut tx, id, &display_name, department.as_deref(), active).await?;
        if let Some(roles) = &patch.roles {
            let g = check_grants(&mut tx, roles).await?;
            store::replace_roles(&mut tx, id, &g).await?;
        }
        if let Some(grids) = &grids_after {
            for (code, _) in grids_before.iter().filter(|(c, _)| !grids.iter().any(|g| &g.code == c)) {
                territory_store::unassign_worker(&mut tx, code, id).await?;
            }
            for g in grids {
                territory_store::assign_worker(&mut tx, &g.code, id, &g.kind).await?;
            }
        }
        let mut sessions_revoked = 0;
        if let Some(h) = &new_hash {
            store::set_password(&mut tx, id, h).await?;
        }
        if new_hash.is_some() || !active {
            sessions_revoked = store::revoke_sessions_of(&mut tx, id).await?;
        }
        let after = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let after_roles = grants(store::roles_tx(&mut tx, id).await?);
        let view = StaffView { staff: after, roles: after_roles };
        let grids_now = territory_store::assignments_of(&mut tx, id).await?;
        let listed = |gs: &[(String, String)]| -> Vec<GridAssignment> {
            gs.iter().map(|(code, kind)| GridAssignment { code: code.clone(), kind: kind.clone() }).collect()
        };
        let mut before_json = json!(StaffView { staff: before, roles: before_roles });
        before_json["grids"] = json!(listed(&grids_before));
        audit::record(
            &mut tx,
            Change {
                actor,
                action: "staff.update",
                entity: "staff",
                entity_id: &id.to_string(),
                before: Some(before_json),
                after: Some(json!({"staff": view, "grids": listed(&grids_now), "password_changed": new_hash.is_some(), "sessions_revoked": sessions_revoked})),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Ends every session of an account (e.g. a lost phone).
    pub async fn revoke_sessions(&self, actor: &Actor, id: i64, request_id: Option<&str>) -> Result<u64, StaffError> {
        let mut tx = self.db.begin().await?;
        store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let n = store::revoke_sessions_of(&mut tx, id).await?;
        audit::record(
            &mut tx,
            Change {
                actor,
                action: "staff.revoke_sessions",
                entity: "staff",
                entity_id: &id.to_string(),
                before: None,
                after: Some(json!({"sessions_revoked": n})),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Issues an API token acting as `staff_id`. The token is returned once; only its hash is kept.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        staff_id: i64,
        name: &str,
        request_id: Option<&str>,
    ) -> Result<(i64, String), StaffError> {
        let name = validate_display_name(name)?;
        let token = new_token(API_TOKEN_PREFIX);
        let mut tx = self.db.begin().await?;
        store::find_staff(&mut tx, staff_id).await?.ok_or(StaffError::StaffNotFound(staff_id))?;
        let id = store::insert_api_token(&mut tx, &name, &token_hash(&token), staff_id).await?;
        audit::record(
            &mut tx,
            Change {
                actor,
                action: "api_token.issue",
                entity: "api_token",
                entity_id: &id.to_string(),
                before: None,
                after: Some(json!({"name": name, "staff_id": staff_id})),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((id, token))
    }

    pub async fn revoke_api_token(&self, actor: &Actor, id: i64, request_id: Option<&str>) -> Result<(), StaffError> {
        let mut tx = self.db.begin().await?;
        if store::revoke_api_token(&mut tx, id).await? == 0 {
            return Err(StaffError::TokenNotFound(id));
        }
        audit::record(
            &mut tx,
            Change {
                actor,
                action: "api_token.revoke",
                entity: "api_token",
                entity_id: &id.to_string(),
                before: Some(json!({"revoked": false})),
                after: Some(json!({"revoked": true})),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn grants(rows: Vec<(String, String)>) -> Vec<RoleGrant> {
    rows.into_iter()
        .filter_map(|(role, area_code)| Role::parse(&role).map(|role| RoleGrant { role, area_code }))
        .collect()
}

/// The grids an account is to work in: each an existing grid, of a known kind, listed once,
/// and only for an account holding the grid worker role.
async fn check_grids(
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
        if territory_store::find_grid_tx(tx, code.as_str()).await?.is_none() {
            return Err(StaffError::GridNotFound(code.to_string()));
        }
        if !out.iter().any(|o| o.code == code.as_str()) {
            out.push(GridAssignment { code: code.to_string(), kind: g.kind.clone() });
        }
    }
    Ok(out)
}

async fn check_grants(tx: &mut db::Tx<'_>, roles: &[RoleGrant]) -> Result<Vec<(String, String)>, StaffError> {
    let mut out = Vec::with_capacity(roles.len());
    for g in roles {
        let area = AreaCode::parse(&g.area_code)?;
        if crate::territory::store::find_area(tx, area.as_str()).await?.is_none() {
            return Err(StaffError::AreaNotFound(area.to_string()));
        }
        let pair = (g.role.as_str().to_owned(), area.to_string());
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[(Role, &str)]) -> Principal {
        Principal {
            staff_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            department_code: None,
            roles: roles.iter().map(|(r, a)| RoleGrant { role: *r, area_code: (*a).into() }).collect(),
            credential: Credential::Session,
        }
    }

    #[test]
    fn a_role_covers_its_area_and_everything_below() {
        let p = principal(&[(Role::Admin, "440604010")]);
        assert!(p.can(Role::Admin, "440604010"));
        assert!(p.can(Role::Admin, "44060401000101"));
        assert!(!p.can(Role::Admin, "440604"));
        assert!(!p.can(Role::Admin, "440604011"));
        assert!(!p.can(Role::Dispatcher, "440604010"));
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(validate_username("grid.worker_1").is_ok());
        assert!(validate_username("ab").is_err());
        assert!(validate_username("Admin").is_err());
        assert!(validate_username("名字").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password(&"x".repeat(300)).is_err());
        assert!(validate_password("long enough").is_ok());
    }
}
