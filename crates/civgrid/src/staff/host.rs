//! What only the host can do, from the command line: create the first administrators of an
//! installation (every other account is made by an administrator, so someone must make those)
//! and reset an account's password when nobody who could is left to do it. Whoever runs these
//! holds the database URL, i.e. the host; the change record names them (`cli:<os user>`).

use serde_json::json;

use super::accounts::{end_access, insert_account, record_created};
use super::{password, store, validate_display_name, validate_password, validate_username, Role, RoleGrant};
use super::{Staff, StaffError, StaffView};
use crate::audit::{self, Actor, Change};
use crate::db::{BoxFuture, Dialect};
use crate::secret::Secret;

/// Why a host command changed nothing (beyond the account rules of [`StaffError`]).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "administrators exist already: {}; nothing was changed. To give an administrator a new \
         one-time password run `civgrid admin reset-password USERNAME`",
        .0.join(", ")
    )]
    AdministratorsExist(Vec<String>),
    #[error("the three administrators need three different usernames (`{0}` is given twice)")]
    SameUsername(String),
    #[error("area {0} does not exist: import the district first (civgrid import district …)")]
    NoDistrict(String),
    #[error("no staff account is called `{0}`")]
    UnknownUser(String),
    #[error(transparent)]
    Staff(#[from] StaffError),
}

impl HostError {
    pub fn code(&self) -> &'static str {
        match self {
            HostError::AdministratorsExist(_) => "administrators_exist",
            HostError::SameUsername(_) => "same_username",
            HostError::NoDistrict(_) => "no_district",
            HostError::UnknownUser(_) => "unknown_user",
            HostError::Staff(e) => e.code(),
        }
    }
}

impl From<sqlx::Error> for HostError {
    fn from(e: sqlx::Error) -> HostError {
        HostError::Staff(e.into())
    }
}

/// One of the first administrators: the duty, the username and the display name, and the
/// password (generated, or read from a file), one-time.
#[derive(Debug, Clone)]
pub struct FirstAdministrator {
    pub role: Role,
    pub username: String,
    pub display_name: String,
    pub password: Secret,
}

/// A password reset from the host.
#[derive(Debug, Clone)]
pub struct HostReset {
    pub staff: StaffView,
    pub sessions_revoked: u64,
    pub api_tokens_revoked: u64,
}

impl Staff {
    /// Creates the three administrators (三权分立: system, security, audit), each holding its
    /// duty in `district` with a one-time password, in one write — or nothing, when any
    /// account already holds one of the three duties. The check runs inside the write, under
    /// a lock on the role grants, so two runs at once cannot both create them.
    pub async fn init_administrators(
        &self,
        actor: &Actor,
        district: &str,
        admins: Vec<FirstAdministrator>,
    ) -> Result<Vec<StaffView>, HostError> {
        let mut seen: Vec<&str> = Vec::new();
        for a in &admins {
            validate_username(&a.username)?;
            validate_display_name(&a.display_name)?;
            validate_password(a.password.expose(), &a.username)?;
            if seen.contains(&a.username.as_str()) {
                return Err(HostError::SameUsername(a.username.clone()));
            }
            seen.push(&a.username);
        }
        // Hashed before the write: a write unit does no slow work.
        let mut hashed = Vec::with_capacity(admins.len());
        for a in admins {
            let hash = password::hash(a.password.expose().to_owned()).await.map_err(StaffError::from)?;
            hashed.push((a, hash));
        }
        let (actor, district) = (actor.clone(), district.to_owned());
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<Vec<StaffView>, HostError>> {
                Box::pin(async move {
                    // PostgreSQL: a second `admin init` waits here until the first commits,
                    // then finds its administrators. SQLite: the write already holds the lock.
                    Dialect::of(tx).lock_for_rebuild(tx, &["staff_role"]).await?;
                    let existing = store::administrators(tx).await?;
                    if !existing.is_empty() {
                        let named = existing.iter().map(|(u, r)| format!("{u} ({r})")).collect();
                        return Err(HostError::AdministratorsExist(named));
                    }
                    if !crate::territory::area_exists(tx, &district).await? {
                        return Err(HostError::NoDistrict(district));
                    }
                    let mut views = Vec::with_capacity(hashed.len());
                    for (a, hash) in &hashed {
                        let id = insert_account(tx, &a.username, &a.display_name, Some(hash), None, &district).await?;
                        let grant = RoleGrant { role: a.role, area_code: district.clone() };
                        store::replace_roles(tx, id, &[(a.role.as_str().to_owned(), district.clone())]).await?;
                        store::set_password(tx, id, hash, true).await?;
                        let staff = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                        let view = StaffView { staff, roles: vec![grant] };
                        record_created(tx, &actor, id, &view, None).await?;
                        views.push(view);
                    }
                    Ok(views)
                })
            })
            .await
    }

    /// Sets a one-time password on `username`'s account from the host (the account must change
    /// it at next sign-in) and ends its sessions and API tokens, as the security
    /// administrator's reset does. A deactivated account stays deactivated (the caller says so).
    pub async fn reset_password_from_host(
        &self,
        actor: &Actor,
        username: &str,
        new_password: &Secret,
    ) -> Result<HostReset, HostError> {
        validate_password(new_password.expose(), username)?;
        let hash = password::hash(new_password.expose().to_owned()).await.map_err(StaffError::from)?;
        let (actor, username) = (actor.clone(), username.to_owned());
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<HostReset, HostError>> {
                Box::pin(async move {
                    let before =
                        store::find_staff_by_username(tx, &username).await?.ok_or(HostError::UnknownUser(username))?;
                    let id = before.id;
                    store::set_password(tx, id, &hash, true).await?;
                    let (sessions_revoked, api_tokens_revoked) = end_access(tx, id).await?;
                    let staff = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                    let roles = super::accounts::grants(store::roles_tx(tx, id).await?);
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "staff.reset_password",
                            entity: "staff",
                            entity_id: &id.to_string(),
                            before: Some(json!({"must_change_password": before.must_change_password})),
                            after: Some(json!({
                                "via": "password reset from the host (civgrid admin reset-password)",
                                "must_change_password": true, "active": staff.active,
                                "sessions_revoked": sessions_revoked, "api_tokens_revoked": api_tokens_revoked,
                            })),
                            request_id: None,
                        },
                    )
                    .await?;
                    Ok(HostReset { staff: StaffView { staff, roles }, sessions_revoked, api_tokens_revoked })
                })
            })
            .await
    }
}
