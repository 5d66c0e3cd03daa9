//! The case state machine (GB/T 30428 stages), as one table: which action moves a case from
//! which states to which, and which role may take it. Everything else (the service, the API,
//! Open311's open/closed view) reads this table, so the rules live in exactly one place.
//!
//! ```text
//! received ─accept→ accepted ─file→ filed ─dispatch→ dispatched ─take→ handling ─feedback→ handled
//!    │ merge→ merged      │ refuse→ refused      ↑ dispatch    │ return→ returned    ↑ feedback │
//!    └ self_handle→ closed (minor classes)       └─────────────┘                    rework ←─fail┘
//!                                                                  handled ─pass→ verified ─close→ closed
//! side paths: suspend/resume (挂账), extension request/decision (延期), supervise (督办),
//! escalate (升级) and rate (回访) do not leave the stage they are taken in, except suspend.
//! ```

use serde::Serialize;

use crate::staff::Role;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 上报: arrived, waiting for an intake operator.
    Received,
    /// 受理: structured and checked, waiting to be filed.
    Accepted,
    /// 立案: filed against the class's criteria, waiting for dispatch.
    Filed,
    /// 不予立案 (terminal).
    Refused,
    /// Merged into another case as a duplicate (terminal).
    Merged,
    /// 派遣: sent to the lead department, waiting for it to take the case.
    Dispatched,
    /// 回退: returned by the department, back with the dispatcher for re-routing.
    Returned,
    /// 处置: the department is handling it.
    Handling,
    /// 挂账: suspended with the dispatcher's approval.
    Suspended,
    /// 反馈: handled, waiting for verification by someone other than the handler.
    Handled,
    /// 返工: verification failed, back with the department.
    Rework,
    /// 核查通过: verified, waiting to be closed.
    Verified,
    /// 结案 (terminal, apart from the callback rating).
    Closed,
}

impl State {
    pub const ALL: [State; 13] = [
        State::Received,
        State::Accepted,
        State::Filed,
        State::Refused,
        State::Merged,
        State::Dispatched,
        State::Returned,
        State::Handling,
        State::Suspended,
        State::Handled,
        State::Rework,
        State::Verified,
        State::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Accepted => "accepted",
            State::Filed => "filed",
            State::Refused => "refused",
            State::Merged => "merged",
            State::Dispatched => "dispatched",
            State::Returned => "returned",
            State::Handling => "handling",
            State::Suspended => "suspended",
            State::Handled => "handled",
            State::Rework => "rework",
            State::Verified => "verified",
            State::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The Chinese label of the stage.
    pub fn label_zh(self) -> &'static str {
        match self {
            State::Received => "待受理",
            State::Accepted => "待立案",
            State::Filed => "待派遣",
            State::Refused => "不予立案",
            State::Merged => "已合并",
            State::Dispatched => "待处置",
            State::Returned => "已回退",
            State::Handling => "处置中",
            State::Suspended => "挂账",
            State::Handled => "待核查",
            State::Rework => "返工",
            State::Verified => "待结案",
            State::Closed => "已结案",
        }
    }

    /// Open311 knows only open and closed.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Refused | State::Merged | State::Closed)
    }

    /// Whether the handling clock runs (the department owns the case and it is not suspended).
    pub fn with_department(self) -> bool {
        matches!(self, State::Dispatched | State::Handling | State::Rework)
    }
}

/// What someone does to a case.
/// Serialised by name (snake_case): the names are the API's and the trace's, hence the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Merge,
    SelfHandle,
    File,
    Refuse,
    Dispatch,
    Take,
    Return,
    Feedback,
    Pass,
    Fail,
    Close,
    Suspend,
    Resume,
    RequestExtension,
    DecideExtension,
    Supervise,
    Escalate,
    Rate,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::Accept,
        Action::Merge,
        Action::SelfHandle,
        Action::File,
        Action::Refuse,
        Action::Dispatch,
        Action::Take,
        Action::Return,
        Action::Feedback,
        Action::Pass,
        Action::Fail,
        Action::Close,
        Action::Suspend,
        Action::Resume,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::Supervise,
        Action::Escalate,
        Action::Rate,
    ];
}

/// One row of the transition table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub action: Action,
    pub from: &'static [State],
    /// `None`: the case stays where it is.
    pub to: Option<State>,
    pub role: Role,
    /// A note (reason) is required, e.g. for refusing or returning.
    pub note_required: bool,
}

use State::*;

const ANY_OPEN: &[State] =
    &[Received, Accepted, Filed, Dispatched, Returned, Handling, Suspended, Handled, Rework, Verified];

/// The whole workflow.
pub const RULES: &[Rule] = &[
    Rule {
        action: Action::Accept,
        from: &[Received],
        to: Some(Accepted),
        role: Role::IntakeOperator,
        note_required: false,
    },
    Rule {
        action: Action::Merge,
        from: &[Received, Accepted],
        to: Some(Merged),
        role: Role::IntakeOperator,
        note_required: false,
    },
    Rule {
        action: Action::SelfHandle,
        from: &[Received],
        to: Some(Closed),
        role: Role::GridWorker,
        note_required: true,
    },
    Rule { action: Action::File, from: &[Accepted], to: Some(Filed), role: Role::ShiftLeader, note_required: false },
    Rule { action: Action::Refuse, from: &[Accepted], to: Some(Refused), role: Role::ShiftLeader, note_required: true },
    Rule {
        action: Action::Dispatch,
        from: &[Filed, Returned],
        to: Some(Dispatched),
        role: Role::Dispatcher,
        note_required: false,
    },
    Rule { action: Action::Take, from: &[Dispatched], to: Some(Handling), role: Role::Handler, note_required: false },
    Rule {
        action: Action::Return,
        from: &[Dispatched, Handling],
        to: Some(Returned),
        role: Role::Handler,
        note_required: true,
    },
    Rule {
        action: Action::Feedback,
        from: &[Handling, Rework],
        to: Some(Handled),
        role: Role::Handler,
        note_required: true,
    },
    Rule { action: Action::Pass, from: &[Handled], to: Some(Verified), role: Role::GridWorker, note_required: false },
    Rule { action: Action::Fail, from: &[Handled], to: Some(Rework), role: Role::GridWorker, note_required: true },
    Rule { action: Action::Close, from: &[Verified], to: Some(Closed), role: Role::ShiftLeader, note_required: false },
    Rule {
        action: Action::Suspend,
        from: &[Handling, Rework],
        to: Some(Suspended),
        role: Role::Dispatcher,
        note_required: true,
    },
    Rule {
        action: Action::Resume,
        from: &[Suspended],
        to: Some(Handling),
        role: Role::Dispatcher,
        note_required: false,
    },
    Rule {
        action: Action::RequestExtension,
        from: &[Dispatched, Handling, Rework],
        to: None,
        role: Role::Handler,
        note_required: true,
    },
    Rule {
        action: Action::DecideExtension,
        from: &[Dispatched, Handling, Rework],
        to: None,
        role: Role::Dispatcher,
        note_required: false,
    },
    Rule { action: Action::Supervise, from: ANY_OPEN, to: None, role: Role::Commander, note_required: true },
    Rule { action: Action::Escalate, from: ANY_OPEN, to: None, role: Role::Commander, note_required: true },
    Rule { action: Action::Rate, from: &[Closed], to: None, role: Role::IntakeOperator, note_required: false },
];

/// Why a transition is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("`{action:?}` is not possible while the case is {from} ({label}); possible now: {allowed}")]
    WrongState { action: Action, from: &'static str, label: &'static str, allowed: String },
    #[error("`{action:?}` needs the {role} role")]
    WrongRole { action: Action, role: &'static str },
    #[error("`{action:?}` needs a note giving the reason")]
    NoteRequired { action: Action },
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::WrongState { .. } => "illegal_transition",
            TransitionError::WrongRole { .. } => "forbidden",
            TransitionError::NoteRequired { .. } => "note_required",
        }
    }
}

pub fn rule(action: Action) -> &'static Rule {
    // Every action has exactly one rule; the test below keeps it so.
    RULES.iter().find(|r| r.action == action).unwrap_or(&RULES[0])
}

/// Actions possible from a state (for the error message and the workbench's buttons).
pub fn actions_from(state: State) -> Vec<Action> {
    RULES.iter().filter(|r| r.from.contains(&state)).map(|r| r.action).collect()
}

/// Checks an action against the table: state, role held, note. Returns the target state.
pub fn check(
    action: Action,
    from: State,
    has_role: impl Fn(Role) -> bool,
    note: Option<&str>,
) -> Result<State, TransitionError> {
    let r = rule(action);
    if !r.from.contains(&from) {
        let allowed = actions_from(from).iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", ");
        return Err(TransitionError::WrongState { action, from: from.as_str(), label: from.label_zh(), allowed });
    }
    if !has_role(r.role) {
        return Err(TransitionError::WrongRole { action, role: r.role.as_str() });
    }
    if r.note_required && note.map(str::trim).is_none_or(str::is_empty) {
        return Err(TransitionError::NoteRequired { action });
    }
    Ok(r.to.unwrap_or(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_rule() {
        for a in Action::ALL {
            assert_eq!(RULES.iter().filter(|r| r.action == a).count(), 1, "{a:?}");
        }
    }

    #[test]
    fn the_main_path_runs_from_report_to_close() {
        let path = [
            (Action::Accept, Role::IntakeOperator),
            (Action::File, Role::ShiftLeader),
            (Action::Dispatch, Role::Dispatcher),
            (Action::Take, Role::Handler),
            (Action::Feedback, Role::Handler),
            (Action::Fail, Role::GridWorker),
            (Action::Feedback, Role::Handler),
            (Action::Pass, Role::GridWorker),
            (Action::Close, Role::ShiftLeader),
        ];
        let mut s = State::Received;
        for (a, role) in path {
            s = check(a, s, |r| r == role, Some("说明")).unwrap();
        }
        assert_eq!(s, State::Closed);
        assert!(!s.is_open());
    }

    #[test]
    fn terminal_states_allow_nothing_but_a_rating() {
        assert!(actions_from(State::Refused).is_empty());
        assert!(actions_from(State::Merged).is_empty());
        assert_eq!(actions_from(State::Closed), vec![Action::Rate]);
    }

    #[test]
    fn wrong_state_role_and_missing_notes_are_refused() {
        let e = check(Action::Close, State::Handled, |_| true, None).unwrap_err();
        assert_eq!(e.code(), "illegal_transition");
        let e = check(Action::File, State::Accepted, |r| r == Role::Dispatcher, None).unwrap_err();
        assert_eq!(e.code(), "forbidden");
        let e = check(Action::Refuse, State::Accepted, |_| true, Some("  ")).unwrap_err();
        assert_eq!(e.code(), "note_required");
    }

    #[test]
    fn no_state_is_a_dead_end_unless_terminal() {
        for s in State::ALL {
            assert_eq!(actions_from(s).is_empty(), !s.is_open() && s != State::Closed, "{s:?}");
        }
    }
}
