//! The written access policy: who may call each routed endpoint.

use super::*;

/// Where a staff member's roles reach, relative to the seeded records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Scope {
    /// Their area, department and grid hold the records (祖庙; the case's lead department, the
    /// application's and certificate's department; the case's grid).
    Own,
    /// Another subdistrict (南庄), department and grid.
    Foreign,
    /// The whole district, the records' department and grid.
    District,
}

/// How far a grant must reach for a cell to be served.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reach {
    /// Any holder of the role (e.g. 无差别受理: any window clerk).
    Any,
    /// The holder's area, department or grid must hold the record (own and district scopes).
    Holds,
    /// Only a holder over the whole district (district-wide catalogues and calendars).
    District,
}

/// What a served caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shows {
    Full,
    /// Served without personal data (admin and auditor read cases without the reporter).
    NoPersonal,
}

pub(crate) type Grants = &'static [(Role, Reach, Shows)];

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Anyone, but the answer carries no personal data (holder's name, ID number, reporter).
    AnyoneNoPersonal,
    /// The catch-all of an unknown resource: the same 404 for everyone.
    Fallback,
    /// Anonymous → 401; every staff member is served.
    SignedIn,
    /// Anonymous → 401; the grants are served; every other role refused (403/404, a list
    /// without the record).
    Roles(Grants),
    /// Anonymous callers are served (an online application); staff by the grants.
    RolesOrOnline(Grants),
    /// Anonymous callers without the proof the policy asks for (an access key) are refused,
    /// whatever number they know; staff by the grants.
    RolesOrProof(Grants),
    /// A page: anonymous → the sign-in page; the roles (all staff when empty) served, others 403.
    Page(&'static [Role]),
}

use Reach::{Any, Holds};
use Role::*;
use Shows::{Full, NoPersonal};

pub(crate) const CASE_READ: Grants = &[
    (GridWorker, Holds, Full),
    (IntakeOperator, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
    (Commander, Holds, Full),
    (Handler, Holds, Full),
    (Admin, Holds, NoPersonal),
    (Auditor, Holds, NoPersonal),
];
pub(crate) const PHOTO_READ: Grants = &[
    (GridWorker, Holds, Full),
    (IntakeOperator, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
    (Commander, Holds, Full),
    (Handler, Holds, Full),
];
pub(crate) const PHOTO_ADD: Grants = &[
    (GridWorker, Holds, Full),
    (IntakeOperator, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
    (Handler, Holds, Full),
];
pub(crate) const SUPERVISE: Grants = &[(Commander, Holds, Full)];
pub(crate) const TAKE: Grants = &[(Handler, Holds, Full)];
pub(crate) const SUPERVISORY: Grants = &[
    (Commander, Holds, Full),
    (Admin, Holds, Full),
    (Auditor, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
];
pub(crate) const ADMIN: Grants = &[(Admin, Holds, Full)];
pub(crate) const ADMIN_ANY: Grants = &[(Admin, Any, Full)];
pub(crate) const DISTRICT_ADMIN: Grants = &[(Admin, Reach::District, Full)];
/// The change record and the metrics: administrators and auditors.
pub(crate) const CHANGES: Grants = &[(Admin, Any, Full), (Auditor, Any, Full)];
pub(crate) const APPLICATION_READ: Grants = &[(WindowClerk, Any, Full), (Approver, Holds, Full)];
pub(crate) const APPROVER: Grants = &[(Approver, Holds, Full)];
pub(crate) const CLERK: Grants = &[(WindowClerk, Any, Full)];
pub(crate) const CERTIFICATE_READ: Grants = &[(Approver, Holds, Full), (WindowClerk, Holds, Full)];
/// The issuing department, or an administrator (the policy is silent; this is today's rule).
pub(crate) const REVOKE: Grants = &[(Approver, Holds, Full), (Admin, Any, Full)];
pub(crate) const ISSUE: Grants = &[(Approver, Any, Full)];
/// The responsible unit of a rating: approvers and window clerks of the department.
pub(crate) const UNIT: Grants = &[(Approver, Holds, Full), (WindowClerk, Holds, Full)];
pub(crate) const RECTIFICATIONS: Grants =
    &[(Admin, Any, Full), (Auditor, Any, Full), (Approver, Any, Full), (WindowClerk, Any, Full)];
pub(crate) const STATISTICS: Grants = &[
    (Admin, Any, Full),
    (Auditor, Any, Full),
    (WindowClerk, Any, Full),
    (Approver, Any, Full),
    (Commander, Any, Full),
];

/// The policy: (method, path as routed, who). Paths are the router's own templates; a `#name`
/// after one marks a second row for the same endpoint with another request.
#[rustfmt::skip]
pub(crate) const POLICY: &[(&str, &str, Who)] = &[
    // ops and the document
    ("get", "/healthz", Who::Anyone),
    ("get", "/metrics", Who::Roles(CHANGES)),
    ("get", "/api/v1/openapi.json", Who::Anyone),
    // territory
    ("get", "/api/v1/locate", Who::Anyone),
    ("get", "/api/v1/grids.geojson", Who::Anyone),
    ("get", "/api/v1/areas", Who::Anyone),
    ("get", "/api/v1/areas/{code}", Who::Anyone),
    ("get", "/api/v1/grids/{code}", Who::Anyone),
    ("post", "/api/v1/admin/areas", Who::Roles(ADMIN)),
    ("patch", "/api/v1/admin/areas/{code}", Who::Roles(ADMIN)),
    ("post", "/api/v1/admin/grids/import", Who::Roles(DISTRICT_ADMIN)),
    ("patch", "/api/v1/admin/grids/{code}", Who::Roles(ADMIN)),
    ("put", "/api/v1/admin/grids/{code}/workers/{staff_id}", Who::Roles(ADMIN)),
    ("delete", "/api/v1/admin/grids/{code}/workers/{staff_id}", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/changes", Who::Roles(CHANGES)),
    // staff
    ("post", "/api/v1/auth/login", Who::Anyone),
    ("get", "/api/v1/auth/me", Who::SignedIn),
    ("get", "/api/v1/admin/departments", Who::Roles(ADMIN_ANY)),
    ("put", "/api/v1/admin/departments/{code}", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/staff", Who::Roles(ADMIN_ANY)),
    ("post", "/api/v1/admin/staff", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/staff/{id}", Who::Roles(ADMIN)),
    ("patch", "/api/v1/admin/staff/{id}", Who::Roles(ADMIN)),
    ("delete", "/api/v1/admin/staff/{id}/sessions", Who::Roles(ADMIN)),
    ("post", "/api/v1/admin/api-tokens", Who::Roles(ADMIN)),
    ("delete", "/api/v1/admin/api-tokens/{id}", Who::Roles(ADMIN)),
    // cases
    ("get", "/api/v1/case-classes", Who::Anyone),
    ("put", "/api/v1/admin/case-classes/{code}", Who::Roles(DISTRICT_ADMIN)),
    ("get", "/api/v1/admin/calendar", Who::SignedIn),
    ("put", "/api/v1/admin/calendar/{day}", Who::Roles(DISTRICT_ADMIN)),
    ("delete", "/api/v1/admin/calendar/{day}", Who::Roles(DISTRICT_ADMIN)),
    ("get", "/api/v1/admin/last-resort", Who::SignedIn),
    ("put", "/api/v1/admin/last-resort/{area}", Who::Roles(DISTRICT_ADMIN)),
    ("delete", "/api/v1/admin/last-resort/{area}", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/reports", Who::Anyone),
    ("get", "/api/v1/cases", Who::Roles(CASE_READ)),
    ("get", "/api/v1/map/cases", Who::Roles(CASE_READ)),
    ("get", "/api/v1/cases/{id}", Who::Roles(CASE_READ)),
    ("post", "/api/v1/cases/{id}/transitions", Who::Roles(SUPERVISE)),
    // The same endpoint, a write of the lead department: a handler of another department is refused.
    ("post", "/api/v1/cases/{id}/transitions#take", Who::Roles(TAKE)),
    ("post", "/api/v1/public/cases/{number}/rating", Who::Anyone),
    ("post", "/api/v1/public/cases/{number}/photos", Who::Anyone),
    ("get", "/api/v1/cases/{id}/photos", Who::Roles(PHOTO_READ)),
    ("post", "/api/v1/cases/{id}/photos", Who::Roles(PHOTO_ADD)),
    ("get", "/api/v1/cases/{id}/photos/{photo_id}", Who::Roles(PHOTO_READ)),
    ("get", "/api/v1/indicators", Who::Roles(SUPERVISORY)),
    ("get", "/api/v1/events", Who::SignedIn),
    // ledger: public, and no entry carries identifying content
    ("get", "/ledger/checkpoint", Who::Anyone),
    ("get", "/ledger/vkey", Who::Anyone),
    ("get", "/ledger/trust", Who::Anyone),
    ("get", "/ledger/tile/{*rest}", Who::AnyoneNoPersonal),
    ("get", "/api/v1/ledger/proof/inclusion", Who::Anyone),
    ("get", "/api/v1/ledger/proof/consistency", Who::Anyone),
    ("get", "/api/v1/ledger/entries/{kind}/{reference}", Who::AnyoneNoPersonal),
    // certificates: validity for anyone, content and bundle for the holder or the issuer
    ("post", "/api/v1/certificates", Who::Roles(ISSUE)),
    ("post", "/api/v1/certificates/verify", Who::Anyone),
    ("get", "/api/v1/certificates/{number}", Who::RolesOrProof(CERTIFICATE_READ)),
    ("get", "/api/v1/certificates/{number}/bundle", Who::RolesOrProof(CERTIFICATE_READ)),
    ("get", "/api/v1/certificates/{number}/check", Who::AnyoneNoPersonal),
    ("get", "/api/v1/certificates/{number}/qr.svg", Who::Anyone),
    ("post", "/api/v1/certificates/{number}/revoke", Who::Roles(REVOKE)),
    ("get", "/verify", Who::Anyone),
    ("get", "/verify/{number}", Who::Anyone),
    // services
    ("get", "/api/v1/service-items", Who::Anyone),
    ("get", "/api/v1/service-items/{code}", Who::Anyone),
    ("post", "/api/v1/admin/service-items", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/admin/service-deadlines/sweep", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/service-applications", Who::RolesOrOnline(CLERK)),
    ("get", "/api/v1/service-applications", Who::Roles(APPLICATION_READ)),
    ("get", "/api/v1/service-applications/{number}", Who::RolesOrProof(APPLICATION_READ)),
    ("post", "/api/v1/service-applications/{number}/decisions", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-applications/{number}/suspend", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-applications/{number}/resume", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-refusals", Who::Roles(CLERK)),
    ("get", "/api/v1/service-notices/{number}", Who::Anyone),
    ("get", "/api/v1/applicants/{id_number}/licences", Who::RolesOrProof(CLERK)),
    ("get", "/api/v1/applicants/{id_number}/applications", Who::RolesOrProof(CLERK)),
    ("post", "/api/v1/service-ratings", Who::Anyone),
    ("get", "/api/v1/service-rectifications", Who::Roles(RECTIFICATIONS)),
    ("post", "/api/v1/service-rectifications/{id}/reply", Who::Roles(UNIT)),
    ("post", "/api/v1/service-rectifications/{id}/feedback", Who::Anyone),
    ("post", "/api/v1/service-rectifications/{id}/appeal", Who::Roles(UNIT)),
    ("post", "/api/v1/service-rectifications/{id}/appeal-decision", Who::Roles(ADMIN_ANY)),
    ("get", "/api/v1/service-statistics", Who::Roles(STATISTICS)),
    // Open311 (keys for systems, the public read model)
    ("get", "/open311/v2/discovery.json", Who::Anyone),
    ("get", "/open311/v2/discovery.xml", Who::Anyone),
    ("get", "/open311/v2/services.json", Who::Anyone),
    ("get", "/open311/v2/services.xml", Who::Anyone),
    ("get", "/open311/v2/services/{file}", Who::Anyone),
    ("get", "/open311/v2/requests.json", Who::AnyoneNoPersonal),
    ("post", "/open311/v2/requests.json", Who::Anyone),
    ("get", "/open311/v2/requests.xml", Who::AnyoneNoPersonal),
    ("post", "/open311/v2/requests.xml", Who::Anyone),
    ("get", "/open311/v2/requests/{file}", Who::AnyoneNoPersonal),
    ("get", "/open311/v2/tokens/{file}", Who::Anyone),
    ("any", "/open311/v2/{*rest}", Who::Fallback),
    ("get", "/api/v1/admin/open311-keys", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/admin/open311-keys", Who::Roles(DISTRICT_ADMIN)),
    ("delete", "/api/v1/admin/open311-keys/{id}", Who::Roles(DISTRICT_ADMIN)),
    // pages
    ("get", "/", Who::Anyone),
    ("get", "/login", Who::Anyone),
    ("get", "/lang/{code}", Who::Anyone),
    ("get", "/portal", Who::Anyone),
    ("get", "/kiosk", Who::Anyone),
    ("get", "/kiosk/exit", Who::Anyone),
    ("get", "/portal/track", Who::AnyoneNoPersonal),
    ("get", "/portal/services", Who::Anyone),
    ("get", "/portal/application", Who::Anyone),
    ("post", "/portal/application", Who::AnyoneNoPersonal),
    ("get", "/assets/{file}", Who::Anyone),
    ("get", "/workbench", Who::Page(&[])),
    ("get", "/workbench/grid", Who::Page(&[GridWorker])),
    ("get", "/workbench/desk", Who::Page(&[IntakeOperator, ShiftLeader, Dispatcher])),
    ("get", "/workbench/handler", Who::Page(&[Handler])),
    ("get", "/workbench/command", Who::Page(&[Commander, Admin, Auditor])),
    ("get", "/workbench/trends", Who::Page(&[Commander, Admin, Auditor])),
    ("get", "/workbench/cases", Who::Page(&[])),
    ("get", "/workbench/window", Who::Page(&[WindowClerk])),
    ("get", "/workbench/approve", Who::Page(&[Approver])),
    ("get", "/workbench/admin", Who::Page(&[Admin])),
    // Last: it ends the session it is sent with.
    ("post", "/api/v1/auth/logout", Who::Anyone),
];

/// What one cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Expect {
    Unauthenticated,
    Refused,
    /// Anonymous without proof: 401, 403 or 404, or an answer without the record.
    NoProof,
    ToLogin,
    NotFound,
    Served,
    ServedNoPersonal,
}

pub(crate) fn expect(who: Who, caller: Option<(Role, Scope)>) -> Expect {
    let granted = |grants: Grants, role: Role, scope: Scope| {
        grants.iter().find(|(r, _, _)| *r == role).and_then(|(_, reach, shows)| {
            let reached = match reach {
                Reach::Any => true,
                Reach::Holds => scope != Scope::Foreign,
                Reach::District => scope == Scope::District,
            };
            reached.then_some(if *shows == Full { Expect::Served } else { Expect::ServedNoPersonal })
        })
    };
    match (who, caller) {
        (Who::Anyone, _) => Expect::Served,
        (Who::AnyoneNoPersonal, _) => Expect::ServedNoPersonal,
        (Who::Fallback, _) => Expect::NotFound,
        (Who::SignedIn, None) => Expect::Unauthenticated,
        (Who::SignedIn, Some(_)) => Expect::Served,
        (Who::Roles(_), None) => Expect::Unauthenticated,
        (Who::RolesOrOnline(_), None) => Expect::Served,
        (Who::RolesOrProof(_), None) => Expect::NoProof,
        (Who::Roles(g) | Who::RolesOrOnline(g) | Who::RolesOrProof(g), Some((role, scope))) => {
            granted(g, role, scope).unwrap_or(Expect::Refused)
        }
        (Who::Page(_), None) => Expect::ToLogin,
        (Who::Page(roles), Some((role, _))) => {
            if roles.is_empty() || roles.contains(&role) {
                Expect::Served
            } else {
                Expect::Refused
            }
        }
    }
}
