//! Organisation and access: departments, staff accounts (each with a home area whose
//! administrators manage it), roles scoped to areas, password login with revocable
//! server-side sessions (`session.rs`: throttling, idle timeout, a bounded count), expiring API
//! tokens for other systems, and the separation of duties (等保 三权分立): the system admin
//! manages the organisation, the security admin roles, passwords, sessions and tokens, the
//! auditor reads the records — see [`Role::administers`] and [`Principal::manages`].
//!
//! Public face: [`Staff`] (the service), [`Principal`] (who is calling, with `can`), [`Role`],
//! [`StaffError`]. SQL lives in `store` (private; other contexts check a department through
//! [`find_department`]). Rooms: `accounts.rs` (accounts and their changes), `departments.rs`,
//! `api_tokens.rs` (over the one bearer-token mechanism, [`crate::tokens`]), `session.rs`
//! (signing in).

mod accounts;
mod api_tokens;
mod departments;
pub mod host;
pub mod password;
pub mod roles;
pub mod roster;
pub mod session;
mod store;

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::db::Db;
/// Secrets handed out once and their hashes: the one mechanism of [`crate::tokens`].
pub(crate) use crate::tokens::{hash as token_hash, OnceKey};
pub use accounts::{GridAssignment, NewAccount, NewStaff, StaffPatch};
pub use api_tokens::{IssuedToken, API_TOKEN_MAX_DAYS};
pub use departments::{find_department, DepartmentRow};
pub use roles::Role;
pub use store::StaffRow;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session,
    ApiToken {
        token_id: i64,
    },
    /// The demo seeder acting in a staff member's name; its trace says so.
    DemoSeed,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
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
#[derive(educe::Educe, Clone)]
#[educe(Debug)]
pub struct LoginOutcome {
    #[educe(Debug(method(crate::secret::redacted)))]
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub principal: Principal,
}

/// A staff account with its roles. Serialised only into the change record (`staff.create`,
/// `staff.update`); the API answers with its own view (web/staff.rs).
#[derive(Debug, Clone, Serialize)]
pub struct StaffView {
    #[serde(flatten)]
    pub staff: store::StaffRow,
    pub roles: Vec<RoleGrant>,
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

fn validate_username(u: &str) -> Result<(), StaffError> {
    let ok = (3..=32).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StaffError::InvalidUsername)
    }
}

/// What session tokens start with; API tokens and Open311 keys carry their kind's prefix
/// ([`crate::tokens::Kind::prefix`]).
const SESSION_PREFIX: &str = "cgs_";

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
            roles: accounts::grants(store::roles(&self.db, staff_id).await?),
            credential,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::accounts::check_duties;
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
                created_at: chrono::DateTime::UNIX_EPOCH,
                updated_at: chrono::DateTime::UNIX_EPOCH,
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
