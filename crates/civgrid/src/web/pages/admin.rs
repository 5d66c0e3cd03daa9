//! The administrator's workbench (issue 6, second slice): read first — departments, staff and
//! their roles, the case catalogue, the working-day calendar — with the changes an
//! administrator makes every week sent by `app.js` to the existing admin API: a department
//! added or renamed, a staff account created, a holiday or make-up working day added or
//! removed, a grid GeoJSON file imported (its per-feature problem report shown as the API
//! gives it), a class of the case catalogue added or edited (`PUT
//! /api/v1/admin/case-classes/{code}`: a new version; earlier cases keep theirs) and a service
//! item added or edited (`POST /api/v1/admin/service-items`: a new version). `?class=CODE` and
//! `?item=CODE` open the editor filled with the current version. Nothing here writes.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::{error_page, frame, html, not_yours, staff_only, Frame, Opt, Tr};
use crate::cases::CaseClass;
use crate::staff::Role;
use crate::web::error::ApiError;
use crate::web::AppState;

pub struct StaffLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department: String,
    pub department_code: String,
    pub roles: String,
    /// The roles as the editor lists them: (`role@area`, label).
    pub grants: Vec<(String, String)>,
    /// The grids the account works in, one code a line (the editor's text).
    pub grids: String,
    /// The kind of its first grid assignment (the editor's default).
    pub grid_kind: String,
    pub active: bool,
}

pub struct ClassLine {
    pub code: String,
    pub version: i64,
    pub kind: &'static str,
    pub name: String,
    pub limit: String,
    pub department: String,
    pub active: bool,
}

/// The class editor's fields: the current version of the class being edited, or a new one.
pub struct ClassForm {
    pub editing: bool,
    pub class: CaseClass,
}

impl ClassForm {
    /// A blank form with the catalogue's usual defaults.
    fn new_class() -> ClassForm {
        ClassForm {
            editing: false,
            class: CaseClass {
                code: String::new(),
                version: 0,
                kind: "event".into(),
                major_code: String::new(),
                major_name: String::new(),
                minor_name: String::new(),
                filing_criteria: String::new(),
                closing_criteria: String::new(),
                time_limit: 2,
                time_limit_unit: "working_days".into(),
                department_code: String::new(),
                duplicate_radius_m: 50.0,
                duplicate_window_hours: 72,
                self_handle_allowed: false,
                active: true,
            },
        }
    }
}

pub struct ItemLine {
    pub code: String,
    pub name: String,
    pub department: String,
    pub limits: String,
    pub max_visits: i64,
    pub version: i64,
    pub active: bool,
}

/// The item editor: the plain fields, and the whole definition (materials, steps, fees …) as
/// JSON, which the script sends with the plain fields written into it.
pub struct ItemForm {
    pub editing: bool,
    pub code: String,
    pub name: String,
    pub department_code: String,
    pub legal_limit_days: i64,
    pub promised_limit_days: i64,
    pub max_visits: i64,
    pub active: bool,
    pub version: i64,
    pub spec_json: String,
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
    /// The system admin's parts (territory, calendar, departments, accounts, catalogues).
    is_admin: bool,
    /// The security admin's parts (roles and one-time passwords in the staff editor).
    is_security: bool,
    departments: Vec<DeptLine>,
    department_options: Vec<Opt>,
    areas: Vec<Opt>,
    roles: Vec<Opt>,
    staff: Vec<StaffLine>,
    classes: Vec<ClassLine>,
    class_form: ClassForm,
    items: Vec<ItemLine>,
    item_form: ItemForm,
    days: Vec<DayLine>,
    /// Appeals against bad ratings, for the administrator to decide.
    appeals: Vec<super::services::RectLine>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AdminQuery {
    /// The catalogue class to edit.
    class: Option<String>,
    /// The service item to edit.
    item: Option<String>,
}

/// A new item's definition to start from: every required field, one material, one step.
const NEW_ITEM_JSON: &str = r#"{
  "item_type": "01",
  "main_item": "00000",
  "sub_item": "000",
  "department_code": "",
  "name": "",
  "legal_basis": "",
  "applicant_type": "person",
  "conditions": [],
  "materials": [
    {"code": "id_card", "name": "居民身份证", "formats": ["pdf", "jpg"], "licence_type": "resident_id"}
  ],
  "legal_limit_days": 20,
  "promised_limit_days": 5,
  "special_steps": [],
  "fees": [],
  "max_visits": 0,
  "steps": [
    {"name": "审核", "departments": [""], "checklist": [{"code": "materials_complete", "text": "材料齐全、符合法定形式"}]}
  ],
  "result": null,
  "active": true
}"#;

/// `GET /workbench/admin`: the administrator's workbench.
pub(super) async fn admin_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<AdminQuery>,
) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (is_admin, is_security) = (p.has_role(Role::Admin), p.has_role(Role::SecurityAdmin));
    if !is_admin && !is_security {
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
        let assignments = state.territory.assignments().await?;
        let staff = state
            .staff
            .list_for(&p)
            .await?
            .into_iter()
            .map(|s| {
                let mine: Vec<&(i64, String, String)> =
                    assignments.iter().filter(|(id, _, _)| *id == s.staff.id).collect();
                let grants = s
                    .roles
                    .iter()
                    .map(|g| {
                        let label =
                            format!("{} @ {}", l.t(&format!("role.{}", g.role.as_str())), area_name(&g.area_code));
                        (format!("{}@{}", g.role.as_str(), g.area_code), label)
                    })
                    .collect();
                let mut roles: Vec<String> = s
                    .roles
                    .iter()
                    .map(|g| format!("{} @ {}", l.t(&format!("role.{}", g.role.as_str())), g.area_code))
                    .collect();
                roles.dedup();
                // The kind most of the grids have is the form's default; a grid of the other
                // kind carries its kind on its line, so saving the form keeps every grid's kind.
                let part_time = mine.iter().filter(|(_, _, k)| k == "part_time").count();
                let grid_kind = if part_time * 2 > mine.len() { "part_time" } else { "full_time" }.to_owned();
                StaffLine {
                    id: s.staff.id,
                    department: s.staff.department_code.as_deref().map(name).unwrap_or_default(),
                    department_code: s.staff.department_code.clone().unwrap_or_default(),
                    grants,
                    grids: mine
                        .iter()
                        .map(|(_, g, k)| {
                            if *k == grid_kind {
                                g.clone()
                            } else {
                                format!("{g} {}", l.t(&format!("admin.grid_kind.{k}")))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                    grid_kind,
                    username: s.staff.username,
                    display_name: s.staff.display_name,
                    roles: roles.join("；"),
                    active: s.staff.active,
                }
            })
            .collect();
        let all_classes = state.cases.classes().await?;
        let class_form = match q.class.as_deref().and_then(|code| all_classes.iter().find(|c| c.code == code)) {
            Some(c) => ClassForm { editing: true, class: c.clone() },
            None => ClassForm::new_class(),
        };
        let all_items = state.services.items().await?;
        let item_form = match q.item.as_deref().and_then(|code| all_items.iter().find(|i| i.code == code)) {
            Some(i) => ItemForm {
                editing: true,
                code: i.code.clone(),
                name: i.spec.name.clone(),
                department_code: i.spec.department_code.clone(),
                legal_limit_days: i.spec.legal_limit_days,
                promised_limit_days: i.spec.promised_limit_days,
                max_visits: i.spec.max_visits,
                active: i.spec.active,
                version: i.version,
                spec_json: serde_json::to_string_pretty(&i.spec).map_err(|e| ApiError::internal(&e))?,
            },
            None => ItemForm {
                editing: false,
                code: String::new(),
                name: String::new(),
                department_code: String::new(),
                legal_limit_days: 20,
                promised_limit_days: 5,
                max_visits: 0,
                active: true,
                version: 0,
                spec_json: NEW_ITEM_JSON.to_owned(),
            },
        };
        let items = all_items
            .iter()
            .map(|i| ItemLine {
                code: i.code.clone(),
                name: i.spec.name.clone(),
                department: name(&i.spec.department_code),
                limits: format!(
                    "{} / {} {}",
                    i.spec.legal_limit_days,
                    i.spec.promised_limit_days,
                    l.t("admin.unit.working_days")
                ),
                max_visits: i.spec.max_visits,
                version: i.version,
                active: i.spec.active,
            })
            .collect();
        let appeals = if is_admin { state.services.rectifications_with_ratings(&p).await? } else { vec![] };
        let appeals = appeals
            .into_iter()
            .filter(|(r, _)| r.state == "appealed")
            .map(|(r, rating)| super::services::rect_line(l, r, rating))
            .collect();
        let classes = all_classes
            .into_iter()
            .map(|c| ClassLine {
                kind: l.t(&format!("admin.kind.{}", c.kind)),
                name: format!("{} › {}", c.major_name, c.minor_name),
                limit: format!("{} {}", c.time_limit, l.t(&format!("admin.unit.{}", c.time_limit_unit))),
                department: name(&c.department_code),
                active: c.active,
                version: c.version,
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
            is_admin,
            is_security,
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
                .filter(|a| p.administered_areas().iter().any(|g| a.code.starts_with(g.as_str())))
                .map(|a| Opt { code: a.code.clone(), label: format!("{} {}", a.name, a.code) })
                .collect(),
            // The roles the security admin may grant.
            roles: Role::ALL
                .iter()
                .filter(|r| Role::SecurityAdmin.administers(**r))
                .map(|r| Opt { code: r.as_str().to_owned(), label: l.t(&format!("role.{}", r.as_str())).to_owned() })
                .collect(),
            staff,
            classes,
            class_form,
            items,
            item_form,
            days,
            appeals,
        };
        Ok::<_, ApiError>(page)
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}
