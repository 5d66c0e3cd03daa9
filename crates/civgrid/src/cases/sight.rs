//! How much of a case each reader sees (the access policy of docs/SECURITY.md): those who work
//! it see it whole, with the reporter and the photos, each such read recorded (查阅留痕);
//! administrators and auditors oversee it without them; every other role sees no case.

use super::*;

/// Whether a case in `grid` lies in one of `areas` (area codes are prefixes of the grid codes
/// inside them). A case not yet located belongs to the whole district.
pub(super) fn seen_by_area(areas: &[String], grid: Option<&str>) -> bool {
    match grid {
        Some(g) => areas.iter().any(|a| g.starts_with(a.as_str())),
        None => areas.iter().any(|a| a.len() == 6),
    }
}

/// Roles that read the cases of their areas as those who work them: with the reporter's name
/// and contact and the photos (the access policy, docs/ARCHITECTURE.md).
pub const CASE_LOOP_AREA_ROLES: [Role; 4] =
    [Role::IntakeOperator, Role::ShiftLeader, Role::Dispatcher, Role::Commander];
/// Roles that oversee the cases of their areas: the case without the reporter's name and
/// contact and without photos. Every other role (window clerk, approver, safety officer,
/// witness, …) reads no case at all.
pub const OVERSIGHT_AREA_ROLES: [Role; 2] = [Role::Admin, Role::Auditor];
/// Roles that may add photos to a case held in their area (besides its grid worker and the
/// handlers of its lead department): those who move it at intake, filing and dispatch.
pub(super) const PHOTO_AREA_ROLES: [Role; 3] = [Role::IntakeOperator, Role::ShiftLeader, Role::Dispatcher];

/// How much of one case a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// The case with its reporter's name and contact and its photos (those who work it).
    Full,
    /// The case without reporter data or photos (oversight: admin, auditor).
    Oversight,
}

/// The reporter of a case as shown to those who work it (read recorded, 查阅留痕).
#[derive(Debug, Clone)]
pub struct ReporterView {
    pub name: Option<String>,
    pub contact: Option<String>,
}

impl ReporterView {
    pub(super) fn of(case: &CaseRow) -> Option<ReporterView> {
        (case.reporter_name.is_some() || case.reporter_contact.is_some())
            .then(|| ReporterView { name: case.reporter_name.clone(), contact: case.reporter_contact.clone() })
    }
}

/// A case as a list shows it: for those who work it, with the reporter.
#[derive(Debug, Clone)]
pub struct CaseItem {
    pub case: CaseRow,
    pub reporter: Option<ReporterView>,
}

/// The areas in which `p` holds one of `roles`.
pub(super) fn areas_of(p: &Principal, roles: &[Role]) -> Vec<String> {
    p.roles.iter().filter(|g| roles.contains(&g.role)).map(|g| g.area_code.clone()).collect()
}

/// What the access log records a read of case data as.
pub(super) const CASE_READ_PURPOSE: &str = "case.read";
pub(super) const CASE_PHOTO_PURPOSE: &str = "case.photos";

impl Cases {
    /// How much of a case the caller sees, if anything (the access policy): the case-loop roles
    /// of its area, the handlers of its departments and the grid workers of its grid see it
    /// whole; admins and auditors of its area see it without the reporter and the photos;
    /// everyone else sees nothing.
    pub(super) async fn sight(
        &self,
        tx: &mut crate::db::Tx<'_>,
        p: &Principal,
        case: &CaseRow,
    ) -> Result<Option<Sight>, CaseError> {
        if seen_by_area(&areas_of(p, &CASE_LOOP_AREA_ROLES), case.grid_code.as_deref()) {
            return Ok(Some(Sight::Full));
        }
        if let Some(dept) = p.handler_department() {
            if store::departments_of(tx, case.id).await?.iter().any(|(d, _)| d == dept) {
                return Ok(Some(Sight::Full));
            }
        }
        if p.has_role(Role::GridWorker) {
            if let Some(g) = &case.grid_code {
                if store::is_assigned(tx, g, p.staff_id).await? {
                    return Ok(Some(Sight::Full));
                }
            }
        }
        if seen_by_area(&areas_of(p, &OVERSIGHT_AREA_ROLES), case.grid_code.as_deref()) {
            return Ok(Some(Sight::Oversight));
        }
        Ok(None)
    }

    /// Records that `p` read personal data of these cases (one access row per case).
    pub(super) async fn record_reads(
        &self,
        p: &Principal,
        purpose: &str,
        ids: Vec<i64>,
        request_id: Option<&str>,
    ) -> Result<(), CaseError> {
        let actor = p.actor();
        let access = crate::audit::Access {
            actor: &actor,
            purpose,
            subject_kind: "case",
            subjects: ids.into_iter().map(|i| i.to_string()).collect(),
            request_id,
        };
        Ok(crate::audit::record_access(&self.db, access).await?)
    }
}
