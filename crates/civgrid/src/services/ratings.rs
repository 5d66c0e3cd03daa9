//! 好差评: five grades (5 非常满意 … 1 非常不满意), one rating per application (一事一评) and
//! per window visit (一次一评). A bad rating (不满意, 非常不满意) opens a rectification task for
//! the responsible unit ("谁办理、谁负责") with a deadline; the unit replies and records its
//! callback (回访); the applicant rates the fix; a unit may appeal a mistaken rating, and an
//! administrator decides the appeal (an upheld appeal voids the rating).

use serde::Deserialize;

use super::applications::parse_any_id;
use super::statistics::{self, Keys};
use super::store::{self, Counts, RatingRow, RectificationRow};
use super::{clean_opt, clean_req, text, ServiceError, Services};
use crate::staff::{Principal, Role};

/// Working days the responsible unit has to rectify (15 is the figure commonly cited; local
/// rules differ).
pub const RECTIFY_WORKING_DAYS: u32 = 15;

pub const GRADES: [(i64, &str); 5] = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")];

pub fn grade_label(g: i64) -> &'static str {
    GRADES.iter().find(|(n, _)| *n == g).map_or("", |(_, l)| l)
}

#[derive(educe::Educe, Clone, Deserialize, utoipa::ToSchema)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// `application` (一事一评) or `visit` (一次一评).
    pub target: String,
    /// The application number or the visit number.
    pub number: String,
    /// An application's access key (handed out at acceptance): proves the application is the
    /// rater's. Required for `application`.
    #[educe(Debug(method(crate::secret::redacted)))]
    pub access_key: Option<String>,
    /// The applicant's ID number or credit code, for a `visit` (the visit number is printed
    /// on the slip the window hands over).
    pub id_number: Option<String>,
    pub grade: i64,
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RatingOutcome {
    pub rating: RatingRow,
    pub grade_label: &'static str,
    pub rectification: Option<RectificationRow>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    pub reply: String,
    /// What the callback to the applicant found (回访记录).
    pub callback_note: String,
}

#[derive(educe::Educe, Clone, Deserialize, utoipa::ToSchema)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// The rated application's access key (a rating of an application).
    #[educe(Debug(method(crate::secret::redacted)))]
    pub access_key: Option<String>,
    /// The applicant's ID number or credit code (a rating of a window visit).
    pub id_number: Option<String>,
    /// `satisfied`, `basically_satisfied` or `unsatisfied`.
    pub result: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionInput {
    /// True: the rating was mistaken or false and is voided.
    pub upheld: bool,
    pub note: String,
}

/// `n` ratings of `grade` (−1: one taken back).
fn rating_counts(grade: i64, n: i64) -> Counts {
    Counts {
        ratings: n,
        bad_ratings: n * i64::from(grade <= 2),
        good_ratings: n * i64::from(grade >= 3),
        ..Counts::default()
    }
}

fn unit_of(p: &Principal) -> Option<&str> {
    p.department_code.as_deref().filter(|_| p.has_role(Role::Approver) || p.has_role(Role::WindowClerk))
}

impl Services {
    /// Rates an application (once concluded) or a window visit, once each.
    pub async fn rate(&self, r: NewRating) -> Result<RatingOutcome, ServiceError> {
        if !(1..=5).contains(&r.grade) {
            return Err(ServiceError::InvalidField("grade must be 1–5 (5 非常满意 … 1 非常不满意)".into()));
        }
        let comment = clean_opt(&r.comment, 1000, "comment")?;
        let not_found = || ServiceError::ApplicationNotFound(r.number.chars().take(32).collect());
        // An application is proven by its access key (counted and throttled like a lookup),
        // before the write transaction: a key check may write a failure of its own.
        let (id, owned) = match (r.target.as_str(), &r.access_key, &r.id_number) {
            ("application", Some(key), None) => {
                let app = self.owned(&r.number, key).await?;
                (app.applicant_id.clone(), Some(app))
            }
            ("application", ..) => {
                return Err(ServiceError::InvalidField("rating an application needs its access_key only".into()))
            }
            ("visit", None, Some(id)) => (parse_any_id(id).map_err(|_| not_found())?, None),
            ("visit", ..) => return Err(ServiceError::InvalidField("rating a visit needs the id_number only".into())),
            _ => return Err(ServiceError::InvalidField("target must be application or visit".into())),
        };
        let now_dt = self.now();
        let now = text(now_dt);
        let calendar = self.calendar().await?;
        let deadline = text(calendar.add_working_days(now_dt, RECTIFY_WORKING_DAYS));
        let owned_id = owned.map(|o| o.id);
        let number = r.number.clone();
        let not_found = move || ServiceError::ApplicationNotFound(number.chars().take(32).collect());
        let (rating, rectification) = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let mut row = RatingRow {
                        id: 0,
                        target_kind: r.target.clone(),
                        target_ref: r.number.clone(),
                        applicant_id: id.clone(),
                        grade: r.grade,
                        comment,
                        responsible_department: None,
                        item_code: None,
                        window_code: None,
                        clerk: None,
                        rated_at: now_dt,
                        void: false,
                    };
                    match r.target.as_str() {
                        "application" => {
                            let app = store::find_application(tx, &r.number).await?;
                            let app = app.filter(|a| owned_id == Some(a.id)).ok_or_else(not_found)?;
                            if !app.is_concluded() {
                                return Err(ServiceError::NotConcluded(app.number));
                            }
                            row.responsible_department = Some(app.department_code);
                            row.item_code = Some(app.item_code);
                            row.window_code = app.window_code;
                            row.clerk = app.clerk;
                        }
                        "visit" => {
                            let v = store::find_visit(tx, &r.number).await?.filter(|v| v.applicant_id == id);
                            let v = v.ok_or_else(not_found)?;
                            // The window's own unit answers for the visit; else the item's department.
                            let dept = match v.clerk_department {
                                Some(d) => Some(d),
                                None => store::current_item(tx, &v.item_code).await?.map(|i| i.spec.department_code),
                            };
                            row.responsible_department = dept;
                            row.item_code = Some(v.item_code);
                            row.window_code = Some(v.window_code);
                            row.clerk = Some(v.clerk);
                        }
                        _ => return Err(ServiceError::InvalidField("target must be application or visit".into())),
                    }
                    let rating = store::insert_rating(tx, &row)
                        .await?
                        .ok_or_else(|| ServiceError::AlreadyRated(r.number.clone()))?;
                    let rectification = match (&rating.responsible_department, rating.grade <= 2) {
                        (Some(d), true) => Some(store::insert_rectification(tx, rating.id, d, &deadline, &now).await?),
                        _ => None,
                    };
                    statistics::count_in(tx, &Keys::rating(&rating), rating.rated_at, &rating_counts(rating.grade, 1))
                        .await?;
                    Ok::<_, ServiceError>((rating, rectification))
                })
            })
            .await?;
        Ok(RatingOutcome { grade_label: grade_label(rating.grade), rating, rectification })
    }

    /// Rectification tasks: administrators see all, a unit its own.
    pub async fn rectifications(&self, p: &Principal) -> Result<Vec<RectificationRow>, ServiceError> {
        if p.has_role(Role::Admin) || p.has_role(Role::Auditor) {
            return Ok(store::list_rectifications(&self.db, None).await?);
        }
        let d = unit_of(p).ok_or(ServiceError::Forbidden("reading rectification tasks"))?;
        Ok(store::list_rectifications(&self.db, Some(d)).await?)
    }

    /// The rectification tasks the caller may see, each with the rating that opened it (what
    /// the applicant said), newest first.
    pub async fn rectifications_with_ratings(
        &self,
        p: &Principal,
    ) -> Result<Vec<(RectificationRow, Option<RatingRow>)>, ServiceError> {
        let tasks = self.rectifications(p).await?;
        let mut tx = self.db.begin_read().await?;
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            let rating = store::find_rating(&mut tx, t.rating_id).await?;
            out.push((t, rating));
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn change_rectification(
        &self,
        id: i64,
        expected: &'static [&'static str],
        check: impl FnOnce(&RectificationRow) -> Result<(), ServiceError> + Send + 'static,
        apply: impl FnOnce(&mut RectificationRow) + Send + 'static,
        void_rating: bool,
    ) -> Result<RectificationRow, ServiceError> {
        let now = text(self.now());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let mut r =
                        store::find_rectification(tx, id).await?.ok_or(ServiceError::RectificationNotFound(id))?;
                    check(&r)?;
                    if !expected.contains(&r.state.as_str()) {
                        return Err(ServiceError::RectificationState(r.state));
                    }
                    let was = r.state.clone();
                    apply(&mut r);
                    r.updated_at = now;
                    if !store::update_rectification(tx, &r, &was).await? {
                        return Err(ServiceError::RectificationState(was));
                    }
                    if void_rating && r.state == "voided" && store::void_rating(tx, r.rating_id).await? {
                        // A voided rating no longer counts.
                        if let Some(x) = store::find_rating(tx, r.rating_id).await? {
                            statistics::count_in(tx, &Keys::rating(&x), x.rated_at, &rating_counts(x.grade, -1))
                                .await?;
                        }
                    }
                    Ok(r)
                })
            })
            .await
    }

    /// The task, if it is `unit`'s (the caller's department); otherwise as if there were none.
    fn own_unit(unit: Option<&str>, r: &RectificationRow) -> Result<(), ServiceError> {
        if unit == Some(r.department_code.as_str()) {
            Ok(())
        } else {
            Err(ServiceError::RectificationNotFound(r.id))
        }
    }

    /// The responsible unit reports what it fixed and the callback it made.
    pub async fn reply(&self, p: &Principal, id: i64, input: ReplyInput) -> Result<RectificationRow, ServiceError> {
        let reply = clean_req(&input.reply, 2000, "reply")?;
        let callback = clean_req(&input.callback_note, 2000, "callback_note")?;
        let (actor, now) = (p.actor().label().to_owned(), text(self.now()));
        let unit = unit_of(p).map(str::to_owned);
        self.change_rectification(
            id,
            &["open"],
            move |r| Self::own_unit(unit.as_deref(), r),
            move |r| {
                r.state = "replied".into();
                r.reply = Some(reply);
                r.callback_note = Some(callback);
                r.replied_by = Some(actor);
                r.replied_at = Some(now);
            },
            false,
        )
        .await
    }

    /// The applicant rates the fix: satisfied closes the task, unsatisfied reopens it with a
    /// fresh deadline.
    pub async fn feedback(&self, id: i64, input: FeedbackInput) -> Result<RectificationRow, ServiceError> {
        let grade = match input.result.as_str() {
            "satisfied" => 3,
            "basically_satisfied" => 2,
            "unsatisfied" => 1,
            _ => {
                return Err(ServiceError::InvalidField(
                    "result must be satisfied, basically_satisfied or unsatisfied".into(),
                ))
            }
        };
        let not_found = || ServiceError::RectificationNotFound(id);
        let mut tx = self.db.begin_read().await?;
        let r = store::find_rectification(&mut tx, id).await?.ok_or_else(not_found)?;
        let rating = store::find_rating(&mut tx, r.rating_id).await?.ok_or_else(not_found)?;
        tx.commit().await?;
        // Proven as the rating was: an application by its access key (counted and throttled),
        // a window visit by the number shown there.
        let theirs = match (rating.target_kind.as_str(), &input.access_key, &input.id_number) {
            ("application", Some(key), None) => {
                let app = self.owned(&rating.target_ref, key).await.map_err(|e| match e {
                    ServiceError::ApplicationNotFound(_) => not_found(),
                    other => other,
                })?;
                app.applicant_id == rating.applicant_id
            }
            ("visit", None, Some(number)) => parse_any_id(number).is_ok_and(|n| n == rating.applicant_id),
            _ => false,
        };
        if !theirs {
            return Err(not_found());
        }
        let now_dt = self.now();
        let now = text(now_dt);
        let calendar = self.calendar().await?;
        let fresh = text(calendar.add_working_days(now_dt, RECTIFY_WORKING_DAYS));
        self.change_rectification(
            id,
            &["replied"],
            |_| Ok(()),
            move |r| {
                r.feedback_grade = Some(grade);
                r.feedback_at = Some(now);
                if grade == 1 {
                    r.state = "open".into();
                    r.deadline = fresh;
                } else {
                    r.state = "closed".into();
                }
            },
            false,
        )
        .await
    }

    /// The responsible unit appeals a rating it holds mistaken or false.
    pub async fn appeal(&self, p: &Principal, id: i64, input: AppealInput) -> Result<RectificationRow, ServiceError> {
        let reason = clean_req(&input.reason, 2000, "reason")?;
        let (actor, now) = (p.actor().label().to_owned(), text(self.now()));
        let unit = unit_of(p).map(str::to_owned);
        self.change_rectification(
            id,
            &["open", "replied"],
            move |r| Self::own_unit(unit.as_deref(), r),
            move |r| {
                r.state = "appealed".into();
                r.appeal_reason = Some(reason);
                r.appealed_by = Some(actor);
                r.appealed_at = Some(now);
            },
            false,
        )
        .await
    }

    /// An administrator decides an appeal: upheld voids the rating (it no longer counts in
    /// satisfaction); dismissed sends the task back to `open`.
    pub async fn decide_appeal(
        &self,
        p: &Principal,
        id: i64,
        input: AppealDecisionInput,
    ) -> Result<RectificationRow, ServiceError> {
        if !p.has_role(Role::Admin) {
            return Err(ServiceError::Forbidden("deciding appeals (administrators only)"));
        }
        let note = clean_req(&input.note, 2000, "note")?;
        let (actor, now) = (p.actor().label().to_owned(), text(self.now()));
        self.change_rectification(
            id,
            &["appealed"],
            |_| Ok(()),
            move |r| {
                r.state = if input.upheld { "voided" } else { "open" }.into();
                r.appeal_decision = Some(format!("{}：{note}", if input.upheld { "申诉成立" } else { "申诉不成立" }));
                r.appeal_decided_by = Some(actor);
                r.appeal_decided_at = Some(now);
            },
            true,
        )
        .await
    }
}
