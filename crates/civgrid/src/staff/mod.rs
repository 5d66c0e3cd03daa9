//! Organisation and access: departments, staff accounts (each with a home area whose
//! administrators manage it), roles scoped to areas, password login with revocable
//! server-side sessions (`session.rs`: throttling, idle timeout, a bounded count), expiring API
//! tokens for other systems, and the separation of duties (等保 三权分立): the system admin
//! manages the organisation, the security admin roles, passwords, sessions and tokens, the
//! auditor reads the records — see [`Role::administers`] and [`Principal::manages`].
//!
//! Public face: [`Staff`] (the service), [`Principal`] (who is calling, with `can`), [`Role`],
//! [`StaffError`]. SQL lives in `store` (private; other contexts check a department through
//! [`find_department`]).

pub mod password;
pub mod roles;
pub mod session;
mod store;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;

use crate::audit::{self, Actor, Change};
use crate::db::{self, now_ms, Db};
use crate::territory::codes::{AreaCode, GridCode};
pub use roles::Role;
pub use store::DepartmentRow;

pub use session::{MAX_GUESSES_PER_ADDRESS, MAX_GUESSES_PER_PAIR, MAX_GUESSES_PER_USER, THROTTLE_WINDOW_MS};

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
    #[error("{0}")]
    WeakPassword(String),
    #[error("the password was set by an administrator and is one-time: change it first (POST /api/v1/auth/password)")]
    PasswordChangeRequired,
    #[error("your roles do not allow {0}")]
    Forbidden(String),
    #[error("one account holds at most one of admin, security_admin and auditor (三权分立)")]
    DutiesCombined,
    #[error("give the account's area (area_code): it decides which administrators manage it")]
    AreaRequired,
    #[error("an API token is valid for 1–{} days", API_TOKEN_MAX_DAYS)]
    InvalidTokenLifetime,
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
            StaffError::WeakPassword(_) => "weak_password",
            StaffError::PasswordChangeRequired => "password_change_required",
            StaffError::Forbidden(_) => "forbidden",
            StaffError::DutiesCombined => "duties_combined",
            StaffError::AreaRequired => "area_required",
            StaffError::InvalidTokenLifetime => "invalid_token_lifetime",
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

    /// The areas in which the caller holds `role`.
    pub fn areas_of(&self, role: Role) -> Vec<String> {
        self.roles.iter().filter(|g| g.role == role).map(|g| g.area_code.clone()).collect()
    }

    /// The areas whose accounts the caller sees as an administrator (admin or security admin).
    pub fn administered_areas(&self) -> Vec<String> {
        let mut areas = self.areas_of(Role::Admin);
        areas.extend(self.areas_of(Role::SecurityAdmin));
        areas
    }

    /// Whether the caller, as an administrator, sees `account`: its home area is theirs.
    pub fn sees_account(&self, account: &StaffView) -> bool {
        let home = account.staff.area_code.as_deref().unwrap_or_default();
        !home.is_empty() && self.administered_areas().iter().any(|a| home.starts_with(a.as_str()))
    }

    /// Whether the caller, as an administrator in `role` (admin or security admin), may act
    /// on `account`: not their own, its home area and every role it holds inside their areas,
    /// and every role it holds one that `role` administers (an admin cannot touch a security
    /// admin's or an auditor's account; a subdistrict admin cannot touch a district account).
    pub fn manages(&self, role: Role, account: &StaffView) -> bool {
        let home = account.staff.area_code.as_deref().unwrap_or_default();
        account.staff.id != self.staff_id
            && !home.is_empty()
            && self.can(role, home)
            && account.roles.iter().all(|g| role.administers(g.role) && self.can(role, &g.area_code))
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
#[derive(educe::Educe, Clone, Serialize)]
#[educe(Debug)]
pub struct LoginOutcome {
    #[educe(Debug(method(crate::secret::redacted)))]
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

/// A random secret handed to a citizen once, in an answer — a reporter's photo key, an
/// applicant's access key — with its SHA-256 ([`token_hash`]), which is all that is stored.
#[derive(educe::Educe, Clone)]
#[educe(Debug)]
pub(crate) struct OnceKey {
    #[educe(Debug(method(crate::secret::redacted)))]
    pub key: String,
    pub sha256: String,
}

impl OnceKey {
    pub(crate) fn new() -> OnceKey {
        let key = hex::encode(rand::random::<[u8; 16]>());
        let sha256 = token_hash(&key);
        OnceKey { key, sha256 }
    }
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

fn validate_password(p: &str, username: &str) -> Result<(), StaffError> {
    use password::Weakness;
    password::check_policy(p, username).map_err(|w| {
        StaffError::WeakPassword(match w {
            Weakness::Length => {
                format!("a password has {}–{} characters", password::MIN_LENGTH, password::MAX_LENGTH)
            }
            Weakness::Classes => format!(
                "a password mixes at least {} of: lower-case letters, upper-case letters, digits, other characters",
                password::MIN_CLASSES
            ),
            Weakness::ContainsUsername => "a password must not contain the username".into(),
            Weakness::Common => "this password is among the first a guesser tries; choose another".into(),
        })
    })
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

/// Longest an API token may live.
pub const API_TOKEN_MAX_DAYS: i64 = 365;

fn forbidden(what: &str) -> StaffError {
    StaffError::Forbidden(what.to_owned())
}

impl Staff {
    pub fn new(db: Db, session_ttl_hours: i64) -> Staff {
        Staff { db, session_ttl_hours }
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
    ) -> Result<store::DepartmentRow, StaffError> {
        validate_department_code(code)?;
        let name = validate_display_name(name)?;
        let area = AreaCode::parse(area_code)?;
        if by.is_some_and(|p| !p.can(Role::Admin, area.as_str())) {
            return Err(forbidden("managing departments in this area"));
        }
        let mut tx = self.db.begin().await?;
        if !crate::territory::area_exists(&mut tx, area.as_str()).await? {
            return Err(StaffError::AreaNotFound(area.to_string()));
        }
        let before = store::find_department(&mut tx, code).await?;
        if let (Some(p), Some(b)) = (by, &before) {
            if !p.can(Role::Admin, &b.area_code) {
                return Err(forbidden("changing a department outside your areas"));
            }
        }
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
        let mut tx = self.db.begin().await?;
        let department = match &new.department_code {
            Some(d) => Some(
                store::find_department(&mut tx, d).await?.ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?,
            ),
            None => None,
        };
        let grants = check_grants(&mut tx, &new.roles).await?;
        check_department_roles(&new.roles, new.department_code.as_deref())?;
        // The account belongs to its broadest role's area, else its department's.
        let area = grants
            .iter()
            .map(|(_, a)| a.clone())
            .min_by_key(String::len)
            .or_else(|| department.map(|d| d.area_code))
            .ok_or(StaffError::AreaRequired)?;
        let id =
            insert_account(&mut tx, &new.username, &display_name, Some(&hash), new.department_code.as_deref(), &area)
                .await?;
        store::replace_roles(&mut tx, id, &grants).await?;
        let staff = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let view = StaffView { staff, roles: new.roles.clone() };
        record_created(&mut tx, actor, id, &view, request_id).await?;
        tx.commit().await?;
        Ok(view)
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
        let mut tx = self.db.begin().await?;
        if !crate::territory::area_exists(&mut tx, &area).await? {
            return Err(StaffError::AreaNotFound(area));
        }
        if let Some(d) = &new.department_code {
            let dept =
                store::find_department(&mut tx, d).await?.ok_or_else(|| StaffError::DepartmentNotFound(d.clone()))?;
            if !by.can(Role::Admin, &dept.area_code) {
                return Err(forbidden("placing accounts in a department outside your areas"));
            }
        }
        let id =
            insert_account(&mut tx, &new.username, &display_name, None, new.department_code.as_deref(), &area).await?;
        let staff = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let view = StaffView { staff, roles: vec![] };
        record_created(&mut tx, &by.actor(), id, &view, request_id).await?;
        tx.commit().await?;
        Ok(view)
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
        let mut tx = self.db.begin().await?;
        let before = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let before_roles = grants(store::roles_tx(&mut tx, id).await?);
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
                let dept = store::find_department(&mut tx, d)
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
        let grids_before = crate::territory::assignments_of(&mut tx, id).await?;
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
                crate::territory::unassign_worker_in(&mut tx, code, id).await?;
            }
            for g in grids {
                crate::territory::assign_worker_in(&mut tx, &g.code, id, &g.kind).await?;
            }
        }
        let (mut sessions_revoked, mut tokens_revoked) = (0, 0);
        if let Some(h) = &new_hash {
            store::set_password(&mut tx, id, h, true).await?;
        }
        if new_hash.is_some() || !active {
            sessions_revoked = store::revoke_sessions_of(&mut tx, id).await?;
            tokens_revoked = store::revoke_api_tokens_of(&mut tx, id).await?;
        }
        let after = store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let after_roles = grants(store::roles_tx(&mut tx, id).await?);
        let view = StaffView { staff: after, roles: after_roles };
        let grids_now = crate::territory::assignments_of(&mut tx, id).await?;
        let listed = |gs: &[(String, String)]| -> Vec<GridAssignment> {
            gs.iter().map(|(code, kind)| GridAssignment { code: code.clone(), kind: kind.clone() }).collect()
        };
        let mut before_json = json!(StaffView { staff: before, roles: before_roles });
        before_json["grids"] = json!(listed(&grids_before));
        audit::record(
            &mut tx,
            Change {
                actor: &by.actor(),
                action: "staff.update",
                entity: "staff",
                entity_id: &id.to_string(),
                before: Some(before_json),
                after: Some(json!({"staff": view, "grids": listed(&grids_now), "password_changed": new_hash.is_some(),
                                   "sessions_revoked": sessions_revoked, "api_tokens_revoked": tokens_revoked})),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Ends every session of an account (e.g. a lost phone): the security admin's.
    pub async fn revoke_sessions(&self, by: &Principal, id: i64, request_id: Option<&str>) -> Result<u64, StaffError> {
        let view = self.get_for(by, id).await?;
        if !by.manages(Role::SecurityAdmin, &view) {
            return Err(forbidden("ending this account's sessions (the security administrator's duty)"));
        }
        let mut tx = self.db.begin().await?;
        store::find_staff(&mut tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
        let n = store::revoke_sessions_of(&mut tx, id).await?;
        audit::record(
            &mut tx,
            Change {
                actor: &by.actor(),
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

    /// Issues an API token acting as `staff_id` (with that account's roles, nothing more) for
    /// `valid_days` (at most a year): the security admin's, for accounts they administer that
    /// hold no administrative role — a token is a system's key, never an administrator's.
    /// Returns (id, token, expiry in ms); the token is shown once, only its hash is kept.
    pub async fn issue_api_token(
        &self,
        by: &Principal,
        staff_id: i64,
        name: &str,
        valid_days: i64,
        request_id: Option<&str>,
    ) -> Result<(i64, String, i64), StaffError> {
        let name = validate_display_name(name)?;
        if !(1..=API_TOKEN_MAX_DAYS).contains(&valid_days) {
            return Err(StaffError::InvalidTokenLifetime);
        }
        let view = self.get_for(by, staff_id).await?;
        if !by.manages(Role::SecurityAdmin, &view) {
            return Err(forbidden("issuing API tokens for this account (the security administrator's duty)"));
        }
        if view.roles.iter().any(|g| g.role.is_administrative()) {
            return Err(forbidden("API tokens for an administrator's or auditor's account"));
        }
        if !view.staff.active {
            return Err(forbidden("API tokens for a deactivated account"));
        }
        let token = new_token(API_TOKEN_PREFIX);
        let expires_ms = now_ms() + valid_days * 24 * 3600 * 1000;
        let mut tx = self.db.begin().await?;
        store::find_staff(&mut tx, staff_id).await?.ok_or(StaffError::StaffNotFound(staff_id))?;
        let id = store::insert_api_token(&mut tx, &name, &token_hash(&token), staff_id, expires_ms).await?;
        audit::record(
            &mut tx,
            Change {
                actor: &by.actor(),
                action: "api_token.issue",
                entity: "api_token",
                entity_id: &id.to_string(),
                before: None,
                after: Some(json!({"name": name, "staff_id": staff_id, "expires_ms": expires_ms})),
                request_id,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((id, token, expires_ms))
    }

    /// Revokes an API token of an account the security admin administers (others' tokens do
    /// not exist for them).
    pub async fn revoke_api_token(&self, by: &Principal, id: i64, request_id: Option<&str>) -> Result<(), StaffError> {
        let owner = {
            let mut tx = self.db.begin_read().await?;
            let owner = store::api_token_owner(&mut tx, id).await?;
            tx.commit().await?;
            owner.ok_or(StaffError::TokenNotFound(id))?
        };
        let view = self.get_for(by, owner).await.map_err(|_| StaffError::TokenNotFound(id))?;
        if !by.manages(Role::SecurityAdmin, &view) {
            return Err(StaffError::TokenNotFound(id));
        }
        let mut tx = self.db.begin().await?;
        if store::revoke_api_token(&mut tx, id).await? == 0 {
            return Err(StaffError::TokenNotFound(id));
        }
        audit::record(
            &mut tx,
            Change {
                actor: &by.actor(),
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

async fn insert_account(
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

async fn record_created(
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
fn check_duties(roles: &[RoleGrant]) -> Result<(), StaffError> {
    let mut kinds: Vec<Role> = roles.iter().map(|g| g.role).filter(|r| r.is_administrative()).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.len() > 1 {
        return Err(StaffError::DutiesCombined);
    }
    Ok(())
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
        if !crate::territory::grid_exists(tx, code.as_str()).await? {
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

/// The department with this code, read in the caller's transaction: cases, services and
/// certificates check a department they are about to name in the same transaction.
pub async fn find_department(tx: &mut db::Tx<'_>, code: &str) -> Result<Option<DepartmentRow>, sqlx::Error> {
    store::find_department(tx, code).await
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

    fn account(id: i64, area: &str, roles: &[(Role, &str)]) -> StaffView {
        StaffView {
            staff: store::StaffRow {
                id,
                username: format!("u{id}"),
                display_name: "x".into(),
                department_code: None,
                area_code: Some(area.into()),
                active: true,
                must_change_password: false,
                created_at: String::new(),
                updated_at: String::new(),
            },
            roles: roles.iter().map(|(r, a)| RoleGrant { role: *r, area_code: (*a).into() }).collect(),
        }
    }

    #[test]
    fn administrators_manage_only_accounts_of_their_areas_and_duties() {
        let district_admin = principal(&[(Role::Admin, "440604")]);
        let sub_admin = principal(&[(Role::Admin, "440604010")]);
        let security = principal(&[(Role::SecurityAdmin, "440604")]);
        let worker = account(2, "440604010", &[(Role::GridWorker, "440604010001")]);
        let dispatcher = account(3, "440604", &[(Role::Dispatcher, "440604")]);
        let auditor = account(4, "440604", &[(Role::Auditor, "440604")]);
        let other_security = account(5, "440604", &[(Role::SecurityAdmin, "440604")]);
        let wide_roles = account(6, "440604010", &[(Role::Dispatcher, "440604")]);
        assert!(district_admin.manages(Role::Admin, &worker) && district_admin.manages(Role::Admin, &dispatcher));
        assert!(sub_admin.manages(Role::Admin, &worker));
        assert!(!sub_admin.manages(Role::Admin, &dispatcher), "a district account");
        assert!(!sub_admin.manages(Role::Admin, &wide_roles), "a district role in a subdistrict account");
        assert!(!district_admin.manages(Role::Admin, &auditor), "the auditor is not the admin's");
        assert!(!district_admin.manages(Role::SecurityAdmin, &worker), "a role the caller does not hold");
        assert!(security.manages(Role::SecurityAdmin, &auditor));
        assert!(!security.manages(Role::SecurityAdmin, &other_security));
        assert!(!security.manages(Role::SecurityAdmin, &account(1, "440604", &[])), "not their own account");
        assert!(
            check_duties(&account(7, "440604", &[(Role::Admin, "440604"), (Role::Auditor, "440604")]).roles).is_err()
        );
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(validate_username("grid.worker_1").is_ok());
        assert!(validate_username("ab").is_err());
        assert!(validate_username("Admin").is_err());
        assert!(validate_username("名字").is_err());
        assert!(validate_password("short", "u").is_err());
        assert!(validate_password(&"x".repeat(300), "u").is_err());
        assert!(validate_password("long enough", "u").is_err(), "one kind of character");
        assert!(validate_password("Long-enough-2026", "u").is_ok());
    }
}
