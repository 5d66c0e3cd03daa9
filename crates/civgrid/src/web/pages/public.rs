//! The pages anyone may open without signing in: the citizen portal, the kiosk (a terminal in
//! a service hall, which returns to its start when left alone) and tracking a case by number.

use super::*;

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    l: Tr,
    page: Frame,
    classes: Vec<Opt>,
    /// The base-map tile URL for the report form's map (empty: none).
    tiles: String,
}

/// `GET /portal`: the citizen portal — report a problem, follow it by number.
pub(super) async fn portal(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let l = Tr(lang_of(&headers));
    match Labels::load(&state).await {
        Ok(labels) => html(
            StatusCode::OK,
            PortalPage {
                l,
                page: public_frame(l, &uri, &headers),
                classes: labels.class_options(),
                tiles: tiles(&state),
            }
            .render(),
        ),
        Err(e) => error_page(l, &uri, None, e),
    }
}

#[derive(Template)]
#[template(path = "kiosk.html")]
struct KioskPage {
    l: Tr,
    page: Frame,
}

/// `GET /kiosk`: a 24-hour self-service terminal's start — big buttons, no sign-in. It marks
/// the browser as a kiosk (the `kiosk=1` cookie), so the portal's pages lead back here and
/// return here after two minutes untouched; `/kiosk/exit` ends that.
pub(super) async fn kiosk(headers: HeaderMap, uri: Uri) -> Response {
    let l = Tr(lang_of(&headers));
    let mut page = frame(l, &uri, None);
    page.kiosk = true;
    page.nav = vec![];
    let mut resp = html(StatusCode::OK, KioskPage { l, page }.render());
    if let Ok(v) = "kiosk=1; Path=/; Max-Age=31536000; SameSite=Lax".parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /kiosk/exit`: the browser is no longer a kiosk.
pub(super) async fn kiosk_exit() -> Response {
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = "kiosk=; Path=/; Max-Age=0; SameSite=Lax".parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    l: Tr,
    page: Frame,
    number: String,
    found: Option<Tracked>,
}

pub struct Tracked {
    pub number: String,
    pub state: String,
    pub state_label: &'static str,
    pub class_label: String,
    pub description: String,
    pub agency: String,
    pub reported: String,
    pub updated: String,
    pub closed: String,
    pub end_note: String,
    pub rating: RatingOffer,
}

/// What the reporter may do about the rating (评价) of a followed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingOffer {
    /// Not closed yet: nothing to rate.
    NotYet,
    /// Closed and not rated: the form, to be sent with the contact left with the report.
    Open,
    /// Closed, not rated, reported without a contact: the callback operator will call.
    ByCallback,
    Rated,
}

#[derive(Debug, Deserialize)]
pub(super) struct TrackQuery {
    number: Option<String>,
}

/// `GET /portal/track?number=…`: a case's public progress by its number (no personal data).
pub(super) async fn track(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<TrackQuery>,
) -> Response {
    let l = Tr(lang_of(&headers));
    let number: String = q.number.as_deref().unwrap_or("").trim().chars().take(40).collect();
    let found = async {
        if number.is_empty() {
            return Ok::<_, ApiError>(None);
        }
        let Some(id) = crate::cases::public::id_by_number(&state.db, &number).await? else { return Ok(None) };
        let Some(c) = crate::cases::public::find(&state.db, id).await? else { return Ok(None) };
        let rateable = CaseState::parse(&c.state).is_some_and(|s| state::rule(Action::Rate).from.contains(&s));
        let rating = match (rateable, c.rated, c.reporter_reachable) {
            (false, _, _) => RatingOffer::NotYet,
            (true, true, _) => RatingOffer::Rated,
            (true, false, true) => RatingOffer::Open,
            (true, false, false) => RatingOffer::ByCallback,
        };
        Ok(Some(Tracked {
            number: c.number,
            state_label: l.state(&c.state),
            state: c.state,
            class_label: format!("{} › {}", c.group_name, c.class_name),
            description: c.description,
            agency: c.agency.unwrap_or_default(),
            reported: local_at(&c.created_at),
            updated: local_at(&c.updated_at),
            closed: c.closed_at.as_ref().map(local_at).unwrap_or_default(),
            end_note: c.end_note.unwrap_or_default(),
            rating,
        }))
    };
    match found.await {
        Ok(found) => {
            let status = if found.is_none() && !number.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
            html(status, TrackPage { l, page: public_frame(l, &uri, &headers), number, found }.render())
        }
        Err(e) => error_page(l, &uri, None, e),
    }
}
