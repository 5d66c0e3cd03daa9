//! Notifications to reporters through a durable outbox.
//!
//! A reporter who left contact details hears of every public status change of their case. The
//! message row is written in the same transaction as the change ([`enqueue_in`]); a worker on
//! every node ([`Outbox::deliver_due`]) leases due rows, sends them — e-mail over SMTP, or a
//! signed webhook to the SMS/WeChat gateway for phone numbers and other contacts — and retries
//! failures with exponential back-off (10 s · 2ⁿ, at most an hour) up to [`MAX_ATTEMPTS`] times.
//! Rows survive restarts; a lease that expires (a node died mid-send) makes the row due again.
//!
//! Webhook requests carry `X-Civgrid-Timestamp` and `X-Civgrid-Signature: sha256=<hex>`, the
//! HMAC-SHA256 of `"<timestamp>.<body>"` under the shared secret, so the gateway can reject
//! forgeries and replays.

mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;

use crate::db::{Db, Tx};

/// Attempts before a message is given up (and left in the table, marked failed).
pub const MAX_ATTEMPTS: i64 = 8;
const LEASE_SECONDS: i64 = 60;

/// Where messages go. Unset channels leave their messages queued (visible in /metrics).
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// `smtp://host:port` of the mail relay (plain SMTP on the government network).
    pub smtp: Option<(String, u16)>,
    pub smtp_from: Option<String>,
    pub webhook_url: Option<String>,
    /// The webhook's HMAC key; `Debug` prints `[redacted]`.
    pub webhook_secret: Option<crate::secret::Secret>,
}

impl NotifySettings {
    /// Parses `smtp://host[:port]`.
    pub fn parse_smtp(url: &str) -> Result<(String, u16), String> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| format!("`{url}` must look like smtp://host:25"))?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("`{p}` is not a port"))?),
            None => (rest, 25),
        };
        if host.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        Ok((host.to_owned(), port))
    }
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Queues the status message for a case's reporter, inside the caller's transaction.
pub async fn enqueue_in(
    tx: &mut Tx<'_>,
    case_id: i64,
    number: &str,
    contact: &str,
    state_label: &str,
    note: Option<&str>,
    now: &str,
) -> Result<(), sqlx::Error> {
    let subject = format!("您反映的问题（案卷号 {number}）状态更新：{state_label}");
    let mut body = format!("您好！您反映的问题（案卷号 {number}）当前状态：{state_label}。");
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        body.push_str(&format!("说明：{n}。"));
    }
    body.push_str("感谢您对城市治理的支持。");
    // A reporter may leave several contacts ("a@b.cn; 138…"): each gets the message.
    for one in contact.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let channel = if one.contains('@') { "email" } else { "webhook" };
        store::enqueue(tx, case_id, channel, one, &subject, &body, now).await?;
    }
    Ok(())
}

/// Queues a free-form message (not tied to a case) to every contact in `contact`, inside the
/// caller's transaction — used for service applicants (acceptance, missing-materials notices,
/// decisions, e-licences).
pub async fn enqueue_message_in(
    tx: &mut Tx<'_>,
    contact: &str,
    subject: &str,
    body: &str,
    now: &str,
) -> Result<usize, sqlx::Error> {
    let mut n = 0;
    for one in contact.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let channel = if one.contains('@') { "email" } else { "webhook" };
        store::enqueue_unlinked(tx, channel, one, subject, body, now).await?;
        n += 1;
    }
    Ok(n)
}

/// Delivery outcome of one pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// The delivering side of the outbox.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    settings: NotifySettings,
    http: reqwest::Client,
}

impl Outbox {
    pub fn new(db: Db, settings: NotifySettings) -> Outbox {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Outbox { db, settings, http }
    }

    /// Sends every message due at `now` that this node can lease.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<Delivery, sqlx::Error> {
        let now_t = text(now);
        let until = text(now + chrono::Duration::seconds(LEASE_SECONDS));
        let mut out = Delivery::default();
        for id in store::due(&self.db, &now_t, 50).await? {
            let Some(m) = store::claim(&self.db, id, &now_t, &until).await? else { continue };
            match self.send(&m, now).await {
                Ok(()) => {
                    store::mark_sent(&self.db, m.id, &now_t).await?;
                    out.sent += 1;
                }
                Err(e) => {
                    let attempt = m.attempts + 1;
                    let next = (attempt < MAX_ATTEMPTS).then(|| {
                        let wait = (10_i64 << attempt.min(9)).min(3600);
                        text(now + chrono::Duration::seconds(wait))
                    });
                    if next.is_some() {
                        out.retrying += 1;
                    } else {
                        out.failed += 1;
                    }
                    tracing::warn!(outbox.id = m.id, attempt, error = %e, "notification not delivered");
                    store::mark_failed(&self.db, m.id, &e, next.as_deref(), &now_t).await?;
                }
            }
        }
        metrics::gauge!("civgrid_queue_depth", "queue" => "outbox").set(store::pending(&self.db).await? as f64);
        Ok(out)
    }

    async fn send(&self, m: &store::Message, now: DateTime<Utc>) -> Result<(), String> {
        match m.channel.as_str() {
            "email" => self.send_email(m).await,
            _ => self.send_webhook(m, now).await,
        }
    }

    async fn send_email(&self, m: &store::Message) -> Result<(), String> {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let (host, port) = self.settings.smtp.clone().ok_or("no SMTP relay configured")?;
        let from = self.settings.smtp_from.clone().unwrap_or_else(|| "civgrid@localhost".into());
        let email = Message::builder()
            .from(from.parse().map_err(|e| format!("from address: {e}"))?)
            .to(m.recipient.parse().map_err(|e| format!("recipient address: {e}"))?)
            .subject(m.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| e.to_string())?;
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(10)))
            .build();
        mailer.send(email).await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn send_webhook(&self, m: &store::Message, now: DateTime<Utc>) -> Result<(), String> {
        let url = self.settings.webhook_url.as_deref().ok_or("no notification webhook configured")?;
        let body = json!({"id": m.id, "recipient": m.recipient, "subject": m.subject, "text": m.body}).to_string();
        let ts = now.timestamp().to_string();
        let secret = self.settings.webhook_secret.as_ref().map(crate::secret::Secret::expose).unwrap_or_default();
        let signature = sign(secret, &ts, &body);
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-civgrid-timestamp", &ts)
            .header("x-civgrid-signature", format!("sha256={signature}"))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("gateway answered {}", resp.status()))
        }
    }
}

/// HMAC-SHA256 of `"<timestamp>.<body>"`, hex.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked() {
        assert_eq!(NotifySettings::parse_smtp("smtp://mail.gov:2525"), Ok(("mail.gov".into(), 2525)));
        assert_eq!(NotifySettings::parse_smtp("smtp://relay"), Ok(("relay".into(), 25)));
        assert!(NotifySettings::parse_smtp("http://relay").is_err());
        assert!(NotifySettings::parse_smtp("smtp://:25").is_err());
        assert!(NotifySettings::parse_smtp("smtp://h:x").is_err());
    }

    #[test]
    fn signatures_depend_on_secret_time_and_body() {
        let s = sign("k", "1", "{}");
        assert_eq!(s.len(), 64);
        assert_ne!(s, sign("k2", "1", "{}"));
        assert_ne!(s, sign("k", "2", "{}"));
        assert_ne!(s, sign("k", "1", "{ }"));
    }
}
