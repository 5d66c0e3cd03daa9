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

    let auditor = app.login("auditor").await;
    let (_, changes) = app.get_as("/api/v1/admin/changes?entity=area&entity_id=440604013001", &auditor).await;
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
    let (_, grid) = app.get_as("/api/v1/grids/44060401000101", &admin).await;
    assert_eq!(grid["name"], "升平路网格");
    assert_eq!(grid["workers"].as_array().map(Vec::len), Some(2));
}
both_backends!(admins_change_the_territory_and_every_change_is_recorded);

async fn bad_admin_requests_write_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let dispatcher = app.login("dispatcher").await;

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
    app.create_staff(
        &json!({"username": "zumiao_admin", "display_name": "祖庙管理员", "roles": [{"role": "admin", "area_code": "440604010"}]}),
        "Zumiao-admin-2026",
    )
    .await;
    let before = app.count("change_record").await;
    let sub_admin = app.login_with("zumiao_admin", "Zumiao-admin-2026").await;
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
    let escalate = json!({"username": "sneaky", "display_name": "x", "area_code": "440604"});
    assert_error(
        &app.send_json("POST", "/api/v1/admin/staff", Some(&sub_admin), &escalate).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let bad_staff = [
        (json!({"username": "Bad Name", "display_name": "x"}), StatusCode::BAD_REQUEST, "invalid_username"),
        (json!({"username": "admin", "display_name": "x"}), StatusCode::CONFLICT, "username_taken"),
        (
            json!({"username": "newbie", "display_name": "x", "password": "Long-enough-2026"}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "roles": [{"role": "handler", "area_code": "440604"}]}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "area_code": "440604999"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "area_not_found",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "department_code": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "department_not_found",
        ),
        (
            json!({"username": "newbie", "display_name": "x", "level": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, code) in bad_staff {
        assert_error(&app.send_json("POST", "/api/v1/admin/staff", Some(&admin), &body).await, status, code);
    }
    // Exactly one change was written: the one area the sub-admin could create.
    assert_eq!(app.count("change_record").await, before + 1);
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
    let auditor = app.login("auditor").await;
    let (_, changes) = app.get_as(&format!("/api/v1/admin/changes?entity=staff&entity_id={id}"), &auditor).await;
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
    let security = app.login("security_admin").await;
    let auditor = app.login("auditor").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &app.login("gridworker").await).await;
    let id = me["staff_id"].as_i64().expect("id");
    let (_, me) = app.get_as("/api/v1/auth/me", &app.login("intake").await).await;
    let intake = me["staff_id"].as_i64().expect("id");
    let uri = format!("/api/v1/admin/staff/{id}");
    let (_, before) = app.get_as(&uri, &admin).await;
    let grid_role = json!({"role": "grid_worker", "area_code": "440604010"});

    let written = || async { (app.count("change_record").await, app.count("grid_assignment").await) };
    let unchanged = written().await;
    for (who, target, body, status, code) in [
        (&admin, id, json!({"department_code": "nope"}), StatusCode::UNPROCESSABLE_ENTITY, "department_not_found"),
        (
            &admin,
            id,
            json!({"grids": [{"code": "44060499999999", "kind": "full_time"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "grid_not_found",
        ),
        (
            &security,
            id,
            json!({"roles": [{"role": "handler", "area_code": "440604"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "department_required",
        ),
        (
            &admin,
            intake,
            json!({"grids": [{"code": "44060401000101", "kind": "full_time"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_grid_worker",
        ),
        (
            &admin,
            id,
            json!({"grids": [{"code": "44060401000101", "kind": "sometimes"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_worker_kind",
        ),
        (&admin, id, json!({"grids": [{"code": "4406", "kind": "full_time"}]}), StatusCode::FORBIDDEN, "forbidden"),
        (
            &security,
            id,
            json!({"roles": [{"role": "mayor", "area_code": "440604"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (&admin, id, json!({"display_name": ""}), StatusCode::BAD_REQUEST, "invalid_display_name"),
        // Each administrator only their own part (三权分立).
        (&admin, id, json!({"roles": [grid_role]}), StatusCode::FORBIDDEN, "forbidden"),
        (&security, id, json!({"display_name": "x"}), StatusCode::FORBIDDEN, "forbidden"),
    ] {
        let got = app.send_json("PATCH", &format!("/api/v1/admin/staff/{target}"), Some(who), &body).await;
        assert_error(&got, status, code);
    }
    assert_eq!(written().await, unchanged, "nothing written");
    assert_eq!(app.get_as(&uri, &admin).await.1, before);

    // The security admin adds a role; the admin edits name, department and grids.
    let roles = json!({"roles": [grid_role, {"role": "intake_operator", "area_code": "440604010"}]});
    let (s, v) = app.send_json("PATCH", &uri, Some(&security), &roles).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["roles"].as_array().map(Vec::len), Some(2));
    let edit = json!({
        "display_name": "王网格",
        "department_code": "cgj",
        "grids": [{"code": "44060401000101", "kind": "full_time"}, {"code": "44060401000102", "kind": "part_time"}],
    });
    let (s, v) = app.send_json("PATCH", &uri, Some(&admin), &edit).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["display_name"].as_str(), v["department_code"].as_str()), (Some("王网格"), Some("cgj")));
    let (_, g) = app.get_as("/api/v1/grids/44060401000102", &admin).await;
    assert!(
        g["workers"].as_array().expect("workers").iter().any(|w| w["staff_id"] == id && w["kind"] == "part_time"),
        "{g}"
    );
    let (_, changes) = app.get_as(&format!("/api/v1/admin/changes?entity=staff&entity_id={id}"), &auditor).await;
    let c = &changes["changes"][0];
    assert_eq!(c["action"], "staff.update");
    assert!(c["actor"].as_str().is_some_and(|a| a.ends_with(":admin")) && c["at"].is_string(), "who and when: {c}");
    assert_eq!(c["before"]["display_name"], before["display_name"]);
    assert_eq!(c["before"]["grids"], json!([{"code": "44060401000101", "kind": "full_time"}]));
    assert_eq!(c["after"]["staff"]["display_name"], "王网格");
    assert_eq!(c["after"]["staff"]["department_code"], "cgj");
    assert_eq!(c["after"]["grids"][1], json!({"code": "44060401000102", "kind": "part_time"}));
    assert!(changes["changes"][1]["actor"].as_str().is_some_and(|a| a.ends_with(":security_admin")));
    // Grids emptied: the assignments go, recorded the same way.
    let (s, v) = app.send_json("PATCH", &uri, Some(&admin), &json!({"grids": []})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, changes) = app.get_as(&format!("/api/v1/admin/changes?entity=staff&entity_id={id}"), &auditor).await;
    assert_eq!(changes["changes"][0]["after"]["grids"], json!([]));
    assert_eq!(changes["changes"][0]["before"]["grids"].as_array().map(Vec::len), Some(2));
}
both_backends!(staff_accounts_are_edited_with_their_grids_and_the_change_recorded);
