//! The intake report as Markdown.

use std::fmt;

use super::IntakeReport;

impl fmt::Display for IntakeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        writeln!(f, "### Report intake — {} ({})", self.backend, m.date_utc)?;
        writeln!(f)?;
        writeln!(
            f,
            "Machine: {} CPUs ({}), {:.0} GiB, {}. Database: {}. Server: {}.",
            m.nproc,
            m.cpu_model,
            m.mem_total_bytes as f64 / (1u64 << 30) as f64,
            m.os_arch,
            self.database,
            self.server
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| step | scheduled | acknowledged (201) | errors | achieved /s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | push p50 ms | push p99 ms | push n (missing) | civgrid CPU | load-gen CPU | machine busy | sustained |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")?;
        for s in &self.steps {
            let errors = if s.errors.is_empty() {
                "0".to_owned()
            } else {
                s.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            };
            writeln!(
                f,
                "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} ({}) | {:.2} | {:.2} | {:.0} % | {} |",
                s.label,
                s.scheduled,
                s.acknowledged,
                errors,
                s.achieved_per_sec,
                s.latency.p50_ms,
                s.latency.p90_ms,
                s.latency.p99_ms,
                s.latency.p999_ms,
                s.latency.max_ms,
                s.push.p50_ms,
                s.push.p99_ms,
                s.push.count,
                s.push_missing,
                s.server_cpu_cores,
                s.client_cpu_cores,
                s.machine_cpu_busy * 100.0,
                if s.offered_per_sec.is_some() { if s.sustained { "yes" } else { "**no**" } } else { "—" },
            )?;
        }
        writeln!(f)?;
        writeln!(f, "| raw single-row insert (ceiling) | connections | inserts/s | p50 ms | p99 ms |")?;
        writeln!(f, "|---|---|---|---|---|")?;
        for c in &self.ceilings {
            writeln!(
                f,
                "| {} | {} | {:.0} | {:.2} | {:.2} |",
                c.what, c.connections, c.inserts_per_sec, c.latency.p50_ms, c.latency.p99_ms
            )?;
        }
        writeln!(f)?;
        let best = self.steps.iter().map(|s| s.achieved_per_sec).fold(0.0, f64::max);
        if let Some(sustained) = self.sustained_rate() {
            writeln!(
                f,
                "Highest sustained offered rate: **{sustained} reports/s**; best achieved: {best:.0} reports/s."
            )?;
        } else {
            writeln!(f, "No open-loop step was sustained; best achieved: {best:.0} reports/s.")?;
        }
        for c in &self.ceilings {
            if c.inserts_per_sec > 0.0 {
                writeln!(
                    f,
                    "Reports (best achieved) ÷ raw inserts ({}, {} connection(s)): **{:.2}×**.",
                    c.what,
                    c.connections,
                    best / c.inserts_per_sec
                )?;
            }
        }
        for n in &self.notes {
            writeln!(f, "- {n}")?;
        }
        Ok(())
    }
}
