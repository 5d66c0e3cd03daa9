//! API tests: the real router, in-process, against SQLite and PostgreSQL. One binary, so the
//! crate links once.

mod helpers;

mod admin;
mod admin_cli;
mod auth;
mod backup;
mod browser;
mod cases;
mod certificates;
mod cli;
mod concurrency_cases;
mod events;
mod import;
mod indicators;
mod ledger;
mod locate;
mod matrix;
mod nodes;
mod notify;
mod open311;
mod openapi;
mod ops;
mod pages;
mod pages_services;
mod schema;
mod security_cases;
mod security_services;
mod security_staff;
mod services;
mod tls;
mod upgrade;
mod web_security;
mod webdriver;
mod witness;
