//! The back office: approval steps from the item version's template, parallel approvals (并联
//! 审批) that must all agree, decisions recorded criterion by criterion, suspension for special
//! steps, the working-day clock with a warning and overdue marking, and the conclusion (办结)
//! that issues the signed e-licence. Each action is one transaction: the application row is
//! locked first, and a refused or failed action writes nothing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::applications::ApplicationView;
use super::statistics::{self, Keys};
use super::store::{self, ApplicationRow, Counts};
use super::{clean_opt, local_date, text, trace, ServiceError, Services};
use crate::certificates::LicenceRequest;
use crate::staff::{Principal, Role};

/// An application with less working time than this left is flagged `warning`.
pub const WARN_WORKING_HOURS: f64 = 7.0;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    pub code: String,
    pub met: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The step index (0-based) being decided.
    pub step: i64,
    /// `approve` or `reject`.
    pub decision: String,
    pub checklist: Vec<CheckInput>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendInput {
    pub special_step: String,
    pub note: Option<String>,
}

fn approver_department(p: &Principal) -> Result<String, ServiceError> {
    if !p.has_role(Role::Approver) {
        return Err(ServiceError::Forbidden("deciding applications (approvers only)"));
    }
    p.department_code.clone().ok_or(ServiceError::NoDepartment)
}

impl Services {
    /// Locks the application and checks that the caller's department has a step on it.
    async fn locked(
        tx: &mut crate::db::Tx<'_>,
        number: &str,
        dept: &str,
        now: &str,
    ) -> Result<(ApplicationRow, Vec<store::StepRow>), ServiceError> {
        let not_found = || ServiceError::ApplicationNotFound(number.chars().take(32).collect());
        let app = store::lock_application(tx, number, now).await?.ok_or_else(not_found)?;
        let steps = store::steps_in(tx, app.id).await?;
        if !steps.iter().any(|s| s.department_code == dept) {
            return Err(not_found());
        }
        if app.is_concluded() {
            return Err(ServiceError::Concluded(app.number));
        }
        Ok((app, steps))
    }

    /// A department decides its step. When the last department of the last step approves, the
    /// application concludes and the e-licence is issued — all in this one transaction.
    pub async fn decide(
        &self,
        p: &Principal,
        number: &str,
        input: DecisionInput,
    ) -> Result<ApplicationView, ServiceError> {
        let dept = approver_department(p)?;
        let approve = match input.decision.as_str() {
            "approve" => true,
            "reject" => false,
            _ => return Err(ServiceError::InvalidField("decision must be approve or reject".into())),
        };
        let note = clean_opt(&input.note, 2000, "note")?;
        let now_dt = self.now();
        let now = text(now_dt);
        let actor = p.actor().label().to_owned();
        let calendar = self.calendar().await?;

        let number = number.to_owned();
        let dept_after = dept.clone();
        let certificates = self.certificates.clone();
        let app = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let (mut app, steps) = Self::locked(tx, &number, &dept, &now).await?;
                    if app.state == "suspended" {
                        return Err(ServiceError::Suspended(app.number));
                    }
                    let mine = steps
                        .iter()
                        .find(|s| s.department_code == dept && s.step_index == input.step)
                        .ok_or(ServiceError::NoSuchStep(input.step))?;
                    match mine.state.as_str() {
                        "pending" => {}
                        "waiting" => return Err(ServiceError::OutOfTurn { step: input.step }),
                        _ => return Err(ServiceError::AlreadyDecided { step: input.step }),
                    }
                    let item = store::item_version(tx, &app.item_code, app.item_version)
                        .await?
                        .ok_or_else(|| ServiceError::UnknownItem(app.item_code.clone()))?;
                    let spec = item
                        .spec
                        .steps
                        .get(usize::try_from(input.step).unwrap_or(usize::MAX))
                        .ok_or(ServiceError::NoSuchStep(input.step))?;
                    // The checklist: every criterion of the step, exactly once, nothing else.
                    let mut given: BTreeMap<&str, &CheckInput> = BTreeMap::new();
                    let criteria: Vec<_> = spec.checklist_for(&dept).collect();
                    for c in &input.checklist {
                        if !criteria.iter().any(|k| k.code == c.code) {
                            return Err(ServiceError::UnknownCriterion(c.code.chars().take(40).collect()));
                        }
                        if given.insert(c.code.as_str(), c).is_some() {
                            return Err(ServiceError::InvalidField(format!("criterion `{}` is given twice", c.code)));
                        }
                    }
                    let unchecked: Vec<String> = criteria
                        .iter()
                        .filter(|k| !given.contains_key(k.code.as_str()))
                        .map(|k| k.code.clone())
                        .collect();
                    if !unchecked.is_empty() {
                        return Err(ServiceError::CriterionUnchecked(unchecked));
                    }
                    let mut recorded = Vec::new();
                    let mut unmet = Vec::new();
                    for k in &criteria {
                        let c = given[k.code.as_str()];
                        let cnote = clean_opt(&c.note, 500, "criterion note")?;
                        if !c.met {
                            if cnote.is_none() {
                                return Err(ServiceError::NoteRequired(k.code.clone()));
                            }
                            unmet.push(k.code.clone());
                        }
                        recorded.push(json!({"code": k.code, "text": k.text, "met": c.met, "note": cnote}));
                    }
                    if approve && !unmet.is_empty() {
                        return Err(ServiceError::CriteriaNotMet(unmet));
                    }
                    if !approve && unmet.is_empty() {
                        return Err(ServiceError::NoUnmetCriterion);
                    }
                    let checklist =
                        serde_json::to_string(&recorded).map_err(|e| ServiceError::InvalidField(e.to_string()))?;
                    let state = if approve { "approved" } else { "rejected" };
                    if !store::decide_step(tx, mine.id, state, &checklist, note.as_deref(), &actor, &now).await? {
                        return Err(ServiceError::AlreadyDecided { step: input.step });
                    }
                    let mut decided = mine.clone();
                    decided.state = state.into();
                    decided.checklist = Some(checklist);
                    decided.note = note.clone();
                    decided.decided_by = Some(actor.clone());
                    decided.decided_at = Some(now.clone());
                    crate::ledger::append_in(
                        tx,
                        trace::DECISION_KIND,
                        &trace::decision_ref(&app.number, &decided),
                        &trace::decision_content(&app.number, &decided),
                        &now,
                    )
                    .await?;
                    store::insert_event(
                        tx,
                        app.id,
                        &now,
                        &actor,
                        if approve { "approve" } else { "reject" },
                        Some(&format!("{}（{}）", spec.name, dept)),
                    )
                    .await?;

                    let last = item.spec.steps.len() as i64 - 1;
                    let others_open =
                        steps.iter().any(|s| s.step_index == input.step && s.id != mine.id && s.state == "pending");
                    let mut conclude = None;
                    if !approve {
                        store::set_steps_state(tx, app.id, None, "pending", "cancelled").await?;
                        store::set_steps_state(tx, app.id, None, "waiting", "cancelled").await?;
                        conclude = Some("rejected");
                    } else if !others_open {
                        if input.step >= last {
                            conclude = Some("approved");
                        } else {
                            app.current_step = input.step + 1;
                            store::set_steps_state(tx, app.id, Some(app.current_step), "waiting", "pending").await?;
                            store::insert_event(
                                tx,
                                app.id,
                                &now,
                                "system",
                                "advance",
                                Some(&item.spec.steps[(input.step + 1) as usize].name),
                            )
                            .await?;
                        }
                    }
                    if let Some(result) = conclude {
                        app.state = result.into();
                        app.concluded_at = Some(now_dt);
                        if let (true, Some(r)) = (result == "approved", &item.spec.result) {
                            let request =
                                licence_request(&app, &item, r, &item.spec.department_code, &actor, &now, now_dt);
                            let licence = certificates.issue_licence_in(tx, &request).await?;
                            app.licence_number = Some(licence.number);
                        }
                        store::insert_event(
                            tx,
                            app.id,
                            &now,
                            "system",
                            "conclude",
                            Some(if result == "approved" { "办结：准予" } else { "办结：不予" }),
                        )
                        .await?;
                        if let Some(c) = &app.contact {
                            let mut body = format!(
                                "您申请的“{}”（办件编号 {}）已办结，结果：{}。",
                                item.spec.name,
                                app.number,
                                if result == "approved" { "准予" } else { "不予" }
                            );
                            if let Some(n) = &app.licence_number {
                                body.push_str(&format!(
                        "电子证照已签发并存入您的电子证照库（证照编号 {n}），今后办事可直接复用，无需再提交。"
                    ));
                            }
                            if result == "rejected" {
                                body.push_str(&format!("未满足的审查要点：{}。", unmet.join("、")));
                            }
                            body.push_str("欢迎对本次服务进行评价（好差评）。");
                            crate::notify::enqueue_message_in(
                                tx,
                                c,
                                &format!("【办结通知】{}（办件编号 {}）", item.spec.name, app.number),
                                &body,
                                &now,
                            )
                            .await?;
                        }
                    }
                    app.updated_at = now_dt;
                    store::update_application(tx, &app).await?;
                    if app.concluded_at.is_some() {
                        crate::ledger::append_in(
                            tx,
                            trace::CONCLUSION_KIND,
                            &app.number,
                            &trace::conclusion_content(&app),
                            &now,
                        )
                        .await?;
                        let hours = calendar.working_hours_between(app.accepted_at, now_dt);
                        store::set_handling_hours(tx, app.id, hours).await?;
                        let counts = Counts {
                            concluded: 1,
                            approved: i64::from(app.state == "approved"),
                            rejected: i64::from(app.state == "rejected"),
                            on_time: i64::from(now_dt <= app.deadline),
                            handling_hours: hours,
                            ..Counts::default()
                        };
                        let keys = Keys::application(&app);
                        statistics::count_in(tx, &keys, app.accepted_at, &counts).await?;
                        statistics::count_duration_in(tx, &keys, app.accepted_at, hours).await?;
                    }
                    Ok::<_, ServiceError>(app)
                })
            })
            .await?;
        self.view(app, Some(&dept_after)).await
    }

    /// Stops the clock for a special step (特殊环节) named in the item. A step that counts
    /// towards the time limit suspends work but not the clock.
    pub async fn suspend(
        &self,
        p: &Principal,
        number: &str,
        input: SuspendInput,
    ) -> Result<ApplicationView, ServiceError> {
        let dept = approver_department(p)?;
        let note = clean_opt(&input.note, 1000, "note")?;
        let now_dt = self.now();
        let now = text(now_dt);
        let number = number.to_owned();
        let dept_after = dept.clone();
        let actor = p.actor().label().to_owned();
        let app = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let (mut app, steps) = Self::locked(tx, &number, &dept, &now).await?;
                    if app.state == "suspended" {
                        return Err(ServiceError::Suspended(app.number));
                    }
                    if !steps.iter().any(|s| s.department_code == dept && s.state == "pending") {
                        return Err(ServiceError::OutOfTurn { step: app.current_step });
                    }
                    let item = store::item_version(tx, &app.item_code, app.item_version)
                        .await?
                        .ok_or_else(|| ServiceError::UnknownItem(app.item_code.clone()))?;
                    let special =
                        item.spec.special_steps.iter().find(|s| s.name == input.special_step).ok_or_else(|| {
                            ServiceError::UnknownSpecialStep(input.special_step.chars().take(50).collect())
                        })?;
                    app.state = "suspended".into();
                    app.suspended_at = Some(now_dt);
                    app.suspended_step = Some(special.name.clone());
                    app.updated_at = now_dt;
                    store::update_application(tx, &app).await?;
                    let what = format!(
                        "{}（{}，最长{}个工作日）{}",
                        special.name,
                        if special.counts_toward_limit { "计入办理时限" } else { "不计入办理时限" },
                        special.max_days,
                        note.map(|n| format!("：{n}")).unwrap_or_default()
                    );
                    store::insert_event(tx, app.id, &now, &actor, "suspend", Some(&what)).await?;
                    Ok::<_, ServiceError>(app)
                })
            })
            .await?;
        self.view(app, Some(&dept_after)).await
    }

    /// Resumes after a special step; when the step does not count towards the limit, both
    /// deadlines move by the working days it took (rounded up).
    pub async fn resume(&self, p: &Principal, number: &str) -> Result<ApplicationView, ServiceError> {
        let dept = approver_department(p)?;
        let now_dt = self.now();
        let now = text(now_dt);
        let calendar = self.calendar().await?;
        let number = number.to_owned();
        let dept_after = dept.clone();
        let actor = p.actor().label().to_owned();
        let app = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let (mut app, steps) = Self::locked(tx, &number, &dept, &now).await?;
                    if app.state != "suspended" {
                        return Err(ServiceError::NotSuspended(app.number));
                    }
                    if !steps.iter().any(|s| s.department_code == dept && s.state == "pending") {
                        return Err(ServiceError::OutOfTurn { step: app.current_step });
                    }
                    let item = store::item_version(tx, &app.item_code, app.item_version)
                        .await?
                        .ok_or_else(|| ServiceError::UnknownItem(app.item_code.clone()))?;
                    let counts = item
                        .spec
                        .special_steps
                        .iter()
                        .find(|s| Some(&s.name) == app.suspended_step.as_ref())
                        .is_none_or(|s| s.counts_toward_limit);
                    let since = app.suspended_at.unwrap_or(now_dt);
                    let days = (calendar.working_hours_between(since, now_dt) / 7.0).ceil() as u32;
                    let mut note = format!("恢复计时；特殊环节“{}”", app.suspended_step.clone().unwrap_or_default());
                    if !counts && days > 0 {
                        for d in [&mut app.deadline, &mut app.legal_deadline] {
                            *d = calendar.add_working_days(*d, days);
                        }
                        note.push_str(&format!("不计时 {days} 个工作日，承诺期限顺延至 {}", local_date(app.deadline)));
                    }
                    app.state = "in_review".into();
                    app.suspended_at = None;
                    app.suspended_step = None;
                    app.updated_at = now_dt;
                    store::update_application(tx, &app).await?;
                    store::insert_event(tx, app.id, &now, &actor, "resume", Some(&note)).await?;
                    Ok::<_, ServiceError>(app)
                })
            })
            .await?;
        self.view(app, Some(&dept_after)).await
    }

    /// The clock sweep (every node, any time): warns once when less than a working day is
    /// left, marks overdue once when the promised deadline has passed. Returns (warned, overdue).
    pub async fn sweep_deadlines(&self) -> Result<(usize, usize), ServiceError> {
        let now_dt = self.now();
        let now = text(now_dt);
        let calendar = self.calendar().await?;
        // Anything due within the next week is a candidate; the calendar decides.
        let horizon = text(now_dt + chrono::Duration::days(14));
        let (mut warned, mut overdue) = (0, 0);
        for app in store::due_applications(&self.db, &horizon).await? {
            let deadline = app.deadline;
            let late = now_dt > deadline;
            let warn = !late
                && app.warned_at.is_none()
                && calendar.working_hours_between(now_dt, deadline) <= WARN_WORKING_HOURS;
            if !(late || warn) {
                continue;
            }
            let (id, now) = (app.id, now.clone());
            let marked = self
                .db
                .write(move |tx| {
                    Box::pin(async move {
                        if late && store::mark_overdue(tx, id, &now).await? {
                            store::insert_event(tx, id, &now, "system:clock", "overdue", Some("已超过承诺办结时限"))
                                .await?;
                            return Ok::<_, ServiceError>(Some(true));
                        }
                        if warn && store::mark_warned(tx, id, &now).await? {
                            let what = Some("距承诺办结时限不足1个工作日");
                            store::insert_event(tx, id, &now, "system:clock", "warning", what).await?;
                            return Ok(Some(false));
                        }
                        Ok(None)
                    })
                })
                .await?;
            match marked {
                Some(true) => overdue += 1,
                Some(false) => warned += 1,
                None => {}
            }
        }
        Ok((warned, overdue))
    }
}

/// The e-licence an approved application issues (at conclusion, or again after a revocation):
/// its type from the item, the applicant as subject, tied to the application by its number.
#[allow(clippy::too_many_arguments)]
pub(crate) fn licence_request<'a>(
    app: &'a ApplicationRow,
    item: &super::ServiceItem,
    r: &'a super::catalogue::ResultSpec,
    department: &'a str,
    actor: &'a str,
    now: &'a str,
    now_dt: chrono::DateTime<chrono::Utc>,
) -> crate::certificates::LicenceRequest<'a> {
    let valid_until = r.valid_years.map(|y| {
        let local = now_dt.with_timezone(&super::cst()).date_naive();
        let until = local.checked_add_months(chrono::Months::new(u32::try_from(y * 12).unwrap_or(12))).unwrap_or(local);
        until.format("%Y-%m-%d").to_string()
    });
    let mut fields = BTreeMap::new();
    fields.insert("application_number".to_owned(), app.number.clone());
    fields.insert("item_code".to_owned(), app.item_code.clone());
    fields.insert("item_name".to_owned(), item.spec.name.clone());
    LicenceRequest {
        licence_type: &r.licence_type,
        licence_name: &r.licence_name,
        licence_name_en: &r.licence_name_en,
        subject_name: &app.applicant_name,
        subject_id: &app.applicant_id,
        fields,
        valid_until,
        department,
        actor,
        now,
    }
}
