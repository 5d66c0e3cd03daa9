//! Report intake in batches. A report is validated, located and checked for duplicates by its
//! own request; what it must write then waits in one queue. A single task takes every report
//! waiting, writes them all in one unit of work with a handful of multi-row statements (the
//! cases, their numbers, their first transitions with their ledger entries, the reporters'
//! notifications) and answers each request once that unit is committed. While one batch
//! commits the next one gathers, so the batches grow with the load and the statements per
//! report shrink with it: on SQLite the single writer, on PostgreSQL the round trips, are what
//! bound intake otherwise.
//!
//! A batch that fails is retried report by report, so that a report that cannot be written
//! fails alone and writes nothing, as if it had been submitted by itself.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use super::store::{self, CaseRow, InsertCase, NewTransition};
use super::{event_of, trace, CaseError, DuplicateCandidate, ReportOutcome};
use crate::db::{BoxFuture, Db, Tx};
use crate::push::CaseEvent;

/// Most reports written in one unit of work.
const MAX_BATCH: usize = 256;

/// A validated report, ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub channel: String,
    pub description: String,
    pub class: Option<(String, i64)>,
    pub point: Option<(f64, f64)>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub media_url: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    pub reported_by: String,
    pub idempotency_key: Option<String>,
    pub now: chrono::DateTime<chrono::Utc>,
    pub duplicates: Vec<DuplicateCandidate>,
    /// For a report made without a session: the key to attach photos with, and its SHA-256.
    pub photo_key: Option<super::PhotoKey>,
    /// What the report's ledger entry commits to of the case (`trace::covered` of the row it
    /// will be stored as), computed by the report's own request so the one writer does not.
    pub covered: Option<serde_json::Value>,
}

impl Prepared {
    /// The row this report is inserted as.
    fn insert_case(&self) -> InsertCase<'_> {
        InsertCase {
            channel: &self.channel,
            description: &self.description,
            class: self.class.as_ref().map(|(code, v)| (code.as_str(), *v)),
            point: self.point,
            grid_code: self.grid_code.as_deref(),
            address: self.address.as_deref(),
            media_url: self.media_url.as_deref(),
            reporter_name: self.reporter_name.as_deref(),
            reporter_contact: self.reporter_contact.as_deref(),
            reported_by: &self.reported_by,
            idempotency_key: self.idempotency_key.as_deref(),
            created_at: self.now,
            reporter_photo_key: self.photo_key.as_ref().map(|k| k.sha256.as_str()),
        }
    }
}

/// What a report's request is answered with, and the event to publish after the commit.
pub(crate) type Written = (ReportOutcome, Option<CaseEvent>);

type Job = (Prepared, oneshot::Sender<Result<Written, CaseError>>);

/// The queue of reports waiting to be written.
#[derive(Debug, Clone)]
pub(crate) struct Intake {
    queue: mpsc::Sender<Job>,
}

impl Intake {
    /// Starts the writer task (on the current Tokio runtime); it ends when every `Intake` is
    /// dropped.
    pub(crate) fn start(db: Db) -> Intake {
        let (intake, jobs) = Intake::queue();
        tokio::spawn(run(db, jobs));
        intake
    }

    fn queue() -> (Intake, mpsc::Receiver<Job>) {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        (Intake { queue }, jobs)
    }

    /// Writes one report; the answer comes once it is committed.
    pub(crate) async fn submit(&self, mut report: Prepared) -> Result<Written, CaseError> {
        // The row the report will be stored as (id and number are not covered).
        let row = store::new_case_row(0, String::new(), &report.insert_case());
        report.covered = Some(trace::covered(&row, &trace::new_salt()));
        let (done, answer) = oneshot::channel();
        let stopped = || CaseError::Store(sqlx::Error::Io(std::io::Error::other("report intake has stopped")));
        self.queue.send((report, done)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(db: Db, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("civgrid_report_batch_size").record(batch.len() as f64);
        let (reports, answers): (Vec<Prepared>, Vec<_>) = batch.into_iter().unzip();
        if answers.len() == 1 {
            let result = write(&db, reports).await.and_then(only);
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(result);
            }
            continue;
        }
        match write(&db, reports.clone()).await {
            Ok(written) => {
                for (answer, w) in answers.into_iter().zip(written) {
                    let _ = answer.send(Ok(w));
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, reports = reports.len(), "report batch failed; writing its reports one by one");
                for (answer, report) in answers.into_iter().zip(reports) {
                    let _ = answer.send(write(&db, vec![report]).await.and_then(only));
                }
            }
        }
    }
}

fn only(written: Vec<Written>) -> Result<Written, CaseError> {
    written.into_iter().next().ok_or_else(|| CaseError::Store(sqlx::Error::RowNotFound))
}

/// Writes `reports` in one unit of work (group committed on SQLite, see `Db::write`).
async fn write(db: &Db, reports: Vec<Prepared>) -> Result<Vec<Written>, CaseError> {
    db.write(move |tx| -> BoxFuture<'_, Result<Vec<Written>, CaseError>> {
        Box::pin(async move { write_in(tx, &reports).await })
    })
    .await
}

async fn write_in(tx: &mut Tx<'static>, reports: &[Prepared]) -> Result<Vec<Written>, CaseError> {
    let rows: Vec<InsertCase<'_>> = reports.iter().map(Prepared::insert_case).collect();
    // `None` where the idempotency key was already taken: nothing was written for that report.
    let made: Vec<Option<CaseRow>> = store::insert_cases(tx, &rows).await?;
    let nows: Vec<String> = reports.iter().map(|r| crate::db::at_text(&r.now)).collect();
    let firsts: Vec<NewTransition<'_>> = made
        .iter()
        .zip(reports.iter().zip(&nows))
        .filter_map(|(case, (r, now))| {
            let case = case.as_ref()?;
            Some(NewTransition {
                case_id: case.id,
                actor: &r.reported_by,
                role: super::REPORTER_ROLE,
                action: "report",
                from: None,
                to: "received",
                note: None,
                at: now,
                after: match &r.covered {
                    Some(v) => store::After::Covered(v),
                    None => store::After::Row(case),
                },
            })
        })
        .collect();
    trace::record_all(tx, &firsts).await?;
    let mut earlier: HashMap<String, CaseRow> = HashMap::new();
    let mut out = Vec::with_capacity(reports.len());
    for ((case, r), now) in made.into_iter().zip(reports).zip(&nows) {
        match case {
            Some(case) => {
                if let Some(contact) = &case.reporter_contact {
                    crate::notify::enqueue_in(tx, case.id, &case.number, contact, "已登记，等待受理", None, now)
                        .await?;
                }
                let event = event_of(&case, "report", vec![], now);
                let photo_key = r.photo_key.as_ref().map(|k| k.key.clone());
                out.push((
                    ReportOutcome { case, created: true, duplicates: r.duplicates.clone(), photo_key },
                    Some(event),
                ));
            }
            // A taken idempotency key (a retry, or the same submission racing, possibly in this
            // very batch) answers with the case it made.
            None => {
                let k = r.idempotency_key.clone().unwrap_or_default();
                let existing = match earlier.get(&k) {
                    Some(c) => c.clone(),
                    None => store::find_by_idempotency_key(tx, &k)
                        .await?
                        .ok_or_else(|| CaseError::InvalidField("idempotency_key conflict; retry".into()))?,
                };
                earlier.insert(k, existing.clone());
                // The key was given once, with the first answer; only its hash is kept.
                out.push((ReportOutcome { case: existing, created: false, duplicates: vec![], photo_key: None }, None));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(n: usize, grid_code: Option<&str>, key: Option<&str>) -> Prepared {
        Prepared {
            channel: "hotline".into(),
            description: format!("热线来电 {n}"),
            class: None,
            point: None,
            grid_code: grid_code.map(str::to_owned),
            address: None,
            media_url: None,
            reporter_name: None,
            reporter_contact: n.is_multiple_of(5).then(|| format!("r{n}@example.cn")),
            reported_by: "citizen".into(),
            idempotency_key: key.map(str::to_owned),
            now: format!("2026-12-06T08:{:02}:00.000Z", n % 60).parse().expect("a time"),
            duplicates: vec![],
            photo_key: None,
            covered: None,
        }
    }

    /// One batch with a report that cannot be written (its grid does not exist) and two reports
    /// under one idempotency key: the bad one fails alone having written nothing, every other is
    /// written once, with its number, first transition, ledger entry and notification.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_writes_each_report_once_and_a_bad_one_fails_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let url: crate::db::DatabaseUrl =
            format!("sqlite://{}", dir.path().join("i.db").display()).parse().expect("url");
        let db = Db::connect(&url, 4).await.expect("db");
        db.migrate().await.expect("migrate");
        let (intake, jobs) = Intake::queue();
        let mut waiting = Vec::new();
        for n in 0..20 {
            let (grid, key) = match n {
                7 => (Some("99999999999999"), None),
                11 | 12 => (None, Some("same-submission")),
                _ => (None, None),
            };
            let intake = intake.clone();
            waiting.push(tokio::spawn(async move { intake.submit(report(n, grid, key)).await }));
        }
        while jobs.len() < 20 {
            tokio::task::yield_now().await;
        }
        tokio::spawn(run(db.clone(), jobs));
        let mut made = Vec::new();
        for (n, w) in waiting.into_iter().enumerate() {
            match w.await.expect("task") {
                Ok((outcome, event)) => {
                    made.push((n, outcome.case.id, outcome.created, event.is_some(), outcome.case.number))
                }
                Err(e) => assert_eq!(n, 7, "only the report in no grid fails: {e}"),
            }
        }
        assert_eq!(made.len(), 19);
        let twins: Vec<_> = made.iter().filter(|m| m.0 == 11 || m.0 == 12).collect();
        assert_eq!(twins[0].1, twins[1].1, "one idempotency key, one case");
        assert_eq!(twins.iter().filter(|t| t.2 && t.3).count(), 1, "created (and announced) once");
        for (_, id, _, _, number) in &made {
            assert_eq!(number, &format!("20261206{id:06}"));
        }
        let count = |sql: &'static str| {
            let db = db.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.expect("count") }
        };
        assert_eq!(count("select count(*) from case_record").await, 18);
        assert_eq!(count("select count(*) from case_record where number like '~%'").await, 0);
        assert_eq!(count("select count(*) from case_transition").await, 18);
        assert_eq!(count("select count(*) from ledger_entry where kind = 'case_transition'").await, 18);
        // Reports 0, 5, 10 and 15 left an address.
        assert_eq!(count("select count(*) from outbox").await, 4);
        db.close().await;
    }
}
