//! The shapes GeoReport v2 answers and accepts, for the OpenAPI document. The answers themselves
//! are rendered from one `Node` tree in both formats (see the parent module), so these types
//! are never built: they say in the document what that tree holds. In XML every field is an
//! element of the same name, lists are `<services><service>…`, `<service_requests><request>…`,
//! `<errors><error>…`.
#![allow(dead_code)]

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// One GeoReport error; every failure answers a list of them (400, 403 or 404).
#[derive(Debug, ToSchema)]
pub struct GeoReportError {
    /// The HTTP status again (400, 403, 404).
    pub code: i64,
    pub description: String,
}

/// An endpoint in the discovery document.
#[derive(Debug, ToSchema)]
pub struct DiscoveryEndpoint {
    /// `http://wiki.open311.org/GeoReport_v2`.
    pub specification: String,
    pub url: String,
    pub changeset: String,
    /// `production`.
    pub r#type: String,
    /// `text/xml` and `application/json`.
    pub formats: Vec<String>,
}

/// `discovery.{json,xml}`.
#[derive(Debug, ToSchema)]
pub struct Discovery {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<DiscoveryEndpoint>,
}

/// A service: an active case class of the catalogue.
#[derive(Debug, ToSchema)]
pub struct GeoService {
    pub service_code: String,
    pub service_name: String,
    /// The filing criteria.
    pub description: String,
    /// Always false: no attributes beyond the standard fields.
    pub metadata: bool,
    /// Always `realtime`.
    pub r#type: String,
    pub keywords: String,
    pub group: String,
}

/// `services/{service_code}.{json,xml}`: no attributes.
#[derive(Debug, ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    #[schema(value_type = Vec<Object>)]
    pub attributes: Vec<serde_json::Value>,
}

/// A service request (a public case). Datetimes are W3C with the China Standard Time offset,
/// whole seconds (`2026-11-22T09:30:00+08:00`).
#[derive(Debug, ToSchema)]
pub struct GeoServiceRequest {
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: String,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: Option<String>,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    /// WGS-84.
    pub lat: Option<f64>,
    /// WGS-84.
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// A created request: its id and the handling notice (never a token).
#[derive(Debug, ToSchema)]
pub struct CreatedRequest {
    pub service_request_id: String,
    pub service_notice: String,
}

/// A token (the case number, 受理编号) resolved to its request.
#[derive(Debug, ToSchema)]
pub struct RequestToken {
    pub service_request_id: String,
    pub token: String,
}

/// The query of every GeoReport read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JurisdictionQuery {
    /// Optional: one jurisdiction is served; when given it must be the district code (else 404).
    pub jurisdiction_id: Option<String>,
}

/// `GET requests.{json,xml}`: newest first, at most 1,000, by default the last 90 days.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Optional; when given, the district code.
    pub jurisdiction_id: Option<String>,
    /// Comma-separated ids; overrides every other argument.
    pub service_request_id: Option<String>,
    /// Comma-separated service codes (each must exist).
    pub service_code: Option<String>,
    /// W3C datetime with a timezone; the window is at most 90 days.
    pub start_date: Option<String>,
    /// W3C datetime with a timezone.
    pub end_date: Option<String>,
    /// `open`, `closed` or both, comma-separated.
    pub status: Option<String>,
}

/// `POST requests.{json,xml}` query: the key and jurisdiction may come here or in the form.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateQuery {
    /// The API key (here or in the form; required in one of them, else 403).
    pub api_key: Option<String>,
    /// Optional; when given, the district code.
    pub jurisdiction_id: Option<String>,
}

/// The form of `POST requests.{json,xml}` (`application/x-www-form-urlencoded; charset=utf-8`).
#[derive(Debug, ToSchema)]
pub struct NewServiceRequest {
    /// Required here or in the query string.
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: String,
    /// WGS-84; required with `long` (requests are routed by position).
    pub lat: Option<f64>,
    /// WGS-84; required with `lat`.
    pub long: Option<f64>,
    /// Up to 200 characters; kept with the position, never located alone.
    pub address_string: Option<String>,
    /// Accepted only beside `lat`/`long`.
    pub address_id: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// Up to 4,000 characters; the service name when absent.
    pub description: Option<String>,
    /// An http(s) URL without credentials.
    pub media_url: Option<String>,
}
