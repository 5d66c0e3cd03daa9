//! Bootstrap only: parse the command line and hand over to the library, so tests and other
//! binaries share everything else.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = civgrid::cli::Cli::parse();
    match civgrid::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("civgrid: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
