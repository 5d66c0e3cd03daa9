//! What a citizen who reported without signing in may do afterwards: rate their closed case
//! (评价), proving who they are by the contact they left — checked only after the case itself
//! (closed, not yet rated, has a contact), with wrong contacts counted and throttled per case.

use super::*;

/// How a citizen is recorded when they report or rate without signing in.
pub const REPORTER_ACTOR: &str = "citizen";
pub const REPORTER_ROLE: &str = "reporter";

/// Longest comment a reporter may give with their rating.
pub const MAX_RATING_COMMENT_CHARS: usize = 500;

/// A reporter's rating of their closed case, sent from the portal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterRating {
    pub rating: i64,
    pub comment: Option<String>,
    /// The phone number or e-mail address left with the report.
    pub contact: String,
}

/// Whether a contact given now is the one left with the report, ignoring spaces, hyphens and
/// the case of letters. The comparison takes the same time wherever the two differ, so timing
/// tells a guesser nothing about how close they came.
fn same_contact(stored: &str, given: &str) -> bool {
    use sha2::Digest;
    let digest = |s: &str| {
        let plain: String =
            s.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
        sha2::Sha256::digest(plain.as_bytes())
    };
    let (a, b) = (digest(stored), digest(given));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Cases {
    /// The reporter rates their closed case (评价) from the portal, proving who they are by the
    /// contact they left with the report. It is the callback's `rate` transition, recorded with
    /// the reporter as actor (as the report was), so the trace, the ledger and the callback
    /// queue treat it as any other rating. Nothing is written unless every check passes.
    pub async fn rate_as_reporter(&self, number: &str, r: &ReporterRating) -> Result<CaseRow, CaseError> {
        let number = number.trim();
        let rating = valid_rating(Some(r.rating))?;
        let comment = match r.comment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if c.chars().count() > MAX_RATING_COMMENT_CHARS || c.chars().any(is_unprintable) => {
                return Err(CaseError::InvalidComment)
            }
            Some(c) => Some(c),
        };
        let contact = r.contact.trim();
        if contact.is_empty() {
            return Err(CaseError::ContactRequired);
        }
        let (number, contact, comment, clock) =
            (number.to_owned(), contact.to_owned(), comment.map(str::to_owned), self.clock);
        // `None`: a wrong contact, whose count is committed even though the rating is refused
        // (that is what throttles guessing).
        let moved = self
            .db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<Option<super::transition::Moved>, CaseError>> {
                Box::pin(async move {
                    let (number, contact, comment) = (number.as_str(), contact.as_str(), comment.as_deref());
                    let not_found = || CaseError::NumberNotFound(number.chars().take(32).collect());
                    let mut case = store::find_case_by_number(tx, number).await?.ok_or_else(not_found)?;
                    // What the public case view shows anyone (state, rated, whether a contact was left) is
                    // checked first: a refusal for those reasons tells nothing about the contact given.
                    let from = State::parse(&case.state).unwrap_or(State::Received);
                    if !state::rule(Action::Rate).from.contains(&from) {
                        return Err(CaseError::NotClosed);
                    }
                    unrated(&case)?;
                    let stored = case.reporter_contact.clone().ok_or(CaseError::NoReporterContact)?;
                    // A few wrong contacts per case and window, counted on every node: enough for a typo,
                    // too few to find a reporter's number by trying one after another. Refused even with
                    // the right contact while throttled, as logins are. Read and counted in this
                    // transaction: it never waits for a second connection while holding one.
                    let now_ms = crate::db::now_ms();
                    let (failures, oldest) =
                        store::reporter_check_failures(tx, case.id, now_ms - REPORTER_CHECK_WINDOW_MS).await?;
                    if let (true, Some(oldest)) = (failures >= MAX_REPORTER_CHECK_FAILURES, oldest) {
                        let retry_after_s = ((oldest + REPORTER_CHECK_WINDOW_MS - now_ms) / 1000).max(1);
                        return Err(CaseError::ReporterCheckThrottled { retry_after_s });
                    }
                    if !same_contact(&stored, contact) {
                        store::record_reporter_check_failure(tx, case.id, now_ms).await?;
                        return Ok(None);
                    }
                    let counted_before = rollup::Filed::from(&case);
                    case.rating = Some(rating);
                    let now = text(clock.now_stored());
                    let record = Move {
                        action: Action::Rate,
                        from,
                        to: from,
                        actor: REPORTER_ACTOR,
                        role: REPORTER_ROLE,
                        staff_id: None,
                        note: comment,
                        counted_before,
                        now: &now,
                    };
                    Ok(Some(super::transition::write_move(tx, case, record).await?))
                })
            })
            .await?;
        let (case, _, event) = moved.ok_or(CaseError::ContactMismatch)?;
        self.hub.after_commit(event);
        Ok(case)
    }
}
