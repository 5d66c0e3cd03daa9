//! The staff endpoints' requests and answers. Answers are built from the domain's types here
//! (`From`), never by serialising a row; times go out as the tables store them
//! ([`crate::web::wire`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::staff::{
    Credential, DepartmentRow, GridAssignment, IssuedToken, LoginOutcome, NewAccount, Principal, Role, RoleGrant,
    StaffPatch, StaffView,
};

// ---- requests ---------------------------------------------------------------------------------

/// `POST /api/v1/auth/login`.
#[derive(educe::Educe, Deserialize, ToSchema)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    #[schema(format = Password)]
    pub password: String,
}

/// `POST /api/v1/auth/password`.
#[derive(educe::Educe, Deserialize, ToSchema)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub username: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    #[schema(format = Password)]
    pub old_password: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    #[schema(format = Password, min_length = 10)]
    pub new_password: String,
}

/// `PUT /api/v1/admin/departments/{code}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentBody {
    pub name: String,
    pub area_code: String,
}

/// A role held within an area (and everything under it).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrantView {
    pub role: Role,
    pub area_code: String,
}

impl From<RoleGrantView> for RoleGrant {
    fn from(g: RoleGrantView) -> RoleGrant {
        RoleGrant { role: g.role, area_code: g.area_code }
    }
}

impl From<RoleGrant> for RoleGrantView {
    fn from(g: RoleGrant) -> RoleGrantView {
        RoleGrantView { role: g.role, area_code: g.area_code }
    }
}

/// How a grid worker works a grid.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Only names the values in the document; the service checks the text.
pub enum GridWorkerKind {
    FullTime,
    PartTime,
}

/// A grid an account works in.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GridAssignmentBody {
    pub code: String,
    /// `full_time` or `part_time` (another value is refused as `invalid_worker_kind`).
    #[schema(value_type = GridWorkerKind)]
    pub kind: String,
}

/// `POST /api/v1/admin/staff`: who the account is and where it belongs. No password or roles:
/// the security administrator gives those, and a body carrying them is refused by name.
#[derive(educe::Educe, Deserialize, ToSchema)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct NewAccountBody {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub department_code: Option<String>,
    /// The area whose administrators manage the account (default: the creator's broadest).
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    #[educe(Debug(method(crate::secret::redacted)))]
    #[schema(ignore)]
    pub password: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub roles: Option<serde_json::Value>,
}

impl From<NewAccountBody> for NewAccount {
    fn from(b: NewAccountBody) -> NewAccount {
        NewAccount {
            username: b.username,
            display_name: b.display_name,
            department_code: b.department_code,
            area_code: b.area_code,
            password: b.password,
            roles: b.roles,
        }
    }
}

/// `PATCH /api/v1/admin/staff/{id}`: absent fields stay as they are.
#[derive(educe::Educe, Deserialize, ToSchema)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct StaffPatchBody {
    pub display_name: Option<String>,
    /// `null` removes the department.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub department_code: Option<Option<String>>,
    pub active: Option<bool>,
    /// A one-time password: the account must change it at its next sign-in.
    #[educe(Debug(method(crate::secret::redacted)))]
    #[schema(format = Password, min_length = 10)]
    pub password: Option<String>,
    pub roles: Option<Vec<RoleGrantView>>,
    /// The grids the account works in (网格员), replacing its assignments.
    pub grids: Option<Vec<GridAssignmentBody>>,
}

/// A field given, as `Some` — `Some(None)` when it is `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl From<StaffPatchBody> for StaffPatch {
    fn from(b: StaffPatchBody) -> StaffPatch {
        StaffPatch {
            display_name: b.display_name,
            department_code: b.department_code,
            active: b.active,
            password: b.password,
            roles: b.roles.map(|r| r.into_iter().map(RoleGrant::from).collect()),
            grids: b.grids.map(|g| g.into_iter().map(|g| GridAssignment { code: g.code, kind: g.kind }).collect()),
        }
    }
}

/// `POST /api/v1/admin/api-tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The account the token acts as (no administrative role, active).
    pub staff_id: i64,
    pub name: String,
    /// Days the token is valid: 1–365.
    #[schema(minimum = 1, maximum = 365)]
    pub valid_days: i64,
}

// ---- answers ----------------------------------------------------------------------------------

/// How the caller proved who they are.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CredentialView {
    Session,
    ApiToken {
        token_id: i64,
    },
    /// The demo seeder acting in a staff member's name.
    DemoSeed,
}

impl From<Credential> for CredentialView {
    fn from(c: Credential) -> CredentialView {
        match c {
            Credential::Session => CredentialView::Session,
            Credential::ApiToken { token_id } => CredentialView::ApiToken { token_id },
            Credential::DemoSeed => CredentialView::DemoSeed,
        }
    }
}

/// The caller: account, roles and credential.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrincipalView {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub department_code: Option<String>,
    pub roles: Vec<RoleGrantView>,
    pub credential: CredentialView,
}

impl From<Principal> for PrincipalView {
    fn from(p: Principal) -> PrincipalView {
        PrincipalView {
            staff_id: p.staff_id,
            username: p.username,
            display_name: p.display_name,
            department_code: p.department_code,
            roles: p.roles.into_iter().map(RoleGrantView::from).collect(),
            credential: p.credential.into(),
        }
    }
}

/// `POST /api/v1/auth/login`: the session token (also set as a cookie), shown once.
#[derive(educe::Educe, Serialize, ToSchema)]
#[educe(Debug)]
pub struct LoginAnswer {
    #[educe(Debug(method(crate::secret::redacted)))]
    pub token: String,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub staff: PrincipalView,
}

impl From<LoginOutcome> for LoginAnswer {
    fn from(o: LoginOutcome) -> LoginAnswer {
        LoginAnswer { token: o.token, expires_at: o.expires_at, staff: o.principal.into() }
    }
}

/// A department.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub code: String,
    pub name: String,
    pub area_code: String,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<DepartmentRow> for DepartmentView {
    fn from(d: DepartmentRow) -> DepartmentView {
        DepartmentView {
            code: d.code,
            name: d.name,
            area_code: d.area_code,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// `GET /api/v1/admin/departments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Departments {
    pub departments: Vec<DepartmentView>,
}

/// A staff account with its roles, as administrators see it (never its password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffAccount {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_code: Option<String>,
    /// The area whose administrators manage the account.
    pub area_code: Option<String>,
    pub active: bool,
    /// The password was set by someone else and must be changed before signing in.
    pub must_change_password: bool,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    pub roles: Vec<RoleGrantView>,
}

impl From<StaffView> for StaffAccount {
    fn from(v: StaffView) -> StaffAccount {
        let s = v.staff;
        StaffAccount {
            id: s.id,
            username: s.username,
            display_name: s.display_name,
            department_code: s.department_code,
            area_code: s.area_code,
            active: s.active,
            must_change_password: s.must_change_password,
            created_at: s.created_at,
            updated_at: s.updated_at,
            roles: v.roles.into_iter().map(RoleGrantView::from).collect(),
        }
    }
}

/// `GET /api/v1/admin/staff`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffList {
    pub staff: Vec<StaffAccount>,
}

/// `DELETE /api/v1/admin/staff/{id}/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsRevoked {
    pub sessions_revoked: u64,
}

/// `POST /api/v1/admin/api-tokens`: the token, in this answer only.
#[derive(educe::Educe, Serialize, ToSchema)]
#[educe(Debug)]
pub struct IssuedApiToken {
    pub id: i64,
    #[educe(Debug(method(crate::secret::redacted)))]
    pub token: String,
    pub staff_id: i64,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

impl From<IssuedToken> for IssuedApiToken {
    fn from(t: IssuedToken) -> IssuedApiToken {
        IssuedApiToken { id: t.id, token: t.token, staff_id: t.staff_id, expires_at: t.expires_at }
    }
}
