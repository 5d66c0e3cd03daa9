//! civgrid: grid-based governance for a district government.
//!
//! Bounded contexts are modules with a narrow public face; dependencies point one way:
//! `web` → (`territory`, `staff`) → `audit` → `db`, and all geometry comes from the
//! `civgrid-geo` crate. See docs/ARCHITECTURE.md for the map.

/// Start-up: building the app, serving it, shutting it down gracefully.
pub mod app;
/// The change record (留痕) every change writes in its own transaction.
pub mod audit;
/// `civgrid backup` and `civgrid restore`: consistent copies, and restores that never fork the ledger.
pub mod backup;
/// The case loop: catalogue, calendar, reports, the GB/T 30428 state machine.
pub mod cases;
/// Certificates and e-licences issued as verifiable bundles.
pub mod certificates;
/// The command line (`civgrid demo|serve|migrate|audit|import|export|verify|witness`).
pub mod cli;
/// Layered, validated settings.
pub mod config;
/// The database handle: SQLite or PostgreSQL behind one pool, migrations for both.
pub mod db;
/// The real demo district (Chancheng, 440604) and its accounts.
pub mod demo;
/// Identity numbers (GB 11643 resident ID), validated on construction.
pub mod identity;
/// The trust ledger: entries written with their records, the sequencer, checkpoints, tiles,
/// proofs and the audit.
pub mod ledger;
/// Notifications to reporters through a durable outbox (SMTP, signed webhook).
pub mod notify;
/// Open311 GeoReport v2 intake: API keys and the mapping of cases to service requests.
pub mod open311;
/// Local (UTC+8) hours, days and months for counts kept as rollups.
pub(crate) mod periods;
/// Live push of case events (SSE; LISTEN/NOTIFY across PostgreSQL nodes).
pub mod push;
/// Secrets kept out of `Debug` output (`[redacted]`).
pub mod secret;
/// One-window government services (一门式): item catalogue, acceptance with material reuse,
/// parallel approvals, e-licences, 好差评, statistics.
pub mod services;
/// Departments, staff, roles, sessions, API tokens, login throttling.
pub mod staff;
/// Log set-up.
pub mod telemetry;
/// Areas, grids, grid workers, point → grid routing.
pub mod territory;
/// Native TLS: the certificate and key files checked at start-up, reloaded on SIGHUP.
pub mod tls;
/// Bearer tokens (staff API tokens, Open311 keys): generated once, stored as hashes, verified,
/// revoked — one mechanism, one table.
pub mod tokens;
/// HTTP: router, middleware, handlers, the error envelope.
pub mod web;
/// The ledger's witness server and client (C2SP tlog-witness), `civgrid verify` and
/// `civgrid witness`.
pub mod witness;
