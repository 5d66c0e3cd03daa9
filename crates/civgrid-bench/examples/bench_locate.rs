//! Stand-alone driver for the civgrid-bench library (used by `scripts/bench-locate.sh`):
//!
//! ```text
//! bench_locate gen-grids --counties DIR --target N --out FILE.geojson
//! bench_locate locate --grids FILE.geojson --points N [--postgis URL] [--per-point N]
//!                     [--seed S] [--markdown FILE.md] [--json FILE.json]
//! ```

use anyhow::{anyhow, bail, Context};
use civgrid_bench::{gen_grids, locate, LocateBenchOptions};
use std::collections::HashMap;
use std::path::PathBuf;

const USAGE: &str = "usage:
  bench_locate gen-grids --counties DIR --target N --out FILE.geojson
  bench_locate locate --grids FILE.geojson --points N [--postgis URL] [--per-point N] [--seed S] [--markdown FILE.md] [--json FILE.json]";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().ok_or_else(|| anyhow!("{USAGE}"))?;
    let rest: Vec<String> = args.collect();
    if !rest.len().is_multiple_of(2) {
        bail!("options come in pairs\n{USAGE}");
    }
    let mut opts: HashMap<String, String> = HashMap::new();
    for pair in rest.chunks(2) {
        let key = pair[0].strip_prefix("--").ok_or_else(|| anyhow!("unexpected {}\n{USAGE}", pair[0]))?;
        opts.insert(key.to_string(), pair[1].clone());
    }
    let allowed: &[&str] = match cmd.as_str() {
        "gen-grids" => &["counties", "target", "out"],
        "locate" => &["grids", "points", "postgis", "per-point", "seed", "markdown", "json"],
        _ => bail!("unknown command {cmd}\n{USAGE}"),
    };
    if let Some(k) = opts.keys().find(|k| !allowed.contains(&k.as_str())) {
        bail!("unknown option --{k} for {cmd}\n{USAGE}");
    }
    let mut take = |k: &str| opts.remove(k);
    match cmd.as_str() {
        "gen-grids" => {
            let counties = PathBuf::from(take("counties").ok_or_else(|| anyhow!("{USAGE}"))?);
            let target: usize = take("target").ok_or_else(|| anyhow!("{USAGE}"))?.parse().context("--target")?;
            let out = PathBuf::from(take("out").ok_or_else(|| anyhow!("{USAGE}"))?);
            let summary = gen_grids(&counties, target, &out)?;
            println!("{summary}");
        }
        "locate" => {
            let o = LocateBenchOptions {
                grids: PathBuf::from(take("grids").ok_or_else(|| anyhow!("{USAGE}"))?),
                points: take("points").map_or(Ok(1_000_000), |s| s.parse()).context("--points")?,
                postgis_url: take("postgis"),
                per_point_queries: take("per-point").map_or(Ok(20_000), |s| s.parse()).context("--per-point")?,
                seed: take("seed").map_or(Ok(1), |s| s.parse()).context("--seed")?,
                markdown_out: take("markdown").map(PathBuf::from),
            };
            let json = take("json").map(PathBuf::from);
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let report = rt.block_on(locate(&o))?;
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!("{report}");
        }
        _ => bail!("unknown command {cmd}\n{USAGE}"),
    }
    Ok(())
}
