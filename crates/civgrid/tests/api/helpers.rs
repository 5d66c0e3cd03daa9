//! The test harness: a fresh database per test (a temporary SQLite file, or a PostgreSQL schema
//! of its own that is dropped afterwards), the real router driven in-process, typed helpers.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use civgrid::app;
use civgrid::config::{FileConfig, Overrides, Settings};
use civgrid::db::{DatabaseUrl, Db};
use civgrid::web::{self, AppState};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a scenario against SQLite and against PostgreSQL, as two tests.
#[macro_export]
macro_rules! both_backends {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

/// The PostgreSQL the suite runs against. It must be reachable: a suite that silently skipped
/// half its backends would pass without testing them.
pub fn postgres_base_url() -> String {
    std::env::var("CIVGRID_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Where a test's database lives; dropping it removes the database.
pub struct DbPlace {
    pub url: DatabaseUrl,
    pub dir: Option<tempfile::TempDir>,
    pg_schema: Option<String>,
}

impl Drop for DbPlace {
    fn drop(&mut self) {
        if let Some(schema) = self.pg_schema.take() {
            // Drop runs outside async context; use a private runtime on a plain thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let url: DatabaseUrl = postgres_base_url().parse().ok()?;
                    let db = Db::connect(&url, 1).await.ok()?;
                    sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(db.pool()).await.ok()?;
                    db.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub async fn new_place(backend: Backend) -> DbPlace {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("t.db").display()).parse().expect("url");
            DbPlace { url, dir: Some(dir), pg_schema: None }
        }
        Backend::Postgres => {
            let base = postgres_base_url();
            let schema =
                format!("t_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), rand_suffix());
            let admin_url: DatabaseUrl = base.parse().expect("CIVGRID_TEST_POSTGRES_URL");
            let db = Db::connect(&admin_url, 1).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {base} is required by the test suite (set CIVGRID_TEST_POSTGRES_URL): {e}")
            });
            sqlx::query(&format!("create schema {schema}")).execute(db.pool()).await.expect("create schema");
            db.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}").parse().expect("url");
            DbPlace { url, dir: Some(tempfile::tempdir().expect("temp dir")), pg_schema: Some(schema) }
        }
    }
}

fn rand_suffix() -> u32 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    t % 100_000
}

pub fn settings() -> Settings {
    Settings::resolve(Overrides::default(), FileConfig::default()).expect("default settings")
}

/// One civgrid node over a test database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub place: std::sync::Arc<DbPlace>,
}

impl TestApp {
    /// An empty, migrated database.
    pub async fn empty(backend: Backend) -> TestApp {
        let place = std::sync::Arc::new(new_place(backend).await);
        TestApp::node(place).await
    }

    /// The seeded demo district.
    pub async fn demo(backend: Backend) -> TestApp {
        let app = TestApp::empty(backend).await;
        civgrid::demo::seed(&app.state.territory, &app.state.staff, &app.state.cases).await.expect("demo seed");
        app
    }

    /// Another node on the same database (what a second civgrid process would be).
    pub async fn node(place: std::sync::Arc<DbPlace>) -> TestApp {
        let mut s = settings();
        // Nodes of one database share its ledger keys, as in production.
        s.ledger_key_dir = place.dir.as_ref().map(|d| d.path().join("ledger-keys"));
        let db = app::open_database(&place.url, &s).await.expect("open database");
        let state = app::state(db, &s).await.expect("state");
        let router = web::router(state.clone());
        TestApp { state, router, place }
    }

    pub async fn request(&self, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let resp = self.router.clone().oneshot(req).await.expect("router never fails");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, value, headers)
    }

    /// A GET whose body is returned as raw bytes (tiles, notes).
    pub async fn get_bytes(&self, uri: &str) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
        let req = Request::get(uri).body(Body::empty()).expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("router never fails");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let bytes = resp.into_body().collect().await.expect("body").to_bytes().to_vec();
        (status, bytes, headers)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.request(Request::get(uri).body(Body::empty()).expect("request")).await;
        (s, v)
    }

    pub async fn get_as(&self, uri: &str, token: &str) -> (StatusCode, Value) {
        let req = Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty());
        let (s, v, _) = self.request(req.expect("request")).await;
        (s, v)
    }

    pub async fn send_json(&self, method: &str, uri: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (s, v, _) = self.request(req.body(Body::from(body.to_string())).expect("request")).await;
        (s, v)
    }

    pub async fn send_raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, content_type);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (s, v, _) = self.request(req.body(Body::from(body)).expect("request")).await;
        (s, v)
    }

    /// Signs in a demo account and returns its session token.
    pub async fn login(&self, username: &str) -> String {
        self.login_with(username, civgrid::demo::DEMO_PASSWORD).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> String {
        let (s, v) = self
            .send_json(
                "POST",
                "/api/v1/auth/login",
                None,
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "login {username}: {v}");
        v["token"].as_str().expect("token").to_owned()
    }

    /// Makes a working account the way the house does (三权分立): the district admin creates
    /// it, the security admin grants its roles and a one-time password, and the account changes
    /// that to `password`. Returns its id.
    pub async fn create_staff(&self, body: &Value, password: &str) -> i64 {
        let roles = body["roles"].clone();
        let area = roles
            .as_array()
            .and_then(|r| r.iter().filter_map(|g| g["area_code"].as_str()).min_by_key(|a| a.len()))
            .unwrap_or(civgrid::demo::DISTRICT_CODE)
            .to_owned();
        let mut account = serde_json::json!({
            "username": body["username"], "display_name": body["display_name"], "area_code": area,
        });
        if let Some(d) = body["department_code"].as_str() {
            account["department_code"] = d.into();
        }
        let admin = self.login("admin").await;
        let (s, v) = self.send_json("POST", "/api/v1/admin/staff", Some(&admin), &account).await;
        assert_eq!(s, StatusCode::CREATED, "create {account}: {v}");
        let id = v["id"].as_i64().expect("id");
        let security = self.login("security_admin").await;
        let one_time = "One-time-pass-2026";
        let (s, v) = self
            .send_json(
                "PATCH",
                &format!("/api/v1/admin/staff/{id}"),
                Some(&security),
                &serde_json::json!({"roles": roles, "password": one_time}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "roles and password: {v}");
        let change =
            serde_json::json!({"username": body["username"], "old_password": one_time, "new_password": password});
        let (s, v) = self.send_json("POST", "/api/v1/auth/password", None, &change).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "change password: {v}");
        id
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(self.state.db.pool())
            .await
            .expect("count")
    }
}

/// Runs the built `civgrid` binary without the caller's database settings: (exit code, stdout,
/// stderr).
pub fn civgrid(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args(args)
        .env_remove("CIVGRID_DATABASE_URL")
        .env_remove("CIVGRID_CONFIG")
        .output()
        .expect("run civgrid");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts an error envelope with the given status and code.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "body: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "body: {}", got.1);
    assert!(got.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "message present: {}", got.1);
}
