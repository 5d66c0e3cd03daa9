//! Log setup: human-readable text by default, one JSON object per line when configured. The
//! request span carries `request_id`, so every line logged while serving a request has it.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("CIVGRID_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(false))
            .try_init(),
        // Colours only for a terminal: a log file or journal gets plain lines.
        LogFormat::Text => {
            registry.with(tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal())).try_init()
        }
    };
}
