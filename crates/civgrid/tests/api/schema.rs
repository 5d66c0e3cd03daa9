//! The two migration folders describe one schema, and released migrations never change.
//!
//! - `released_migrations_never_change`: every file under `migrations/{sqlite,postgres}` must be
//!   listed in `migrations/RELEASED.sha256` with its SHA-256 (sqlx refuses to start on a deployed
//!   database whose applied migration changed, so an edit would only surface in production).
//! - `migrated_schemas_agree`: a fresh SQLite and a fresh PostgreSQL database, migrated, read back
//!   from their catalogues as a set of facts (tables, columns with their type family and
//!   nullability, primary keys, unique constraints, indexes, foreign keys, check constraints);
//!   the two sets must be equal but for [`ALLOWED`], the deliberate differences, each with its
//!   reason.
//!
//! Both checks are plain functions, so the tests below also show each one failing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use civgrid::db::Db;
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::helpers::{new_place, Backend, DbPlace};

// ---------------------------------------------------------------- released migrations

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// Why the migration files under `root` disagree with `manifest` (`sha256  path` lines, the
/// format of `sha256sum`, paths relative to `root`). Empty when they agree.
fn manifest_problems(root: &Path, manifest: &str) -> Vec<String> {
    const HOW: &str = "released migrations never change: add a NEW migration instead \
                       (to release a new file, add its `sha256sum` line to migrations/RELEASED.sha256)";
    let mut problems = Vec::new();
    let mut listed = BTreeMap::new();
    for (n, line) in manifest.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once("  ") {
            Some((hash, path)) if hash.len() == 64 => {
                listed.insert(path.trim().to_owned(), hash.to_ascii_lowercase());
            }
            _ => problems.push(format!("RELEASED.sha256 line {}: not `sha256  path`: {line}", n + 1)),
        }
    }
    let mut present = BTreeSet::new();
    for backend in ["sqlite", "postgres"] {
        let dir = root.join(backend);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let name = entry.expect("directory entry").file_name().to_string_lossy().into_owned();
            present.insert(format!("{backend}/{name}"));
        }
    }
    for (path, hash) in &listed {
        match std::fs::read(root.join(path)) {
            Err(_) => problems.push(format!("{path} was released and is gone; {HOW}")),
            Ok(bytes) => {
                let actual = hex::encode(Sha256::digest(&bytes));
                if &actual != hash {
                    problems
                        .push(format!("{path} changed after its release (sha256 {actual}, released {hash}); {HOW}"));
                }
            }
        }
    }
    for path in present.iter().filter(|p| !listed.contains_key(*p)) {
        problems.push(format!(
            "{path} is not listed in RELEASED.sha256: to release it, run \
             `sha256sum {path} >> RELEASED.sha256` in crates/civgrid/migrations; {HOW}"
        ));
    }
    problems
}

#[test]
fn released_migrations_never_change() {
    let root = migrations_dir();
    let manifest = std::fs::read_to_string(root.join("RELEASED.sha256")).expect("migrations/RELEASED.sha256");
    let problems = manifest_problems(&root, &manifest);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check catches an edited, a removed and an unlisted migration, and a malformed line.
#[test]
fn the_release_check_fails_on_an_edit_a_removal_and_an_unlisted_file() {
    let dir = tempfile::tempdir().unwrap();
    for backend in ["sqlite", "postgres"] {
        std::fs::create_dir(dir.path().join(backend)).unwrap();
        for name in ["1_a.sql", "2_b.sql"] {
            std::fs::write(dir.path().join(backend).join(name), format!("create table {backend}_{name};")).unwrap();
        }
    }
    let line = |path: &str| {
        let bytes = std::fs::read(dir.path().join(path)).unwrap();
        format!("{}  {path}\n", hex::encode(Sha256::digest(bytes)))
    };
    let manifest: String =
        ["sqlite/1_a.sql", "sqlite/2_b.sql", "postgres/1_a.sql", "postgres/2_b.sql"].iter().map(|p| line(p)).collect();
    assert_eq!(manifest_problems(dir.path(), &manifest), Vec::<String>::new());

    std::fs::write(dir.path().join("sqlite/1_a.sql"), "create table edited;").unwrap();
    std::fs::remove_file(dir.path().join("postgres/2_b.sql")).unwrap();
    std::fs::write(dir.path().join("postgres/3_c.sql"), "create table c;").unwrap();
    let problems = manifest_problems(dir.path(), &format!("{manifest}not a manifest line\n"));
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("line 5"), "{problems:#?}");
    assert!(problems.iter().any(|p| p.starts_with("sqlite/1_a.sql changed after its release")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.starts_with("postgres/2_b.sql was released and is gone")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.starts_with("postgres/3_c.sql is not listed")), "{problems:#?}");
    assert!(problems.iter().all(|p| p.contains("add a NEW migration") || p.contains("line 5")), "{problems:#?}");
}

// ---------------------------------------------------------------- schema parity

/// Deliberate differences between the migrated schemas: a fact only SQLite's catalogue holds
/// (`Only::Sqlite`) or only PostgreSQL's, and why.
const ALLOWED: &[(Only, &str, &str)] = &[
    (
        Only::Postgres,
        "index ledger_entry_pending on ledger_entry (id) where …",
        "SQLite's sequencer walks the unique index on `seq` (NULLs first, in id order); there a second \
         index only cost two B-tree writes per entry (migrations/sqlite/…000008_ledger.sql)",
    ),
    (
        Only::Postgres,
        "index case_duplicate_open on case_record (class_code, lat, lng) include (created_at, id, number, grid_code) where …",
        "SQLite has no INCLUDE: its index carries the covered columns as keys, and `state`, which \
         SQLite still tests on the entry (…20261206000004_open_duplicate_index.sql)",
    ),
    (
        Only::Sqlite,
        "index case_duplicate_open on case_record (class_code, lat, lng, created_at, number, grid_code, state) where …",
        "the SQLite form of the covering index above",
    ),
    (
        Only::Postgres,
        "index case_state_id on case_record (state, id)",
        "a queue reads one state in id order; PostgreSQL's index needs the id named, SQLite's entries \
         end with the rowid (the id) already (…20261206000001_live_cases.sql)",
    ),
    (Only::Sqlite, "index case_state on case_record (state)", "the SQLite form of `case_state_id` above"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Only {
    Sqlite,
    Postgres,
}

/// The migrated schema of one database, as comparable lines.
type Facts = BTreeSet<String>;

/// The type family of a declared column type, so that `integer`/`bigint`, `real`/`double
/// precision` and `blob`/`bytea` compare equal.
fn family(declared: &str) -> String {
    let t = declared.trim().to_ascii_lowercase();
    let family = match t.as_str() {
        "integer" | "int" | "bigint" | "smallint" | "int8" | "int4" | "int2" => "integer",
        "real" | "double precision" | "double" | "float" | "float8" | "float4" | "numeric" => "real",
        "text" | "character varying" | "varchar" | "character" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" | "bool" => "boolean",
        "timestamp with time zone" | "timestamptz" | "timestamp without time zone" | "timestamp" => "timestamp",
        other => return format!("other({other})"),
    };
    family.to_owned()
}

/// An index column as both catalogues name it: a column name, or `<expression>`.
fn index_column(name: Option<String>, descending: bool) -> String {
    let name = match name {
        Some(n) if n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => n,
        _ => "<expression>".to_owned(),
    };
    if descending {
        format!("{name} desc")
    } else {
        name
    }
}

fn index_fact(name: &str, table: &str, unique: bool, keys: &[String], include: &[String], partial: bool) -> String {
    let mut fact = format!("{}index {name} on {table} ({})", if unique { "unique " } else { "" }, keys.join(", "));
    if !include.is_empty() {
        fact.push_str(&format!(" include ({})", include.join(", ")));
    }
    if partial {
        // Whether a predicate exists, not its text: the two catalogues print it differently.
        fact.push_str(" where …");
    }
    fact
}

/// Check constraints in a SQLite `create table` text (its catalogue keeps no other record):
/// the `check (` clauses outside comments.
fn sqlite_checks(sql: &str) -> usize {
    sql.lines()
        .map(|line| {
            let code = line.split("--").next().unwrap_or("").to_ascii_lowercase();
            code.match_indices("check").filter(|(i, _)| code[i + 5..].trim_start().starts_with('(')).count()
        })
        .sum()
}

async fn sqlite_facts(db: &Db) -> Facts {
    let pool = db.pool();
    let mut facts = Facts::new();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select name, sql from sqlite_master where type = 'table' \
         and name not like 'sqlite_%' and name <> '_sqlx_migrations' order by name",
    )
    .fetch_all(pool)
    .await
    .expect("sqlite tables");
    for (table, sql) in &tables {
        facts.insert(format!("table {table}"));
        facts.insert(format!("checks on {table}: {}", sqlite_checks(sql)));
        let columns: Vec<(String, String, i64, i64)> =
            sqlx::query_as("select name, type, \"notnull\", pk from pragma_table_info($1) order by cid")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("table_info");
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (column, declared, not_null, pk_position) in columns {
            // SQLite lets a non-integer PRIMARY KEY column hold NULL unless it is also declared
            // NOT NULL (a documented legacy quirk); the stores never write a NULL key, and
            // PostgreSQL makes every key column NOT NULL, so a key column counts as NOT NULL.
            let null = if not_null != 0 || pk_position > 0 { "not null" } else { "null" };
            facts.insert(format!("column {table}.{column} {} {null}", family(&declared)));
            if pk_position > 0 {
                pk.push((pk_position, column));
            }
        }
        if !pk.is_empty() {
            pk.sort();
            let cols: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
            facts.insert(format!("primary key {table} ({})", cols.join(", ")));
        }
        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as("select name, \"unique\", origin, partial from pragma_index_list($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("index_list");
        for (index, unique, origin, partial) in indexes {
            let cols: Vec<(Option<String>, i64)> =
                sqlx::query_as("select name, \"desc\" from pragma_index_xinfo($1) where key = 1 order by seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .expect("index_xinfo");
            let keys: Vec<String> = cols.into_iter().map(|(n, d)| index_column(n, d != 0)).collect();
            match origin.as_str() {
                // The primary key's own index (tables WITHOUT ROWID, non-integer keys).
                "pk" => {}
                "u" => {
                    facts.insert(format!("unique {table} ({})", keys.join(", ")));
                }
                _ => {
                    facts.insert(index_fact(&index, table, unique != 0, &keys, &[], partial != 0));
                }
            }
        }
        let fks: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
            "select id, \"table\", \"from\", \"to\", on_delete from pragma_foreign_key_list($1) order by id, seq",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .expect("foreign_key_list");
        let mut grouped: BTreeMap<i64, (String, Vec<String>, Vec<String>, String)> = BTreeMap::new();
        for (id, target, from, to, on_delete) in fks {
            let e =
                grouped.entry(id).or_insert_with(|| (target, Vec::new(), Vec::new(), on_delete.to_ascii_lowercase()));
            e.1.push(from);
            // Every migration names the referenced columns; one that does not shows as `?`.
            e.2.push(to.unwrap_or_else(|| "?".into()));
        }
        for (target, from, to, on_delete) in grouped.into_values() {
            facts.insert(format!(
                "foreign key {table} ({}) references {target} ({}) on delete {on_delete}",
                from.join(", "),
                to.join(", ")
            ));
        }
    }
    let views: Vec<String> =
        sqlx::query_scalar("select name from sqlite_master where type = 'view'").fetch_all(pool).await.expect("views");
    facts.extend(views.into_iter().map(|v| format!("view {v}")));
    facts
}

async fn postgres_facts(db: &Db) -> Facts {
    let pool = db.pool();
    let mut facts = Facts::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables where table_schema = current_schema() \
         and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("pg tables");
    for table in &tables {
        facts.insert(format!("table {table}"));
    }
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text, data_type::text, is_nullable::text \
         from information_schema.columns where table_schema = current_schema() and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("pg columns");
    for (table, column, declared, nullable) in columns {
        let null = if nullable == "YES" { "null" } else { "not null" };
        if tables.contains(&table) {
            facts.insert(format!("column {table}.{column} {} {null}", family(&declared)));
        }
    }
    // Constraints, their columns in key order (`conkey`/`confkey` hold attribute numbers).
    // (table, kind, referenced table, columns, referenced columns, on-delete action)
    type ConstraintRow = (String, String, Option<String>, Option<String>, Option<String>, String);
    let constraints: Vec<ConstraintRow> = sqlx::query_as(
        "select t.relname::text, c.contype::text, r.relname::text, \
           (select string_agg(a.attname::text, ', ' order by k.i) from unnest(c.conkey) with ordinality k(n, i) \
              join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n), \
           (select string_agg(a.attname::text, ', ' order by k.i) from unnest(c.confkey) with ordinality k(n, i) \
              join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n), \
           c.confdeltype::text \
         from pg_constraint c join pg_class t on t.oid = c.conrelid \
           join pg_namespace s on s.oid = t.relnamespace left join pg_class r on r.oid = c.confrelid \
         where s.nspname = current_schema() and t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("pg constraints");
    let mut checks: BTreeMap<String, usize> = tables.iter().map(|t| (t.clone(), 0)).collect();
    for (table, kind, target, cols, target_cols, on_delete) in constraints {
        let cols = cols.unwrap_or_default();
        match kind.as_str() {
            "p" => {
                facts.insert(format!("primary key {table} ({cols})"));
            }
            "u" => {
                facts.insert(format!("unique {table} ({cols})"));
            }
            "f" => {
                let on_delete = match on_delete.as_str() {
                    "a" => "no action",
                    "r" => "restrict",
                    "c" => "cascade",
                    "n" => "set null",
                    "d" => "set default",
                    other => other,
                };
                facts.insert(format!(
                    "foreign key {table} ({cols}) references {} ({}) on delete {on_delete}",
                    target.unwrap_or_default(),
                    target_cols.unwrap_or_default()
                ));
            }
            "c" => *checks.entry(table).or_default() += 1,
            other => {
                facts.insert(format!("constraint of kind {other} on {table} ({cols})"));
            }
        }
    }
    for (table, n) in checks {
        facts.insert(format!("checks on {table}: {n}"));
    }
    // Indexes that back no primary-key or unique constraint, one row per column: key columns
    // (k <= indnkeyatts) then INCLUDE columns; bit 1 of `indoption` is DESC.
    // (index, table, unique, partial, column number, key columns, column, descending)
    type IndexColumnRow = (String, String, i64, i64, i64, i64, String, i64);
    let index_columns: Vec<IndexColumnRow> = sqlx::query_as(
        "select i.relname::text, t.relname::text, ix.indisunique::int::bigint, \
           (ix.indpred is not null)::int::bigint, k.n::bigint, ix.indnkeyatts::bigint, \
           pg_get_indexdef(ix.indexrelid, k.n, true), coalesce(ix.indoption[k.n - 1] & 1, 0)::bigint \
         from pg_index ix join pg_class i on i.oid = ix.indexrelid join pg_class t on t.oid = ix.indrelid \
           join pg_namespace s on s.oid = t.relnamespace, generate_series(1, ix.indnatts) k(n) \
         where s.nspname = current_schema() and t.relname <> '_sqlx_migrations' \
           and not exists (select 1 from pg_constraint c where c.conindid = ix.indexrelid \
                           and c.conrelid = ix.indrelid and c.contype in ('p', 'u', 'x')) \
         order by i.relname, k.n",
    )
    .fetch_all(pool)
    .await
    .expect("pg indexes");
    type Index = (String, bool, bool, Vec<String>, Vec<String>);
    let mut indexes: BTreeMap<String, Index> = BTreeMap::new();
    for (index, table, unique, partial, n, keys, column, desc) in index_columns {
        let e = indexes.entry(index).or_insert_with(|| (table, unique != 0, partial != 0, Vec::new(), Vec::new()));
        if n <= keys {
            e.3.push(index_column(Some(column), desc != 0));
        } else {
            e.4.push(index_column(Some(column), false));
        }
    }
    for (index, (table, unique, partial, keys, include)) in indexes {
        facts.insert(index_fact(&index, &table, unique, &keys, &include, partial));
    }
    let views: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.views where table_schema = current_schema()",
    )
    .fetch_all(pool)
    .await
    .expect("pg views");
    facts.extend(views.into_iter().map(|v| format!("view {v}")));
    facts
}

/// The differences between the two schemas that [`ALLOWED`] does not explain, and the
/// allowances that no longer match anything (a stale allowance would hide the next drift).
fn parity_problems(sqlite: &Facts, postgres: &Facts, allowed: &[(Only, &str, &str)]) -> Vec<String> {
    let mut problems = Vec::new();
    let allows = |only: Only, fact: &str| allowed.iter().any(|(o, f, _)| *o == only && *f == fact);
    for fact in sqlite.difference(postgres) {
        if !allows(Only::Sqlite, fact) {
            problems.push(format!("only on SQLite:     {fact}"));
        }
    }
    for fact in postgres.difference(sqlite) {
        if !allows(Only::Postgres, fact) {
            problems.push(format!("only on PostgreSQL: {fact}"));
        }
    }
    for (only, fact, _) in allowed {
        let (here, there) = match only {
            Only::Sqlite => (sqlite, postgres),
            Only::Postgres => (postgres, sqlite),
        };
        if !here.contains(*fact) || there.contains(*fact) {
            problems.push(format!("allowed difference no longer found ({only:?} only): {fact}"));
        }
    }
    problems
}

async fn migrated(backend: Backend) -> (DbPlace, Db) {
    let place = new_place(backend).await;
    let db = Db::connect(&place.url, 2).await.expect("connect");
    db.migrate().await.expect("migrate");
    (place, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrated_schemas_agree() {
    let (_s, sqlite) = migrated(Backend::Sqlite).await;
    let (_p, postgres) = migrated(Backend::Postgres).await;
    let (s, p) = (sqlite_facts(&sqlite).await, postgres_facts(&postgres).await);
    // The readers found the schema at all (an empty read on both sides would agree).
    for facts in [&s, &p] {
        assert!(facts.contains("table case_record"), "{facts:#?}");
        assert!(facts.contains("column case_record.id integer not null"), "{facts:#?}");
        assert!(facts.contains("primary key case_record (id)"), "{facts:#?}");
        assert!(facts.iter().any(|f| f.starts_with("foreign key ") && f.ends_with("on delete cascade")), "{facts:#?}");
        assert!(facts.iter().any(|f| f.starts_with("unique ")), "{facts:#?}");
        assert!(facts.iter().any(|f| f.starts_with("checks on ") && !f.ends_with(": 0")), "{facts:#?}");
    }
    let problems = parity_problems(&s, &p, ALLOWED);
    assert!(
        problems.is_empty(),
        "the migrated schemas differ; fix it with a NEW migration (or, if deliberate, add it to ALLOWED \
         with its reason):\n{}",
        problems.join("\n")
    );
    sqlite.close().await;
    postgres.close().await;
}

/// Drift added to one backend's schema — a column, a nullability, an index, a unique
/// constraint, a foreign key, a check — is reported, on whichever side it was added.
async fn drift_is_reported(drifted: Backend) {
    let (_s, sqlite) = migrated(Backend::Sqlite).await;
    let (_p, postgres) = migrated(Backend::Postgres).await;
    let db = match drifted {
        Backend::Sqlite => &sqlite,
        Backend::Postgres => &postgres,
    };
    for statement in [
        "alter table department add column phone text not null default ''",
        "create index department_name on department (name desc)",
        "create table drift (id bigint primary key, code text unique references area (code) check (id > 0))",
    ] {
        sqlx::query(statement).execute(db.pool()).await.expect(statement);
    }
    let (s, p) = (sqlite_facts(&sqlite).await, postgres_facts(&postgres).await);
    let problems = parity_problems(&s, &p, ALLOWED);
    let side = match drifted {
        Backend::Sqlite => "only on SQLite:     ",
        Backend::Postgres => "only on PostgreSQL: ",
    };
    let expected: BTreeSet<String> = [
        "column department.phone text not null",
        "index department_name on department (name desc)",
        "table drift",
        "column drift.id integer not null",
        "column drift.code text null",
        "primary key drift (id)",
        "unique drift (code)",
        "foreign key drift (code) references area (code) on delete no action",
        "checks on drift: 1",
    ]
    .iter()
    .map(|f| format!("{side}{f}"))
    .collect();
    assert_eq!(problems.into_iter().collect::<BTreeSet<_>>(), expected);
    sqlite.close().await;
    postgres.close().await;
}
both_backends!(drift_is_reported);

/// An allowance that no longer matches a difference is itself reported.
#[test]
fn a_stale_allowance_is_reported() {
    let same: Facts = ["table a".to_owned()].into();
    let problems = parity_problems(&same, &same, &[(Only::Postgres, "index gone on a (x)", "why")]);
    assert_eq!(problems, vec!["allowed difference no longer found (Postgres only): index gone on a (x)".to_owned()]);
}
