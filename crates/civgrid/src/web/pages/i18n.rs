//! The pages' words, Chinese first and English, and what each API error code means to a
//! person. They live in one Fluent file per language (`assets/i18n/zh-CN.ftl`, `en.ftl`),
//! embedded in the binary and read once into a map. Templates call `l.t("key")`; the browser
//! script gets the same table as JSON (`Tr::json`), so a message is written once for both.
//!
//! A key is a Fluent message id with each "." written as "-", since Fluent ids cannot hold
//! dots (`login.submit` is `login-submit`); no key holds a "-", so the mapping goes both ways.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::{FluentBundle, FluentResource};
use fluent_syntax::ast;
use serde_json::{Map, Value};
use unic_langid::LanguageIdentifier;

/// The language of a page: Chinese unless the `lang=en` cookie says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From the value of the `lang` cookie.
    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The language the toggle switches to.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// A translator for one language (what templates hold as `l`).
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; "?" if it is missing (a unit test keeps that from happening).
    pub fn t(&self, key: &str) -> &'static str {
        table(self.0).words.get(key).map_or("?", String::as_str)
    }

    /// The page's `lang` attribute.
    pub fn html(&self) -> &'static str {
        self.0.html()
    }

    /// The `lang` attribute of the other language (for the toggle link).
    pub fn other_html(&self) -> &'static str {
        self.0.other().html()
    }

    /// The code of the language the toggle switches to.
    pub fn other_code(&self) -> &'static str {
        self.0.other().code()
    }

    /// The label of a case state (`received`, …).
    pub fn state(&self, state: &str) -> &'static str {
        self.t(&format!("state.{state}"))
    }

    /// The label of an action (`accept`, …).
    pub fn action(&self, action: &str) -> &'static str {
        self.t(&format!("action.{action}"))
    }

    /// The whole table for the browser script: `{"text": {key: …}, "errors": {code: …}}`, made
    /// safe to embed in a `<script>` element.
    pub fn json(&self) -> String {
        table(self.0).json.clone()
    }
}

/// The error messages in both languages, `{"zh": {code: message}, "en": {…}}`, safe inside a
/// `<script>` element: for the certificate check page, which switches language in place.
pub fn errors_json_both() -> String {
    script_safe(serde_json::json!({"zh": table(Lang::Zh).errors, "en": table(Lang::En).errors}))
}

/// JSON that cannot end the `<script>` element it is written into.
fn script_safe(v: Value) -> String {
    v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The Fluent source of each language, compiled in: nothing is read from outside the binary.
fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => include_str!("../../../assets/i18n/zh-CN.ftl"),
        Lang::En => include_str!("../../../assets/i18n/en.ftl"),
    }
}

/// Error messages are the keys `error.CODE`; everything else is page text.
const ERROR_PREFIX: &str = "error.";

/// One language's words, read once from its Fluent file.
struct Table {
    /// Every message by key (`login.submit`, `error.invalid_credentials`).
    words: HashMap<String, String>,
    /// The error messages by bare code (scripts look them up by the code an answer carries).
    errors: Map<String, Value>,
    /// `Tr::json`, made once: every page embeds it.
    json: String,
}

static ZH: LazyLock<Table> = LazyLock::new(|| Table::load(Lang::Zh));
static EN: LazyLock<Table> = LazyLock::new(|| Table::load(Lang::En));

fn table(lang: Lang) -> &'static Table {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

impl Table {
    fn load(lang: Lang) -> Table {
        // The files are compiled in, so an error here is a defect of the build, which the unit
        // tests (`the_fluent_files_parse_without_errors`) catch before any release.
        let messages = messages(source(lang), lang)
            .unwrap_or_else(|e| panic!("assets/i18n for {}: {}", lang.html(), e.join("; ")));
        let mut text = Map::new();
        let mut errors = Map::new();
        for (key, value) in &messages {
            match key.strip_prefix(ERROR_PREFIX) {
                Some(code) => errors.insert(code.to_owned(), Value::from(value.as_str())),
                None => text.insert(key.clone(), Value::from(value.as_str())),
            };
        }
        let json = script_safe(serde_json::json!({"lang": lang.code(), "text": text, "errors": errors}));
        Table { words: messages.into_iter().collect(), errors, json }
    }
}

/// The messages of a Fluent source as (key, text), in file order. Every problem is an error,
/// none is skipped: a parse error (Fluent would drop the broken entry), a repeated id, a
/// message without a value or with attributes (the pages have no use for them), or one that
/// does not format (a reference to a missing message).
fn messages(source: &str, lang: Lang) -> Result<Vec<(String, String)>, Vec<String>> {
    let resource = FluentResource::try_new(source.to_owned())
        .map_err(|(_, errors)| errors.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>())?;
    let mut problems = Vec::new();
    let mut ids = Vec::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(m) = entry {
            if !m.attributes.is_empty() {
                problems.push(format!("{}: attributes are not used", m.id.name));
            }
            ids.push(m.id.name.to_owned());
        }
    }
    let langid: LanguageIdentifier = lang.html().parse().map_err(|e| vec![format!("language {}: {e}", lang.html())])?;
    let mut bundle = FluentBundle::new(vec![langid]);
    // Fluent wraps each placeable in FSI/PDI isolation marks by default; the pages' words
    // must come out exactly as written (placeables here are only escaped braces and blanks).
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        // A repeated id is reported here ("Overriding").
        problems.extend(errors.iter().map(|e| format!("{e:?}")));
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else {
            problems.push(format!("{id}: no value"));
            continue;
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors).into_owned();
        problems.extend(errors.iter().map(|e| format!("{id}: {e:?}")));
        out.push((id.replace('-', "."), text));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_fluent_files_parse_without_errors() {
        for lang in [Lang::Zh, Lang::En] {
            if let Err(e) = messages(source(lang), lang) {
                panic!("{}: {e:#?}", lang.html());
            }
        }
    }

    /// A broken entry is an error, not a message quietly left out.
    #[test]
    fn a_broken_fluent_source_is_refused() {
        assert_eq!(
            messages("a-b = x\nc = {\"{\"}y{\" \"}\n", Lang::En).unwrap(),
            [("a.b".to_owned(), "x".to_owned()), ("c".to_owned(), "{y ".to_owned())]
        );
        for broken in ["a = x\nb = {\n", "a = x\na = y\n", "a =\n", "a = x\n    .title = y\n", "a = {b}\n"] {
            assert!(messages(broken, Lang::En).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn every_key_has_both_languages_once() {
        let zh = messages(source(Lang::Zh), Lang::Zh).unwrap();
        let en = messages(source(Lang::En), Lang::En).unwrap();
        let zh_keys: HashSet<_> = zh.iter().map(|(k, _)| k.as_str()).collect();
        let en_keys: HashSet<_> = en.iter().map(|(k, _)| k.as_str()).collect();
        // `messages` refuses a repeated id; the sets catch one that only a single file has.
        assert_eq!((zh_keys.len(), en_keys.len()), (zh.len(), en.len()), "duplicate key");
        let mut only_zh: Vec<_> = zh_keys.difference(&en_keys).collect();
        let mut only_en: Vec<_> = en_keys.difference(&zh_keys).collect();
        only_zh.sort();
        only_en.sort();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
        for (k, v) in zh.iter().chain(&en) {
            assert!(!v.trim().is_empty(), "{k}");
            assert!(!k.contains('-'), "{k}: a key cannot hold '-' (it stands for '.')");
        }
        assert!(zh.len() > 600, "the files were read ({})", zh.len());
    }

    /// Every `t("…")` in the templates and the browser script names a key of the table.
    #[test]
    fn every_key_the_pages_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = vec![dir.join("assets/app.js"), dir.join("assets/map.js")];
        for e in std::fs::read_dir(dir.join("templates")).unwrap() {
            sources.push(e.unwrap().path());
        }
        let keys: Vec<&str> =
            table(Lang::Zh).words.keys().map(String::as_str).filter(|k| !k.starts_with(ERROR_PREFIX)).collect();
        let mut used = 0;
        for path in sources {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("t(\"") {
                // `t(` as a name of its own (`l.t(`, `t(`), not the end of `createElement(`.
                if text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[i + 3..];
                let key = &rest[..rest.find('"').unwrap()];
                if key.ends_with('.') {
                    // A key made at run time (`t("state." + s)`): its family must exist.
                    assert!(keys.iter().any(|k| k.starts_with(key)), "{}: no {key}* keys", path.display());
                } else {
                    assert!(keys.contains(&key), "{}: unknown key {key}", path.display());
                }
                used += 1;
            }
        }
        assert!(used > 50, "the scan found the keys ({used})");
    }

    #[test]
    fn every_state_and_action_has_a_label() {
        for s in crate::cases::state::State::ALL {
            assert_ne!(Tr(Lang::En).state(s.as_str()), "?", "{s:?}");
        }
        for r in crate::staff::Role::ALL {
            assert_ne!(Tr(Lang::En).t(&format!("role.{}", r.as_str())), "?", "{r:?}");
        }
        for a in crate::cases::state::Action::ALL {
            let name = serde_json::to_value(a).unwrap();
            assert_ne!(Tr(Lang::Zh).action(name.as_str().unwrap()), "?", "{a:?}");
        }
    }

    /// Every code the services API answers with is told to people in both languages.
    #[test]
    fn every_service_error_has_a_message() {
        use crate::services::ServiceError as E;
        let s = || String::from("x");
        let all = [
            E::InvalidField(s()),
            E::InvalidItem(s()),
            E::Id(crate::identity::IdError::ResidentIdShape),
            E::Id(crate::identity::IdError::ResidentIdBirthDate),
            E::Id(crate::identity::IdError::ResidentIdChecksum),
            E::Id(crate::identity::IdError::CreditCodeShape),
            E::Id(crate::identity::IdError::CreditCodeChecksum),
            E::ItemNotFound(s()),
            E::UnknownItem(s()),
            E::ItemInactive(s()),
            E::UnknownDepartment(s()),
            E::ApplicantTypeMismatch { expected: "person" },
            E::NotEligible(vec![]),
            E::UnknownMaterial(s()),
            E::DuplicateMaterial(s()),
            E::MaterialWrongFormat { code: s(), expected: s(), got: s() },
            E::MaterialTooLarge { code: s(), size: 1, max: 1 },
            E::InvalidMaterial(s(), s()),
            E::ApplicationNotFound(s()),
            E::NoticeNotFound(s()),
            E::Concluded(s()),
            E::OutOfTurn { step: 0 },
            E::AlreadyDecided { step: 0 },
            E::NoSuchStep(0),
            E::CriterionUnchecked(vec![]),
            E::UnknownCriterion(s()),
            E::CriteriaNotMet(vec![]),
            E::NoUnmetCriterion,
            E::NoteRequired(s()),
            E::Suspended(s()),
            E::NotSuspended(s()),
            E::UnknownSpecialStep(s()),
            E::Forbidden("x"),
            E::NoDepartment,
            E::AlreadyRated(s()),
            E::NotConcluded(s()),
            E::RectificationNotFound(0),
            E::RectificationState(s()),
            E::InvalidPeriod(s()),
            E::AccessKeyThrottled { retry_after_s: 1 },
            E::LicenceTypeOwned { licence_type: s(), department: s() },
            E::NotApproved(s()),
            E::NoLicenceForItem(s()),
            E::LicenceInForce(s()),
        ];
        // A new variant fails to compile here until it is added to the list above.
        let listed = |e: &E| match e {
            E::Certificate(_) | E::Store(_) | E::Ledger(_) => false,
            E::InvalidField(_)
            | E::InvalidItem(_)
            | E::Id(_)
            | E::ItemNotFound(_)
            | E::UnknownItem(_)
            | E::ItemInactive(_)
            | E::UnknownDepartment(_)
            | E::ApplicantTypeMismatch { .. }
            | E::NotEligible(_)
            | E::UnknownMaterial(_)
            | E::DuplicateMaterial(_)
            | E::MaterialWrongFormat { .. }
            | E::MaterialTooLarge { .. }
            | E::InvalidMaterial(..)
            | E::ApplicationNotFound(_)
            | E::NoticeNotFound(_)
            | E::Concluded(_)
            | E::OutOfTurn { .. }
            | E::AlreadyDecided { .. }
            | E::NoSuchStep(_)
            | E::CriterionUnchecked(_)
            | E::UnknownCriterion(_)
            | E::CriteriaNotMet(_)
            | E::NoUnmetCriterion
            | E::NoteRequired(_)
            | E::Suspended(_)
            | E::NotSuspended(_)
            | E::UnknownSpecialStep(_)
            | E::Forbidden(_)
            | E::NoDepartment
            | E::AlreadyRated(_)
            | E::NotConcluded(_)
            | E::RectificationNotFound(_)
            | E::RectificationState(_)
            | E::InvalidPeriod(_)
            | E::AccessKeyThrottled { .. }
            | E::LicenceTypeOwned { .. }
            | E::NotApproved(_)
            | E::NoLicenceForItem(_)
            | E::LicenceInForce(_) => true,
        };
        for e in all {
            assert!(listed(&e));
            let key = format!("error.{}", e.code());
            assert_ne!(Tr(Lang::Zh).t(&key), "?", "{key}");
            assert_ne!(Tr(Lang::En).t(&key), "?", "{key}");
        }
    }

    /// Every code the case API answers with is told to people in both languages.
    #[test]
    fn every_case_error_has_a_message() {
        use crate::cases::CaseError as E;
        let s = || String::from("x");
        let all = [
            E::NotFound(0),
            E::InvalidDescription,
            E::MissingLocation(s()),
            E::PartialLocation,
            E::UnknownChannel(s()),
            E::UnknownClass(s()),
            E::UnknownDepartment(s()),
            E::ClassRequired,
            E::LocationRequired,
            E::VerifierIsHandler,
            E::SelfHandleNotAllowed(s()),
            E::InvalidDuplicate,
            E::NoExtensionRequested,
            E::InvalidField(s()),
            E::AlreadyAtTop,
            E::InvalidPhoto,
            E::TooManyPhotos,
            E::Changed(0),
            E::NoLastResort(s()),
            E::NumberNotFound(s()),
            E::InvalidRating,
            E::AlreadyRated,
            E::ReporterCheckThrottled { retry_after_s: 1 },
            E::NotClosed,
            E::InvalidComment,
            E::ContactRequired,
            E::NoReporterContact,
            E::ContactMismatch,
            E::PhotoKeyRequired,
            E::PhotoKeyMismatch,
            E::PhotoKeyExpired,
        ];
        for e in all {
            let key = format!("error.{}", e.code());
            assert_ne!(Tr(Lang::Zh).t(&key), "?", "{key}");
            assert_ne!(Tr(Lang::En).t(&key), "?", "{key}");
        }
    }

    /// Every error code the server can answer with has a message in both languages, so the
    /// pages never fall back to the server's English text. The codes are read from the
    /// sources: each error type's `code()` arms and every `ApiError` built with a literal code.
    #[test]
    fn every_error_code_in_the_sources_has_a_message() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![dir];
        let mut codes = HashSet::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            // Open311 answers clients in its own vocabulary, not the pages'.
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("web/open311.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut in_code_fn = false;
            for line in text.lines() {
                let t = line.trim();
                if t.starts_with("//") {
                    continue;
                }
                if t.starts_with("pub fn code(&self) -> &'static str") {
                    in_code_fn = true;
                } else if in_code_fn && line.starts_with("    }") {
                    in_code_fn = false;
                }
                let literal = |after: &str| -> Option<String> {
                    let rest = t.split_once(after)?.1.trim_start().strip_prefix('"')?;
                    let code = &rest[..rest.find('"')?];
                    (!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                        .then(|| code.to_owned())
                };
                if in_code_fn {
                    codes.extend(literal("=>"));
                }
                for ctor in ["ApiError::bad_request(", "ApiError::conflict(", "ApiError::not_found("] {
                    codes.extend(literal(ctor));
                }
                // `ApiError::new(StatusCode::…, "code", …)` and `(StatusCode::…, "code")` pairs.
                if let Some((_, status)) = t.split_once("StatusCode::") {
                    let t = status.split_once(',').map_or("", |(_, rest)| rest);
                    let rest = t.trim_start().strip_prefix('"').unwrap_or("");
                    let code = &rest[..rest.find('"').unwrap_or(0)];
                    if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        codes.insert(code.to_owned());
                    }
                }
            }
        }
        assert!(codes.len() > 100, "the scan finds the codes: {}", codes.len());
        let mut missing: Vec<_> = codes.iter().filter(|c| Tr(Lang::Zh).t(&format!("error.{c}")) == "?").collect();
        missing.sort();
        assert!(missing.is_empty(), "no message for {missing:?}");
    }

    #[test]
    fn the_script_table_cannot_close_its_script_element() {
        let j = Tr(Lang::En).json();
        assert!(!j.contains('<') && !j.contains('>'));
        let v: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["errors"]["invalid_credentials"], "Wrong username or password.");
        assert_eq!(v["text"]["login.submit"], "Sign in");
    }

    #[test]
    fn the_cookie_picks_english_only_when_asked() {
        assert_eq!(Lang::from_cookie(None), Lang::Zh);
        assert_eq!(Lang::from_cookie(Some("fr")), Lang::Zh);
        assert_eq!(Lang::from_cookie(Some("en")), Lang::En);
        assert_eq!(Tr(Lang::Zh).t("login.submit"), "登录");
    }

    /// Fluent trims a message's edge blanks and reads braces as placeables; the files write
    /// them as string literals, and the words come out as meant, without isolation marks.
    #[test]
    fn blanks_and_braces_come_out_as_written() {
        assert_eq!(Tr(Lang::En).t("common.colon"), ": ");
        assert!(Tr(Lang::En).t("admin.classes_intro").ends_with("/api/v1/admin/case-classes/{code}."));
        assert_eq!(Tr(Lang::En).t("no.such.key"), "?");
    }
}
