//! The first administrators (`civgrid admin init`), recovery from the host (`admin
//! reset-password`) and rosters (`import roster`), through the real binary, then checked
//! through the router on the same database.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, civgrid, new_place, Backend, DbPlace, TestApp};

fn ok(args: &[&str]) -> String {
    let (code, out, err) = civgrid(args);
    assert_eq!(code, Some(0), "civgrid {args:?}\n{out}{err}");
    out
}

fn fails(args: &[&str]) -> String {
    let (code, out, err) = civgrid(args);
    assert!(code.is_some_and(|c| c != 0), "civgrid {args:?} should fail\n{out}{err}");
    err
}

/// A migrated database with the demo district's outline imported from the command line.
async fn place_with_district(b: Backend) -> Arc<DbPlace> {
    let place = new_place(b).await;
    let url = place.url.as_str().to_owned();
    ok(&["--database", &url, "migrate"]);
    let dir = tempfile::tempdir().expect("dir");
    let outline = dir.path().join("district.geojson");
    std::fs::write(&outline, civgrid::demo::DISTRICT_GEOJSON).expect("write");
    let outline = outline.to_str().expect("path");
    let args = ["--database", &url, "import", "district", outline, "--code", "440604", "--name", "禅城区"];
    ok(&[&args[..], &["--datum", "gcj02"]].concat());
    Arc::new(place)
}

/// The one-time passwords of `admin init`'s block: username → password.
fn printed_passwords(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            match cols.as_slice() {
                [_, role, user, pw] if ["admin", "security_admin", "auditor"].contains(role) => {
                    Some(((*user).to_owned(), (*pw).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    app.send_json("POST", "/api/v1/auth/login", None, &json!({"username": username, "password": password})).await
}

/// Changes a one-time password and signs in with the new one.
async fn change_and_login(app: &TestApp, username: &str, one_time: &str, new: &str) -> String {
    assert_error(&login_status(app, username, one_time).await, StatusCode::FORBIDDEN, "password_change_required");
    let change = json!({"username": username, "old_password": one_time, "new_password": new});
    let (s, v) = app.send_json("POST", "/api/v1/auth/password", None, &change).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    app.login_with(username, new).await
}

async fn changes(app: &TestApp, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("select actor, entity_id from change_record where action = $1 order by id")
        .bind(action)
        .fetch_all(app.state.db.pool())
        .await
        .expect("change records")
}

async fn first_administrators_are_created_once(b: Backend) {
    // Before the district: refused, nothing created.
    let bare = new_place(b).await;
    let bare_url = bare.url.as_str().to_owned();
    ok(&["--database", &bare_url, "migrate"]);
    let err = fails(&["--database", &bare_url, "admin", "init"]);
    assert!(err.contains("[no_district]") && err.contains("import the district first"), "{err}");

    let place = place_with_district(b).await;
    let url = place.url.as_str().to_owned();
    let out = ok(&["--database", &url, "admin", "init"]);
    assert!(out.contains("ONE-TIME") && out.contains("shown this once"), "{out}");
    let passwords = printed_passwords(&out);
    let names: Vec<&str> = passwords.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(names, ["sysadmin", "secadmin", "auditadmin"], "{out}");
    for (u, p) in &passwords {
        assert!(civgrid::staff::password::check_policy(p, u).is_ok(), "{p}");
    }

    let app = TestApp::node(place.clone()).await;
    let accounts = app.state.staff.list().await.expect("list");
    assert_eq!(accounts.len(), 3);
    assert!(accounts.iter().all(|a| a.staff.must_change_password && a.staff.area_code.as_deref() == Some("440604")));
    let roles: Vec<&str> = accounts.iter().flat_map(|a| a.roles.iter().map(|g| g.role.as_str())).collect();
    assert_eq!(roles, ["admin", "security_admin", "auditor"]);
    let created = changes(&app, "staff.create").await;
    assert_eq!(created.len(), 3);
    assert!(created.iter().all(|(actor, _)| actor.starts_with("cli:")), "{created:?}");

    // They sign in only to change the password; then the system admin acts in the district and
    // cannot grant roles, which the security admin can (三权分立).
    let pw = |u: &str| passwords.iter().find(|(n, _)| n == u).map(|(_, p)| p.clone()).expect("printed");
    let sys = change_and_login(&app, "sysadmin", &pw("sysadmin"), "Sys-Admin-2026!x").await;
    let sec = change_and_login(&app, "secadmin", &pw("secadmin"), "Sec-Admin-2026!x").await;
    let (s, v) = app
        .send_json("POST", "/api/v1/admin/staff", Some(&sys), &json!({"username": "zhang.san", "display_name": "张三"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().expect("id");
    let grant = json!({"roles": [{"role": "dispatcher", "area_code": "440604"}]});
    let path = format!("/api/v1/admin/staff/{id}");
    assert_error(&app.send_json("PATCH", &path, Some(&sys), &grant).await, StatusCode::FORBIDDEN, "forbidden");
    let (s, v) = app.send_json("PATCH", &path, Some(&sec), &grant).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A second run is refused, names the administrators and changes nothing.
    let records = app.count("change_record").await;
    let err = fails(&["--database", &url, "admin", "init", "--sysadmin", "other.admin"]);
    assert!(err.contains("[administrators_exist]") && err.contains("sysadmin (admin)"), "{err}");
    assert!(err.contains("admin reset-password"), "{err}");
    assert_eq!(app.count("staff").await, 4);
    assert_eq!(app.count("change_record").await, records);
}
both_backends!(first_administrators_are_created_once);

/// Two `admin init` at once: one creates the three, the other finds them.
async fn two_inits_at_once_create_three(b: Backend) {
    let place = place_with_district(b).await;
    let url = place.url.as_str().to_owned();
    let run = |prefix: &str| {
        let (sys, sec, aud) = (format!("{prefix}.sys"), format!("{prefix}.sec"), format!("{prefix}.aud"));
        std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
            .args(["--database", &url, "admin", "init", "--sysadmin", &sys, "--secadmin", &sec])
            .args(["--auditadmin", &aud])
            .env_remove("CIVGRID_DATABASE_URL")
            .env_remove("CIVGRID_CONFIG")
            .output()
            .expect("run")
    };
    let (a, b2) = std::thread::scope(|s| {
        let a = s.spawn(|| run("a"));
        let b2 = s.spawn(|| run("b"));
        (a.join().expect("a"), b2.join().expect("b"))
    });
    assert_eq!(
        u8::from(a.status.success()) + u8::from(b2.status.success()),
        1,
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b2.stderr)
    );
    let app = TestApp::node(place).await;
    assert_eq!(app.count("staff").await, 3);
}
both_backends!(two_inits_at_once_create_three);

async fn passwords_from_files_must_pass_the_policy(b: Backend) {
    let place = place_with_district(b).await;
    let url = place.url.as_str().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("path").to_owned();
    std::fs::write(dir.path().join("sysadmin"), "Sys-Admin-File-71\n").expect("write");
    std::fs::write(dir.path().join("auditadmin"), "Audit-Admin-File-72\r\n").expect("write");
    let err = fails(&["--database", &url, "admin", "init", "--passwords-from", &d]);
    assert!(err.contains("secadmin") && err.contains("--passwords-from"), "{err}");
    std::fs::write(dir.path().join("secadmin"), "password123!\n").expect("write");
    let err = fails(&["--database", &url, "admin", "init", "--passwords-from", &d]);
    assert!(err.contains("[weak_password]"), "{err}");
    std::fs::write(dir.path().join("secadmin"), "two\nlines\n").expect("write");
    let err = fails(&["--database", &url, "admin", "init", "--passwords-from", &d]);
    assert!(err.contains("more than one line"), "{err}");
    let app = TestApp::node(place.clone()).await;
    assert_eq!(app.count("staff").await, 0);
    assert_eq!(app.count("change_record where action = 'staff.create'").await, 0);

    std::fs::write(dir.path().join("secadmin"), "Sec-Admin-File-73").expect("write");
    let out = ok(&["--database", &url, "admin", "init", "--passwords-from", &d]);
    assert!(!out.contains("Sys-Admin-File-71") && out.contains("(from its file)"), "{out}");
    change_and_login(&app, "auditadmin", "Audit-Admin-File-72", "Audit-Changed-2026").await;
}
both_backends!(passwords_from_files_must_pass_the_policy);

async fn reset_password_from_the_host(b: Backend) {
    let app = TestApp::demo(b).await;
    let url = app.place.url.as_str().to_owned();
    let session = app.login("commander").await;
    let security = app.login("security_admin").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &session).await;
    let id = me["staff_id"].as_i64().expect("id");
    let body = json!({"staff_id": id, "name": "大屏系统", "valid_days": 30});
    let (s, issued) = app.send_json("POST", "/api/v1/admin/api-tokens", Some(&security), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    let token = issued["token"].as_str().expect("token").to_owned();

    let records = app.count("change_record").await;
    let err = fails(&["--database", &url, "admin", "reset-password", "nobody.here"]);
    assert!(err.contains("[unknown_user]") && err.contains("nobody.here"), "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let weak = dir.path().join("weak");
    std::fs::write(&weak, "commander2026!").expect("write");
    let err = fails(&[
        "--database",
        &url,
        "admin",
        "reset-password",
        "commander",
        "--password-file",
        weak.to_str().expect("p"),
    ]);
    assert!(err.contains("[weak_password]"), "{err}");
    assert_eq!(app.count("change_record").await, records);
    assert_eq!(app.get_as("/api/v1/auth/me", &session).await.0, StatusCode::OK);

    let out = ok(&["--database", &url, "admin", "reset-password", "commander"]);
    assert!(out.contains("1 sessions and 1 API tokens ended"), "{out}");
    let one_time =
        out.lines().find_map(|l| l.trim().strip_prefix("one-time password: ")).expect("printed once").to_owned();
    assert_error(&app.get_as("/api/v1/auth/me", &session).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(app.get_as("/api/v1/auth/me", &token).await.0, StatusCode::UNAUTHORIZED);
    assert_error(
        &login_status(&app, "commander", civgrid::demo::DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    change_and_login(&app, "commander", &one_time, "Zhihui-Zhongxin-2026").await;
    let resets = changes(&app, "staff.reset_password").await;
    assert_eq!(resets.len(), 1);
    assert!(resets[0].0.starts_with("cli:") && resets[0].1 == id.to_string(), "{resets:?}");

    // A deactivated account gets the password but stays deactivated, and the output says so.
    let admin = app.login("admin").await;
    let (_, clerk) = app.get_as("/api/v1/admin/staff", &admin).await;
    let clerk = clerk["staff"].as_array().expect("staff").iter().find(|s| s["username"] == "clerk").cloned();
    let clerk_id = clerk.and_then(|c| c["id"].as_i64()).expect("clerk");
    let path = format!("/api/v1/admin/staff/{clerk_id}");
    assert_eq!(app.send_json("PATCH", &path, Some(&admin), &json!({"active": false})).await.0, StatusCode::OK);
    let out = ok(&["--database", &url, "admin", "reset-password", "clerk"]);
    assert!(out.contains("DEACTIVATED"), "{out}");
    assert!(!app.state.staff.get(clerk_id).await.expect("clerk").staff.active);
}
both_backends!(reset_password_from_the_host);

/// A workbook with a 部门 sheet (one new department, one the demo has as it is) and a 人员
/// sheet, as a district would hand it over.
fn roster_xlsx(path: &std::path::Path, people: &[[&str; 7]]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("部门").expect("name");
    for (r, row) in [
        ["部门编码", "部门名称", "所属区域"],
        ["wgzx", "祖庙街道网格服务中心", "440604010"],
        ["cgj", "禅城区城市管理和综合执法局", "440604"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).expect("cell");
        }
    }
    let sheet = book.add_worksheet().set_name("人员").expect("name");
    let header = ["用户名", "姓名", "部门编码", "角色", "区域", "网格", "网格员类型"];
    for (r, row) in std::iter::once(&header).chain(people).enumerate() {
        for (c, v) in row.iter().enumerate() {
            // Codes typed into Excel are often numbers: the reader turns them back into codes.
            match v.parse::<f64>() {
                Ok(n) if c >= 4 && !v.is_empty() => sheet.write_number(r as u32, c as u16, n).map(|_| ()),
                _ => sheet.write_string(r as u32, c as u16, *v).map(|_| ()),
            }
            .expect("cell");
        }
    }
    book.save(path).expect("save xlsx");
}

async fn rosters_import_all_or_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let url = app.place.url.as_str().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let book = dir.path().join("花名册.xlsx");
    roster_xlsx(
        &book,
        &[
            ["li.wanggeyuan", "李网格", "", "网格员", "440604010001", "44060401000101", "兼职"],
            ["chen.chuzhi", "陈处置", "wgzx", "handler", "", "", ""],
            ["zhao.paiqian", "赵派遣", "zhzx", "派遣员；值班长", "440604", "", ""],
        ],
    );
    let book_s = book.to_str().expect("path");
    let out_file = dir.path().join("passwords.csv");
    let out_s = out_file.to_str().expect("path");
    let (staff_before, depts_before) = (app.count("staff").await, app.count("department").await);

    // A bad roster: every wrong row named, nothing imported, no passwords file.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "用户名,姓名,部门编码,角色,区域\n\
         ok.person,好人,,dispatcher,440604\n\
         admin,重名,,dispatcher,440604\n\
         wu.bumen,无部门,nodept,handler,\n\
         quan.li,权力,,系统管理员,440604\n\
         wei.zhi,未知,,magician,440604\n\
         ok.person,重复,,dispatcher,440604\n\
         no.area,无区域,,dispatcher,440699001\n",
    )
    .expect("write");
    let err = fails(&["--database", &url, "import", "roster", bad.to_str().expect("p"), "--passwords-out", out_s]);
    for expected in [
        "row 5 (bad.csv): [administrative_role]",
        "row 6 (bad.csv): [unknown_role]",
        "row 7 (bad.csv): [duplicate_in_roster]",
        "nothing was imported",
    ] {
        assert!(err.contains(expected), "{expected} in\n{err}");
    }
    // The rows that pass on their own are then checked against the database.
    std::fs::write(
        &bad,
        "用户名,姓名,部门编码,角色,区域\n\
         ok.person,好人,,dispatcher,440604\n\
         admin,重名,,dispatcher,440604\n\
         wu.bumen,无部门,nodept,handler,\n\
         no.area,无区域,,dispatcher,440604999\n",
    )
    .expect("write");
    let err = fails(&["--database", &url, "import", "roster", bad.to_str().expect("p"), "--passwords-out", out_s]);
    for expected in [
        "row 3 (bad.csv): [username_taken]",
        "row 4 (bad.csv): [department_not_found]",
        "row 5 (bad.csv): [area_not_found]",
    ] {
        assert!(err.contains(expected), "{expected} in\n{err}");
    }
    assert!(!err.contains("row 2 "), "{err}");
    assert!(!out_file.exists());
    assert_eq!((app.count("staff").await, app.count("department").await), (staff_before, depts_before));

    // The workbook imports: one department created, the identical one skipped.
    let out = ok(&["--database", &url, "import", "roster", book_s, "--passwords-out", out_s]);
    assert!(out.contains("department cgj: exists with the same name and area, skipped"), "{out}");
    assert!(out.contains("1 departments created, 1 skipped; 3 accounts created"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&out_file).expect("passwords");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("csv");
    assert_eq!(rows.len(), 3);
    assert!(!out.contains(&rows[0][2]), "passwords stay out of the output");
    let accounts = app.state.staff.list().await.expect("list");
    let find = |u: &str| accounts.iter().find(|a| a.staff.username == u).cloned().expect(u);
    let worker = find("li.wanggeyuan");
    assert_eq!(worker.roles[0].role.as_str(), "grid_worker");
    assert_eq!(worker.roles[0].area_code, "440604010001");
    assert!(worker.staff.must_change_password);
    let grids = app.state.territory.grids_of_worker(worker.staff.id).await.expect("grids");
    assert_eq!(grids, ["44060401000101"]);
    let handler = find("chen.chuzhi");
    assert_eq!(
        (handler.staff.department_code.as_deref(), handler.staff.area_code.as_deref()),
        (Some("wgzx"), Some("440604010"))
    );
    assert_eq!(find("zhao.paiqian").roles.len(), 2);
    change_and_login(&app, &rows[1][0], &rows[1][2], "Chen-Chuzhi-2026").await;
    let created = changes(&app, "department.create").await;
    assert!(created.iter().any(|(actor, code)| actor.starts_with("cli:") && code == "wgzx"), "{created:?}");
    let staff_records = changes(&app, "staff.create").await;
    assert!(staff_records.iter().any(|(actor, sid)| actor.starts_with("cli:") && *sid == handler.staff.id.to_string()));

    // The same roster again: its people exist, so it is refused whole.
    let again = dir.path().join("again.csv");
    let err = fails(&["--database", &url, "import", "roster", book_s, "--passwords-out", again.to_str().expect("p")]);
    assert!(err.contains("row 2 (人员): [username_taken]") && err.contains("row 4 (人员)"), "{err}");
    assert!(!again.exists());
    // A department that exists differently is refused, not renamed.
    let conflict = dir.path().join("dept.csv");
    std::fs::write(&conflict, "department_code,department_name,area_code\ncgj,城管局,440604\n").expect("write");
    let err = fails(&["--database", &url, "import", "roster", conflict.to_str().expect("p")]);
    assert!(err.contains("row 2 (dept.csv): [department_conflict]"), "{err}");

    // A GBK CSV from Excel imports; without --passwords-out the accounts have no password.
    let gbk = dir.path().join("gbk.csv");
    let (bytes, _, _) =
        encoding_rs::GBK.encode("用户名,姓名,角色,区域,电话\r\nsun.shouli,孙受理,受理员,440604,1380000\r\n");
    std::fs::write(&gbk, &bytes).expect("write");
    let out = ok(&["--database", &url, "import", "roster", gbk.to_str().expect("p")]);
    assert!(out.contains("GBK") && out.contains("columns not imported: 电话"), "{out}");
    assert!(out.contains("NO password"), "{out}");
    assert_error(
        &login_status(&app, "sun.shouli", "Whatever-Pass-2026").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );

    // Files that are no roster.
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").expect("write");
    let corrupt = dir.path().join("broken.xlsx");
    let mut broken = std::fs::read(&book).expect("read");
    broken.truncate(broken.len() / 2);
    std::fs::write(&corrupt, broken).expect("write");
    let binary = dir.path().join("photo.csv");
    std::fs::write(&binary, [0x89u8, b'P', b'N', b'G', 0, 0, 0, 13]).expect("write");
    let err = fails(&[
        "--database",
        &url,
        "import",
        "roster",
        empty.to_str().expect("p"),
        corrupt.to_str().expect("p"),
        binary.to_str().expect("p"),
    ]);
    for expected in ["empty.csv: [empty_file]", "broken.xlsx: [corrupt_xlsx]", "photo.csv: [not_text]"] {
        assert!(err.contains(expected), "{expected} in\n{err}");
    }
    let err = fails(&["--database", &url, "import", "roster", book_s, "--passwords-out", out_s]);
    assert!(err.contains("--passwords-out") && err.contains("exists"), "{err}");
}
both_backends!(rosters_import_all_or_nothing);
