//! What the benchmark ran on.

use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// The machine a benchmark ran on, as far as it can be read without extra tools.
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    /// Logical CPUs available to this process.
    pub nproc: usize,
    /// `model name` from `/proc/cpuinfo`, or `unknown`.
    pub cpu_model: String,
    /// Total memory from `/proc/meminfo`, in bytes (0 if unreadable).
    pub mem_total_bytes: u64,
    /// UTC date and time when the benchmark started, `YYYY-MM-DD HH:MM UTC`.
    pub date_utc: String,
    /// `std::env::consts::{OS, ARCH}`.
    pub os_arch: String,
}

/// The machine line of a benchmark report.
impl std::fmt::Display for MachineInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Machine: {} × {} ({} logical CPUs shared with other work), {:.0} GiB, {}; run {}.",
            self.nproc,
            self.cpu_model,
            self.nproc,
            self.mem_total_bytes as f64 / (1u64 << 30) as f64,
            self.os_arch,
            self.date_utc
        )
    }
}

impl MachineInfo {
    /// Reads the current machine.
    pub fn current() -> Self {
        let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let mem_total_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
            })
            .map(|kb| kb * 1024)
            .unwrap_or(0);
        Self {
            nproc,
            cpu_model,
            mem_total_bytes,
            date_utc: utc_now(),
            os_arch: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC` for now (civil-from-days, proleptic Gregorian).
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3_600, (rem % 3_600) / 60)
}
