//! Rosters: the departments and staff of an installation imported from the lists a government
//! hands over (CSV or XLSX), all or nothing.
//!
//! A roster is one or more tables — a CSV file, or each non-empty sheet of a workbook — and a
//! table's header row says what it lists: a table with a username column (用户名) lists
//! staff, one without it but with a department name column (部门名称) lists departments.
//! Headers are accepted in Chinese or English (see [`DEPARTMENT_COLUMNS`], [`STAFF_COLUMNS`]);
//! other columns (a phone number, a post) are not imported and the report names them.
//!
//! Every row is checked — on its own first ([`parse`]), then against the database and the
//! rest of the roster ([`Staff::prepare_roster`]) — and one wrong row refuses the whole roster
//! with a report naming every problem by table and row. A department that exists with the same
//! name and area is skipped (so a department sheet can travel with each staff list); one that
//! exists with another name or area is refused. A username that exists is refused.
//! Administrative duties (admin, security_admin, auditor) are never given by a roster: those
//! come from `civgrid admin init` and the security administrator.

mod read;

use serde_json::json;

pub use read::{read_bytes, read_file, Table, MAX_COLUMNS, MAX_FILE_BYTES, MAX_ROWS};

use super::accounts::{check_grants, check_grids, insert_account};
use super::{
    check_department_roles, password, store, validate_department_code, validate_display_name, validate_username,
    GridAssignment, Role, RoleGrant, Staff, StaffError, StaffView,
};
use crate::audit::{self, Actor, Change};
use crate::db::{BoxFuture, Tx};
use crate::secret::Secret;
use crate::territory::codes::{AreaCode, GridCode};

/// One problem of a roster: where (a table, and a row of it unless the whole table or file is
/// wrong), a stable code and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub table: String,
    pub row: Option<usize>,
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    pub fn file(table: &str, code: &'static str, message: String) -> Problem {
        Problem { table: table.to_owned(), row: None, code, message }
    }
    pub fn row(table: &str, row: usize, code: &'static str, message: String) -> Problem {
        Problem { table: table.to_owned(), row: Some(row), code, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(r) => write!(f, "row {r} ({}): [{}] {}", self.table, self.code, self.message),
            None => write!(f, "{}: [{}] {}", self.table, self.code, self.message),
        }
    }
}

/// Why a roster was not imported.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("the roster was refused ({} problems); nothing was imported", .0.len())]
    Refused(Vec<Problem>),
    #[error(transparent)]
    Staff(#[from] StaffError),
}

impl From<sqlx::Error> for RosterError {
    fn from(e: sqlx::Error) -> RosterError {
        RosterError::Staff(e.into())
    }
}

/// A column of a department table: (what, the headers accepted for it, required).
pub const DEPARTMENT_COLUMNS: [(&str, &[&str], bool); 3] = [
    ("code", &["部门编码", "部门代码", "department_code", "code"], true),
    ("name", &["部门名称", "department_name", "name"], true),
    ("area", &["所属区域", "区域", "区域编码", "area_code", "area"], true),
];

/// A column of a staff table: (what, the headers accepted for it, required).
pub const STAFF_COLUMNS: [(&str, &[&str], bool); 7] = [
    ("username", &["用户名", "账号", "username"], true),
    ("name", &["姓名", "display_name", "name"], true),
    ("department", &["部门编码", "部门代码", "部门", "department_code", "department"], false),
    ("roles", &["角色", "roles", "role"], false),
    ("area", &["区域", "所属区域", "区域编码", "area_code", "area"], false),
    ("grids", &["网格", "网格编码", "grids", "grid_codes"], false),
    ("worker_kind", &["网格员类型", "专兼职", "worker_kind"], false),
];

/// A department row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentLine {
    pub table: String,
    pub row: usize,
    pub code: String,
    pub name: String,
    pub area_code: String,
}

/// A staff row: the account, its roles (all held in `area_code`, or else in its department's
/// area, which is also the account's home area), and the grids of a grid worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffLine {
    pub table: String,
    pub row: usize,
    pub username: String,
    pub display_name: String,
    pub department_code: Option<String>,
    pub roles: Vec<Role>,
    pub area_code: Option<String>,
    pub grids: Vec<GridAssignment>,
}

/// A roster whose rows each passed the checks that need no database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub departments: Vec<DepartmentLine>,
    pub staff: Vec<StaffLine>,
    /// Said in the report: columns not imported, files read as GBK.
    pub notes: Vec<String>,
}

/// Header text as compared: trimmed, lower-case, without a note in brackets ("用户名（必填）")
/// or a required-field star.
fn header_key(h: &str) -> String {
    let h = h.trim_start_matches('\u{feff}');
    let h = h.split(['(', '（']).next().unwrap_or_default();
    h.trim().trim_matches('*').trim().to_lowercase()
}

/// The role a roster cell names: its name (`grid_worker`) or its Chinese title (网格员).
pub fn parse_role(s: &str) -> Option<Role> {
    let s = s.trim();
    Role::ALL.into_iter().find(|r| r.as_str() == s.to_lowercase().replace([' ', '-'], "_") || r.title_zh() == s)
}

/// Cells holding several values (roles, grids) separate them with any of these.
fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', '；', ',', '，', '、', '\n']).map(str::trim).filter(|p| !p.is_empty())
}

fn worker_kind(s: &str) -> Option<&'static str> {
    match s.trim() {
        "" | "专职" | "full_time" => Some("full_time"),
        "兼职" | "part_time" => Some("part_time"),
        _ => None,
    }
}

/// Which column of `table` holds each field of `columns`, or the problem with its headers.
fn map_columns(
    table: &Table,
    columns: &[(&'static str, &[&str], bool)],
    notes: &mut Vec<String>,
) -> Result<Vec<Option<usize>>, Problem> {
    let keys: Vec<String> = table.headers.iter().map(|h| header_key(h)).collect();
    let mut at = vec![None; columns.len()];
    let mut unused = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if key.is_empty() {
            continue;
        }
        match columns.iter().position(|(_, names, _)| names.contains(&key.as_str())) {
            Some(f) if at[f].is_some() => {
                return Err(Problem::row(
                    &table.label,
                    1,
                    "wrong_headers",
                    format!(
                        "two columns for {}: `{}` and `{}`",
                        columns[f].0,
                        table.headers[at[f].unwrap_or(0)],
                        table.headers[i]
                    ),
                ))
            }
            Some(f) => at[f] = Some(i),
            None => unused.push(table.headers[i].clone()),
        }
    }
    let missing: Vec<String> = columns
        .iter()
        .zip(&at)
        .filter(|((_, _, required), a)| *required && a.is_none())
        .map(|((_, names, _), _)| names.join("/"))
        .collect();
    if !missing.is_empty() {
        return Err(Problem::row(&table.label, 1, "wrong_headers", format!("missing column {}", missing.join(", "))));
    }
    if !unused.is_empty() {
        notes.push(format!("{}: columns not imported: {}", table.label, unused.join(", ")));
    }
    Ok(at)
}

/// Checks every row on its own and against the other rows of the roster (duplicates): the
/// roster, or every problem found.
pub fn parse(tables: &[Table]) -> Result<Roster, Vec<Problem>> {
    let mut roster = Roster::default();
    let mut problems = Vec::new();
    for t in tables {
        if let Some(n) = &t.note {
            roster.notes.push(format!("{}: {n}", t.label));
        }
        let keys: Vec<String> = t.headers.iter().map(|h| header_key(h)).collect();
        let is_staff = keys.iter().any(|k| STAFF_COLUMNS[0].1.contains(&k.as_str()));
        let is_departments = !is_staff && keys.iter().any(|k| DEPARTMENT_COLUMNS[1].1[..2].contains(&k.as_str()));
        if !is_staff && !is_departments {
            problems.push(Problem::row(
                &t.label,
                1,
                "wrong_headers",
                "neither a staff table (a column 用户名/username) nor a department table (a column \
                 部门名称/department_name): see the roster columns in docs/OPERATIONS.md"
                    .into(),
            ));
            continue;
        }
        let columns: &[(&'static str, &[&str], bool)] = if is_staff { &STAFF_COLUMNS } else { &DEPARTMENT_COLUMNS };
        let at = match map_columns(t, columns, &mut roster.notes) {
            Ok(at) => at,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        for (row, cells) in &t.rows {
            let cell = |f: usize| at[f].and_then(|i| cells.get(i)).map(String::as_str).unwrap_or_default();
            let mut bad =
                |code: &'static str, message: String| problems.push(Problem::row(&t.label, *row, code, message));
            if is_staff {
                if let Some(line) = staff_line(&t.label, *row, &cell, &mut bad) {
                    roster.staff.push(line);
                }
            } else if let Some(line) = department_line(&t.label, *row, &cell, &mut bad) {
                roster.departments.push(line);
            }
        }
    }
    duplicates(&roster, &mut problems);
    if problems.is_empty() {
        Ok(roster)
    } else {
        Err(problems)
    }
}

fn department_line<'c>(
    table: &str,
    row: usize,
    cell: &dyn Fn(usize) -> &'c str,
    bad: &mut dyn FnMut(&'static str, String),
) -> Option<DepartmentLine> {
    let (code, name, area) = (cell(0), cell(1), cell(2));
    let mut ok = true;
    if let Err(e) = validate_department_code(code) {
        bad(e.code(), format!("department code `{code}`: {e}"));
        ok = false;
    }
    let name = validate_display_name(name)
        .map_err(|_| {
            bad("invalid_department_name", "department name must be 1–64 characters".into());
            ok = false;
        })
        .ok();
    let area = AreaCode::parse(area)
        .map_err(|e| {
            bad(e.code(), format!("area: {e}"));
            ok = false;
        })
        .ok();
    match (ok, name, area) {
        (true, Some(name), Some(area)) => Some(DepartmentLine {
            table: table.to_owned(),
            row,
            code: code.to_owned(),
            name,
            area_code: area.to_string(),
        }),
        _ => None,
    }
}

fn staff_line<'c>(
    table: &str,
    row: usize,
    cell: &dyn Fn(usize) -> &'c str,
    bad: &mut dyn FnMut(&'static str, String),
) -> Option<StaffLine> {
    let before = std::cell::Cell::new(true);
    let mut fail = |code: &'static str, message: String| {
        before.set(false);
        bad(code, message);
    };
    let username = cell(0);
    if let Err(e) = validate_username(username) {
        fail(e.code(), format!("username `{username}`: {e}"));
    }
    let display_name = validate_display_name(cell(1)).unwrap_or_else(|e| {
        fail(e.code(), e.to_string());
        String::new()
    });
    let department = Some(cell(2)).filter(|d| !d.is_empty());
    if let Some(d) = department {
        if let Err(e) = validate_department_code(d) {
            fail(e.code(), format!("department code `{d}`: {e}"));
        }
    }
    let mut roles: Vec<Role> = Vec::new();
    for name in split_list(cell(3)) {
        match parse_role(name) {
            Some(r) if r.is_administrative() => fail(
                "administrative_role",
                format!(
                    "{} ({}) is not given by a roster: the first administrators come from `civgrid admin init`, \
                     later ones from the security administrator",
                    r.as_str(),
                    r.title_zh()
                ),
            ),
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
            None => fail(
                "unknown_role",
                format!(
                    "unknown role `{name}`: one of {}",
                    Role::ALL
                        .iter()
                        .filter(|r| !r.is_administrative())
                        .map(|r| format!("{} ({})", r.as_str(), r.title_zh()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    let area = Some(cell(4)).filter(|a| !a.is_empty()).and_then(|a| match AreaCode::parse(a) {
        Ok(a) => Some(a.to_string()),
        Err(e) => {
            fail(e.code(), format!("area: {e}"));
            None
        }
    });
    if cell(4).is_empty() && department.is_none() {
        fail(
            "area_required",
            "give the area (区域) or the department (部门编码): it decides who manages the account".into(),
        );
    }
    let kind = worker_kind(cell(6)).unwrap_or_else(|| {
        fail("invalid_worker_kind", format!("grid worker kind `{}`: 专职/full_time or 兼职/part_time", cell(6)));
        "full_time"
    });
    let mut grids = Vec::new();
    for g in split_list(cell(5)) {
        match GridCode::parse(g) {
            Ok(code) if !grids.iter().any(|x: &GridAssignment| x.code == code.as_str()) => {
                grids.push(GridAssignment { code: code.to_string(), kind: kind.to_owned() })
            }
            Ok(_) => {}
            Err(e) => fail(e.code(), format!("grid: {e}")),
        }
    }
    if !grids.is_empty() && !roles.contains(&Role::GridWorker) {
        fail(StaffError::NotGridWorker.code(), StaffError::NotGridWorker.to_string());
    }
    let grants: Vec<RoleGrant> =
        roles.iter().map(|r| RoleGrant { role: *r, area_code: area.clone().unwrap_or_default() }).collect();
    if let Err(e) = check_department_roles(&grants, department) {
        fail(e.code(), e.to_string());
    }
    before.get().then(|| StaffLine {
        table: table.to_owned(),
        row,
        username: username.to_owned(),
        display_name,
        department_code: department.map(str::to_owned),
        roles,
        area_code: area,
        grids,
    })
}

/// A department code or username listed twice in the roster.
fn duplicates(roster: &Roster, problems: &mut Vec<Problem>) {
    for (i, d) in roster.departments.iter().enumerate() {
        if let Some(first) = roster.departments[..i].iter().find(|o| o.code == d.code) {
            problems.push(Problem::row(
                &d.table,
                d.row,
                "duplicate_in_roster",
                format!("department {} is listed already (row {} of {})", d.code, first.row, first.table),
            ));
        }
    }
    for (i, s) in roster.staff.iter().enumerate() {
        if let Some(first) = roster.staff[..i].iter().find(|o| o.username == s.username) {
            problems.push(Problem::row(
                &s.table,
                s.row,
                "duplicate_in_roster",
                format!("username {} is listed already (row {} of {})", s.username, first.row, first.table),
            ));
        }
    }
}

/// A checked roster, ready to import: what will be created and skipped, and the one-time
/// passwords (when asked for) with their hashes.
#[derive(Debug)]
pub struct PreparedRoster {
    roster: Roster,
    /// Per staff line, in order: (one-time password, its hash), when passwords are given.
    passwords: Option<Vec<(Secret, String)>>,
    pub departments_skipped: Vec<String>,
}

impl PreparedRoster {
    /// (username, display name, one-time password) of every account, when passwords are given.
    pub fn passwords(&self) -> Option<Vec<(&str, &str, &Secret)>> {
        self.passwords.as_ref().map(|p| {
            self.roster
                .staff
                .iter()
                .zip(p)
                .map(|(s, (pw, _))| (s.username.as_str(), s.display_name.as_str(), pw))
                .collect()
        })
    }
}

/// What a roster import created.
#[derive(Debug, Clone)]
pub struct RosterOutcome {
    pub departments_created: Vec<String>,
    pub departments_skipped: Vec<String>,
    pub accounts: Vec<StaffView>,
    pub with_passwords: bool,
    pub notes: Vec<String>,
}

/// The checks that need the database, in `tx`: (departments that exist as listed, problems).
async fn check_against(tx: &mut Tx<'_>, roster: &Roster) -> Result<(Vec<String>, Vec<Problem>), sqlx::Error> {
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let mut bad = |table: &str, row: usize, code: &'static str, message: String| {
        problems.push(Problem::row(table, row, code, message));
    };
    for d in &roster.departments {
        if !crate::territory::area_exists(tx, &d.area_code).await? {
            bad(&d.table, d.row, "area_not_found", format!("area {} does not exist", d.area_code));
        }
        match store::find_department(tx, &d.code).await? {
            Some(e) if e.name == d.name && e.area_code == d.area_code => skipped.push(d.code.clone()),
            Some(e) => bad(
                &d.table,
                d.row,
                "department_conflict",
                format!(
                    "department {} exists as {} in {}; this row says {} in {}: rename it in the workbench or fix the row",
                    d.code, e.name, e.area_code, d.name, d.area_code
                ),
            ),
            None => {}
        }
    }
    for s in &roster.staff {
        if store::find_staff_by_username(tx, &s.username).await?.is_some() {
            bad(&s.table, s.row, "username_taken", format!("username {} is taken", s.username));
        }
        if let Some(d) = &s.department_code {
            let listed = roster.departments.iter().any(|x| &x.code == d);
            if !listed && store::find_department(tx, d).await?.is_none() {
                bad(
                    &s.table,
                    s.row,
                    "department_not_found",
                    format!("department {d} is neither in the roster nor in civgrid"),
                );
            }
        }
        if let Some(a) = &s.area_code {
            if !crate::territory::area_exists(tx, a).await? {
                bad(&s.table, s.row, "area_not_found", format!("area {a} does not exist"));
            }
        }
        for g in &s.grids {
            if !crate::territory::grid_exists(tx, &g.code).await? {
                bad(&s.table, s.row, "grid_not_found", format!("grid {} does not exist", g.code));
            }
        }
    }
    Ok((skipped, problems))
}

/// The account's home area (and its roles' area): the row's area, else its department's.
async fn home_area(tx: &mut Tx<'_>, roster: &Roster, s: &StaffLine) -> Result<String, StaffError> {
    if let Some(a) = &s.area_code {
        return Ok(a.clone());
    }
    let d = s.department_code.as_deref().ok_or(StaffError::AreaRequired)?;
    if let Some(x) = roster.departments.iter().find(|x| x.code == d) {
        return Ok(x.area_code.clone());
    }
    let dept = store::find_department(tx, d).await?.ok_or_else(|| StaffError::DepartmentNotFound(d.to_owned()))?;
    Ok(dept.area_code)
}

/// Hashes the passwords a few at a time (one per core: a hash holds 19 MiB), keeping order.
async fn hash_all(passwords: Vec<String>) -> Result<Vec<(Secret, String)>, StaffError> {
    let width = std::thread::available_parallelism().map_or(2, usize::from);
    let mut out = Vec::with_capacity(passwords.len());
    for chunk in passwords.chunks(width) {
        let mut set = tokio::task::JoinSet::new();
        for (i, p) in chunk.iter().enumerate() {
            let p = p.clone();
            set.spawn(async move { (i, password::hash(p).await) });
        }
        let mut hashes = vec![String::new(); chunk.len()];
        while let Some(done) = set.join_next().await {
            let (i, hash) = done.map_err(|e| StaffError::Internal(e.into()))?;
            hashes[i] = hash?;
        }
        out.extend(chunk.iter().cloned().map(Secret::new).zip(hashes));
    }
    Ok(out)
}

impl Staff {
    /// Checks a parsed roster against the database and, with `passwords`, draws and hashes a
    /// one-time password per account (before any write: hashing is slow).
    pub async fn prepare_roster(&self, roster: Roster, passwords: bool) -> Result<PreparedRoster, RosterError> {
        let mut tx = self.db.begin_read().await?;
        let (departments_skipped, problems) = check_against(&mut tx, &roster).await?;
        tx.rollback().await?;
        if !problems.is_empty() {
            return Err(RosterError::Refused(problems));
        }
        let passwords = match passwords {
            false => None,
            true => {
                let drawn: Vec<String> = roster.staff.iter().map(|s| password::generate(&s.username)).collect();
                Some(hash_all(drawn).await?)
            }
        };
        Ok(PreparedRoster { roster, passwords, departments_skipped })
    }

    /// Imports a prepared roster in one write: checked again inside it (the database may have
    /// changed since), then every new department and account created, each change-recorded.
    pub async fn import_roster(&self, actor: &Actor, prepared: PreparedRoster) -> Result<RosterOutcome, RosterError> {
        let actor = actor.clone();
        let with_passwords = prepared.passwords.is_some();
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<RosterOutcome, RosterError>> {
                Box::pin(async move {
                    let PreparedRoster { roster, passwords, .. } = prepared;
                    let (skipped, problems) = check_against(tx, &roster).await?;
                    if !problems.is_empty() {
                        return Err(RosterError::Refused(problems));
                    }
                    let mut created = Vec::new();
                    for d in roster.departments.iter().filter(|d| !skipped.contains(&d.code)) {
                        store::insert_department(tx, &d.code, &d.name, &d.area_code).await?;
                        let after = store::find_department(tx, &d.code)
                            .await?
                            .ok_or_else(|| StaffError::DepartmentNotFound(d.code.clone()))?;
                        audit::record(
                            tx,
                            Change {
                                actor: &actor,
                                action: "department.create",
                                entity: "department",
                                entity_id: &d.code,
                                before: None,
                                after: Some(json!(after)),
                                request_id: None,
                            },
                        )
                        .await?;
                        created.push(d.code.clone());
                    }
                    let mut accounts = Vec::with_capacity(roster.staff.len());
                    for (i, s) in roster.staff.iter().enumerate() {
                        let area = home_area(tx, &roster, s).await?;
                        let roles: Vec<RoleGrant> =
                            s.roles.iter().map(|r| RoleGrant { role: *r, area_code: area.clone() }).collect();
                        let hash = passwords.as_ref().map(|p| p[i].1.as_str());
                        let id =
                            insert_account(tx, &s.username, &s.display_name, hash, s.department_code.as_deref(), &area)
                                .await?;
                        let grants = check_grants(tx, &roles).await?;
                        store::replace_roles(tx, id, &grants).await?;
                        for g in check_grids(tx, &s.grids, &roles).await? {
                            crate::territory::assign_worker_in(tx, &g.code, id, &g.kind).await?;
                        }
                        if let Some(h) = hash {
                            store::set_password(tx, id, h, true).await?;
                        }
                        let staff = store::find_staff(tx, id).await?.ok_or(StaffError::StaffNotFound(id))?;
                        let view = StaffView { staff, roles };
                        let mut after = json!(view);
                        after["grids"] = json!(s.grids);
                        after["via"] = json!("roster import");
                        audit::record(
                            tx,
                            Change {
                                actor: &actor,
                                action: "staff.create",
                                entity: "staff",
                                entity_id: &id.to_string(),
                                before: None,
                                after: Some(after),
                                request_id: None,
                            },
                        )
                        .await?;
                        accounts.push(view);
                    }
                    Ok(RosterOutcome {
                        departments_created: created,
                        departments_skipped: skipped,
                        accounts,
                        with_passwords,
                        notes: roster.notes,
                    })
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests;
