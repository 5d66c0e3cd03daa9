//! The case loop (社会综合治理): reports become cases, cases move through the GB/T 30428 stages
//! by the right roles, every move is recorded, and time limits follow the working calendar.
//!
//! Public face: [`Cases`] (the service), [`state`] (the one transition table), [`calendar`],
//! [`CaseError`]. SQL lives in [`store`].

pub mod calendar;
mod catalogue;
mod error;
pub mod indicators;
mod intake;
pub mod mask;
pub mod photo;
mod photos;
pub mod public;
mod reporter;
pub mod rollup;
mod sight;
pub mod state;
// Private: other contexts and the web layer go through the service.
mod store;

/// The store's read and optimistic write of a case row, for the API tests' race check
/// (tests/api/indicators.rs `a_stale_case_is_never_written_back`), which holds a stale snapshot
/// on purpose, as no service does. Not part of the service's API.
#[doc(hidden)]
pub mod stale_write {
    pub use super::store::{find_case, update_case};
}
pub mod trace;
mod transition;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use civgrid_geo::{Datum, LngLat};
use serde::Deserialize;

use crate::db::Db;
use crate::push::{CaseEvent, Hub};
use crate::staff::{Principal, Role};
use crate::territory::{Located, Territory};
use calendar::{Calendar, DayKind};
pub use error::CaseError;
pub use reporter::{ReporterRating, MAX_RATING_COMMENT_CHARS, REPORTER_ACTOR, REPORTER_ROLE};
use sight::{areas_of, seen_by_area, CASE_PHOTO_PURPOSE, CASE_READ_PURPOSE, PHOTO_AREA_ROLES};
pub use sight::{CaseItem, ReporterView, Sight, CASE_LOOP_AREA_ROLES, OVERSIGHT_AREA_ROLES};
use state::{Action, State};
pub use store::{CaseClass, CaseRow, Only, PageAt, PhotoMeta, TransitionRow, Visibility, LIVE_STATES, MAP_CASE_FIELDS};
use transition::Move;

/// Verification (核查) is due this many working hours after the handler's feedback.
pub const VERIFY_LIMIT_WORKING_HOURS: u32 = 4;

/// Wrong reporter contacts a case takes within the window before rating it from the portal is
/// refused for the rest of the window.
pub const MAX_REPORTER_CHECK_FAILURES: i64 = 5;
const REPORTER_CHECK_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Largest photo accepted, and how many one case may carry.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_PHOTOS_PER_CASE: i64 = 12;
/// How long after reporting a citizen may attach photos with the key the report gave them.
pub const PHOTO_KEY_HOURS: i64 = 24;

/// The key a citizen who reported without a session attaches photos with (given once, in the
/// answer to the report; only its SHA-256 is stored).
pub(crate) type PhotoKey = crate::staff::OnceKey;

/// The image type a photo's first bytes prove, whatever the client claimed.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// Longest `media_url` accepted (Open311 clients are held to the same).
pub const MAX_MEDIA_URL_CHARS: usize = 1000;

/// Whether a `media_url` is a link anyone may be shown: an absolute http or https URL with a
/// host, no user name or password in it, no white space, at most [`MAX_MEDIA_URL_CHARS`].
/// Parsed, not prefix-checked: `https:evil`, `http://user:pw@host/` and `https://` are refused.
pub fn valid_media_url(u: &str) -> bool {
    if u.chars().count() > MAX_MEDIA_URL_CHARS || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Ok(parsed) = url::Url::parse(u) else { return false };
    matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && u.get(..parsed.scheme().len() + 3)
            .is_some_and(|p| p.eq_ignore_ascii_case(&format!("{}://", parsed.scheme())))
}

/// Longest description accepted (Open311 clients are told the same limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Intake channels. Free-text channels may arrive without class or location; an intake
/// operator structures them.
const CHANNELS: [&str; 8] = ["web", "app", "open311", "hotline", "wechat", "sms", "patrol", "sensor"];
const FREE_TEXT_CHANNELS: [&str; 3] = ["hotline", "wechat", "sms"];

/// A report as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub description: String,
    pub channel: Option<String>,
    pub class_code: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub datum: Option<String>,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    pub idempotency_key: Option<String>,
    /// A link to a photo or video published elsewhere (http or https).
    pub media_url: Option<String>,
}

/// A possible duplicate of a new report.
#[derive(Debug, Clone)]
pub struct DuplicateCandidate {
    pub id: i64,
    pub number: String,
    pub distance_m: f64,
}

#[derive(educe::Educe, Clone)]
#[educe(Debug)]
pub struct ReportOutcome {
    pub case: CaseRow,
    /// False when the idempotency key named an earlier report: nothing new was written.
    pub created: bool,
    pub duplicates: Vec<DuplicateCandidate>,
    /// Given only with the first answer to a report made without a session: the key to attach
    /// photos with (`POST /api/v1/public/cases/{number}/photos`, header `X-Photo-Key`) for
    /// [`PHOTO_KEY_HOURS`] hours.
    #[educe(Debug(method(crate::secret::redacted)))]
    pub photo_key: Option<String>,
}

/// What a transition request may carry besides the action.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub action: Option<Action>,
    pub note: Option<String>,
    pub class_code: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub datum: Option<String>,
    pub lead_department: Option<String>,
    /// At dispatch of a component (部件) whose owner cannot be established: route to the owner
    /// of last resort of the nearest area (community → subdistrict → district) that has one.
    #[serde(default)]
    pub owner_unknown: bool,
    #[serde(default)]
    pub assist_departments: Vec<String>,
    pub duplicate_of: Option<i64>,
    pub approve: Option<bool>,
    pub extension_days: Option<u32>,
    pub rating: Option<i64>,
}

/// A case with its departments and history.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: CaseRow,
    pub state_label: &'static str,
    pub departments: Vec<(String, String)>,
    pub transitions: Vec<TransitionRow>,
    pub next_actions: Vec<Action>,
    /// The reporter's name and contact, for those who work the case (see [`Cases::get`]).
    pub reporter: Option<ReporterView>,
}

/// Where a case's duplicates are looked for: open cases of its class within the class's
/// radius of its point, reported since the class's window before it.
#[derive(Debug, Clone)]
pub struct DuplicateLook {
    pub since: String,
    pub point: (f64, f64),
    pub radius_m: f64,
}

impl DuplicateLook {
    /// Around a point (GCJ-02) reported at `at`, for a case of class `c`.
    fn around(c: &CaseClass, point: (f64, f64), at: DateTime<Utc>) -> DuplicateLook {
        let since = text(at - chrono::Duration::hours(c.duplicate_window_hours));
        DuplicateLook { since, point, radius_m: c.duplicate_radius_m }
    }

    /// For a new report: only one of an active class with a place has duplicates to look for.
    fn for_report(class: Option<&CaseClass>, point: Option<(f64, f64)>, at: DateTime<Utc>) -> Option<DuplicateLook> {
        Some(DuplicateLook::around(class.filter(|c| c.active)?, point?, at))
    }

    /// What the store reads for this look.
    fn near(&self) -> store::Near<'_> {
        store::Near { since: &self.since, bbox: self.bbox() }
    }

    /// The candidates read for this look that are within its radius.
    fn candidates(&self, nearby: Vec<store::Nearby>) -> Vec<DuplicateCandidate> {
        nearby.into_iter().filter_map(|other| self.candidate(other)).collect()
    }

    /// The box (degrees) that holds every point within the radius; the store reads the box,
    /// [`DuplicateLook::candidate`] keeps what is within the radius.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        let p = self.point;
        let dlat = self.radius_m / 111_320.0;
        let dlng = dlat / p.1.to_radians().cos().max(0.01);
        (p.0 - dlng, p.1 - dlat, p.0 + dlng, p.1 + dlat)
    }

    fn candidate(&self, other: store::Nearby) -> Option<DuplicateCandidate> {
        let d = haversine_m(self.point, (other.lng?, other.lat?));
        (d <= self.radius_m).then(|| DuplicateCandidate {
            id: other.id,
            number: other.number,
            distance_m: (d * 10.0).round() / 10.0,
        })
    }
}

/// States in which a case's likely duplicates are worth showing: still at intake, or waiting
/// to be filed or dispatched (before a department spends work on it).
pub const DUPLICATE_STATES: [&str; 4] = ["received", "accepted", "filed", "returned"];

/// Most suggestions shown for one case.
const MAX_SUGGESTIONS: usize = 5;

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let (dla, dlo) = ((b.1 - a.1).to_radians(), (b.0 - a.0).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

fn parse_point(lng: Option<f64>, lat: Option<f64>, datum: Option<&str>) -> Result<Option<(LngLat, Datum)>, CaseError> {
    match (lng, lat) {
        (None, None) => Ok(None),
        (Some(x), Some(y)) => {
            let p = LngLat::new(x, y).map_err(|e| CaseError::InvalidField(e.to_string()))?;
            let d = match datum {
                None => Datum::Wgs84,
                Some(s) => {
                    s.parse().map_err(|e: civgrid_geo::datum::UnknownDatum| CaseError::InvalidField(e.to_string()))?
                }
            };
            Ok(Some((p, d)))
        }
        _ => Err(CaseError::PartialLocation),
    }
}

fn clean_opt(s: &Option<String>, max: usize, what: &str) -> Result<Option<String>, CaseError> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max || t.chars().any(char::is_control) => {
            Err(CaseError::InvalidField(format!("{what} must be at most {max} printable characters")))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// The case service.
#[derive(Debug, Clone)]
pub struct Cases {
    db: Db,
    territory: Territory,
    hub: Hub,
    clock: Clock,
    intake: intake::Intake,
    /// The newest version of each class reported under, by code; checked on every report
    /// (see `Cases::route`), so it can be behind the catalogue but is never used when it is.
    held_classes: Arc<RwLock<HashMap<String, CaseClass>>>,
}

/// What [`Cases::route`] found for a new report.
#[derive(Debug, Default)]
struct Routed {
    located: Option<Located>,
    class: Option<CaseClass>,
    duplicates: Vec<DuplicateCandidate>,
}

/// Where "now" comes from: the system clock, or a fixed instant when replaying history (the
/// demo seeds months of cases through the same code path).
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    #[default]
    System,
    At(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::At(t) => t,
        }
    }

    /// Now to the millisecond, as the tables store times: a time set on a row in memory then
    /// equals the one read back (the indicators compare the two).
    pub fn now_stored(self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        self.now().trunc_subsecs(3)
    }
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Cases {
    /// Must be called within a Tokio runtime: it starts the report writer (intake.rs).
    pub fn new(db: Db, territory: Territory, hub: Hub) -> Cases {
        let intake = intake::Intake::start(db.clone());
        Cases { db, territory, hub, clock: Clock::System, intake, held_classes: Arc::default() }
    }

    /// The same service acting at a given instant (for replaying history).
    pub fn at(&self, t: DateTime<Utc>) -> Cases {
        Cases { clock: Clock::At(t), ..self.clone() }
    }

    /// Takes a report: validates it, routes it (point → grid, class → department later at
    /// dispatch), stores it as `received` with its first transition, and suggests duplicates.
    pub async fn report(&self, reported_by: &str, r: NewReport) -> Result<ReportOutcome, CaseError> {
        let description = r.description.trim();
        if description.is_empty()
            || description.chars().count() > MAX_DESCRIPTION_CHARS
            || description.chars().any(is_unprintable)
        {
            return Err(CaseError::InvalidDescription);
        }
        let channel = r.channel.clone().unwrap_or_else(|| "web".into());
        if !CHANNELS.contains(&channel.as_str()) {
            return Err(CaseError::UnknownChannel(channel.chars().take(32).collect()));
        }
        let point = parse_point(r.lng, r.lat, r.datum.as_deref())?;
        if point.is_none() && !FREE_TEXT_CHANNELS.contains(&channel.as_str()) {
            return Err(CaseError::MissingLocation(channel));
        }
        let address = clean_opt(&r.address, 200, "address")?;
        let reporter_name = clean_opt(&r.reporter_name, 64, "reporter_name")?;
        let reporter_contact = clean_opt(&r.reporter_contact, 128, "reporter_contact")?;
        let key = clean_opt(&r.idempotency_key, 128, "idempotency_key")?;
        let media_url = clean_opt(&r.media_url, MAX_MEDIA_URL_CHARS, "media_url")?;
        if media_url.as_deref().is_some_and(|u| !valid_media_url(u)) {
            return Err(CaseError::InvalidField(format!(
                "media_url must be an http:// or https:// URL with a host and no user name or password, \
                 at most {MAX_MEDIA_URL_CHARS} characters"
            )));
        }
        use chrono::SubsecRound;
        let now_dt = self.clock.now();
        let Routed { located, class, duplicates } = self.route(point, r.class_code.as_deref(), now_dt).await?;
        let class = match (&r.class_code, class) {
            (Some(code), c) => {
                Some(c.filter(|c| c.active).ok_or_else(|| CaseError::UnknownClass(code.chars().take(32).collect()))?)
            }
            (None, _) => None,
        };
        let gcj = located.as_ref().map(|l| (l.lng_gcj02, l.lat_gcj02));

        // Written with the other reports waiting (intake.rs); answered once committed.
        let (outcome, event) = self
            .intake
            .submit(intake::Prepared {
                channel: channel.clone(),
                description: description.to_owned(),
                class: class.map(|c| (c.code, c.version)),
                point: gcj,
                grid_code: located.map(|l| l.grid.code),
                address,
                media_url,
                reporter_name,
                reporter_contact,
                reported_by: reported_by.to_owned(),
                idempotency_key: key,
                now: now_dt.trunc_subsecs(3),
                duplicates,
                photo_key: (reported_by == REPORTER_ACTOR).then(PhotoKey::new),
                covered: None,
            })
            .await?;
        if let Some(event) = event {
            self.hub.after_commit(event);
            metrics::counter!("civgrid_reports_total", "channel" => channel).increment(1);
        }
        Ok(outcome)
    }

    /// A new report's place, class and likely duplicates: the reads that need no write lock,
    /// from the pool, before the report joins the intake queue.
    ///
    /// The point is located with the territory index this node holds and the class is the
    /// version this node holds; one read then fetches the duplicate candidates and, in passing,
    /// the stored territory revision and the class's newest version. Only if either has moved
    /// on is the report routed again, reading each afresh. So a report is never routed with
    /// geometry or a class older than the last committed change — also one made through another
    /// node — and the common report (a class and a point) costs one read instead of three: on
    /// SQLite every read wakes a connection's thread and then the runtime, which was most of
    /// the CPU a report took (issue 3's intake benchmark).
    async fn route(
        &self,
        point: Option<(LngLat, Datum)>,
        class_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Routed, CaseError> {
        let held_place = match point {
            Some((p, d)) => Some(self.territory.locate_held(p, d).await?),
            None => None,
        };
        let held_class = match class_code {
            Some(code) => Some(self.held_class(code).await?),
            None => None,
        };
        if held_place.is_none() && held_class.is_none() {
            return Ok(Routed::default());
        }
        let gcj = held_place.as_ref().map(|(l, _)| (l.lng_gcj02, l.lat_gcj02));
        let look = DuplicateLook::for_report(held_class.as_ref().and_then(Option::as_ref), gcj, now);
        let near = look.as_ref().map(DuplicateLook::near);
        let checked = store::check_report(
            &self.db,
            held_place.is_some().then_some(Territory::REVISION_SQL),
            class_code.map(|code| (code, near)),
        )
        .await?;
        let place_stale = match (&held_place, checked.territory_revision) {
            (Some((_, held)), Some(stored)) => stored > *held,
            _ => false,
        };
        let class_stale = held_class.as_ref().is_some_and(|c| c.as_ref().map(|c| c.version) != checked.class_version);
        if !place_stale && !class_stale {
            let duplicates = look.map(|l| l.candidates(checked.nearby)).unwrap_or_default();
            return Ok(Routed { located: held_place.map(|(l, _)| l), class: held_class.flatten(), duplicates });
        }

        // Something changed since this node read it: route again from what is stored.
        let located = match point {
            Some((p, d)) => Some(self.territory.locate(p, d).await?),
            None => None,
        };
        let class = match class_code {
            Some(code) => self.read_class(code).await?,
            None => None,
        };
        let gcj = located.as_ref().map(|l| (l.lng_gcj02, l.lat_gcj02));
        let mut duplicates = Vec::new();
        if let (Some(look), Some(c)) = (DuplicateLook::for_report(class.as_ref(), gcj, now), &class) {
            let checked = store::check_report(&self.db, None, Some((&c.code, Some(look.near())))).await?;
            duplicates = look.candidates(checked.nearby);
        }
        Ok(Routed { located, class, duplicates })
    }

    /// The newest version of a class this node holds, read (and then held) if it holds none.
    async fn held_class(&self, code: &str) -> Result<Option<CaseClass>, CaseError> {
        let held = self.held_classes.read().ok().and_then(|h| h.get(code).cloned());
        match held {
            Some(c) => Ok(Some(c)),
            None => self.read_class(code).await,
        }
    }

    /// The newest version of a class as stored, which this node then holds.
    async fn read_class(&self, code: &str) -> Result<Option<CaseClass>, CaseError> {
        let class = store::current_class_now(&self.db, code).await?;
        if let Ok(mut held) = self.held_classes.write() {
            match &class {
                Some(c) => {
                    held.insert(code.to_owned(), c.clone());
                }
                None => {
                    held.remove(code);
                }
            }
        }
        Ok(class)
    }

    /// The likely duplicates of cases waiting in queues (those in [`DUPLICATE_STATES`] with a
    /// class and a place), for all of them in one query: earlier open cases of the same class
    /// within the class's radius, reported within its window before the case, nearest first.
    /// Advisory, like the suggestions a reporter is given: merging is the intake operator's
    /// call, through the `merge` transition. `classes` are the catalogue's current versions.
    /// Only cases in the reader's areas are suggested: a reader scoped to one subdistrict does
    /// not learn of a case across its boundary.
    pub async fn duplicate_suggestions(
        &self,
        p: &Principal,
        cases: &[&CaseRow],
        classes: &[CaseClass],
    ) -> Result<HashMap<i64, Vec<DuplicateCandidate>>, CaseError> {
        let mut looks = HashMap::new();
        let mut probes = Vec::new();
        for c in cases.iter().filter(|c| DUPLICATE_STATES.contains(&c.state.as_str())) {
            let class = classes.iter().find(|k| Some(&k.code) == c.class_code.as_ref());
            let (Some(class), Some(x), Some(y)) = (class, c.lng, c.lat) else { continue };
            if class.duplicate_radius_m <= 0.0 {
                continue;
            }
            let look = DuplicateLook::around(class, (x, y), c.created_at);
            probes.push(store::Probe {
                case_id: c.id,
                class_code: class.code.clone(),
                since: look.since.clone(),
                bbox: look.bbox(),
            });
            looks.insert(c.id, look);
        }
        let seen = store::Visibility::of(p);
        let areas: Vec<String> = seen.areas.iter().chain(&seen.oversight_areas).cloned().collect();
        let mut found: HashMap<i64, Vec<DuplicateCandidate>> = HashMap::new();
        for (case_id, other) in store::nearby_open_cases_of(&self.db, &probes).await? {
            if !seen_by_area(&areas, other.grid_code.as_deref()) {
                continue;
            }
            if let Some(d) = looks.get(&case_id).and_then(|look| look.candidate(other)) {
                found.entry(case_id).or_default().push(d);
            }
        }
        for list in found.values_mut() {
            list.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
            list.truncate(MAX_SUGGESTIONS);
        }
        Ok(found)
    }

    /// One case as the caller may see it; a read of its reporter is recorded (查阅留痕) before
    /// the answer. Read in a read-only transaction: no write lock is taken to read.
    pub async fn get(&self, p: &Principal, id: i64, request_id: Option<&str>) -> Result<CaseView, CaseError> {
        let mut tx = self.db.begin_read().await?;
        let case = store::find_case(&mut tx, id).await?.ok_or(CaseError::NotFound(id))?;
        let sight = self.sight(&mut tx, p, &case).await?.ok_or(CaseError::NotFound(id))?;
        let departments = store::departments_of(&mut tx, id).await?;
        tx.commit().await?;
        let mut view = self.view(case, departments).await?;
        if sight == Sight::Full {
            view.reporter = ReporterView::of(&view.case);
            if view.reporter.is_some() {
                self.record_reads(p, CASE_READ_PURPOSE, vec![id], request_id).await?;
            }
        }
        Ok(view)
    }

    /// The view of a case just read or moved (the reporter is added by [`Cases::get`] only).
    async fn view(&self, case: CaseRow, departments: Vec<(String, String)>) -> Result<CaseView, CaseError> {
        let st = State::parse(&case.state).unwrap_or(State::Received);
        let transitions = store::transitions(&self.db, case.id).await?;
        Ok(CaseView {
            state_label: st.label_zh(),
            next_actions: state::actions_from(st),
            departments,
            transitions,
            reporter: None,
            case,
        })
    }

    /// Evaluation indicators for a scope over `[from, to)`; see [`indicators`] for definitions.
    pub async fn indicators(
        &self,
        scope: &indicators::Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<indicators::Indicators, CaseError> {
        if to <= from {
            return Err(CaseError::InvalidField("`to` must be after `from`".into()));
        }
        if !store::stats_built(&self.db).await? {
            self.rebuild_indicators().await?;
        }
        Ok(indicators::compute(&self.db, scope, from, to).await?)
    }

    /// Recomputes the rows the indicators are kept in from the records (after the migration
    /// that introduced them, or after cases were written behind the loop's back), queued with
    /// the other writes.
    pub async fn rebuild_indicators(&self) -> Result<(), CaseError> {
        let calendar = self.calendar().await?;
        let backend = self.db.backend();
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<(), CaseError>> {
                Box::pin(async move { Ok(rollup::rebuild(tx, backend, &calendar).await?) })
            })
            .await
    }

    /// Escalates overdue cases one level per elapsed time limit (community → subdistrict →
    /// district → city): overdue at all means level 1, each further full limit one more.
    /// Safe to run on every node at once: a level is raised only from the value that was read.
    pub async fn escalate_overdue(&self) -> Result<usize, CaseError> {
        const LEVELS: [&str; 4] = ["社区", "街道", "区", "市"];
        let now_dt = self.clock.now();
        let now = text(now_dt);
        let calendar = self.calendar().await?;
        let mut raised = 0;
        for (id, code, version, deadline, level, state) in store::overdue_cases(&self.db, &now).await? {
            let (calendar, now) = (calendar.clone(), now.clone());
            // One write unit per case; `None` when there was nothing to raise (nothing written).
            let raised_one = self
                .db
                .write(move |tx| -> crate::db::BoxFuture<'_, Result<Option<CaseEvent>, CaseError>> {
                    Box::pin(async move {
                        let Some(class) = store::class_version(tx, &code, version).await? else { return Ok(None) };
                        let limit = u32::try_from(class.time_limit).unwrap_or(u32::MAX);
                        let (mut due, mut target) = (deadline, 0_i64);
                        while due < now_dt && target < 3 {
                            target += 1;
                            due = if class.time_limit_unit == "working_hours" {
                                calendar.add_working_hours(due, limit)
                            } else {
                                calendar.add_working_days(due, limit)
                            };
                        }
                        if target <= level || !store::raise_escalation(tx, id, level, target, &now).await? {
                            return Ok(None);
                        }
                        let note = format!(
                            "超期自动升级：{} → {}",
                            LEVELS[level.clamp(0, 3) as usize],
                            LEVELS[target.clamp(0, 3) as usize]
                        );
                        let record = store::NewTransition {
                            case_id: id,
                            actor: "system:escalation",
                            role: "system",
                            action: "escalate",
                            from: Some(&state),
                            to: &state,
                            note: Some(&note),
                            at: &now,
                            // The level was raised in SQL: the row is read back.
                            after: store::After::ReadBack,
                        };
                        trace::record(tx, &record).await?;
                        let case = store::find_case(tx, id).await?.ok_or(CaseError::NotFound(id))?;
                        let departments = store::departments_of(tx, id).await?.into_iter().map(|(d, _)| d).collect();
                        Ok(Some(event_of(&case, "escalate", departments, &now)))
                    })
                })
                .await?;
            if let Some(event) = raised_one {
                self.hub.after_commit(event);
                raised += 1;
            }
        }
        Ok(raised)
    }

    /// Cases the caller may see, newest first, optionally by state; the reporter shown (and the
    /// read recorded, one access row per case) where the caller works the case.
    pub async fn list(
        &self,
        p: &Principal,
        state_filter: Option<&str>,
        limit: i64,
        request_id: Option<&str>,
    ) -> Result<Vec<CaseItem>, CaseError> {
        if let Some(s) = state_filter {
            if State::parse(s).is_none() {
                return Err(CaseError::InvalidField(format!(
                    "unknown state `{}`",
                    s.chars().take(32).collect::<String>()
                )));
            }
        }
        let seen = store::Visibility::of(p);
        let listed = store::list_visible(&self.db, &seen, state_filter, limit.clamp(1, 500)).await?;
        let mut read = Vec::new();
        let items: Vec<CaseItem> = listed
            .into_iter()
            .map(|(case, full)| {
                let reporter = full.then(|| ReporterView::of(&case)).flatten();
                if reporter.is_some() {
                    read.push(case.id);
                }
                CaseItem { case, reporter }
            })
            .collect();
        self.record_reads(p, CASE_READ_PURPOSE, read, request_id).await?;
        Ok(items)
    }

    /// A page of the cases the caller may see in `states` (the pages' queues), and whether
    /// there are more beyond it. Reporters are not shown, so no read is recorded.
    pub async fn page(
        &self,
        p: &Principal,
        states: &[&str],
        at: PageAt,
        limit: i64,
    ) -> Result<(Vec<CaseRow>, bool), CaseError> {
        Ok(store::list_visible_page(&self.db, &Visibility::of(p), states, at, limit).await?)
    }

    /// The newest live cases the caller may see that have a place, as the JSON array of rows
    /// the command map draws (fields in [`MAP_CASE_FIELDS`] order), built by the database.
    pub async fn map_json(&self, p: &Principal, limit: i64) -> Result<String, CaseError> {
        Ok(store::live_visible_json(&self.db, &Visibility::of(p), limit).await?)
    }
}

/// Control characters other than line breaks and tabs (free text may have paragraphs).
fn is_unprintable(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// A satisfaction rating (回访/评价): 1–5.
fn valid_rating(rating: Option<i64>) -> Result<i64, CaseError> {
    rating.filter(|r| (1..=5).contains(r)).ok_or(CaseError::InvalidRating)
}

/// A case takes one rating, whoever gives it (the callback operator or the reporter).
fn unrated(case: &CaseRow) -> Result<(), CaseError> {
    match case.rating {
        Some(_) => Err(CaseError::AlreadyRated),
        None => Ok(()),
    }
}

fn event_of(case: &CaseRow, action: &str, departments: Vec<String>, at: &str) -> CaseEvent {
    CaseEvent {
        case_id: case.id,
        number: case.number.clone(),
        action: action.to_owned(),
        state: case.state.clone(),
        grid_code: case.grid_code.clone(),
        departments,
        at: at.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_media_url;

    #[test]
    fn media_urls_are_parsed_not_prefix_checked() {
        for ok in ["https://example.org/p.jpg", "http://img.example.cn:8080/a?b=c#d", "HTTPS://Example.org/x"] {
            assert!(valid_media_url(ok), "{ok}");
        }
        let long = format!("https://example.org/{}", "a".repeat(super::MAX_MEDIA_URL_CHARS));
        for bad in [
            "https:evil.example/x",
            "https:/evil.example/x",
            "http://user:pw@example.org/",
            "https://user@example.org/",
            "https://",
            "javascript:alert(1)",
            "ftp://example.org/x",
            "https://exa mple.org/",
            "//example.org/x",
            long.as_str(),
        ] {
            assert!(!valid_media_url(bad), "{bad}");
        }
    }
}
