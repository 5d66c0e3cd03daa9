//! Certificates and e-licences (出生医学证明、学历学位、无犯罪记录证明、社区矫正记录、公证书) issued as
//! verifiable bundles: canonical JSON content, the issuer's signature, the log entry's
//! inclusion proof and a witnessed checkpoint — checkable offline by `civgrid verify` with only
//! the published trust file, or on the verification page. Revocation is itself a log entry.
//!
//! The number says only whether a certificate is valid (`check`: type, issuing department,
//! dates, revocation — never the holder, the ID number or the content); the content and the
//! bundle are for the holder (their application's access key) and the issuing department's
//! approvers and window clerks (`services::licences`). Every content carries a random `salt`,
//! so the public log entry (a hash of it) confirms nothing about a guessed holder.

mod store;

use std::collections::BTreeMap;

use civgrid_ledger::bundle::{sign_certificate, verify_bundle, Bundle, BundleError};
use serde_json::{json, Value};

use crate::db::Db;
use crate::ledger::audit::RecordSet;
use crate::ledger::{Ledger, LogError};
pub use store::CertificateRow;

/// Ledger entry kinds.
pub const KIND: &str = "certificate";
pub const REVOCATION_KIND: &str = "certificate_revocation";

const MAX_BUNDLE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("{0}")]
    InvalidField(String),
    #[error("certificate {0} does not exist")]
    NotFound(String),
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("certificate {0} is not yet covered by a trusted checkpoint; retry in a second")]
    NotYetLogged(String),
    #[error("issuing and revoking need a staff account with a department")]
    NoDepartment,
    #[error("only the issuing department ({0}) may revoke this certificate")]
    OtherDepartment(String),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Ledger(#[from] LogError),
    #[error("the stored certificate does not form a valid bundle: {0}")]
    Damaged(String),
}

impl CertificateError {
    pub fn code(&self) -> &'static str {
        match self {
            CertificateError::InvalidField(_) => "invalid_field",
            CertificateError::NotFound(_) => "certificate_not_found",
            CertificateError::AlreadyRevoked(_) => "already_revoked",
            CertificateError::NotYetLogged(_) => "not_yet_logged",
            CertificateError::NoDepartment => "no_department",
            CertificateError::OtherDepartment(_) => "other_department",
            CertificateError::Store(_) => "internal",
            CertificateError::Ledger(e) => e.code(),
            CertificateError::Damaged(_) => "certificate_damaged",
        }
    }
}

/// An item-driven e-licence to issue (see [`Certificates::issue_licence_in`]).
#[derive(Debug, Clone)]
pub struct LicenceRequest<'a> {
    pub licence_type: &'a str,
    pub licence_name: &'a str,
    pub licence_name_en: &'a str,
    pub subject_name: &'a str,
    pub subject_id: &'a str,
    pub fields: BTreeMap<String, String>,
    pub valid_until: Option<String>,
    pub department: &'a str,
    pub actor: &'a str,
    pub now: &'a str,
}

/// Who revokes.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub actor: String,
    pub department: Option<String>,
    /// District administrators may revoke any department's certificate.
    pub is_admin: bool,
}

/// A certificate as shown to staff.
#[derive(Debug, Clone)]
pub struct CertificateView {
    pub number: String,
    pub r#type: String,
    pub content: Value,
    pub department_code: String,
    pub issued_by: String,
    pub issued_at: String,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
}

/// Stores a signed e-licence and logs its content as a `certificate` entry, in `tx`.
async fn store_licence_in(
    tx: &mut crate::db::Tx<'_>,
    row: CertificateRow,
    content: &Value,
) -> Result<CertificateView, CertificateError> {
    store::insert(tx, &row).await?;
    crate::ledger::append_in(tx, KIND, &row.number, content, &row.issued_at).await?;
    Ok(view(row))
}

/// The result of checking a bundle: never "valid" for anything tampered.
#[derive(Debug, Clone)]
pub struct Verification {
    pub valid: bool,
    /// `ok`, a bundle error code, `revoked` or `unknown_to_registry`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    pub number: Option<String>,
    pub certificate: Option<Value>,
    pub leaf_index: Option<u64>,
    pub tree_size: Option<u64>,
    pub witness_departments: Vec<String>,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Certificates {
    db: Db,
    ledger: Ledger,
}

fn random_number() -> String {
    use rand::Rng as _;
    // Crockford-style alphabet without I, L, O, U: read aloud and typed without mistakes.
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let tail: String = (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("CG{tail}")
}

fn is_number(s: &str) -> bool {
    s.len() == 18 && s.starts_with("CG") && s.bytes().skip(2).all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

fn revocation_content(number: &str, at: &str, by: &str, reason: &str) -> Value {
    json!({"number": number, "revoked_at": at, "revoked_by": by, "reason": reason})
}

impl Certificates {
    pub fn new(db: Db, ledger: Ledger) -> Certificates {
        Certificates { db, ledger }
    }

    /// Issues an e-licence in a transaction of its own (the demo's sample certificates; the
    /// API issues only through an approved application, [`Certificates::issue_licence_in`]).
    pub async fn issue_licence(&self, l: &LicenceRequest<'_>) -> Result<CertificateView, CertificateError> {
        // Signed before the write: the transaction only stores and logs it.
        let (row, content) = self.sign_licence(l)?;
        let department = l.department.to_owned();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if crate::staff::find_department(tx, &department).await?.is_none() {
                        return Err(CertificateError::NoDepartment);
                    }
                    store_licence_in(tx, row, &content).await
                })
            })
            .await
    }

    /// Issues an item-driven e-licence (电子证照) inside the caller's transaction: the content
    /// names the service item's licence type, the holder and the issuing department, carries a
    /// random salt (the public log entry is its hash), is signed by the issuer key and logged
    /// as a `certificate` entry. The caller has validated the subject's number (a GB 11643
    /// resident ID or a GB 32100 credit code) and that the department issues this type.
    pub async fn issue_licence_in(
        &self,
        tx: &mut crate::db::Tx<'_>,
        l: &LicenceRequest<'_>,
    ) -> Result<CertificateView, CertificateError> {
        let (row, content) = self.sign_licence(l)?;
        store_licence_in(tx, row, &content).await
    }

    /// The row and the signed content of a new e-licence.
    fn sign_licence(&self, l: &LicenceRequest<'_>) -> Result<(CertificateRow, Value), CertificateError> {
        let number = random_number();
        let content = json!({
            "number": number,
            "type": l.licence_type,
            "type_name": {"zh": l.licence_name, "en": l.licence_name_en},
            "subject": {"name": l.subject_name, "id_number": l.subject_id},
            "fields": l.fields,
            "valid_until": l.valid_until,
            "issuing_department": l.department,
            "issued_at": l.now,
            "log_origin": self.ledger.origin(),
            "salt": hex::encode(rand::random::<[u8; 16]>()),
        });
        let signature = sign_certificate(self.ledger.keys().issuer_signer(), KIND, &number, &content)
            .map_err(|e| CertificateError::Damaged(e.to_string()))?;
        let canonical = civgrid_ledger::entry::canonical_json(&content).map_err(LogError::from)?;
        let row = CertificateRow {
            number: number.clone(),
            r#type: l.licence_type.to_owned(),
            subject_id: l.subject_id.to_owned(),
            content: String::from_utf8_lossy(&canonical).into_owned(),
            signature,
            department_code: l.department.to_owned(),
            issued_by: l.actor.to_owned(),
            issued_at: l.now.to_owned(),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        };
        Ok((row, content))
    }

    /// A holder's e-licence library: their certificates that are neither revoked nor expired on
    /// `today` (YYYY-MM-DD), newest first, read inside the caller's transaction.
    pub async fn library_in(
        tx: &mut crate::db::Tx<'_>,
        subject_id: &str,
        today: &str,
    ) -> Result<Vec<CertificateView>, CertificateError> {
        let rows = store::for_subject_in(tx, subject_id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.revoked_at.is_none())
            .map(view)
            .filter(|v| v.content["valid_until"].as_str().is_none_or(|d| d >= today))
            .collect())
    }

    /// The most recently issued certificates.
    pub async fn recent(&self, limit: i64) -> Result<Vec<CertificateView>, CertificateError> {
        Ok(store::recent(&self.db, limit).await?.into_iter().map(view).collect())
    }

    /// The stored certificate (for callers that have decided who may read it).
    pub async fn get(&self, number: &str) -> Result<CertificateView, CertificateError> {
        Ok(view(self.find(number).await?))
    }

    /// The stored row: holder, issuing department, content.
    pub async fn find(&self, number: &str) -> Result<CertificateRow, CertificateError> {
        if !is_number(number) {
            return Err(CertificateError::NotFound(number.chars().take(32).collect()));
        }
        store::find(self.db.pool(), number).await?.ok_or_else(|| CertificateError::NotFound(number.to_owned()))
    }

    /// Revokes a certificate; the revocation is logged in the same transaction.
    pub async fn revoke(&self, by: &Issuer, number: &str, reason: &str) -> Result<CertificateView, CertificateError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(CertificateError::InvalidField("reason must be 1–500 characters".into()));
        }
        let cert = self.find(number).await?;
        if !by.is_admin && by.department.as_deref() != Some(cert.department_code.as_str()) {
            return Err(CertificateError::OtherDepartment(cert.department_code));
        }
        let now = crate::db::now_text();
        let (number, actor, reason) = (number.to_owned(), by.actor.clone(), reason.to_owned());
        let row = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::revoke(tx, &number, &now, &actor, &reason).await? {
                        return Err(CertificateError::AlreadyRevoked(number));
                    }
                    let content = revocation_content(&number, &now, &actor, &reason);
                    crate::ledger::append_in(tx, REVOCATION_KIND, &number, &content, &now).await?;
                    store::find(&mut **tx, &number).await?.ok_or(CertificateError::NotFound(number))
                })
            })
            .await?;
        Ok(view(row))
    }

    /// The certificate's bundle against the newest checkpoint that meets the witness quorum.
    pub async fn bundle(&self, number: &str) -> Result<Bundle, CertificateError> {
        let cert = self.find(number).await?;
        let content: Value =
            serde_json::from_str(&cert.content).map_err(|e| CertificateError::Damaged(e.to_string()))?;
        let (leaf_index, proof, checkpoint) = self
            .ledger
            .trusted_proof(KIND, number)
            .await?
            .ok_or_else(|| CertificateError::NotYetLogged(number.to_owned()))?;
        Bundle::build(KIND, number, content, cert.signature, leaf_index, proof, checkpoint)
            .map_err(|e| CertificateError::Damaged(format!("{}: {e}", e.code())))
    }

    /// Checks a bundle fully (signatures, proof, witnesses) against the published trust file,
    /// then asks the registry whether it was revoked since.
    pub async fn verify(&self, bytes: &[u8]) -> Result<Verification, CertificateError> {
        let trust = self.ledger.trust_file();
        let verified = match verify_bundle(bytes, &trust) {
            Ok(v) => v,
            Err(e) => return Ok(refused(&e)),
        };
        let number = verified.entry.reference().to_owned();
        let mut out = Verification {
            valid: true,
            code: "ok".into(),
            message_zh: "证书真实有效：签名、存证证明和见证均核验通过。".into(),
            message_en: "Genuine: the signature, the log inclusion proof and the witnesses all check out.".into(),
            number: Some(number.clone()),
            certificate: Some(verified.content.clone()),
            leaf_index: Some(verified.leaf_index),
            tree_size: Some(verified.checkpoint.checkpoint.size),
            witness_departments: verified.checkpoint.departments.clone(),
            revoked_at: None,
            revoke_reason: None,
        };
        match store::find(self.db.pool(), &number).await? {
            None => {
                out.valid = false;
                out.code = "unknown_to_registry".into();
                out.message_zh = "证书签名与存证有效，但登记库中查无此证，请联系签发部门。".into();
                out.message_en =
                    "The signatures and proof are valid but the registry has no such certificate; ask the issuer."
                        .into();
            }
            Some(row) if row.revoked_at.is_some() => {
                out.valid = false;
                out.code = "revoked".into();
                out.message_zh = "证书已被签发部门撤销。".into();
                out.message_en = "The issuing department has revoked this certificate.".into();
                out.revoked_at = row.revoked_at;
                out.revoke_reason = row.revoke_reason;
            }
            Some(_) => {}
        }
        Ok(out)
    }

    /// The check behind a QR code, for anyone holding the number: the current bundle of
    /// `number`, verified, answered with what the number may tell (valid or revoked, type,
    /// issuing department, dates) — never the holder, the ID number or the content.
    pub async fn check(&self, number: &str) -> Result<Verification, CertificateError> {
        let bundle = self.bundle(number).await?;
        let mut out = self.verify(bundle.to_json().as_bytes()).await?;
        out.certificate = out.certificate.as_ref().map(public_summary);
        out.revoke_reason = None;
        Ok(out)
    }

    /// Certificates and revocations as the audit recomputes them.
    pub async fn records(db: &Db) -> Result<Vec<RecordSet>, sqlx::Error> {
        let rows = store::all(db).await?;
        let mut issued = Vec::with_capacity(rows.len());
        let mut revoked = Vec::new();
        for r in rows {
            // Content that no longer parses is kept as a string so the audit reports it changed.
            let content = serde_json::from_str(&r.content).unwrap_or(Value::String(r.content.clone()));
            issued.push((r.number.clone(), content));
            if let (Some(at), Some(by)) = (&r.revoked_at, &r.revoked_by) {
                revoked.push((
                    r.number.clone(),
                    revocation_content(&r.number, at, by, r.revoke_reason.as_deref().unwrap_or_default()),
                ));
            }
        }
        Ok(vec![
            RecordSet { kind: KIND.to_owned(), records: issued },
            RecordSet { kind: REVOCATION_KIND.to_owned(), records: revoked },
        ])
    }
}

/// Bundles larger than this are refused before parsing.
pub const fn max_bundle_bytes() -> usize {
    MAX_BUNDLE_BYTES
}

fn refused(e: &BundleError) -> Verification {
    Verification {
        valid: false,
        code: e.code().to_owned(),
        message_zh: format!("核验未通过：{}", e.zh()),
        message_en: format!("Not valid: {e}"),
        number: None,
        certificate: None,
        leaf_index: None,
        tree_size: None,
        witness_departments: Vec::new(),
        revoked_at: None,
        revoke_reason: None,
    }
}

/// What a certificate number may tell anyone: no holder, no ID number, no fields.
pub fn public_summary(content: &Value) -> Value {
    json!({
        "number": content["number"],
        "type": content["type"],
        "type_name": content["type_name"],
        "issuing_department": content["issuing_department"],
        "issued_at": content["issued_at"],
        "valid_until": content["valid_until"],
    })
}

fn view(r: CertificateRow) -> CertificateView {
    CertificateView {
        content: serde_json::from_str(&r.content).unwrap_or(Value::Null),
        number: r.number,
        r#type: r.r#type,
        department_code: r.department_code,
        issued_by: r.issued_by,
        issued_at: r.issued_at,
        revoked_at: r.revoked_at,
        revoke_reason: r.revoke_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_random_capabilities_of_one_shape() {
        let a = random_number();
        assert!(is_number(&a), "{a}");
        assert_ne!(a, random_number());
        assert!(!is_number("CG123"));
        assert!(!is_number("cg0123456789abcdef"));
    }
}
