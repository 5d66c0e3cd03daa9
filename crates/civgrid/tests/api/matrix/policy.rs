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
    /// The catch-all of an unknown resource (or a guessed key): the same 404 for everyone.
    Fallback,
    /// Anonymous → 401; every staff member is served.
    SignedIn,
    /// Anonymous → 401; the grants are served; every other role refused (403/404, a list
    /// without the record).
    Roles(Grants),
    /// Anonymous callers are served (an online application; the holder with the access key);
    /// staff by the grants.
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
/// 三权分立: the security administrator grants roles, sets one-time passwords, ends sessions
/// and issues API tokens, for the accounts of their areas.
pub(crate) const SECURITY: Grants = &[(SecurityAdmin, Holds, Full)];
/// Reading the organisation: both administrators, each the accounts of their areas.
pub(crate) const ADMINISTRATORS_ANY: Grants = &[(Admin, Any, Full), (SecurityAdmin, Any, Full)];
pub(crate) const ADMINISTRATORS: Grants = &[(Admin, Holds, Full), (SecurityAdmin, Holds, Full)];
/// The change and access records: the auditor of a district-level area only (the records carry
/// no area; the administrators whose actions they record do not read them).
pub(crate) const RECORDS: Grants = &[(Auditor, Reach::District, Full)];
/// The metrics: administrators and auditors.
pub(crate) const METRICS: Grants = &[(Admin, Any, Full), (Auditor, Any, Full)];
pub(crate) const APPLICATION_READ: Grants = &[(WindowClerk, Any, Full), (Approver, Holds, Full)];
pub(crate) const APPROVER: Grants = &[(Approver, Holds, Full)];
pub(crate) const CLERK: Grants = &[(WindowClerk, Any, Full)];
pub(crate) const CERTIFICATE_READ: Grants = &[(Approver, Holds, Full), (WindowClerk, Holds, Full)];
/// The issuing department, or an administrator whose areas hold the issuing department (scjg
/// is a district department).
pub(crate) const REVOKE: Grants = &[(Approver, Holds, Full), (Admin, Reach::District, Full)];
/// The re-issue of an approved application's e-licence: the item's department's approvers.
pub(crate) const ISSUE: Grants = &[(Approver, Holds, Full)];
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
    ("get", "/metrics", Who::Roles(METRICS)),
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
    ("get", "/api/v1/admin/changes", Who::Roles(RECORDS)),
    ("get", "/api/v1/admin/access-records", Who::Roles(RECORDS)),
    // staff
    ("post", "/api/v1/auth/login", Who::Anyone),
    // One's own password, with the old one and no session (a one-time password opens none).
    ("post", "/api/v1/auth/password", Who::Anyone),
    ("get", "/api/v1/auth/me", Who::SignedIn),
    ("get", "/api/v1/admin/departments", Who::Roles(ADMINISTRATORS_ANY)),
    ("put", "/api/v1/admin/departments/{code}", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/staff", Who::Roles(ADMINISTRATORS_ANY)),
    // An account without password or roles: the system admin's.
    ("post", "/api/v1/admin/staff", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/staff/{id}", Who::Roles(ADMINISTRATORS)),
    // The organisation's fields: the system admin's.
    ("patch", "/api/v1/admin/staff/{id}", Who::Roles(ADMIN)),
    // A one-time password: the security admin's.
    ("patch", "/api/v1/admin/staff/{id}#password", Who::Roles(SECURITY)),
    ("delete", "/api/v1/admin/staff/{id}/sessions", Who::Roles(SECURITY)),
    ("post", "/api/v1/admin/api-tokens", Who::Roles(SECURITY)),
    ("delete", "/api/v1/admin/api-tokens/{id}", Who::Roles(SECURITY)),
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
    // The holder with the application's access key (`X-Access-Key`); staff by their role.
    ("get", "/api/v1/certificates/{number}#key", Who::RolesOrOnline(CERTIFICATE_READ)),
    ("get", "/api/v1/certificates/{number}/bundle#key", Who::RolesOrOnline(CERTIFICATE_READ)),
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
    // Whoever holds the access key follows the application.
    ("get", "/api/v1/service-applications/{number}#key", Who::Anyone),
    ("post", "/api/v1/service-applications/{number}/decisions", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-applications/{number}/suspend", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-applications/{number}/resume", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-refusals", Who::Roles(CLERK)),
    ("get", "/api/v1/service-notices/{number}", Who::Anyone),
    // By ID number: window clerks only (an applicant follows each application by its key).
    ("get", "/api/v1/applicants/{id_number}/licences", Who::Roles(CLERK)),
    ("get", "/api/v1/applicants/{id_number}/applications", Who::Roles(CLERK)),
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
    // Following an application in the portal: a guessed access key answers the page of an
    // unknown application (404, nothing personal); the application's own key shows it.
    ("post", "/portal/application", Who::Fallback),
    ("post", "/portal/application#key", Who::Anyone),
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
    // Both administrators: the page offers each their own duties (web/pages/admin.rs).
    ("get", "/workbench/admin", Who::Page(&[Admin, SecurityAdmin])),
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
