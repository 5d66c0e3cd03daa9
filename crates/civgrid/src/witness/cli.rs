//! The offline half of the ledger on the command line: `civgrid verify` and `civgrid witness`.

use std::net::SocketAddr;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use civgrid_ledger::bundle::{verify_bundle, BundleError, VerifiedBundle};
use civgrid_ledger::cosignature::Cosigner;
use civgrid_ledger::note::Verifier;
use civgrid_ledger::policy::TrustFile;
use civgrid_ledger::witness::LogConfig;

use crate::cli::Exit;

fn time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(|| secs.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// `civgrid verify BUNDLE --trust TRUSTFILE`: prints the verdict; exit 0 valid, 1 invalid (the
/// reason in Chinese and English with its code), 2 when the files cannot be read or the trust
/// file is invalid.
pub fn verify(bundle: &Path, trust: &Path) -> anyhow::Result<()> {
    let usage = |zh: &str, en: String| {
        eprintln!("civgrid verify: {zh} / {en}");
        anyhow::Error::new(Exit(2))
    };
    let trust_bytes = std::fs::read(trust)
        .map_err(|e| usage("无法读取信任文件", format!("cannot read trust file {}: {e}", trust.display())))?;
    let trust_file = TrustFile::parse(&trust_bytes)
        .map_err(|e| usage("信任文件无效", format!("invalid trust file {} [{}]: {e}", trust.display(), e.code())))?;
    let bytes = std::fs::read(bundle)
        .map_err(|e| usage("无法读取凭证文件", format!("cannot read bundle {}: {e}", bundle.display())))?;
    match verify_bundle(&bytes, &trust_file) {
        Ok(v) => {
            print_valid(&v, &trust_file);
            Ok(())
        }
        Err(e) => {
            print_invalid(&e);
            Err(Exit(1).into())
        }
    }
}

fn print_valid(v: &VerifiedBundle, trust: &TrustFile) {
    let cp = &v.checkpoint;
    println!("有效 VALID: {} {}", v.entry.kind(), v.entry.reference());
    println!("  签发机构 issuer:       {}", v.issuer_keys.join(", "));
    println!("  内容哈希 content hash: sha256 {}", hex::encode(v.entry.content_sha256()));
    println!(
        "  日志 log:              {} — 条目 entry #{} of {} (root {})",
        cp.checkpoint.origin,
        v.leaf_index,
        cp.checkpoint.size,
        STANDARD.encode(cp.checkpoint.root)
    );
    println!(
        "  见证 witnesses:        {} of {} required, {} of {} departments required",
        cp.cosignatures.len(),
        trust.quorum.min_witnesses,
        cp.departments.len(),
        trust.quorum.min_departments
    );
    for c in &cp.cosignatures {
        println!("    {} {} — cosigned {}", c.department, c.name, time(c.timestamp));
    }
    if !cp.unknown_signers.is_empty() {
        println!("  未知签名（已忽略）ignored signatures by unlisted keys: {}", cp.unknown_signers.join(", "));
    }
    println!("  内容 content:");
    let pretty = serde_json::to_string_pretty(&v.content).unwrap_or_else(|_| v.content.to_string());
    for line in pretty.lines() {
        println!("    {line}");
    }
    println!("  注意 note: 离线验证不能说明证书此后是否被撤销；撤销情况请在线查询最新检查点。");
    println!(
        "             Offline verification cannot show a later revocation; check online against a fresh checkpoint."
    );
}

fn print_invalid(e: &BundleError) {
    println!("无效 INVALID [{}]", e.code());
    println!("  {}", e.zh());
    println!("  {e}");
}

/// `civgrid witness keygen`: a new cosigning key, written 0600 to a new file; prints the vkey.
pub fn keygen(name: &str, out: &Path) -> anyhow::Result<()> {
    let cosigner = Cosigner::generate(name).map_err(|e| anyhow::anyhow!("invalid witness name {name:?}: {e}"))?;
    super::write_new_key(&cosigner, out)?;
    println!("{}", cosigner.vkey());
    eprintln!("private key written to {} (mode 0600); publish the line above as this witness's key", out.display());
    Ok(())
}

/// `civgrid witness serve`: the tlog-witness server until Ctrl-C or SIGTERM.
pub async fn serve(
    key: &Path,
    log_vkeys: &[String],
    origin: &str,
    state: &Path,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    let cosigner = super::read_key(key)?;
    let verifiers = log_vkeys
        .iter()
        .map(|k| Verifier::parse(k).map_err(|e| anyhow::anyhow!("--log-vkey {k:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if origin.is_empty() || origin.chars().any(char::is_control) {
        anyhow::bail!("--origin must be a non-empty checkpoint origin line");
    }
    let logs = vec![LogConfig { origin: origin.to_owned(), verifiers }];
    let service = super::WitnessService::open(cosigner, logs, state)?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, origin, vkey = %service.vkey(), state = %state.display(), "witness serving");
    println!("witness serving on http://{local}/add-checkpoint for {origin}");
    println!("witness vkey: {}", service.vkey());
    super::serve_until(service, listener, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("witness shutting down");
}
