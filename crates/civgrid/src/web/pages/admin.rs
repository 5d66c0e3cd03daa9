//! The administrator's workbench (issue 6, second slice): read first — departments, staff and
//! their roles, the case catalogue, the working-day calendar — with the changes an
//! administrator makes every week sent by `app.js` to the existing admin API: a department
//! added or renamed, a staff account created, a holiday or make-up working day added or
//! removed, and a grid GeoJSON file imported (its per-feature problem report shown as the API
//! gives it). Nothing here writes.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::{error_page, frame, html, not_yours, staff_only, Frame, Opt, Tr};
use crate::staff::Role;
use crate::web::error::ApiError;
use crate::web::AppState;

pub struct StaffLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department: String,
    pub roles: String,
    pub active: bool,
}

pub struct ClassLine {
    pub code: String,
    pub kind: &'static str,
    pub name: String,
    pub limit: String,
    pub department: String,
    pub active: bool,
}

pub struct DayLine {
    pub day: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub note: String,
}

pub struct DeptLine {
    pub code: String,
    pub name: String,
    pub area: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    l: Tr,
    page: Frame,
    departments: Vec<DeptLine>,
    department_options: Vec<Opt>,
    areas: Vec<Opt>,
    roles: Vec<Opt>,
    staff: Vec<StaffLine>,
    classes: Vec<ClassLine>,
    days: Vec<DayLine>,
}

/// `GET /workbench/admin`: the administrator's workbench.
pub(super) async fn admin_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !p.has_role(Role::Admin) {
        return not_yours(l, &uri, &p);
    }
    let run = async {
        let departments = state.staff.departments().await?;
        let name = |code: &str| {
            departments.iter().find(|d| d.code == code).map(|d| d.name.clone()).unwrap_or_else(|| code.to_owned())
        };
        let areas = state.territory.areas().await?;
        let area_name = |code: &str| {
            areas
                .iter()
                .find(|a| a.code == code)
                .map(|a| format!("{} {}", a.name, a.code))
                .unwrap_or_else(|| code.to_owned())
        };
        let staff = state
            .staff
            .list()
            .await?
            .into_iter()
            .map(|s| {
                let mut roles: Vec<String> = s
                    .roles
                    .iter()
                    .map(|g| format!("{} @ {}", l.t(&format!("role.{}", g.role.as_str())), g.area_code))
                    .collect();
                roles.dedup();
                StaffLine {
                    id: s.staff.id,
                    department: s.staff.department_code.as_deref().map(name).unwrap_or_default(),
                    username: s.staff.username,
                    display_name: s.staff.display_name,
                    roles: roles.join("；"),
                    active: s.staff.active,
                }
            })
            .collect();
        let classes = state
            .cases
            .classes()
            .await?
            .into_iter()
            .map(|c| ClassLine {
                kind: l.t(&format!("admin.kind.{}", c.kind)),
                name: format!("{} › {}", c.major_name, c.minor_name),
                limit: format!("{} {}", c.time_limit, l.t(&format!("admin.unit.{}", c.time_limit_unit))),
                department: name(&c.department_code),
                active: c.active,
                code: c.code,
            })
            .collect();
        let days = state
            .cases
            .calendar_days()
            .await?
            .into_iter()
            .map(|(day, kind, note)| DayLine { kind_label: l.t(&format!("admin.day.{kind}")), day, kind, note })
            .collect();
        let page = AdminPage {
            l,
            page: frame(l, &uri, Some(&p)),
            departments: departments
                .iter()
                .map(|d| DeptLine { code: d.code.clone(), name: d.name.clone(), area: area_name(&d.area_code) })
                .collect(),
            department_options: departments
                .iter()
                .map(|d| Opt { code: d.code.clone(), label: d.name.clone() })
                .collect(),
            areas: areas
                .iter()
                .filter(|a| a.level == "district" || a.level == "subdistrict")
                .filter(|a| p.roles.iter().any(|g| g.role == Role::Admin && a.code.starts_with(&g.area_code)))
                .map(|a| Opt { code: a.code.clone(), label: format!("{} {}", a.name, a.code) })
                .collect(),
            roles: Role::ALL
                .iter()
                .map(|r| Opt { code: r.as_str().to_owned(), label: l.t(&format!("role.{}", r.as_str())).to_owned() })
                .collect(),
            staff,
            classes,
            days,
        };
        Ok::<_, ApiError>(page)
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}
