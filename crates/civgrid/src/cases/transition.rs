//! A case's move by one action (`Cases::transition`): check who may take it, apply what the
//! action changes on the case row, then write it all in one transaction (`write_move`).
//! Each action's own changes are a named step below, so the service method reads in one screen.

use chrono::{DateTime, Utc};

use super::{
    clean_opt, event_of, parse_point, rollup, state, store, text, trace, unrated, valid_rating, CaseError, CaseRow,
    CaseView, Cases, TransitionRequest, VERIFY_LIMIT_WORKING_HOURS,
};
use crate::cases::calendar::Calendar;
use crate::cases::state::{Action, State};
use crate::db::Tx;
use crate::staff::{Principal, Role};
use crate::territory::Located;

/// What an action's step may read: the request, the calendar and the instant of the move.
struct Step<'a> {
    req: &'a TransitionRequest,
    p: &'a Principal,
    calendar: &'a Calendar,
    located: Option<&'a Located>,
    now_dt: DateTime<Utc>,
}

impl Cases {
    /// Moves a case by one action, atomically, or refuses with a precise reason and writes nothing.
    pub async fn transition(&self, p: &Principal, id: i64, req: TransitionRequest) -> Result<CaseView, CaseError> {
        let action = req.action.ok_or_else(|| CaseError::InvalidField("`action` is required".into()))?;
        let note = clean_opt(&req.note, 2000, "note")?;
        let calendar = self.calendar().await?;
        let located = match parse_point(req.lng, req.lat, req.datum.as_deref())? {
            Some((pt, d)) => Some(self.territory.locate(pt, d).await?),
            None => None,
        };

        // Read, checked and written in one unit of the write queue (nothing in it writes
        // through another connection); the event is published once it is committed.
        let (this, p_owned) = (self.clone(), p.clone());
        let (case, departments, event) = self
            .db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<Moved, CaseError>> {
                Box::pin(async move {
                    let p = &p_owned;
                    let mut case = store::find_case(tx, id).await?.ok_or(CaseError::NotFound(id))?;
                    if this.sight(tx, p, &case).await?.is_none() {
                        return Err(CaseError::NotFound(id));
                    }
                    let counted_before = rollup::Filed::from(&case);
                    let from = State::parse(&case.state).unwrap_or(State::Received);
                    let holder = Holder::of(tx, p, &case).await?;
                    let to = state::check(action, from, |role| holder.holds(p, role), note.as_deref())?;
                    let now_dt = this.clock.now_stored();
                    let now = text(now_dt);

                    let step = Step { req: &req, p, calendar: &calendar, located: located.as_ref(), now_dt };
                    this.apply(tx, action, &mut case, &step).await?;
                    case.state = to.as_str().to_owned();
                    let actor = p.actor();
                    let record = Move {
                        action,
                        from,
                        to,
                        actor: actor.label(),
                        role: state::rule(action).role.as_str(),
                        staff_id: Some(p.staff_id),
                        note: note.as_deref(),
                        counted_before,
                        now: &now,
                    };
                    write_move(tx, case, record).await
                })
            })
            .await?;
        self.hub.after_commit(event);
        self.view(case, departments).await
    }

    /// What `action` changes on the case row besides its state (refusing what it cannot do).
    async fn apply(&self, tx: &mut Tx<'_>, action: Action, case: &mut CaseRow, s: &Step<'_>) -> Result<(), CaseError> {
        match action {
            Action::Accept => accept(tx, case, s).await?,
            Action::Merge => merge(tx, case, s.req).await?,
            Action::SelfHandle => self_handle(tx, case, s.now_dt).await?,
            Action::File => case.filed_at = Some(s.now_dt),
            Action::Dispatch => self.dispatch(tx, case, s).await?,
            Action::Return => case.return_count += 1,
            Action::Feedback => feedback(case, s),
            Action::Pass | Action::Fail => verify(tx, case, action, s).await?,
            Action::Close => case.closed_at = Some(s.now_dt),
            Action::RequestExtension => case.extension_requested = true,
            Action::DecideExtension => decide_extension(case, s)?,
            Action::Supervise => case.supervised = true,
            Action::Escalate => escalate(case)?,
            Action::Rate => {
                let r = valid_rating(s.req.rating)?;
                unrated(case)?;
                case.rating = Some(r);
            }
            Action::Suspend | Action::Resume | Action::Take | Action::Refuse => {}
        }
        Ok(())
    }

    /// Dispatch: the lead department (given, the class's, or for a component whose owner is
    /// unknown the area's owner of last resort), the assisting ones, and the handling deadline.
    async fn dispatch(&self, tx: &mut Tx<'_>, case: &mut CaseRow, s: &Step<'_>) -> Result<(), CaseError> {
        let class = class_of(tx, case).await?;
        let lead_dept = match (&s.req.lead_department, s.req.owner_unknown) {
            (Some(_), true) => {
                return Err(CaseError::InvalidField("give lead_department or owner_unknown, not both".into()))
            }
            (Some(d), false) => d.clone(),
            (None, false) => class.department_code.clone(),
            (None, true) => {
                if class.kind != "component" {
                    return Err(CaseError::InvalidField("owner_unknown applies to components (部件) only".into()));
                }
                let grid = case.grid_code.clone().ok_or(CaseError::LocationRequired)?;
                self.last_resort(tx, &grid).await?
            }
        };
        for d in std::iter::once(&lead_dept).chain(s.req.assist_departments.iter()) {
            if crate::staff::find_department(tx, d).await?.is_none() {
                return Err(CaseError::UnknownDepartment(d.chars().take(32).collect()));
            }
        }
        store::set_departments(tx, case.id, &lead_dept, &s.req.assist_departments).await?;
        let limit = u32::try_from(class.time_limit).unwrap_or(u32::MAX);
        let deadline = if class.time_limit_unit == "working_hours" {
            s.calendar.add_working_hours(s.now_dt, limit)
        } else {
            s.calendar.add_working_days(s.now_dt, limit)
        };
        case.lead_department = Some(lead_dept);
        case.handle_deadline = Some(deadline);
        case.dispatched_at = Some(s.now_dt);
        Ok(())
    }
}

/// A case as moved, its departments, and the event to publish once the move is committed.
pub(super) type Moved = (CaseRow, Vec<(String, String)>, crate::push::CaseEvent);

/// Writes a case whose move has been decided, in the caller's write unit: the row (refused if
/// someone changed it meanwhile), the indicators' share, the transition with its ledger entry
/// and the reporter's message. The caller publishes the event after the commit.
pub(super) async fn write_move(tx: &mut Tx<'_>, case: CaseRow, m: Move<'_>) -> Result<Moved, CaseError> {
    let id = case.id;
    if !store::update_case(tx, &case, m.now).await? {
        return Err(CaseError::Changed(id));
    }
    if let (Action::Feedback, Some(hours)) = (m.action, case.handling_working_hours) {
        store::set_handling_hours(tx, id, hours).await?;
    }
    rollup::count_in(tx, id, &m.counted_before, &rollup::Filed::from(&case), m.staff_id).await?;
    let action_name =
        serde_json::to_value(m.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let record = store::NewTransition {
        case_id: id,
        actor: m.actor,
        role: m.role,
        action: &action_name,
        from: Some(m.from.as_str()),
        to: m.to.as_str(),
        note: m.note,
        at: m.now,
        after: store::After::Row(&case),
    };
    trace::record(tx, &record).await?;
    let departments = store::departments_of(tx, id).await?;
    let case = store::find_case(tx, id).await?.ok_or(CaseError::NotFound(id))?;
    if let (Some(contact), true) = (&case.reporter_contact, m.from != m.to) {
        // Every public status change reaches the reporter; internal notes are not sent.
        let public_note = matches!(m.to, State::Refused | State::Closed).then_some(m.note).flatten();
        crate::notify::enqueue_in(tx, id, &case.number, contact, m.to.label_zh(), public_note, m.now).await?;
    }
    let event = event_of(&case, &action_name, departments.iter().map(|(d, _)| d.clone()).collect(), m.now);
    Ok((case, departments, event))
}

/// A decided move of a case, as [`write_move`] records it.
pub(super) struct Move<'a> {
    pub(super) action: Action,
    pub(super) from: State,
    pub(super) to: State,
    pub(super) actor: &'a str,
    pub(super) role: &'a str,
    /// The staff member who moved it (counted in their indicators); `None` for the reporter.
    pub(super) staff_id: Option<i64>,
    pub(super) note: Option<&'a str>,
    pub(super) counted_before: rollup::Filed,
    pub(super) now: &'a str,
}

/// Whether the principal holds a role for this case: a handler of its lead department, a grid
/// worker assigned to its grid, or any other role over an area containing it.
struct Holder {
    area: String,
    lead: Option<String>,
    assigned: bool,
}

impl Holder {
    async fn of(tx: &mut Tx<'_>, p: &Principal, case: &CaseRow) -> Result<Holder, CaseError> {
        let departments = store::departments_of(tx, case.id).await?;
        let lead = departments.iter().find(|(_, r)| r == "lead").map(|(d, _)| d.clone());
        let assigned = match &case.grid_code {
            Some(g) => store::is_assigned(tx, g, p.staff_id).await?,
            None => false,
        };
        Ok(Holder { area: case.grid_code.clone().unwrap_or_default(), lead, assigned })
    }

    fn holds(&self, p: &Principal, role: Role) -> bool {
        match role {
            Role::Handler => p.has_role(Role::Handler) && p.department_code.is_some() && p.department_code == self.lead,
            Role::GridWorker => p.has_role(Role::GridWorker) && self.assigned,
            r => p.roles.iter().any(|g| g.role == r && (self.area.is_empty() || self.area.starts_with(&g.area_code))),
        }
    }
}

/// Accept: classify (an active class) and locate the case, both of which it must end up with.
async fn accept(tx: &mut Tx<'_>, case: &mut CaseRow, s: &Step<'_>) -> Result<(), CaseError> {
    if let Some(code) = &s.req.class_code {
        let c = store::current_class(tx, code)
            .await?
            .filter(|c| c.active)
            .ok_or_else(|| CaseError::UnknownClass(code.clone()))?;
        case.class_code = Some(c.code);
        case.class_version = Some(c.version);
    }
    if let Some(l) = s.located {
        case.grid_code = Some(l.grid.code.clone());
        case.lng = Some(l.lng_gcj02);
        case.lat = Some(l.lat_gcj02);
    }
    if case.class_code.is_none() {
        return Err(CaseError::ClassRequired);
    }
    if case.grid_code.is_none() {
        return Err(CaseError::LocationRequired);
    }
    Ok(())
}

/// Merge: into another open case.
async fn merge(tx: &mut Tx<'_>, case: &mut CaseRow, req: &TransitionRequest) -> Result<(), CaseError> {
    let target = req.duplicate_of.filter(|d| *d != case.id).ok_or(CaseError::InvalidDuplicate)?;
    let other = store::find_case(tx, target).await?.ok_or(CaseError::InvalidDuplicate)?;
    if !State::parse(&other.state).is_some_and(State::is_open) {
        return Err(CaseError::InvalidDuplicate);
    }
    case.duplicate_of = Some(target);
    Ok(())
}

/// The version of the class the case was classified under.
async fn class_of(tx: &mut Tx<'_>, case: &CaseRow) -> Result<super::CaseClass, CaseError> {
    let class = match (&case.class_code, case.class_version) {
        (Some(c), Some(v)) => store::class_version(tx, c, v).await?,
        _ => None,
    };
    class.ok_or(CaseError::ClassRequired)
}

/// Self-handle: only for classes that allow it; handled and closed at once.
async fn self_handle(tx: &mut Tx<'_>, case: &mut CaseRow, now: DateTime<Utc>) -> Result<(), CaseError> {
    let class = class_of(tx, case).await?;
    if !class.self_handle_allowed {
        return Err(CaseError::SelfHandleNotAllowed(class.code));
    }
    case.handled_at = Some(now);
    case.closed_at = Some(now);
    Ok(())
}

/// Feedback: handled now, in so many working hours, to be verified within the limit.
fn feedback(case: &mut CaseRow, s: &Step<'_>) {
    case.handled_at = Some(s.now_dt);
    // Stored so that the average handling time is a sum in SQL (docs/INDICATORS.md).
    case.handling_working_hours = case.dispatched_at.map(|d| s.calendar.working_hours_between(d, s.now_dt));
    case.verify_deadline = Some(s.calendar.add_working_hours(s.now_dt, VERIFY_LIMIT_WORKING_HOURS));
}

/// Pass or fail: by someone other than whoever gave the feedback.
async fn verify(tx: &mut Tx<'_>, case: &mut CaseRow, action: Action, s: &Step<'_>) -> Result<(), CaseError> {
    if store::last_feedback_actor(tx, case.id).await?.as_deref() == Some(s.p.actor().label()) {
        return Err(CaseError::VerifierIsHandler);
    }
    // verified_at is the latest verification, passed or failed (按时核查率 counts both).
    case.verified_at = Some(s.now_dt);
    if action == Action::Fail {
        case.rework_count += 1;
    }
    Ok(())
}

/// Decide an extension that was requested: approved, the deadline moves by 1–30 working days.
fn decide_extension(case: &mut CaseRow, s: &Step<'_>) -> Result<(), CaseError> {
    if !case.extension_requested {
        return Err(CaseError::NoExtensionRequested);
    }
    let approve = s.req.approve.ok_or_else(|| CaseError::InvalidField("`approve` (true/false) is required".into()))?;
    if approve {
        let days = s.req.extension_days.filter(|d| (1..=30).contains(d)).ok_or_else(|| {
            CaseError::InvalidField("`extension_days` (1–30 working days) is required to approve".into())
        })?;
        let base = case.handle_deadline.unwrap_or(s.now_dt);
        case.handle_deadline = Some(s.calendar.add_working_days(base, days));
    }
    case.extension_requested = false;
    Ok(())
}

/// Escalate: up to level 3.
fn escalate(case: &mut CaseRow) -> Result<(), CaseError> {
    if case.escalation_level >= 3 {
        return Err(CaseError::AlreadyAtTop);
    }
    case.escalation_level += 1;
    Ok(())
}
