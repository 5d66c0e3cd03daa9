//! The demo's trust ledger: a witness run by the district audit bureau (审计局) inside the demo
//! process, so checkpoints are cosigned and certificates verify with a met quorum out of the
//! box, and a few issued certificates to try the verification page on.

use std::path::Path;

use civgrid_ledger::cosignature::Cosigner;
use civgrid_ledger::witness::LogConfig;

use crate::certificates::{Certificates, LicenceRequest};
use crate::identity::ResidentId;
use crate::ledger::{LedgerKeys, WitnessPolicy};

/// Department code the demo witness runs under.
pub const WITNESS_DEPARTMENT: &str = "sjj";

/// Starts the demo witness on a free loopback port (key and state under `data/witness`) and
/// returns the policy that makes the log ask it: one witness, one department.
pub async fn start_witness(data: &Path, keys: &LedgerKeys) -> anyhow::Result<WitnessPolicy> {
    let dir = data.join("witness");
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let key_path = dir.join("witness.key");
    let cosigner = if key_path.exists() {
        crate::witness::read_key(&key_path)?
    } else {
        let c = Cosigner::generate("sjj.demo.witness").map_err(|e| anyhow::anyhow!("witness key: {e}"))?;
        crate::witness::write_new_key(&c, &key_path)?;
        c
    };
    let logs = vec![LogConfig { origin: keys.origin().to_owned(), verifiers: vec![keys.log_verifier()] }];
    let service = crate::witness::WitnessService::open(cosigner.clone(), logs, &dir.join("state"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = crate::witness::serve_until(service, listener, std::future::pending()).await {
            tracing::error!(error = %e, "demo witness stopped");
        }
    });
    WitnessPolicy::parse(&[format!("{WITNESS_DEPARTMENT} {} {url}", cosigner.vkey())], Some("1 1"))
        .map_err(|e| anyhow::anyhow!("demo witness policy: {e}"))
}

/// (type, 中文 name, English name, issuing department, holder, first 17 ID digits, fields).
type Sample<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Issues a few realistic certificates (generated people, valid GB 11643 numbers), each by the
/// department whose service items issue its type.
pub async fn seed_certificates(certificates: &Certificates) -> anyhow::Result<Vec<String>> {
    let samples: [Sample<'_>; 3] = [
        (
            "no_criminal_record",
            "无犯罪记录证明",
            "Certificate of no criminal record",
            "gaj",
            "陈嘉怡",
            "44060419950312042",
            &[("purpose", "赴港就业"), ("checked_period", "2013-03-12 至 2026-11-01")],
        ),
        (
            "birth_medical",
            "出生医学证明",
            "Medical birth certificate",
            "wjj",
            "梁子轩",
            "44060420260801051",
            &[("birthplace", "佛山市禅城区人民医院"), ("mother", "何婉清")],
        ),
        (
            "notarisation",
            "公证书（学历学位）",
            "Notarial certificate (degree)",
            "xzfw",
            "黄志明",
            "44060419980715003",
            &[("institution", "佛山科学技术学院"), ("degree", "工学学士")],
        ),
    ];
    let mut numbers = Vec::new();
    let now = crate::db::now_text();
    for (kind, zh, en, department, name, id17, fields) in samples {
        let id = ResidentId::complete(id17)?;
        let actor = format!("system:demo-seed:{department}");
        let view = certificates
            .issue_licence(&LicenceRequest {
                licence_type: kind,
                licence_name: zh,
                licence_name_en: en,
                subject_name: name,
                subject_id: id.as_str(),
                fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                valid_until: None,
                department,
                actor: &actor,
                now: &now,
            })
            .await?;
        numbers.push(view.number);
    }
    Ok(numbers)
}
