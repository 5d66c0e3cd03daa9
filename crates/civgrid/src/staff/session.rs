//! Signing in: throttled password checks, server-side sessions with an idle timeout and an
//! absolute lifetime, a bounded number of sessions per account, and changing one's own
//! password.
//!
//! Throttling is counted in the database (`login_throttle`), so every node sees every guess,
//! and a guess is counted *before* its password is checked, in one write that also reads the
//! count back: parallel guesses queue on the counter row and only the first few are ever
//! evaluated.

use serde_json::json;

use super::{password, store, Credential, LoginOutcome, Principal, Staff, StaffError, SESSION_PREFIX};
use crate::audit::{self, Actor, Change};
use crate::db::{now_ms, BoxFuture, Tx};
use crate::tokens::{self, Kind};

/// How the lockout is counted. Three counters, each over a fixed window:
///
/// * a username *from one address* is locked after [`MAX_GUESSES_PER_PAIR`] wrong guesses —
///   the ordinary lockout, which a stranger elsewhere cannot trigger for the real user's
///   address;
/// * a username from *all* addresses together is locked after [`MAX_GUESSES_PER_USER`] — the
///   ceiling on a guesser spreading over many addresses. It is ten times the per-address
///   limit, so locking the real user out takes a stranger at least ten addresses and fifty
///   guesses in the window, and guessing stays at most fifty tries per window against a
///   password the policy made hard;
/// * an address is locked after [`MAX_GUESSES_PER_ADDRESS`] wrong guesses at any usernames
///   (one machine trying many accounts). Successful sign-ins are not counted against it, so
///   an office behind one address is not locked by its own people.
pub const MAX_GUESSES_PER_PAIR: i64 = 5;
pub const MAX_GUESSES_PER_USER: i64 = 50;
pub const MAX_GUESSES_PER_ADDRESS: i64 = 30;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// A session unused this long has ended (等保: sign-in again after a pause).
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
/// A session's last use is written at most this often (not on every request).
const SESSION_TOUCH_MS: i64 = 60 * 1000;
/// Live sessions one account may hold; a new sign-in ends the oldest beyond this.
pub const MAX_SESSIONS: i64 = 3;

/// The counters a guess at `username` from `ip` raises, with their limits, in one fixed order
/// (so parallel transactions take the rows' locks in the same order and never deadlock).
fn throttle_keys(username: &str, ip: &str) -> [(String, i64); 3] {
    [
        (format!("a:{ip}"), MAX_GUESSES_PER_ADDRESS),
        (format!("p:{username}\n{ip}"), MAX_GUESSES_PER_PAIR),
        (format!("u:{username}"), MAX_GUESSES_PER_USER),
    ]
}

/// A guess that was counted and may be evaluated.
#[derive(Debug, Clone)]
struct Guess {
    username: String,
    ip: String,
    attempt_id: i64,
}

impl Staff {
    /// Counts a guess at `username`'s password and refuses it, unevaluated, when a counter is
    /// past its limit — even for the right password: that is what stops guessing.
    async fn count_guess(&self, username: &str, ip: &str) -> Result<Guess, StaffError> {
        let now = now_ms();
        let (username, ip) = (username.to_owned(), ip.to_owned());
        let (u, i) = (username.clone(), ip.clone());
        let (locked_until, attempt_id) = self
            .db
            .write(move |tx| -> BoxFuture<'_, Result<(Option<i64>, i64), StaffError>> {
                Box::pin(async move {
                    store::forget_old_guesses(tx, now - THROTTLE_WINDOW_MS).await?;
                    let mut locked_until: Option<i64> = None;
                    for (key, max) in throttle_keys(&u, &i) {
                        let (n, window_start) = store::count_guess(tx, &key, now, THROTTLE_WINDOW_MS).await?;
                        if n > max {
                            locked_until = locked_until.max(Some(window_start + THROTTLE_WINDOW_MS));
                        }
                    }
                    let attempt_id = store::record_attempt(tx, &u, &i, now, false).await?;
                    Ok((locked_until, attempt_id))
                })
            })
            .await?;
        match locked_until {
            Some(until) => Err(StaffError::Throttled { retry_after_s: ((until - now) / 1000).max(1) }),
            None => Ok(Guess { username, ip, attempt_id }),
        }
    }

    /// The right password was given: the guess is not held against the username (nor the
    /// address), and the attempt is recorded as a success.
    async fn forgive(tx: &mut Tx<'_>, guess: &Guess) -> Result<(), StaffError> {
        let [addr, pair, user] = throttle_keys(&guess.username, &guess.ip);
        store::clear_guesses(tx, &pair.0).await?;
        store::clear_guesses(tx, &user.0).await?;
        store::uncount_guess(tx, &addr.0).await?;
        store::mark_attempt_succeeded(tx, guess.attempt_id).await?;
        Ok(())
    }

    /// Checks a password after counting the guess: the account's id and whether it must
    /// change its password, or `InvalidCredentials` (unknown user, wrong password, inactive).
    async fn check_password(&self, guess: &Guess, password: &str) -> Result<store::Credentials, StaffError> {
        if password.chars().count() > password::MAX_LENGTH {
            return Err(StaffError::InvalidCredentials);
        }
        let creds = store::credentials(&self.db, &guess.username).await?;
        let hash = creds.as_ref().and_then(|c| c.password_hash.clone());
        let ok = password::verify(password.to_owned(), hash).await?;
        match creds {
            Some(c) if ok && c.active => Ok(c),
            _ => Err(StaffError::InvalidCredentials),
        }
    }

    /// Checks a password and opens a session. An account whose password was set by someone
    /// else gets no session: `PasswordChangeRequired` until it changes it.
    pub async fn login(&self, username: &str, password: &str, client_ip: &str) -> Result<LoginOutcome, StaffError> {
        let username: String = username.trim().chars().take(64).collect();
        let guess = self.count_guess(&username, client_ip).await?;
        let creds = self.check_password(&guess, password).await?;
        let token = tokens::generate(SESSION_PREFIX);
        let hash = tokens::hash(&token);
        let expires_at = chrono::Utc::now() + chrono::Duration::hours(self.session_ttl_hours);
        let (staff_id, must_change) = (creds.id, creds.must_change_password);
        // Forgiving the guess is kept even when no session opens (a one-time password).
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), StaffError>> {
                Box::pin(async move {
                    Self::forgive(tx, &guess).await?;
                    if !must_change {
                        store::insert_session(tx, &hash, staff_id, &expires_at, now_ms()).await?;
                        store::end_oldest_sessions(tx, staff_id, MAX_SESSIONS).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        if must_change {
            return Err(StaffError::PasswordChangeRequired);
        }
        let principal = self.principal(staff_id, Credential::Session).await?;
        Ok(LoginOutcome { token, expires_at, principal })
    }

    /// Changes one's own password with the old one (throttled as a sign-in). Ends every
    /// session and API token of the account: whoever held the old password is out.
    pub async fn change_password(
        &self,
        username: &str,
        old_password: &str,
        new_password: &str,
        client_ip: &str,
        request_id: Option<&str>,
    ) -> Result<(), StaffError> {
        let username: String = username.trim().chars().take(64).collect();
        super::validate_password(new_password, &username)?;
        if new_password == old_password {
            return Err(StaffError::WeakPassword("the new password must differ from the old one".into()));
        }
        let guess = self.count_guess(&username, client_ip).await?;
        let creds = self.check_password(&guess, old_password).await?;
        // Hashing (argon2) is slow: done before the write, never inside it.
        let hash = password::hash(new_password.to_owned()).await?;
        let request_id = request_id.map(str::to_owned);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), StaffError>> {
                Box::pin(async move {
                    Self::forgive(tx, &guess).await?;
                    store::set_password(tx, creds.id, &hash, false).await?;
                    let sessions = store::revoke_sessions_of(tx, creds.id).await?;
                    let tokens = tokens::revoke_of_staff(tx, creds.id).await?;
                    audit::record(
                        tx,
                        Change {
                            actor: &Actor::staff(creds.id, &username),
                            action: "staff.change_password",
                            entity: "staff",
                            entity_id: &creds.id.to_string(),
                            before: Some(json!({"must_change_password": creds.must_change_password})),
                            after: Some(json!({"must_change_password": false, "sessions_revoked": sessions,
                                               "api_tokens_revoked": tokens})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// The staff id behind a live session, and when it was last used.
    async fn live_session(&self, hash: &str) -> Result<(i64, i64), StaffError> {
        let now = chrono::Utc::now();
        store::session_staff(&self.db, hash, &now, now.timestamp_millis() - SESSION_IDLE_MS)
            .await?
            .ok_or(StaffError::Unauthenticated)
    }

    /// Resolves a session (marking it used) or an API token to the caller.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, StaffError> {
        if token.starts_with(SESSION_PREFIX) {
            let hash = tokens::hash(token);
            let (id, last_seen) = self.live_session(&hash).await?;
            let now = now_ms();
            if now - last_seen > SESSION_TOUCH_MS {
                self.db
                    .write(move |tx| -> BoxFuture<'_, Result<(), sqlx::Error>> {
                        Box::pin(async move { store::touch_session(tx, &hash, now).await })
                    })
                    .await?;
            }
            self.principal(id, Credential::Session).await
        } else {
            self.resolve_unused(token).await
        }
    }

    /// Resolves a session or API token without marking it used: what a long-lived event
    /// stream re-checks, so an open stream does not keep an idle session alive.
    pub async fn resolve_unused(&self, token: &str) -> Result<Principal, StaffError> {
        if token.starts_with(SESSION_PREFIX) {
            let (id, _) = self.live_session(&tokens::hash(token)).await?;
            self.principal(id, Credential::Session).await
        } else if token.starts_with(Kind::ApiToken.prefix()) {
            let bearer = tokens::verify(&self.db, Kind::ApiToken, token).await?.ok_or(StaffError::Unauthenticated)?;
            let staff_id = bearer.staff_id.ok_or(StaffError::Unauthenticated)?;
            // A token acts for its account only while the account may sign in.
            let account = store::find_staff_db(&self.db, staff_id).await?.ok_or(StaffError::Unauthenticated)?;
            if !account.active || account.must_change_password {
                return Err(StaffError::Unauthenticated);
            }
            self.principal(staff_id, Credential::ApiToken { token_id: bearer.id }).await
        } else {
            Err(StaffError::Unauthenticated)
        }
    }

    /// Ends the session behind a token. Unknown tokens are not an error (logout is idempotent).
    pub async fn logout(&self, token: &str) -> Result<(), StaffError> {
        let hash = tokens::hash(token);
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<u64, sqlx::Error>> {
                Box::pin(async move { store::revoke_session(tx, &hash).await })
            })
            .await?;
        Ok(())
    }
}
