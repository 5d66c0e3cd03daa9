//! Reading applications: the full view with its clock, staff lists and pages, the applicant's
//! progress by number and access key (wrong keys counted and throttled), and the materials
//! library a later application reuses. Every read of an applicant's data is recorded.

use serde_json::Value;

use super::applications::*;
use super::store::{self, ApplicationRow};
use super::*;
use crate::certificates::CertificateView;

impl Services {
    /// The full view of an application; `department` limits the steps shown to one department.
    pub(crate) async fn view(
        &self,
        app: ApplicationRow,
        department: Option<&str>,
    ) -> Result<ApplicationView, ServiceError> {
        let materials = store::materials_of(&self.db, app.id).await?;
        let steps = store::steps_of(&self.db, app.id)
            .await?
            .into_iter()
            .filter(|s| department.is_none_or(|d| s.department_code == d))
            .map(|s| StepView {
                checklist: s.checklist.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null),
                step: s,
            })
            .collect();
        let events = store::events_of(&self.db, app.id).await?;
        let mut tx = self.db.begin_read().await?;
        let item = store::item_version(&mut tx, &app.item_code, app.item_version).await?;
        tx.commit().await?;
        let sla = self.sla(&app).await?;
        Ok(ApplicationView {
            item_name: item.map(|i| i.spec.name).unwrap_or_default(),
            state_label: state_label(&app.state),
            sla,
            materials,
            steps,
            events,
            application: app,
        })
    }

    /// Rows of a list with their clock.
    async fn listed(&self, rows: Vec<ApplicationRow>) -> Result<Vec<ListedApplication>, ServiceError> {
        let mut out = Vec::with_capacity(rows.len());
        for application in rows {
            let sla = self.sla(&application).await?;
            out.push(ListedApplication { state_label: state_label(&application.state), sla, application });
        }
        Ok(out)
    }

    /// Where the application stands against its promised deadline.
    pub(crate) async fn sla(&self, app: &ApplicationRow) -> Result<&'static str, ServiceError> {
        let deadline = app.deadline;
        if let Some(c) = app.concluded_at {
            return Ok(if c <= deadline { "concluded" } else { "concluded_late" });
        }
        if app.state == "suspended" {
            return Ok("suspended");
        }
        let now = self.now();
        if now > deadline || app.overdue_at.is_some() {
            return Ok("overdue");
        }
        let calendar = self.calendar().await?;
        let left = calendar.working_hours_between(now, deadline);
        Ok(if app.warned_at.is_some() || left <= super::approvals::WARN_WORKING_HOURS { "warning" } else { "on_time" })
    }

    /// An application for staff: any window clerk (无差别受理 serves every item), an approver
    /// only when their department has a step (and then only their steps). The read is recorded.
    pub async fn get(
        &self,
        p: &Principal,
        number: &str,
        request_id: Option<&str>,
    ) -> Result<ApplicationView, ServiceError> {
        let scope = staff_scope(p).ok_or(ServiceError::Forbidden("reading applications"))?;
        let mut tx = self.db.begin_read().await?;
        let app = store::find_application(&mut tx, number).await?;
        let app = app.ok_or_else(|| ServiceError::ApplicationNotFound(number.chars().take(32).collect()))?;
        let steps = store::steps_in(&mut tx, app.id).await?;
        tx.commit().await?;
        let view = match scope {
            StaffScope::All => self.view(app, None).await?,
            StaffScope::Department(d) => {
                if !steps.iter().any(|s| s.department_code == d) {
                    return Err(ServiceError::ApplicationNotFound(number.to_owned()));
                }
                self.view(app, Some(&d)).await?
            }
        };
        let subjects = vec![view.application.id.to_string()];
        self.record_read(&p.actor(), "application.read", "application", subjects, request_id).await?;
        Ok(view)
    }

    /// Progress by number for the applicant, who proves it with the access key handed out
    /// when the application was accepted (the same answer for a wrong key as for an unknown
    /// number; wrong keys are counted and throttled). They see what they submitted: no staff
    /// names, no numbers of e-licences attached as materials.
    pub async fn lookup(
        &self,
        number: &str,
        key: &str,
        request_id: Option<&str>,
    ) -> Result<ApplicationView, ServiceError> {
        let app = self.owned(number, key).await?;
        let mut view = self.view(app, None).await?;
        // Staff identities and internal notes stay inside.
        for s in &mut view.steps {
            s.step.decided_by = None;
        }
        // Numbers of e-licences attached from the library are capabilities: not shown here.
        for m in &mut view.materials {
            m.licence_number = None;
        }
        for e in &mut view.events {
            if e.actor.starts_with("staff:") || e.actor.starts_with("token:") {
                e.actor = "staff".into();
            }
        }
        view.application.clerk = None;
        let subjects = vec![view.application.id.to_string()];
        let actor = applicant_actor();
        self.record_read(&actor, "application.read_by_applicant", "application", subjects, request_id).await?;
        Ok(view)
    }

    /// The application if `key` is its access key. A few wrong keys per number and window,
    /// counted in the database so every node sees them: enough for a typo, too few to guess a
    /// key; refused even with the right key while throttled, as logins are.
    pub(crate) async fn owned(&self, number: &str, key: &str) -> Result<ApplicationRow, ServiceError> {
        let number = number.trim();
        let not_found = || ServiceError::ApplicationNotFound(number.chars().take(32).collect());
        let shaped = (1..=32).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric());
        if !shaped {
            return Err(not_found());
        }
        let now_ms = crate::db::now_ms();
        let mut tx = self.db.begin_read().await?;
        let (failures, oldest) = store::key_failures(&mut tx, number, now_ms - KEY_WINDOW_MS).await?;
        let app = store::find_application(&mut tx, number).await?;
        tx.commit().await?;
        if let (true, Some(oldest)) = (failures >= MAX_KEY_FAILURES, oldest) {
            let retry_after_s = ((oldest + KEY_WINDOW_MS - now_ms) / 1000).max(1);
            return Err(ServiceError::AccessKeyThrottled { retry_after_s });
        }
        // Hashes are compared, so timing says nothing about the key.
        let given = crate::staff::token_hash(key.trim());
        match app {
            Some(a) if a.access_key_hash.as_deref() == Some(given.as_str()) => Ok(a),
            _ => {
                let number = number.to_owned();
                self.db
                    .write(move |tx| -> crate::db::BoxFuture<'_, Result<(), sqlx::Error>> {
                        Box::pin(async move { store::record_key_failure(tx, &number, now_ms).await })
                    })
                    .await?;
                Err(not_found())
            }
        }
    }

    /// Records a read of personal data (查阅留痕) before its answer leaves.
    pub(crate) async fn record_read(
        &self,
        actor: &crate::audit::Actor,
        purpose: &str,
        subject_kind: &str,
        subjects: Vec<String>,
        request_id: Option<&str>,
    ) -> Result<(), ServiceError> {
        let access = crate::audit::Access { actor, purpose, subject_kind, subjects, request_id };
        Ok(crate::audit::record_access(&self.db, access).await?)
    }

    /// Applications for staff, newest first.
    pub async fn list(
        &self,
        p: &Principal,
        state: Option<&str>,
        limit: i64,
        request_id: Option<&str>,
    ) -> Result<Vec<ListedApplication>, ServiceError> {
        let scope = staff_scope(p).ok_or(ServiceError::Forbidden("reading applications"))?;
        if let Some(s) = state {
            if state_label(s).is_empty() {
                return Err(ServiceError::InvalidField(format!(
                    "unknown state `{}`",
                    s.chars().take(16).collect::<String>()
                )));
            }
        }
        let dept = match &scope {
            StaffScope::All => None,
            StaffScope::Department(d) => Some(d.as_str()),
        };
        let rows = store::list_applications(&self.db, dept, state, limit.clamp(1, 500)).await?;
        let subjects = rows.iter().map(|a| a.id.to_string()).collect();
        self.record_read(&p.actor(), "application.list", "application", subjects, request_id).await?;
        let out = self.listed(rows).await?;
        Ok(out)
    }

    /// A page of applications for staff, newest or oldest first, after the one with id `after`
    /// in that order; with the cursor of the next page (none: the last page).
    pub async fn list_page(
        &self,
        p: &Principal,
        state: Option<&str>,
        oldest_first: bool,
        after: Option<i64>,
        limit: i64,
        request_id: Option<&str>,
    ) -> Result<(Vec<ListedApplication>, Option<i64>), ServiceError> {
        let scope = staff_scope(p).ok_or(ServiceError::Forbidden("reading applications"))?;
        if let Some(s) = state {
            if state_label(s).is_empty() {
                return Err(ServiceError::InvalidField(format!(
                    "unknown state `{}`",
                    s.chars().take(16).collect::<String>()
                )));
            }
        }
        let dept = match &scope {
            StaffScope::All => None,
            StaffScope::Department(d) => Some(d.as_str()),
        };
        let (rows, more) =
            store::list_applications_page(&self.db, dept, state, oldest_first, after, limit.clamp(1, 500)).await?;
        let next = rows.last().map(|a| a.id).filter(|_| more);
        let subjects = rows.iter().map(|a| a.id.to_string()).collect();
        self.record_read(&p.actor(), "application.list", "application", subjects, request_id).await?;
        let out = self.listed(rows).await?;
        Ok((out, next))
    }

    /// Every application under one number, for a window clerk (who serves any applicant at
    /// any window); the read is recorded.
    pub async fn applications_of(
        &self,
        p: &Principal,
        id_number: &str,
        request_id: Option<&str>,
    ) -> Result<Vec<ListedApplication>, ServiceError> {
        if !p.has_role(Role::WindowClerk) {
            return Err(ServiceError::Forbidden("reading an applicant's applications (window clerks only)"));
        }
        let id = parse_any_id(id_number)?;
        let rows = store::applications_of(&self.db, &id).await?;
        let subjects = rows.iter().map(|a| a.id.to_string()).collect();
        self.record_read(&p.actor(), "application.list_by_applicant", "application", subjects, request_id).await?;
        let out = self.listed(rows).await?;
        Ok(out)
    }

    /// An applicant's e-licence library (电子证照库), for a window clerk only (无差别受理: any
    /// window serves any item, so any clerk may need it). The read is recorded against the
    /// applicant's reference and each licence shown.
    pub async fn library(
        &self,
        p: &Principal,
        id_number: &str,
        request_id: Option<&str>,
    ) -> Result<Vec<CertificateView>, ServiceError> {
        if !p.has_role(Role::WindowClerk) {
            return Err(ServiceError::Forbidden("reading an applicant's e-licence library (window clerks only)"));
        }
        let id = parse_any_id(id_number)?;
        let mut tx = self.db.begin_read().await?;
        let l = Certificates::library_in(&mut tx, &id, &local_date(self.now())).await?;
        let applicant = store::applicant_ref_in(&mut tx, &id).await?;
        tx.commit().await?;
        let actor = p.actor();
        self.record_read(&actor, "licences.read", "applicant", applicant.into_iter().collect(), request_id).await?;
        let numbers = l.iter().map(|c| c.number.clone()).collect();
        self.record_read(&actor, "licences.read", "certificate", numbers, request_id).await?;
        Ok(l)
    }
}

/// Whoever proves an application is theirs with its access key (access records).
pub(crate) fn applicant_actor() -> crate::audit::Actor {
    crate::audit::Actor::system("applicant")
}

/// How long wrong access keys count, and how many an application number takes in that time.
const KEY_WINDOW_MS: i64 = 15 * 60 * 1000;
const MAX_KEY_FAILURES: i64 = 5;
