//! Log setup: human-readable text by default, one JSON object per line when configured. The
//! request span carries `request_id`, so every line logged while serving a request has it.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Keeps the log writer running; logs still queued are written when it is dropped.
#[must_use = "logs stop being written when the guard is dropped"]
pub struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Installs the subscriber. Lines are written by a thread of their own, in batches, so a request
/// never waits on a write to the log: at thousands of requests a second a write per line on the
/// request's own thread was a share of the CPU a report took. Nothing is dropped when the
/// writer falls behind (`lossy(false)`); logging then waits instead.
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_env("CIVGRID_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("civgrid-log")
        .finish(std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
        // Colours only for a terminal: a log file or journal gets plain lines.
        LogFormat::Text => {
            registry.with(tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(writer)).try_init()
        }
    };
    LogGuard(guard)
}
