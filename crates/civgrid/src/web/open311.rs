//! Open311 GeoReport v2 at `/open311/v2/` (http://wiki.open311.org/GeoReport_v2), and the admin
//! endpoints that issue and revoke its API keys.
//!
//! Every resource answers in the format its extension names (`.xml`, the required one, or
//! `.json`), errors included: `<errors><error><code/><description/></error></errors>` or
//! `[{"code":…,"description":…}]`, with 404 for what does not exist, 403 for a missing or bad
//! `api_key` and 400 for everything else (the spec's rule, which also covers failures on our
//! side). Both formats are rendered from one tree, so they cannot drift apart (the spec's
//! "Spark convention"); XML is written by `quick_xml` with every text escaped.

use std::io::Write;

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, Auth, RequestId};
use super::AppState;
use crate::cases::{public, CaseClass, CaseError};
use crate::open311::{self, KeyError, Keys, Open311Error, Params, ServiceRequest};
use crate::staff::Role;
use crate::territory::TerritoryError;

mod georeport;

use georeport::{
    CreateQuery, CreatedRequest, Discovery, GeoReportError, GeoService, GeoServiceRequest, JurisdictionQuery,
    NewServiceRequest, RequestToken, RequestsQuery, ServiceDefinition,
};

/// GeoReport v2 answers JSON or XML by the resource's extension: each resource has a handler
/// per extension (one operation each in the document), except those whose last segment is an
/// id with its extension (`{file}`), which answer both. Anything else under `/open311/v2/`
/// (any method) is the spec's 404 in the format asked for.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(georeport_discovery_json))
        .routes(routes!(georeport_discovery_xml))
        .routes(routes!(georeport_services_json))
        .routes(routes!(georeport_services_xml))
        .routes(routes!(georeport_service_definition))
        .routes(routes!(georeport_requests_json, georeport_create_request_json))
        .routes(routes!(georeport_requests_xml, georeport_create_request_xml))
        .routes(routes!(georeport_request))
        .routes(routes!(georeport_token))
        .route("/open311/v2/{*rest}", axum::routing::any(unknown_resource))
        .routes(routes!(list_keys, issue_key))
        .routes(routes!(revoke_key))
}

/// An Open311 API key as listed (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Key {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Null while the key works.
    #[serde(serialize_with = "super::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /api/v1/admin/open311-keys`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Keys {
    pub keys: Vec<Open311Key>,
}

/// `POST /api/v1/admin/open311-keys`: the key, in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedOpen311Key {
    pub id: i64,
    pub name: String,
    pub key: String,
}

/// The GeoReport specification URL, as discovery names it.
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this endpoint's discovery document last changed.
const CHANGESET: &str = "2026-11-22T00:00:00+08:00";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// The last path segment split into its stem and format (`033.json` → `033`, JSON).
fn split_format(segment: &str) -> Option<(&str, Format)> {
    let (stem, ext) = segment.rsplit_once('.')?;
    let format = match ext.to_ascii_lowercase().as_str() {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((stem, format))
}

// ---- one tree, two renderings -------------------------------------------------------------

/// A response body. `List(item, …)` renders as a JSON array, and in XML as one `<item>` element
/// per entry inside the parent element.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Text(String),
    Obj(Vec<(&'static str, Node)>),
    List(&'static str, Vec<Node>),
}

fn text(s: impl Into<String>) -> Node {
    Node::Text(s.into())
}

fn opt_text(s: Option<String>) -> Node {
    s.map_or(Node::Null, Node::Text)
}

impl Node {
    fn json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => json!(i),
            Node::Num(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Text(s) => Value::String(s.clone()),
            Node::Obj(fields) => Value::Object(fields.iter().map(|(k, v)| ((*k).to_owned(), v.json())).collect()),
            Node::List(_, items) => Value::Array(items.iter().map(Node::json).collect()),
        }
    }
}

/// Drops the characters XML 1.0 cannot carry even escaped (C0 controls other than tab, line
/// feed and carriage return; U+FFFE, U+FFFF), so any stored text yields well-formed XML.
fn xml_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let ok =
        |c: char| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if s.chars().all(ok) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.chars().filter(|c| ok(*c)).collect())
    }
}

fn write_node<W: Write>(w: &mut quick_xml::Writer<W>, tag: &str, node: &Node, root: bool) -> std::io::Result<()> {
    let scalar = match node {
        Node::Null => None,
        Node::Bool(b) => Some(b.to_string()),
        Node::Int(i) => Some(i.to_string()),
        Node::Num(f) => Some(f.to_string()),
        Node::Text(s) => Some(xml_safe(s).into_owned()),
        Node::Obj(fields) => {
            w.write_event(Event::Start(BytesStart::new(tag)))?;
            for (k, v) in fields {
                write_node(w, k, v, false)?;
            }
            return w.write_event(Event::End(BytesEnd::new(tag)));
        }
        Node::List(item, items) => {
            if items.is_empty() && !root {
                return w.write_event(Event::Empty(BytesStart::new(tag)));
            }
            w.write_event(Event::Start(BytesStart::new(tag)))?;
            for i in items {
                write_node(w, item, i, false)?;
            }
            return w.write_event(Event::End(BytesEnd::new(tag)));
        }
    };
    match scalar {
        None => w.write_event(Event::Empty(BytesStart::new(tag))),
        Some(s) => {
            w.write_event(Event::Start(BytesStart::new(tag)))?;
            w.write_event(Event::Text(BytesText::new(&s)))?;
            w.write_event(Event::End(BytesEnd::new(tag)))
        }
    }
}

fn xml(root: &str, node: &Node) -> std::io::Result<Vec<u8>> {
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    write_node(&mut w, root, node, true)?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn reply(format: Format, status: StatusCode, root: &str, node: &Node) -> Response {
    match format {
        Format::Json => (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], node.json().to_string())
            .into_response(),
        Format::Xml => match xml(root, node) {
            Ok(body) => (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response(),
            Err(e) => {
                tracing::error!(error.cause = %e, "open311 xml rendering failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
    }
}

// ---- errors --------------------------------------------------------------------------------

/// A GeoReport error response.
#[derive(Debug)]
struct Failure {
    format: Format,
    status: StatusCode,
    description: String,
}

impl Failure {
    fn new(format: Format, status: StatusCode, description: impl Into<String>) -> Failure {
        Failure { format, status, description: description.into() }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let error = Node::Obj(vec![
            ("code", Node::Int(i64::from(self.status.as_u16()))),
            ("description", Node::Text(self.description)),
        ]);
        reply(self.format, self.status, "errors", &Node::List("error", vec![error]))
    }
}

/// The spec's statuses: 400, 403, 404. Our own failures are logged here, once, and answered as
/// the spec's 400 "general service error" with the request id, never database text.
fn fail(call: &Call, e: Open311Error) -> Failure {
    let (status, description) = match &e {
        Open311Error::BadRequest(d) => (StatusCode::BAD_REQUEST, d.clone()),
        Open311Error::Forbidden(d) => (StatusCode::FORBIDDEN, d.clone()),
        Open311Error::NotFound(d) => (StatusCode::NOT_FOUND, d.clone()),
        Open311Error::Store(_) | Open311Error::Internal(_) => {
            tracing::error!(error.cause = %e, "open311 request failed");
            let rid = call.request_id.as_deref().unwrap_or("-");
            (StatusCode::BAD_REQUEST, format!("general service error; please try again later (request id {rid})"))
        }
    };
    Failure::new(call.format, status, description)
}

fn territory_error(e: TerritoryError) -> Open311Error {
    match e {
        TerritoryError::Store(s) => Open311Error::Store(s),
        TerritoryError::OutsideTerritory { .. } => {
            Open311Error::BadRequest("lat/long is outside the territory this jurisdiction serves".into())
        }
        other => Open311Error::BadRequest(other.to_string()),
    }
}

fn case_error(e: CaseError) -> Open311Error {
    match e {
        CaseError::Store(s) => Open311Error::Store(s),
        CaseError::Ledger(l) => Open311Error::Internal(l.to_string()),
        CaseError::Territory(t) => territory_error(t),
        CaseError::UnknownClass(code) => Open311Error::NotFound(format!("service_code `{code}` was not found")),
        CaseError::InvalidDescription => Open311Error::BadRequest(format!(
            "description must be at most {} characters",
            crate::cases::MAX_DESCRIPTION_CHARS
        )),
        CaseError::MissingLocation(_) | CaseError::PartialLocation => {
            Open311Error::BadRequest("a location is required: send lat and long (WGS-84 decimal degrees)".into())
        }
        other => Open311Error::BadRequest(other.to_string()),
    }
}

// ---- the call: format, parameters, request id -----------------------------------------------

/// What every GeoReport resource starts from: the format (from the extension), the stem of the
/// last path segment (an id, code or token), the query parameters and the request id.
#[derive(Debug)]
struct Call {
    format: Format,
    stem: String,
    params: Params,
    request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Call {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let segment = parts.uri.path().rsplit('/').next().unwrap_or_default();
        let (stem, format) = split_format(segment).ok_or_else(|| {
            Failure::new(Format::Xml, StatusCode::NOT_FOUND, "unknown format: end the resource with .xml or .json")
        })?;
        let query = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map_err(|e| {
            Failure::new(format, StatusCode::BAD_REQUEST, format!("the query string cannot be read: {}", e.body_text()))
        })?;
        Ok(Call {
            format,
            stem: stem.to_owned(),
            params: Params::new(query.0),
            request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
        })
    }
}

/// The district this endpoint serves: (code, name).
async fn district(state: &AppState) -> Result<Option<(String, String)>, Open311Error> {
    let areas = state.territory.areas().await.map_err(territory_error)?;
    Ok(areas.into_iter().find(|a| a.level == "district").map(|a| (a.code, a.name)))
}

/// One jurisdiction is served, so `jurisdiction_id` is optional; when given it must be the
/// district code ("404 - jurisdiction_id provided was not found").
async fn check_jurisdiction(state: &AppState, call: &Call) -> Result<(), Open311Error> {
    let Some(given) = call.params.get("jurisdiction_id") else { return Ok(()) };
    match district(state).await? {
        Some((code, _)) if code == given => Ok(()),
        Some((code, name)) => Err(Open311Error::NotFound(format!(
            "jurisdiction_id `{}` was not found; this endpoint serves {code} ({name})",
            given.chars().take(40).collect::<String>()
        ))),
        None => Err(Open311Error::NotFound("jurisdiction_id was not found: no territory is set up yet".into())),
    }
}

async fn current_classes(state: &AppState) -> Result<Vec<CaseClass>, Open311Error> {
    state.cases.classes().await.map_err(case_error)
}

// ---- resources -----------------------------------------------------------------------------

/// `GET /open311/v2/discovery.{xml,json}`
async fn discovery(State(state): State<AppState>, headers: HeaderMap, call: Call) -> Result<Response, Failure> {
    let name = district(&state).await.map_err(|e| fail(&call, e))?.map_or_else(|| "civgrid".to_owned(), |(_, n)| n);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| !h.is_empty());
    let https = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).is_some_and(|p| p == "https");
    let url = match host {
        Some(h) => format!("{}://{h}/open311/v2", if https { "https" } else { "http" }),
        None => "/open311/v2".to_owned(),
    };
    let endpoint = Node::Obj(vec![
        ("specification", text(SPECIFICATION)),
        ("url", text(url)),
        ("changeset", text(CHANGESET)),
        ("type", text("production")),
        ("formats", Node::List("format", vec![text("text/xml"), text("application/json")])),
    ]);
    let doc = Node::Obj(vec![
        ("changeset", text(CHANGESET)),
        ("contact", text(format!("{name}社会治理网格化指挥中心（12345 政务服务便民热线）"))),
        (
            "key_service",
            text(format!(
                "提交诉求（POST requests）需要 api_key，请向{name}社会治理网格化指挥中心申请；查询无需 api_key。"
            )),
        ),
        ("endpoints", Node::List("endpoint", vec![endpoint])),
    ]);
    Ok(reply(call.format, StatusCode::OK, "discovery", &doc))
}

fn service_node(c: &CaseClass) -> Node {
    Node::Obj(vec![
        ("service_code", text(&c.code)),
        ("service_name", text(&c.minor_name)),
        ("description", text(&c.filing_criteria)),
        ("metadata", Node::Bool(false)),
        ("type", text("realtime")),
        ("keywords", text(open311::keywords(c))),
        ("group", text(&c.major_name)),
    ])
}

/// `GET /open311/v2/services.{xml,json}`: the active classes of the catalogue.
async fn services(State(state): State<AppState>, call: Call) -> Result<Response, Failure> {
    check_jurisdiction(&state, &call).await.map_err(|e| fail(&call, e))?;
    let classes = current_classes(&state).await.map_err(|e| fail(&call, e))?;
    let list = classes.iter().filter(|c| c.active).map(service_node).collect();
    Ok(reply(call.format, StatusCode::OK, "services", &Node::List("service", list)))
}

async fn active_class(state: &AppState, code: &str) -> Result<CaseClass, Open311Error> {
    current_classes(state).await?.into_iter().find(|c| c.active && c.code == code).ok_or_else(|| {
        Open311Error::NotFound(format!("service_code `{}` was not found", code.chars().take(40).collect::<String>()))
    })
}

/// `GET /open311/v2/services/{service_code}.{xml,json}`: our classes ask nothing beyond the
/// standard fields, so the definition has no attributes (and services say `metadata=false`).
async fn service_definition(State(state): State<AppState>, call: Call) -> Result<Response, Failure> {
    check_jurisdiction(&state, &call).await.map_err(|e| fail(&call, e))?;
    let class = active_class(&state, &call.stem).await.map_err(|e| fail(&call, e))?;
    let doc = Node::Obj(vec![("service_code", text(class.code)), ("attributes", Node::List("attribute", vec![]))]);
    Ok(reply(call.format, StatusCode::OK, "service_definition", &doc))
}

fn request_node(r: ServiceRequest) -> Node {
    Node::Obj(vec![
        ("service_request_id", text(r.service_request_id)),
        ("status", text(r.status)),
        ("status_notes", text(r.status_notes)),
        ("service_name", text(r.service_name)),
        ("service_code", text(r.service_code)),
        ("description", text(r.description)),
        ("agency_responsible", opt_text(r.agency_responsible)),
        ("service_notice", text(r.service_notice)),
        ("requested_datetime", text(r.requested_datetime)),
        ("updated_datetime", text(r.updated_datetime)),
        ("expected_datetime", opt_text(r.expected_datetime)),
        ("address", opt_text(r.address)),
        ("lat", r.lat.map_or(Node::Null, Node::Num)),
        ("long", r.long.map_or(Node::Null, Node::Num)),
        ("media_url", opt_text(r.media_url)),
    ])
}

fn render_requests(cases: Vec<public::PublicCase>) -> Node {
    let list = cases.iter().map(|c| request_node(open311::service_request(c))).collect();
    Node::List("request", list)
}

/// `GET /open311/v2/requests.{xml,json}` with service_request_id, service_code, start_date,
/// end_date and status; newest first, at most 1,000, by default the last 90 days.
async fn list_requests(State(state): State<AppState>, call: Call) -> Result<Response, Failure> {
    let run = async {
        check_jurisdiction(&state, &call).await?;
        let known: Vec<String> = current_classes(&state).await?.into_iter().map(|c| c.code).collect();
        let filter = open311::requests_filter(&call.params, &known, chrono::Utc::now())?;
        let cases = public::list(&state.db, &filter).await?;
        Ok::<_, Open311Error>(render_requests(cases))
    };
    let list = run.await.map_err(|e| fail(&call, e))?;
    Ok(reply(call.format, StatusCode::OK, "service_requests", &list))
}

/// `GET /open311/v2/requests/{service_request_id}.{xml,json}`: a list of one, as the spec says.
async fn find_request(State(state): State<AppState>, call: Call) -> Result<Response, Failure> {
    let run = async {
        check_jurisdiction(&state, &call).await?;
        let not_found = || {
            Open311Error::NotFound(format!(
                "service_request_id `{}` was not found",
                call.stem.chars().take(40).collect::<String>()
            ))
        };
        let id: i64 = call.stem.parse().map_err(|_| not_found())?;
        let case = public::find(&state.db, id).await?.ok_or_else(not_found)?;
        Ok::<_, Open311Error>(render_requests(vec![case]))
    };
    let list = run.await.map_err(|e| fail(&call, e))?;
    Ok(reply(call.format, StatusCode::OK, "service_requests", &list))
}

/// `GET /open311/v2/tokens/{token}.{xml,json}`: requests are created at once, so a token (the
/// case number, 受理编号) resolves to its service_request_id immediately.
async fn find_token(State(state): State<AppState>, call: Call) -> Result<Response, Failure> {
    let run = async {
        check_jurisdiction(&state, &call).await?;
        let id = public::id_by_number(&state.db, &call.stem).await?.ok_or_else(|| {
            Open311Error::NotFound(format!("token `{}` was not found", call.stem.chars().take(40).collect::<String>()))
        })?;
        Ok::<_, Open311Error>(Node::List(
            "request",
            vec![Node::Obj(vec![("service_request_id", text(id.to_string())), ("token", text(&call.stem))])],
        ))
    };
    let list = run.await.map_err(|e| fail(&call, e))?;
    Ok(reply(call.format, StatusCode::OK, "service_requests", &list))
}

/// `POST /open311/v2/requests.{xml,json}`, form-encoded, with an `api_key`. Everything is
/// checked before anything is written; the answer carries the service_request_id (never a token:
/// "This should not be returned if service_request_id is returned").
async fn create_request(
    State(state): State<AppState>,
    call: Call,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, Failure> {
    let run = async {
        let mut params = match form {
            Ok(Form(pairs)) => Params::new(pairs),
            Err(FormRejection::InvalidFormContentType(_)) => {
                return Err(Open311Error::BadRequest(
                    "the body must be application/x-www-form-urlencoded; charset=utf-8".into(),
                ))
            }
            Err(e) => return Err(Open311Error::BadRequest(format!("the form body cannot be read: {}", e.body_text()))),
        };
        params.fill_from(call.params.clone());
        let call = Call { params, format: call.format, stem: call.stem.clone(), request_id: call.request_id.clone() };
        check_jurisdiction(&state, &call).await?;
        let keys = Keys::new(state.db.clone());
        let key = match call.params.get("api_key") {
            None => return Err(Open311Error::Forbidden("api_key was not provided; POST requests need one".into())),
            Some(k) => keys.verify(k).await?.ok_or_else(|| {
                Open311Error::Forbidden("invalid api_key received -- can't proceed with create_request".into())
            })?,
        };
        let code = call
            .params
            .get("service_code")
            .ok_or_else(|| Open311Error::BadRequest("service_code was not provided".into()))?;
        let class = active_class(&state, code).await?;
        let request = open311::new_request(&call.params, &class)?;
        let outcome = state.cases.report(&key.reporter(), request.report).await.map_err(case_error)?;
        let case = outcome.case;
        let notice = format!(
            "已受理，受理编号 {}。{}",
            case.number,
            open311::service_notice(&class.minor_name, class.time_limit, &class.time_limit_unit)
        );
        Ok(Node::List(
            "request",
            vec![Node::Obj(vec![("service_request_id", text(case.id.to_string())), ("service_notice", text(notice))])],
        ))
    };
    let list = run.await.map_err(|e| fail(&call, e))?;
    Ok(reply(call.format, StatusCode::OK, "service_requests", &list))
}

/// Anything else under `/open311/v2/`: 404 in the format asked for (XML when none is).
async fn unknown_resource(uri: axum::http::Uri) -> Failure {
    let segment = uri.path().rsplit('/').next().unwrap_or_default();
    let format = split_format(segment).map_or(Format::Xml, |(_, f)| f);
    Failure::new(
        format,
        StatusCode::NOT_FOUND,
        "no such GeoReport v2 resource; see discovery.xml (discovery, services, requests, tokens)",
    )
}

// ---- the documented operations: one per resource and format ----------------------------------
//
// Errors are GeoReport's, not the API's envelope: a list of {code, description} (4XX), and
// nothing but the status when the answer cannot be rendered (5XX).

#[utoipa::path(get, path = "/open311/v2/discovery.json", tag = "open311", summary = "GeoReport v2 discovery (JSON)",
    responses((status = 200, description = "the discovery document", body = Discovery),
        (status = "4XX", description = "GeoReport errors", body = [GeoReportError]),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_discovery_json(state: State<AppState>, headers: HeaderMap, call: Call) -> Result<Response, Failure> {
    discovery(state, headers, call).await
}

#[utoipa::path(get, path = "/open311/v2/discovery.xml", tag = "open311", summary = "GeoReport v2 discovery (XML)",
    responses((status = 200, description = "`<discovery>`: the fields of the JSON form as elements",
            content_type = "text/xml", body = String),
        (status = "4XX", description = "`<errors><error><code/><description/></error></errors>`",
            content_type = "text/xml", body = String),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_discovery_xml(state: State<AppState>, headers: HeaderMap, call: Call) -> Result<Response, Failure> {
    discovery(state, headers, call).await
}

#[utoipa::path(get, path = "/open311/v2/services.json", tag = "open311", summary = "GeoReport v2 service list (JSON)",
    params(JurisdictionQuery),
    responses((status = 200, description = "the active services", body = [GeoService]),
        (status = "4XX", description = "GeoReport errors", body = [GeoReportError]),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_services_json(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    services(state, call).await
}

#[utoipa::path(get, path = "/open311/v2/services.xml", tag = "open311", summary = "GeoReport v2 service list (XML)",
    params(JurisdictionQuery),
    responses((status = 200, description = "`<services><service>…</service></services>`",
            content_type = "text/xml", body = String),
        (status = "4XX", description = "`<errors><error><code/><description/></error></errors>`",
            content_type = "text/xml", body = String),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_services_xml(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    services(state, call).await
}

#[utoipa::path(get, path = "/open311/v2/services/{file}", tag = "open311",
    summary = "GeoReport v2 service definition (JSON or XML by extension)",
    params(("file" = String, Path, description = "`<service_code>.json` or `<service_code>.xml`"), JurisdictionQuery),
    responses((status = 200, description = "the definition (no attributes); XML: `<service_definition>`",
            content((ServiceDefinition = "application/json"), (String = "text/xml"))),
        (status = "4XX", description = "GeoReport errors; XML: `<errors><error>…`",
            content(([GeoReportError] = "application/json"), (String = "text/xml"))),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_service_definition(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    service_definition(state, call).await
}

#[utoipa::path(get, path = "/open311/v2/requests.json", tag = "open311", summary = "GeoReport v2 service requests (JSON)",
    params(RequestsQuery),
    responses((status = 200, description = "service requests, newest first", body = [GeoServiceRequest]),
        (status = "4XX", description = "GeoReport errors", body = [GeoReportError]),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_requests_json(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    list_requests(state, call).await
}

#[utoipa::path(get, path = "/open311/v2/requests.xml", tag = "open311", summary = "GeoReport v2 service requests (XML)",
    params(RequestsQuery),
    responses((status = 200, description = "`<service_requests><request>…</request></service_requests>`",
            content_type = "text/xml", body = String),
        (status = "4XX", description = "`<errors><error><code/><description/></error></errors>`",
            content_type = "text/xml", body = String),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_requests_xml(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    list_requests(state, call).await
}

#[utoipa::path(post, path = "/open311/v2/requests.json", tag = "open311",
    summary = "GeoReport v2: file a service request with an api_key (JSON answer)",
    params(CreateQuery),
    request_body(content = NewServiceRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "the new request's id and notice", body = [CreatedRequest]),
        (status = "4XX", description = "GeoReport errors (403 for a missing or bad api_key)", body = [GeoReportError]),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_create_request_json(
    state: State<AppState>,
    call: Call,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, Failure> {
    create_request(state, call, form).await
}

#[utoipa::path(post, path = "/open311/v2/requests.xml", tag = "open311",
    summary = "GeoReport v2: file a service request with an api_key (XML answer)",
    params(CreateQuery),
    request_body(content = NewServiceRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`<service_requests><request><service_request_id/><service_notice/>…`",
            content_type = "text/xml", body = String),
        (status = "4XX", description = "`<errors><error><code/><description/></error></errors>` (403 for a missing or bad api_key)",
            content_type = "text/xml", body = String),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_create_request_xml(
    state: State<AppState>,
    call: Call,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, Failure> {
    create_request(state, call, form).await
}

#[utoipa::path(get, path = "/open311/v2/requests/{file}", tag = "open311",
    summary = "GeoReport v2: one service request (JSON or XML by extension)",
    params(("file" = String, Path, description = "`<service_request_id>.json` or `<service_request_id>.xml`"),
        JurisdictionQuery),
    responses((status = 200, description = "a list of one; XML: `<service_requests><request>…`",
            content(([GeoServiceRequest] = "application/json"), (String = "text/xml"))),
        (status = "4XX", description = "GeoReport errors; XML: `<errors><error>…`",
            content(([GeoReportError] = "application/json"), (String = "text/xml"))),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_request(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    find_request(state, call).await
}

#[utoipa::path(get, path = "/open311/v2/tokens/{file}", tag = "open311",
    summary = "GeoReport v2: the request of a token (the case number; JSON or XML by extension)",
    params(("file" = String, Path, description = "`<token>.json` or `<token>.xml`"), JurisdictionQuery),
    responses((status = 200, description = "a list of one; XML: `<service_requests><request>…`",
            content(([RequestToken] = "application/json"), (String = "text/xml"))),
        (status = "4XX", description = "GeoReport errors; XML: `<errors><error>…`",
            content(([GeoReportError] = "application/json"), (String = "text/xml"))),
        (status = "5XX", description = "the answer could not be rendered (no body)")))]
async fn georeport_token(state: State<AppState>, call: Call) -> Result<Response, Failure> {
    find_token(state, call).await
}

// ---- admin: API keys -----------------------------------------------------------------------

fn key_error(e: KeyError) -> ApiError {
    let code = match e {
        KeyError::Store(s) => return ApiError::from(s),
        KeyError::NotFound(_) => ErrorCode::Open311KeyNotFound,
        KeyError::Revoked => ErrorCode::Open311KeyRevoked,
        KeyError::InvalidName => ErrorCode::InvalidName,
        KeyError::InvalidKey => ErrorCode::InvalidKey,
    };
    ApiError::new(code, e.to_string())
}

async fn require_district_admin(state: &AppState, auth: &Auth) -> ApiResult<()> {
    let areas = state.territory.areas().await?;
    match areas.into_iter().find(|a| a.level == "district") {
        Some(d) => auth.require(Role::Admin, &d.code, "managing Open311 API keys"),
        None => Err(ApiError::from(TerritoryError::NoTerritory)),
    }
}

#[utoipa::path(get, path = "/api/v1/admin/open311-keys", tag = "open311", summary = "Open311 API keys (district admin)",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "every key, revoked ones included", body = Open311Keys)))]
async fn list_keys(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Open311Keys>> {
    require_district_admin(&state, &auth).await?;
    let keys = Keys::new(state.db.clone()).list().await.map_err(key_error)?;
    let keys = keys
        .into_iter()
        .map(|k| Open311Key { id: k.id, name: k.name, created_at: k.created_at, revoked_at: k.revoked_at })
        .collect();
    Ok(Json(Open311Keys { keys }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKey {
    /// Who the key is for (a system or an operator).
    name: String,
}

/// Issues an Open311 API key; the key is in this response only.
#[utoipa::path(post, path = "/api/v1/admin/open311-keys", tag = "open311",
    summary = "Issue an Open311 API key; shown once (district admin)",
    security(("bearer" = []), ("cookie" = [])), request_body = NewKey,
    responses((status = 201, description = "the key, shown once", body = IssuedOpen311Key)))]
async fn issue_key(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewKey>,
) -> ApiResult<impl IntoResponse> {
    require_district_admin(&state, &auth).await?;
    let (id, key) =
        Keys::new(state.db.clone()).issue(&auth.0.actor(), &body.name, rid.as_deref()).await.map_err(key_error)?;
    Ok((StatusCode::CREATED, Json(IssuedOpen311Key { id, name: body.name.trim().to_owned(), key })))
}

#[utoipa::path(delete, path = "/api/v1/admin/open311-keys/{id}", tag = "open311",
    summary = "Revoke an Open311 API key (district admin)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the key's id")),
    responses((status = 204, description = "revoked")))]
async fn revoke_key(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require_district_admin(&state, &auth).await?;
    Keys::new(state.db.clone()).revoke(&auth.0.actor(), id, rid.as_deref()).await.map_err(key_error)?;
    Ok(StatusCode::NO_CONTENT)
}
