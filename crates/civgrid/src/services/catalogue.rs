//! The service item catalogue (政务服务事项目录): versioned items with unified codes.
//!
//! Codes follow the layering of GB/T 39554.1 and the provincial guides that apply it:
//! * **basic code** (基本编码, 10 characters) = 2-letter item type (`XK` 行政许可, `JF` 行政给付,
//!   `QR` 行政确认, `GG` 公共服务 …) + 5-digit main item + 3-digit sub-item (`000` when none);
//! * **implementation code** (实施编码) = basic code + the implementing body's 6-digit
//!   administrative division + the implementing department, written `XK00123000-440604-scjg`.
//!   (The national text uses the body's credit code; departments here are known by their code.)
//!
//! An item is only ever added as a new version; an application keeps the version it was
//! accepted under.

use serde::{Deserialize, Serialize};

use super::ServiceError;

/// Item types (事项类型) and their names.
pub const ITEM_TYPES: &[(&str, &str)] = &[
    ("XK", "行政许可"),
    ("CF", "行政处罚"),
    ("QZ", "行政强制"),
    ("ZS", "行政征收"),
    ("JF", "行政给付"),
    ("JC", "行政检查"),
    ("QR", "行政确认"),
    ("JL", "行政奖励"),
    ("CJ", "行政裁决"),
    ("QT", "其他行政权力"),
    ("GG", "公共服务"),
];

/// Electronic formats a material may be submitted in (proven from the bytes).
pub const FORMATS: &[&str] = &["pdf", "jpg", "png", "ofd"];

fn yes() -> bool {
    true
}
fn one() -> i64 {
    1
}
fn default_max_kb() -> i64 {
    512
}
fn either() -> String {
    "electronic".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantType {
    /// 自然人: identified by a GB 11643 resident ID.
    Person,
    /// 法人/其他组织: identified by a GB 32100 unified social credit code.
    Entity,
}

impl ApplicantType {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicantType::Person => "person",
            ApplicantType::Entity => "entity",
        }
    }
}

/// Conditions the platform can check by itself (persons only; from the ID number).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Age in whole years on the day of acceptance.
    pub min_age: Option<i64>,
    pub max_age: Option<i64>,
    /// The ID number's area code must start with this (e.g. `4406` Foshan). The area code is
    /// where the number was first issued, so this is a proxy for 户籍; a clerk decides edge cases.
    pub id_area_prefix: Option<String>,
}

/// One standard material (申请材料).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialSpec {
    /// A code shared across items (`id_card`, `business_licence` …): materials of the same code
    /// from an earlier application of the same applicant stand in for each other.
    pub code: String,
    pub name: String,
    #[serde(default = "one")]
    pub count: i64,
    /// Accepted electronic formats (pdf, jpg, png, ofd).
    #[serde(default)]
    pub formats: Vec<String>,
    #[serde(default = "default_max_kb")]
    pub max_kb: i64,
    /// `electronic`, `paper` or `either`.
    #[serde(default = "either")]
    pub medium: String,
    #[serde(default = "yes")]
    pub required: bool,
    /// The e-licence type that stands in for this material (电子证照), if any.
    pub licence_type: Option<String>,
    /// Whether the same material from an earlier application may stand in for it.
    #[serde(default = "yes")]
    pub reusable: bool,
    #[serde(default)]
    pub note: String,
}

/// A special step (特殊环节: 现场勘查, 专家评审, 公示, 检验检测 …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialStep {
    pub name: String,
    pub max_days: i64,
    /// True when the time it takes counts towards the time limit; false stops the clock.
    pub counts_toward_limit: bool,
    #[serde(default)]
    pub legal_basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    /// In fen (分), an integer.
    pub amount_fen: i64,
    #[serde(default)]
    pub basis: String,
}

/// One explicit decision criterion (审查要点): no free discretion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub code: String,
    pub text: String,
    /// In a parallel step, the department that checks this criterion; none means every
    /// department of the step checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// An approval step; several departments approve it in parallel (并联审批) and all must agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub name: String,
    pub departments: Vec<String>,
    pub checklist: Vec<Criterion>,
}

impl StepSpec {
    /// The criteria one department checks in this step.
    pub fn checklist_for<'a>(&'a self, department: &'a str) -> impl Iterator<Item = &'a Criterion> + 'a {
        self.checklist.iter().filter(move |c| c.department.as_deref().is_none_or(|d| d == department))
    }
}

/// The result document issued on approval, into the applicant's e-licence library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    pub licence_type: String,
    pub licence_name: String,
    #[serde(default)]
    pub licence_name_en: String,
    pub valid_years: Option<i64>,
}

/// An item as an administrator submits it.
// Serialize and Deserialize (with its parts): the definition is stored as JSON
// (`service_item.definition`) and read back from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    pub item_type: String,
    pub main_item: String,
    #[serde(default = "no_sub")]
    pub sub_item: String,
    pub department_code: String,
    pub name: String,
    pub legal_basis: String,
    pub applicant_type: ApplicantType,
    #[serde(default)]
    pub conditions: Vec<String>,
    #[serde(default)]
    pub eligibility: Eligibility,
    pub materials: Vec<MaterialSpec>,
    pub legal_limit_days: i64,
    pub promised_limit_days: i64,
    #[serde(default)]
    pub special_steps: Vec<SpecialStep>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    pub max_visits: i64,
    pub steps: Vec<StepSpec>,
    pub result: Option<ResultSpec>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn no_sub() -> String {
    "000".into()
}

/// One stored version of an item.
#[derive(Debug, Clone)]
pub struct ServiceItem {
    pub code: String,
    pub version: i64,
    pub basic_code: String,
    pub item_type_name: String,
    pub spec: ItemSpec,
    pub created_at: String,
    pub created_by: String,
}

impl ServiceItem {
    pub fn material(&self, code: &str) -> Option<&MaterialSpec> {
        self.spec.materials.iter().find(|m| m.code == code)
    }
}

fn is_slug(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.trim().chars().count();
    n >= 1 && n <= max && !s.chars().any(char::is_control)
}

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::InvalidItem(msg.into())
}

impl ItemSpec {
    pub fn basic_code(&self) -> String {
        format!("{}{}{}", self.item_type, self.main_item, self.sub_item)
    }

    /// The implementation code for a department in `area`.
    pub fn code(&self, area: &str) -> String {
        format!("{}-{area}-{}", self.basic_code(), self.department_code)
    }

    /// Every department named by the item (for existence checks).
    pub fn departments(&self) -> Vec<&str> {
        let mut d: Vec<&str> = std::iter::once(self.department_code.as_str())
            .chain(self.steps.iter().flat_map(|s| s.departments.iter().map(String::as_str)))
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    }

    /// Checks everything that needs no database.
    pub fn validate(&self) -> Result<(), ServiceError> {
        if !ITEM_TYPES.iter().any(|(c, _)| *c == self.item_type) {
            return Err(bad(format!(
                "item_type must be one of {}",
                ITEM_TYPES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
            )));
        }
        if self.main_item.len() != 5 || !self.main_item.bytes().all(|b| b.is_ascii_digit()) || self.main_item == "00000"
        {
            return Err(bad("main_item must be 5 digits, 00001–99999"));
        }
        if self.sub_item.len() != 3 || !self.sub_item.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("sub_item must be 3 digits (000 when there is no sub-item)"));
        }
        if !text_ok(&self.name, 100) || !text_ok(&self.legal_basis, 2000) {
            return Err(bad("name (1–100) and legal_basis (1–2000 characters) are required"));
        }
        if self.conditions.len() > 30 || self.conditions.iter().any(|c| !text_ok(c, 500)) {
            return Err(bad("at most 30 conditions of 1–500 characters"));
        }
        if self.conditions.iter().any(|c| c.contains("其他条件")) {
            return Err(bad("catch-all conditions (其他条件) are not allowed: list every condition"));
        }
        let e = &self.eligibility;
        if e.min_age.is_some_and(|a| !(0..=150).contains(&a)) || e.max_age.is_some_and(|a| !(0..=150).contains(&a)) {
            return Err(bad("ages must be 0–150"));
        }
        if let Some(p) = &e.id_area_prefix {
            if p.is_empty() || p.len() > 6 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("id_area_prefix must be 1–6 digits"));
            }
        }
        if self.applicant_type == ApplicantType::Entity && *e != Eligibility::default() {
            return Err(bad("eligibility rules read the resident ID and apply to person items only"));
        }
        if self.materials.len() > 40 {
            return Err(bad("at most 40 materials"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.materials {
            if !is_slug(&m.code, 40) || !seen.insert(m.code.as_str()) {
                return Err(bad(format!("material code `{}` must be unique, 1–40 of a-z 0-9 _", m.code)));
            }
            if !text_ok(&m.name, 100) || m.count < 1 || m.count > 20 || !(1..=1024).contains(&m.max_kb) {
                return Err(bad(format!("material `{}`: name 1–100 characters, count 1–20, max_kb 1–1024", m.code)));
            }
            if !matches!(m.medium.as_str(), "electronic" | "paper" | "either") {
                return Err(bad(format!("material `{}`: medium is electronic, paper or either", m.code)));
            }
            if m.medium != "paper" && (m.formats.is_empty() || m.formats.iter().any(|f| !FORMATS.contains(&f.as_str())))
            {
                return Err(bad(format!("material `{}`: formats must be some of pdf, jpg, png, ofd", m.code)));
            }
            if m.licence_type.as_deref().is_some_and(|t| !is_slug(t, 40)) {
                return Err(bad(format!("material `{}`: licence_type must be 1–40 of a-z 0-9 _", m.code)));
            }
        }
        if !(1..=365).contains(&self.legal_limit_days)
            || !(1..=self.legal_limit_days).contains(&self.promised_limit_days)
        {
            return Err(bad("legal_limit_days must be 1–365 and promised_limit_days 1–legal_limit_days"));
        }
        if self.special_steps.len() > 10
            || self.special_steps.iter().any(|s| !text_ok(&s.name, 50) || !(1..=365).contains(&s.max_days))
        {
            return Err(bad("at most 10 special steps, each with a name and max_days 1–365"));
        }
        if self.fees.iter().any(|f| !text_ok(&f.name, 100) || f.amount_fen < 0) {
            return Err(bad("fees need a name and a non-negative amount_fen"));
        }
        if !(0..=10).contains(&self.max_visits) {
            return Err(bad("max_visits must be 0–10"));
        }
        if self.steps.is_empty() || self.steps.len() > 10 {
            return Err(bad("an item has 1–10 approval steps"));
        }
        for s in &self.steps {
            let mut depts = s.departments.clone();
            depts.sort();
            depts.dedup();
            if !text_ok(&s.name, 50) || s.departments.is_empty() || depts.len() != s.departments.len() {
                return Err(bad("each step has a name and one or more distinct departments"));
            }
            if s.checklist.iter().any(|c| c.department.as_ref().is_some_and(|d| !s.departments.contains(d))) {
                return Err(bad(format!("step `{}`: a criterion names a department that is not in the step", s.name)));
            }
            if s.departments.iter().any(|d| !s.checklist.iter().any(|c| c.department.as_ref().is_none_or(|x| x == d))) {
                return Err(bad(format!("step `{}`: every department needs at least one criterion", s.name)));
            }
            let mut codes = std::collections::BTreeSet::new();
            if s.checklist.is_empty()
                || s.checklist.iter().any(|c| !is_slug(&c.code, 40) || !text_ok(&c.text, 500) || !codes.insert(&c.code))
            {
                return Err(bad(format!("step `{}` needs a checklist of distinct criteria (code, text)", s.name)));
            }
        }
        if let Some(r) = &self.result {
            if !is_slug(&r.licence_type, 40)
                || !text_ok(&r.licence_name, 50)
                || r.valid_years.is_some_and(|y| !(1..=100).contains(&y))
            {
                return Err(bad(
                    "result: licence_type 1–40 of a-z 0-9 _, licence_name 1–50 characters, valid_years 1–100",
                ));
            }
        }
        Ok(())
    }
}

pub fn item_type_name(code: &str) -> &'static str {
    ITEM_TYPES.iter().find(|(c, _)| *c == code).map_or("", |(_, n)| n)
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn sample() -> ItemSpec {
        serde_json::from_value(serde_json::json!({
            "item_type": "XK", "main_item": "00123", "department_code": "scjg",
            "name": "食品经营许可", "legal_basis": "《中华人民共和国食品安全法》第三十五条",
            "applicant_type": "person",
            "materials": [{"code": "application_form", "name": "申请书", "formats": ["pdf"], "reusable": false}],
            "legal_limit_days": 20, "promised_limit_days": 10, "max_visits": 1,
            "steps": [{"name": "审查", "departments": ["scjg"], "checklist": [{"code": "premises", "text": "场所符合要求"}]}],
            "result": {"licence_type": "food_business_licence", "licence_name": "食品经营许可证"}
        }))
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sample;

    #[test]
    fn codes_are_layered() {
        let s = sample();
        assert_eq!(s.basic_code(), "XK00123000");
        assert_eq!(s.code("440604"), "XK00123000-440604-scjg");
        s.validate().unwrap();
    }

    #[test]
    fn bad_items_are_refused() {
        let mut s = sample();
        s.item_type = "ZZ".into();
        assert!(s.validate().is_err());
        let mut s = sample();
        s.promised_limit_days = 30;
        assert!(s.validate().is_err());
        let mut s = sample();
        s.conditions.push("其他条件".into());
        assert!(s.validate().is_err());
        let mut s = sample();
        s.steps[0].checklist.clear();
        assert!(s.validate().is_err());
        let mut s = sample();
        s.materials[0].formats = vec!["docx".into()];
        assert!(s.validate().is_err());
    }
}
