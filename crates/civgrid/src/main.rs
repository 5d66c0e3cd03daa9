//! Bootstrap only: parse the command line and hand over to the library, so tests and other
//! binaries share everything else.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = civgrid::cli::Cli::parse();
    match civgrid::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<civgrid::cli::Exit>() {
            // The command already printed its outcome.
            Some(exit) => std::process::ExitCode::from(exit.0),
            None => {
                eprintln!("civgrid: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
