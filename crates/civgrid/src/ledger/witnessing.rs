//! The log's side of witnessing: which witnesses (other departments, auditors) it asks to
//! cosign, how many make a checkpoint trusted, and the loop that collects their cosignatures.

use civgrid_ledger::cosignature::CosignatureVerifier;
use civgrid_ledger::policy::{is_valid_department, Quorum, TrustFile, TrustedWitness};
use civgrid_ledger::witness::AddCheckpointRequest;

use super::{Ledger, LogError};
use crate::witness::{request_verified_cosignature, WitnessClientError};

/// A witness the log submits checkpoints to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessEndpoint {
    pub department: String,
    pub verifier: CosignatureVerifier,
    /// Submission prefix; the log POSTs to `<url>/add-checkpoint`.
    pub url: String,
}

/// The configured witnesses and quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    pub witnesses: Vec<WitnessEndpoint>,
    pub quorum: Quorum,
}

impl Default for WitnessPolicy {
    fn default() -> Self {
        WitnessPolicy { witnesses: Vec::new(), quorum: Quorum { min_witnesses: 0, min_departments: 0 } }
    }
}

impl WitnessPolicy {
    /// Parses `DEPARTMENT VKEY URL` specs and an optional `MIN_WITNESSES MIN_DEPARTMENTS`.
    pub fn parse(specs: &[String], quorum: Option<&str>) -> Result<WitnessPolicy, String> {
        let mut witnesses = Vec::new();
        for spec in specs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let parts: Vec<&str> = spec.split_whitespace().collect();
            let [department, vkey, url] = parts.as_slice() else {
                return Err(format!("witness `{spec}` must be \"DEPARTMENT VKEY URL\""));
            };
            if !is_valid_department(department) {
                return Err(format!("witness department `{department}` must be 2-32 characters of a-z, 0-9, _ and -"));
            }
            let verifier = CosignatureVerifier::parse(vkey)
                .map_err(|e| format!("witness key `{vkey}` is not a cosignature/v1 vkey: {e}"))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("witness URL `{url}` must start with http:// or https://"));
            }
            if witnesses.iter().any(|w: &WitnessEndpoint| w.verifier.vkey() == verifier.vkey()) {
                return Err(format!("witness key `{vkey}` is listed twice"));
            }
            witnesses.push(WitnessEndpoint { department: department.to_string(), verifier, url: url.to_string() });
        }
        let departments = {
            let mut d: Vec<&str> = witnesses.iter().map(|w| w.department.as_str()).collect();
            d.sort_unstable();
            d.dedup();
            d.len()
        };
        let quorum = match quorum.map(str::trim) {
            None | Some("") => {
                let n = usize::from(!witnesses.is_empty());
                Quorum { min_witnesses: n, min_departments: n }
            }
            Some(q) => {
                let nums: Vec<Option<usize>> = q.split_whitespace().map(|n| n.parse().ok()).collect();
                let [Some(w), Some(d)] = nums.as_slice() else {
                    return Err(format!("quorum `{q}` must be \"MIN_WITNESSES MIN_DEPARTMENTS\""));
                };
                Quorum { min_witnesses: *w, min_departments: *d }
            }
        };
        if quorum.min_witnesses > witnesses.len() || quorum.min_departments > departments {
            return Err(format!(
                "quorum needs {} witnesses from {} departments but {} witnesses from {departments} departments are configured",
                quorum.min_witnesses,
                quorum.min_departments,
                witnesses.len()
            ));
        }
        Ok(WitnessPolicy { witnesses, quorum })
    }
}

impl Ledger {
    /// The published trust file: everything an offline verifier needs.
    pub fn trust_file(&self) -> TrustFile {
        TrustFile {
            origin: self.origin().to_owned(),
            logs: vec![self.keys().log_verifier()],
            issuers: vec![self.keys().issuer_verifier()],
            witnesses: self
                .policy()
                .witnesses
                .iter()
                .map(|w| TrustedWitness { department: w.department.clone(), verifier: w.verifier.clone() })
                .collect(),
            quorum: self.policy().quorum,
        }
    }

    /// Submits the newest checkpoint to every configured witness that has not cosigned it and
    /// stores the cosignatures on it. A witness that is behind (409) gets one retry from the
    /// size it reports. Returns the number of new cosignatures.
    pub async fn collect_cosignatures(&self, client: &reqwest::Client) -> Result<usize, LogError> {
        if self.policy().witnesses.is_empty() {
            return Ok(0);
        }
        let Ok(mut checkpoint) = self.checkpoint().await else { return Ok(0) };
        let mut added = 0;
        for w in &self.policy().witnesses {
            let label = w.verifier.vkey();
            if checkpoint.cosigned_by.split(' ').any(|x| x == label) {
                continue;
            }
            let mut old = self.witness_size(&label).await?.min(checkpoint.size);
            for attempt in 0..2 {
                let proof = self.consistency_proof(old, checkpoint.size).await?;
                let req = AddCheckpointRequest { old_size: old, proof, checkpoint: checkpoint.note.clone() };
                match request_verified_cosignature(client, &w.url, &req, &w.verifier).await {
                    Ok((lines, _)) => {
                        let note = civgrid_ledger::note::add_signature_lines(&checkpoint.note, &lines)
                            .map_err(civgrid_ledger::LedgerError::from)?;
                        let cosigned_by = format!("{} {label}", checkpoint.cosigned_by).trim().to_owned();
                        self.add_cosignatures(checkpoint.size, &note, &cosigned_by).await?;
                        self.set_witness_size(&label, checkpoint.size).await?;
                        checkpoint.note = note;
                        checkpoint.cosigned_by = cosigned_by;
                        added += 1;
                        break;
                    }
                    Err(WitnessClientError::Conflict { size }) if attempt == 0 && size <= checkpoint.size => {
                        self.set_witness_size(&label, size).await?;
                        old = size;
                    }
                    Err(WitnessClientError::Conflict { size }) if size > checkpoint.size => {
                        // The witness has cosigned a larger tree than this log holds: the
                        // database was rolled back (restored from an older backup by hand, or
                        // lost its newest commits). Signing on from here forks the log.
                        metrics::gauge!("civgrid_ledger_witness_ahead", "witness" => w.url.clone()).set(size as f64);
                        tracing::error!(
                            witness = %w.url,
                            department = %w.department,
                            witness_size = size,
                            log_size = checkpoint.size,
                            "the log was rolled back behind a checkpoint the witness has cosigned (witness at size {size}, \
                             log at {}): continuing would fork the log. Stop civgrid and restore a backup holding at \
                             least {size} entries, or end this log and start one under a new origin (docs/OPERATIONS.md)",
                            checkpoint.size
                        );
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(witness = %w.url, department = %w.department, code = e.code(), error = %e, "witness did not cosign");
                        break;
                    }
                }
            }
        }
        Ok(added)
    }
}
