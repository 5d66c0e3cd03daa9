//! Cases as the workbenches show them: a case's card with the forms for the actions the
//! reader may take, and the queues (pages of cards, previous and next) the reader reads them by.

use super::*;

/// A choice in a select.
pub struct Opt {
    pub code: String,
    pub label: String,
}

/// One action a person may take on a case, as a small form the script sends to the API.
pub struct ActionForm {
    pub action: &'static str,
    pub label: &'static str,
    pub note_required: bool,
    pub class: bool,
    pub location: bool,
    pub department: bool,
    pub duplicate: bool,
    pub extension_days: bool,
    pub approve: bool,
    /// The callback's satisfaction rating (回访, 1–5).
    pub rating: bool,
    /// Photos may be attached (sent to `/api/v1/cases/{id}/photos` before the action).
    pub photos: bool,
    /// No field to fill in: a plain button.
    pub inline: bool,
}

pub struct CaseCard {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub state_label: &'static str,
    pub class_code: String,
    pub class_label: String,
    pub description: String,
    pub grid_code: String,
    pub address: String,
    pub department: String,
    /// The lead department, or the class's department before dispatch (the dispatch default).
    pub department_code: String,
    pub deadline: String,
    pub overdue: bool,
    pub reported: String,
    pub forms: Vec<ActionForm>,
    /// Likely duplicates (filled in by the desk for the cases at intake or awaiting dispatch).
    pub duplicates: Vec<DuplicateLink>,
    /// The reader may merge this case (the `merge` action is among its forms).
    pub can_merge: bool,
}

/// A likely duplicate of a case on a queue: an earlier case to merge it into.
pub struct DuplicateLink {
    pub id: i64,
    pub number: String,
    pub distance_m: i64,
}

/// What the pages need to label cases.
pub(super) struct Labels {
    pub(super) classes: Vec<CaseClass>,
    pub(super) departments: Vec<(String, String)>,
}

impl Labels {
    pub(super) async fn load(state: &AppState) -> Result<Labels, ApiError> {
        let classes = state.cases.classes().await?;
        let departments = state.staff.departments().await?.into_iter().map(|d| (d.code, d.name)).collect();
        Ok(Labels { classes, departments })
    }

    pub(super) fn class(&self, code: &str) -> Option<&CaseClass> {
        self.classes.iter().find(|c| c.code == code)
    }

    pub(super) fn class_options(&self) -> Vec<Opt> {
        self.classes
            .iter()
            .filter(|c| c.active)
            .map(|c| Opt {
                code: c.code.clone(), label: format!("{} · {} › {}", c.code, c.major_name, c.minor_name)
            })
            .collect()
    }

    pub(super) fn department_options(&self) -> Vec<Opt> {
        self.departments.iter().map(|(c, n)| Opt { code: c.clone(), label: n.clone() }).collect()
    }

    pub(super) fn department(&self, code: &str) -> String {
        self.departments.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
    }
}

/// RFC 3339 UTC text as China Standard Time, to the minute (for rows that still carry their
/// times as text; a case row carries `DateTime`s and is shown with [`local_at`]).
pub(super) fn local_time(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| local_at(&t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| s.to_owned())
}

/// A time as China Standard Time, to the minute.
pub(super) fn local_at(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&crate::periods::cst()).format("%Y-%m-%d %H:%M").to_string()
}

pub(super) fn action_name(a: Action) -> &'static str {
    match a {
        Action::Accept => "accept",
        Action::Merge => "merge",
        Action::SelfHandle => "self_handle",
        Action::File => "file",
        Action::Refuse => "refuse",
        Action::Dispatch => "dispatch",
        Action::Take => "take",
        Action::Return => "return",
        Action::Feedback => "feedback",
        Action::Pass => "pass",
        Action::Fail => "fail",
        Action::Close => "close",
        Action::Suspend => "suspend",
        Action::Resume => "resume",
        Action::RequestExtension => "request_extension",
        Action::DecideExtension => "decide_extension",
        Action::Supervise => "supervise",
        Action::Escalate => "escalate",
        Action::Rate => "rate",
    }
}

/// The actions of `offered` the transition table allows from the case's state to someone
/// holding the roles `p` holds (the API still decides, for this very case).
pub(super) fn forms_for(l: Tr, p: &Principal, c: &CaseRow, offered: &[Action]) -> Vec<ActionForm> {
    let Some(now) = CaseState::parse(&c.state) else { return vec![] };
    state::RULES
        .iter()
        .filter(|r| offered.contains(&r.action) && r.from.contains(&now) && p.has_role(r.role))
        .filter(|r| match r.action {
            Action::DecideExtension => c.extension_requested,
            Action::RequestExtension => !c.extension_requested,
            _ => true,
        })
        .map(|r| {
            let name = action_name(r.action);
            let class = r.action == Action::Accept;
            let location = class && c.grid_code.is_none();
            let department = r.action == Action::Dispatch;
            let duplicate = r.action == Action::Merge;
            let extension_days = matches!(r.action, Action::RequestExtension | Action::DecideExtension);
            let approve = r.action == Action::DecideExtension;
            ActionForm {
                action: name,
                label: l.action(name),
                note_required: r.note_required,
                class,
                location,
                department,
                duplicate,
                extension_days,
                approve,
                rating: r.action == Action::Rate,
                photos: matches!(r.action, Action::Feedback | Action::Fail),
                inline: !(r.note_required
                    || location
                    || duplicate
                    || extension_days
                    || approve
                    || r.action == Action::Rate),
            }
        })
        .collect()
}

pub(super) fn card(l: Tr, p: &Principal, labels: &Labels, c: &CaseRow, offered: &[Action]) -> CaseCard {
    let class = c.class_code.as_deref().and_then(|code| labels.class(code));
    let class_label = class.map(|k| format!("{} › {}", k.major_name, k.minor_name)).unwrap_or_default();
    let lead = c.lead_department.clone().or_else(|| class.map(|k| k.department_code.clone())).unwrap_or_default();
    let with_department = CaseState::parse(&c.state).is_some_and(CaseState::with_department);
    let overdue = with_department && c.handle_deadline.is_some_and(|d| d < chrono::Utc::now());
    let forms = forms_for(l, p, c, offered);
    CaseCard {
        id: c.id,
        number: c.number.clone(),
        state: c.state.clone(),
        state_label: l.state(&c.state),
        class_code: c.class_code.clone().unwrap_or_default(),
        class_label,
        description: c.description.clone(),
        grid_code: c.grid_code.clone().unwrap_or_default(),
        address: c.address.clone().unwrap_or_default(),
        department: c.lead_department.as_deref().map(|d| labels.department(d)).unwrap_or_default(),
        department_code: lead,
        deadline: c.handle_deadline.as_ref().map(local_at).unwrap_or_default(),
        overdue,
        reported: local_at(&c.created_at),
        can_merge: forms.iter().any(|f| f.action == "merge"),
        forms,
        duplicates: Vec::new(),
    }
}

/// One titled queue of cases, a page of it at a time.
pub struct Queue {
    pub id: &'static str,
    pub title: &'static str,
    pub cards: Vec<CaseCard>,
    /// The links to the previous and the next page of this queue (none: no such page).
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The cases behind the cards, in the same order.
    pub(super) rows: Vec<CaseRow>,
}

pub(super) const QUEUE_LIMIT: i64 = 50;

/// Which page of which queue a page shows (`?queue=dispatch&after=123` or `&before=45`);
/// the page's other queues start at their first page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub(super) queue: Option<String>,
    pub(super) after: Option<i64>,
    pub(super) before: Option<i64>,
}

/// Who is reading, in which language, with the labels to show: what a queue is built from.
pub(super) struct Reader<'a> {
    pub(super) state: &'a AppState,
    pub(super) l: Tr,
    pub(super) p: &'a Principal,
    pub(super) labels: &'a Labels,
    /// The page's path, for the paging links.
    pub(super) path: &'a str,
    pub(super) at: &'a PageQuery,
}

impl Reader<'_> {
    /// A page of the cases in `states` the reader may see (those `only` names), oldest first
    /// (whoever has waited longest), with the `offered` actions their roles allow.
    pub(super) async fn queue(
        &self,
        (id, title): (&'static str, &'static str),
        states: &[&str],
        offered: &[Action],
        only: Only,
    ) -> Result<Queue, ApiError> {
        self.page_of(id, title, states, false, offered, only).await
    }

    /// A page of a list by id, oldest or newest first, with its previous and next links.
    pub(super) async fn page_of(
        &self,
        id: &'static str,
        title: &'static str,
        states: &[&str],
        newest_first: bool,
        offered: &[Action],
        only: Only,
    ) -> Result<Queue, ApiError> {
        use crate::cases::PageAt;
        let mine = self.at.queue.as_deref() == Some(id);
        let at = PageAt {
            newest_first,
            after: self.at.after.filter(|_| mine),
            before: self.at.before.filter(|_| mine),
            only,
        };
        let (rows, more) = self.state.cases.page(self.p, states, at, QUEUE_LIMIT).await?;
        let link = |k: &str, v: i64| format!("{}?queue={id}&{k}={v}#queue-{id}", self.path);
        let (first, last) = (rows.first().map(|c| c.id), rows.last().map(|c| c.id));
        let backwards = at.after.is_none() && at.before.is_some();
        let (has_prev, has_next) = match (at.after, backwards) {
            (Some(_), _) => (true, more),
            (None, true) => (more, true),
            (None, false) => (false, more),
        };
        let prev = first.filter(|_| has_prev).map(|v| link("before", v));
        let next = last.filter(|_| has_next).map(|v| link("after", v));
        // An empty page reached by a stale link still offers the way back to the first.
        let prev = match (prev, rows.is_empty(), at.after.or(at.before)) {
            (None, true, Some(_)) => Some(format!("{}#queue-{id}", self.path)),
            (p, _, _) => p,
        };
        let cards = rows.iter().map(|c| card(self.l, self.p, self.labels, c, offered)).collect();
        Ok(Queue { id, title: self.l.t(title), cards, prev, next, rows })
    }

    /// Shows on the cards of `queues` each case's likely duplicates, read for the whole page
    /// in one query (`Cases::duplicate_suggestions`).
    pub(super) async fn suggest_duplicates(&self, queues: &mut [Queue]) -> Result<(), ApiError> {
        let rows: Vec<&CaseRow> = queues.iter().flat_map(|q| q.rows.iter()).collect();
        let found = self.state.cases.duplicate_suggestions(self.p, &rows, &self.labels.classes).await?;
        for card in queues.iter_mut().flat_map(|q| q.cards.iter_mut()) {
            let Some(list) = found.get(&card.id) else { continue };
            card.duplicates = list
                .iter()
                .map(|d| DuplicateLink { id: d.id, number: d.number.clone(), distance_m: d.distance_m.round() as i64 })
                .collect();
        }
        Ok(())
    }
}
