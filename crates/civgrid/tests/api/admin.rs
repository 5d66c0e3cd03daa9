use axum::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

async fn admins_change_the_territory_and_every_change_is_recorded(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;

    let (s, v) = app
        .send_json("POST", "/api/v1/admin/areas", Some(&admin), &json!({"code": "440604013", "name": "新城街道"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["level"], "subdistrict");
    let (s, _) = app
        .send_json(
            "POST",
            "/api/v1/admin/areas",
            Some(&admin),
            &json!({"code": "440604013001", "name": "新城第01社区"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) =
        app.send_json("PATCH", "/api/v1/admin/areas/440604013001", Some(&admin), &json!({"name": "新城社区"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (_, changes) = app.get_as("/api/v1/admin/changes?entity=area&entity_id=440604013001", &admin).await;
    let changes = changes["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["action"], "area.rename");
    assert_eq!(changes[0]["before"]["name"], "新城第01社区");
    assert_eq!(changes[0]["after"]["name"], "新城社区");
    assert!(changes[0]["actor"].as_str().is_some_and(|a| a.starts_with("staff:") && a.ends_with(":admin")));
    assert!(changes[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(changes[0]["request_id"].as_str().map(str::len), Some(16));

    // The rename shows up in locate answers at once.
    let (s, v) = app
        .send_json("PATCH", "/api/v1/admin/grids/44060401000101", Some(&admin), &json!({"name": "升平路网格"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, grid) = app.get("/api/v1/grids/44060401000101").await;
    assert_eq!(grid["name"], "升平路网格");
    assert_eq!(grid["workers"].as_array().map(Vec::len), Some(2));
}
both_backends!(admins_change_the_territory_and_every_change_is_recorded);

async fn bad_admin_requests_write_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let dispatcher = app.login("dispatcher").await;
    let before = app.count("change_record").await;

    let new_area = json!({"code": "440604013", "name": "新城街道"});
    assert_error(
        &app.send_json("POST", "/api/v1/admin/areas", None, &new_area).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &app.send_json("POST", "/api/v1/admin/areas", Some(&dispatcher), &new_area).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let cases = [
        (json!({"code": "440604010", "name": "重复"}), StatusCode::CONFLICT, "area_exists"),
        (json!({"code": "440604099001", "name": "孤儿社区"}), StatusCode::UNPROCESSABLE_ENTITY, "parent_missing"),
        (json!({"code": "4406040x0", "name": "x"}), StatusCode::BAD_REQUEST, "invalid_code"),
        (json!({"code": "440604013", "name": ""}), StatusCode::BAD_REQUEST, "invalid_name"),
        (json!({"code": "440604013", "name": "a", "level": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    ];
    for (body, status, code) in cases {
        assert_error(&app.send_json("POST", "/api/v1/admin/areas", Some(&admin), &body).await, status, code);
    }
    // A subdistrict admin cannot act outside their subdistrict.
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/admin/staff",
            Some(&admin),
            &json!({"username": "zumiao_admin", "display_name": "祖庙管理员", "password": "long enough pw",
                    "roles": [{"role": "admin", "area_code": "440604010"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sub_admin = app.login_with("zumiao_admin", "long enough pw").await;
    let got = app
        .send_json("POST", "/api/v1/admin/areas", Some(&sub_admin), &json!({"code": "440604011099", "name": "石湾x"}))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app
        .send_json(
            "POST",
            "/api/v1/admin/areas",
            Some(&sub_admin),
            &json!({"code": "440604010099", "name": "祖庙新社区"}),
        )
        .await;
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    let escalate = json!({"username": "sneaky", "display_name": "x", "password": "long enough pw",
                          "roles": [{"role": "admin", "area_code": "440604"}]});
    assert_error(
        &app.send_json("POST", "/api/v1/admin/staff", Some(&sub_admin), &escalate).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let bad_staff = [
        (
            json!({"username": "Bad Name", "display_name": "x", "password": "long enough pw"}),
            StatusCode::BAD_REQUEST,
            "invalid_username",
        ),
        (
            json!({"username": "shorty", "display_name": "x", "password": "short"}),
            StatusCode::BAD_REQUEST,
            "weak_password",
        ),
        (
            json!({"username": "admin", "display_name": "x", "password": "long enough pw"}),
            StatusCode::CONFLICT,
            "username_taken",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "password": "long enough pw", "roles": [{"role": "king", "area_code": "440604"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "password": "long enough pw", "roles": [{"role": "handler", "area_code": "440604999"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "area_not_found",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "password": "long enough pw", "department_code": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "department_not_found",
        ),
    ];
    for (body, status, code) in bad_staff {
        assert_error(&app.send_json("POST", "/api/v1/admin/staff", Some(&admin), &body).await, status, code);
    }
    // Exactly two changes were written: the sub-admin account and the one area it could create.
    assert_eq!(app.count("change_record").await, before + 2);
    assert_eq!(app.count("staff where username in ('newbie', 'sneaky')").await, 0);
}
both_backends!(bad_admin_requests_write_nothing);

async fn deactivating_staff_ends_their_sessions(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let clerk = app.login("clerk").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &clerk).await;
    let id = me["staff_id"].as_i64().expect("id");
    let (s, v) =
        app.send_json("PATCH", &format!("/api/v1/admin/staff/{id}"), Some(&admin), &json!({"active": false})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["active"], false);
    assert_error(&app.get_as("/api/v1/auth/me", &clerk).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    let login = json!({"username": "clerk", "password": civgrid::demo::DEMO_PASSWORD});
    assert_error(
        &app.send_json("POST", "/api/v1/auth/login", None, &login).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (_, changes) = app.get_as(&format!("/api/v1/admin/changes?entity=staff&entity_id={id}"), &admin).await;
    assert_eq!(changes["changes"][0]["before"]["active"], true);
    assert_eq!(changes["changes"][0]["after"]["staff"]["active"], false);
    assert_error(&app.get_as("/api/v1/admin/staff/abc", &admin).await, StatusCode::BAD_REQUEST, "invalid_path");
    assert_error(&app.get_as("/api/v1/admin/staff/99999", &admin).await, StatusCode::NOT_FOUND, "staff_not_found");
}
both_backends!(deactivating_staff_ends_their_sessions);

async fn grid_workers_are_assigned_full_or_part_time(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &app.login("gridworker").await).await;
    let id = me["staff_id"].as_i64().expect("id");
    let uri = format!("/api/v1/admin/grids/44060401000102/workers/{id}");
    let (s, v) = app.send_json("PUT", &uri, Some(&admin), &json!({"kind": "part_time"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["workers"][0]["kind"], "part_time");
    assert_error(
        &app.send_json("PUT", &uri, Some(&admin), &json!({"kind": "sometimes"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_worker_kind",
    );
    let got = app
        .send_json(
            "PUT",
            "/api/v1/admin/grids/44060401000102/workers/424242",
            Some(&admin),
            &json!({"kind": "full_time"}),
        )
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "staff_not_found");
    let (s, v) = app.send_json("DELETE", &uri, Some(&admin), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["workers"].as_array().map(Vec::len), Some(0));
}
both_backends!(grid_workers_are_assigned_full_or_part_time);

/// The administrator edits an account's name, department, roles and grids in one change,
/// recorded with the state before and after; every bad edit is refused precisely and writes
/// nothing.
async fn staff_accounts_are_edited_with_their_grids_and_the_change_recorded(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &app.login("gridworker").await).await;
    let id = me["staff_id"].as_i64().expect("id");
    let uri = format!("/api/v1/admin/staff/{id}");
    let (_, before) = app.get_as(&uri, &admin).await;
    let grid_role = json!({"role": "grid_worker", "area_code": "440604010"});

    let written = || async { (app.count("change_record").await, app.count("grid_assignment").await) };
    let unchanged = written().await;
    for (body, status, code) in [
        (json!({"department_code": "nope"}), StatusCode::UNPROCESSABLE_ENTITY, "department_not_found"),
        (
            json!({"roles": [grid_role], "grids": [{"code": "44060499999999", "kind": "full_time"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "grid_not_found",
        ),
        (
            json!({"roles": [{"role": "handler", "area_code": "440604"}], "department_code": null}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "department_required",
        ),
        (
            json!({"roles": [{"role": "intake_operator", "area_code": "440604"}], "grids": [{"code": "44060401000101", "kind": "full_time"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_grid_worker",
        ),
        (
            json!({"grids": [{"code": "44060401000101", "kind": "sometimes"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_worker_kind",
        ),
        (json!({"grids": [{"code": "4406", "kind": "full_time"}]}), StatusCode::FORBIDDEN, "forbidden"),
        (
            json!({"roles": [{"role": "mayor", "area_code": "440604"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (json!({"display_name": ""}), StatusCode::BAD_REQUEST, "invalid_display_name"),
    ] {
        let got = app.send_json("PATCH", &uri, Some(&admin), &body).await;
        assert_error(&got, status, code);
    }
    assert_eq!(written().await, unchanged, "nothing written");
    assert_eq!(app.get_as(&uri, &admin).await.1, before);
    // Creating a handler without a department is refused the same way.
    let new = json!({"username": "no_dept", "display_name": "无部门", "password": "a long enough password",
                     "roles": [{"role": "handler", "area_code": "440604"}]});
    let got = app.send_json("POST", "/api/v1/admin/staff", Some(&admin), &new).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "department_required");

    // One edit: name, department, a role added, a second grid part-time.
    let edit = json!({
        "display_name": "王网格",
        "department_code": "cgj",
        "roles": [grid_role, {"role": "intake_operator", "area_code": "440604010"}],
        "grids": [{"code": "44060401000101", "kind": "full_time"}, {"code": "44060401000102", "kind": "part_time"}],
    });
    let (s, v) = app.send_json("PATCH", &uri, Some(&admin), &edit).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["display_name"].as_str(), v["department_code"].as_str()), (Some("王网格"), Some("cgj")));
    assert_eq!(v["roles"].as_array().map(Vec::len), Some(2));
    let (_, g) = app.get("/api/v1/grids/44060401000102").await;
    assert!(
        g["workers"].as_array().expect("workers").iter().any(|w| w["staff_id"] == id && w["kind"] == "part_time"),
        "{g}"
    );
    let (_, changes) = app.get_as(&format!("/api/v1/admin/changes?entity=staff&entity_id={id}"), &admin).await;
    let c = &changes["changes"][0];
    assert_eq!(c["action"], "staff.update");
    assert!(c["actor"].as_str().is_some_and(|a| a.ends_with(":admin")) && c["at"].is_string(), "who and when: {c}");
    assert_eq!(c["before"]["display_name"], before["display_name"]);
    assert_eq!(c["before"]["grids"], json!([{"code": "44060401000101", "kind": "full_time"}]));
    assert_eq!(c["after"]["staff"]["display_name"], "王网格");
    assert_eq!(c["after"]["staff"]["department_code"], "cgj");
    assert_eq!(c["after"]["grids"][1], json!({"code": "44060401000102", "kind": "part_time"}));
    // Grids emptied: the assignments go, recorded the same way.
    let (s, v) = app.send_json("PATCH", &uri, Some(&admin), &json!({"grids": []})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, changes) = app.get_as(&format!("/api/v1/admin/changes?entity=staff&entity_id={id}"), &admin).await;
    assert_eq!(changes["changes"][0]["after"]["grids"], json!([]));
    assert_eq!(changes["changes"][0]["before"]["grids"].as_array().map(Vec::len), Some(2));
}
both_backends!(staff_accounts_are_edited_with_their_grids_and_the_change_recorded);
