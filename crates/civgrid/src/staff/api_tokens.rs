//! API tokens: a system acting as a staff account, through the one bearer-token mechanism
//! ([`crate::tokens`], kind [`Kind::ApiToken`]). The security admin issues and revokes them.

use serde_json::json;

use super::{forbidden, store, validate_display_name, Principal, Role, Staff, StaffError};
use crate::audit::{self, Change};
use crate::db::{now_ms, BoxFuture};
use crate::tokens::{self, Kind};

/// Longest an API token may live.
pub const API_TOKEN_MAX_DAYS: i64 = 365;

/// An API token just issued: the token is shown this once.
#[derive(educe::Educe, Clone)]
#[educe(Debug)]
pub struct IssuedToken {
    pub id: i64,
    #[educe(Debug(method(crate::secret::redacted)))]
    pub token: String,
    pub staff_id: i64,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl Staff {
    /// Issues an API token acting as `staff_id` (with that account's roles, nothing more) for
    /// `valid_days` (at most a year): the security admin's, for accounts they administer that
    /// hold no administrative role — a token is a system's key, never an administrator's.
    /// The token is shown once, only its hash is kept.
    pub async fn issue_api_token(
        &self,
        by: &Principal,
        staff_id: i64,
        name: &str,
        valid_days: i64,
        request_id: Option<&str>,
    ) -> Result<IssuedToken, StaffError> {
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
        let expires_ms = now_ms() + valid_days * 24 * 3600 * 1000;
        let actor = by.actor();
        let request_id = request_id.map(str::to_owned);
        let (id, token) = tokens::retry_on_clash(
            || {
                let (actor, name, request_id) = (actor.clone(), name.clone(), request_id.clone());
                self.db.write(move |tx| -> BoxFuture<'_, Result<(i64, String), StaffError>> {
                    Box::pin(async move {
                        store::find_staff(tx, staff_id).await?.ok_or(StaffError::StaffNotFound(staff_id))?;
                        let (id, token) =
                            tokens::issue(tx, Kind::ApiToken, &name, Some(staff_id), Some(expires_ms)).await?;
                        audit::record(
                            tx,
                            Change {
                                actor: &actor,
                                action: "api_token.issue",
                                entity: Kind::ApiToken.as_str(),
                                entity_id: &id.to_string(),
                                before: None,
                                after: Some(json!({"name": name, "staff_id": staff_id, "expires_ms": expires_ms})),
                                request_id: request_id.as_deref(),
                            },
                        )
                        .await?;
                        Ok((id, token))
                    })
                })
            },
            |e| matches!(e, StaffError::Store(s) if crate::db::is_unique_violation(s)),
        )
        .await?;
        let expires_at = chrono::DateTime::from_timestamp_millis(expires_ms).unwrap_or_default();
        Ok(IssuedToken { id, token, staff_id, expires_at })
    }

    /// Revokes an API token of an account the security admin administers (others' tokens do
    /// not exist for them).
    pub async fn revoke_api_token(&self, by: &Principal, id: i64, request_id: Option<&str>) -> Result<(), StaffError> {
        let owner = {
            let mut tx = self.db.begin_read().await?;
            let owner = tokens::owner(&mut tx, Kind::ApiToken, id).await?;
            tx.commit().await?;
            owner.flatten().ok_or(StaffError::TokenNotFound(id))?
        };
        let view = self.get_for(by, owner).await.map_err(|_| StaffError::TokenNotFound(id))?;
        if !by.manages(Role::SecurityAdmin, &view) {
            return Err(StaffError::TokenNotFound(id));
        }
        let actor = by.actor();
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), StaffError>> {
                Box::pin(async move {
                    if tokens::revoke(tx, Kind::ApiToken, id).await? == 0 {
                        return Err(StaffError::TokenNotFound(id));
                    }
                    audit::record(
                        tx,
                        Change {
                            actor: &actor,
                            action: "api_token.revoke",
                            entity: Kind::ApiToken.as_str(),
                            entity_id: &id.to_string(),
                            before: Some(json!({"revoked": false})),
                            after: Some(json!({"revoked": true})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(())
                })
            })
            .await
    }
}
