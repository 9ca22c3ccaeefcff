//! The registers over HTTP, on both databases: the template and export are workbooks to save, an
//! import is a file as the body (checked whole, with every problem in the one error shape, a dry
//! run writing nothing, over 20 MB refused with 413), and the pickers search by name. Accounts in
//! bulk: proposed by the system administrator from a sheet of people, approved as a batch by the
//! security administrator, the initial passwords handed back once, changed at first login, and a
//! leaver's account deactivated by the people register.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use support::World;
use wangge_store::testing::TestBackend;

const HEADER: &str = "部门编码*,部门名称*,部门类别*,所属区划代码*,上级部门编码,服务区域代码,状态";

fn upload(uri: &str, token: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/octet-stream")
        .body(Body::from(body))
        .unwrap()
}

async fn registers_over_http(backend: TestBackend) {
    let w = World::new(backend).await;
    let county = w.communities("", 1)[0][..6].to_string() + "000000";
    let t = w.token("cc.reg", "command_centre", &county).await;

    let template = w
        .send(
            Request::get("/api/v1/registry/departments/template.xlsx")
                .header("authorization", format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert_eq!(
        template.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        template.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("departments-template.xlsx")
    );
    assert!(
        w.app_bytes("/api/v1/registry/departments/export.xlsx", &t)
            .await
            .starts_with(b"PK\x03\x04")
    );

    let good = format!("{HEADER}\nSW-01,大武口自来水公司,自来水公司,{county},,,\n");
    let dry = w
        .send(upload(
            "/api/v1/registry/departments/import?dry_run=true",
            &t,
            good.clone().into_bytes(),
        ))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(dry.body["created"], 1);
    let none = w
        .get("/api/v1/registry/departments?q=大武口自来水", &t)
        .await;
    assert_eq!(none.body["total"], 0, "{}", none.body);

    let done = w
        .send(upload(
            "/api/v1/registry/departments/import",
            &t,
            good.into_bytes(),
        ))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["created"], 1);
    let found = w
        .get("/api/v1/registry/departments?q=大武口自来水", &t)
        .await;
    assert_eq!(found.body["total"], 1, "{}", found.body);
    assert_eq!(found.body["departments"][0]["kind"], "water_supply");
    assert_eq!(
        found.body["departments"][0]["region"]["code"],
        county.as_str()
    );

    let bad = format!("{HEADER}\nSW-02,,自来水公司,{county},,,\n");
    let r = w
        .send(upload(
            "/api/v1/registry/departments/import",
            &t,
            bad.into_bytes(),
        ))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "registry.invalid");
    let p = &r.body["error"]["details"]["problems"][0];
    assert_eq!(
        (p["row"].as_u64(), p["column"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(p["header"], "部门名称");

    let huge = vec![b'a'; 25 * 1024 * 1024];
    w.send(upload("/api/v1/registry/departments/import", &t, huge))
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "registry.too_large");
    w.get("/api/v1/registry/martians", &t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "registry.unknown_kind");
    w.get("/api/v1/registry/departments?limit=0", &t)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "registry.bad_limit");

    // A power cut is routed to the power company, not to housing.
    let grid = w.city.grids[0].code.as_str().to_string();
    let gw = w.token("gw.power", "grid_worker", &grid).await;
    let (lon, lat) = w.point_in(&grid);
    let r = w
        .post_json(
            "/api/v1/events",
            &gw,
            serde_json::json!({"category": "0902", "lon": lon, "lat": lat, "description": "3号楼整栋停电两小时"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let d = w.get(&format!("/api/v1/events/{id}"), &gw).await;
    assert_eq!(
        d.body["routed_department"]["name"], "国网石嘴山供电公司",
        "{}",
        d.body
    );
    assert_eq!(d.body["routed_department"]["kind"], "power_supply");
    w.finish().await;
}

/// A POST whose answer is a workbook: its status, its batch header and its bytes.
async fn upload_for_bytes(w: &World, req: Request<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = wangge_web::app(w.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let batch = res
        .headers()
        .get("x-wangge-batch")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, batch, bytes)
}

async fn accounts_in_bulk(backend: TestBackend) {
    use calamine::{Reader, Xlsx};
    let w = World::new(backend).await;
    let sysadmin = w.token("xt.bulk", "system_admin", "640200000000").await;
    let secadmin = w.token("aq.bulk", "security_admin", "640200000000").await;
    // A community's staff member from the demo's people register, with their ID number.
    let person = w
        .city
        .org
        .people
        .iter()
        .find(|p| p.kind == "staff" && p.home_code.len() == 12 && !p.home_code.ends_with("000"))
        .unwrap()
        .clone();
    let ids = w
        .city
        .personal
        .iter()
        .find(|x| x.person == person.id)
        .unwrap()
        .clone();
    let community = person.home_code.clone();
    let header = "身份证号*,用户名*,角色*,范围代码*,显示名";

    let template = w
        .app_bytes("/api/v1/accounts/template.xlsx", &sysadmin)
        .await;
    assert!(template.starts_with(b"PK\x03\x04"));

    // Bad rows, each listed; nothing is created.
    let bad = format!(
        "{header}\n{},sq.bulk,安全管理员,{community},\n640202199001011232,sq.two,网格员,{community},\n{},sq.bulk,社区（村）工作人员,999999999999,\n",
        ids.id_number, ids.id_number
    );
    let r = w
        .send(upload(
            "/api/v1/accounts/import",
            &sysadmin,
            bad.into_bytes(),
        ))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "registry.invalid");
    let all = r.body.to_string();
    assert!(
        all.contains("不能批量开通") && all.contains("与第2行是同一人"),
        "{all}"
    );
    assert!(
        !all.contains(&ids.id_number),
        "an ID number in clear: {all}"
    );
    let before = w.db.store.accounts().await.unwrap().len();

    let good = format!(
        "{header}\n{},sq.bulk,社区（村）工作人员,{community},\n",
        ids.id_number
    );
    let dry = w
        .send(upload(
            "/api/v1/accounts/import?dry_run=true",
            &sysadmin,
            good.clone().into_bytes(),
        ))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(
        (dry.body["rows"].as_u64(), dry.body["created"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(w.db.store.accounts().await.unwrap().len(), before);
    // The security administrator may not propose.
    w.send(upload(
        "/api/v1/accounts/import",
        &secadmin,
        good.clone().into_bytes(),
    ))
    .await
    .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");

    let (status, batch, book) = upload_for_bytes(
        &w,
        upload("/api/v1/accounts/import", &sysadmin, good.into_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let batch = batch.expect("the batch in a header");
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(book)).unwrap();
    let range = wb.worksheet_range("初始密码").unwrap();
    let row: Vec<String> = range
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        (row[0].as_str(), row[1].as_str()),
        ("sq.bulk", person.name.as_str())
    );
    let initial = row[4].clone();
    // The password is nowhere in the database or the audit trail.
    let trail =
        w.db.store
            .search_audit(&wangge_store::AuditQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
    assert!(trail.iter().any(|r| r.action == "account.propose_batch"));
    assert!(!format!("{trail:?}").contains(&initial));

    // Awaiting approval, it cannot sign in; the proposer cannot approve its own batch.
    assert_ne!(w.login("sq.bulk", &initial).await.status, StatusCode::OK);
    let approve = format!("/api/v1/accounts/batches/{batch}/approve");
    w.post_json(&approve, &sysadmin, serde_json::json!({}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let pending = w.get("/api/v1/accounts/batches", &secadmin).await;
    assert_eq!(pending.body[0]["batch"], batch.as_str(), "{}", pending.body);
    assert_eq!(pending.body[0]["pending"], 1);
    let done = w
        .post_json(&approve, &secadmin, serde_json::json!({}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["approved"], 1);
    w.post_json(&approve, &secadmin, serde_json::json!({}))
        .await
        .assert_error(StatusCode::CONFLICT, "account.nothing_to_approve");

    // First login: nothing but the password change until it is done.
    let login = w.login("sq.bulk", &initial).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body["password_change_required"], true);
    let cookie = login.cookie.clone().unwrap();
    let csrf = login.body["csrf_token"].as_str().unwrap().to_string();
    w.with_session("GET", "/api/v1/me", &cookie, None, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.password_change_required");
    let desk = w.with_session("GET", "/desk", &cookie, None, None).await;
    assert!(desk.status.is_redirection(), "{}", desk.status);
    assert_eq!(desk.headers["location"], "/password");
    let page = w
        .with_session("GET", "/password", &cookie, None, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.as_str().unwrap().contains("首次登录"));
    let change = |current: &str, new: &str| serde_json::json!({"current_password": current, "new_password": new});
    w.with_session(
        "POST",
        "/api/v1/auth/password",
        &cookie,
        Some(&csrf),
        Some(change("wrong", "Better#2027")),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "auth.bad_password");
    w.with_session(
        "POST",
        "/api/v1/auth/password",
        &cookie,
        Some(&csrf),
        Some(change(&initial, "short")),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "auth.bad_password");
    w.with_session(
        "POST",
        "/api/v1/auth/password",
        &cookie,
        None,
        Some(change(&initial, "Better#2027")),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "auth.csrf");
    let ok = w
        .with_session(
            "POST",
            "/api/v1/auth/password",
            &cookie,
            Some(&csrf),
            Some(change(&initial, "Better#2027")),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    let me = w
        .with_session("GET", "/api/v1/me", &cookie, None, None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_ne!(w.login("sq.bulk", &initial).await.status, StatusCode::OK);
    assert_eq!(
        w.login("sq.bulk", "Better#2027").await.status,
        StatusCode::OK
    );

    // The person leaves: the people register's 离职 deactivates the account.
    let centre = w
        .token(
            "cc.bulk",
            "command_centre",
            &format!("{}000000", &community[..6]),
        )
        .await;
    let people = format!(
        "身份证号*,姓名*,人员类别*,所属区划代码*,所属网格编码,所属部门编码,手机号码,入职日期,状态\n{},{},工作人员,{community},,,{},,离职\n",
        ids.id_number, person.name, ids.phone
    );
    let r = w
        .send(upload(
            "/api/v1/registry/people/import",
            &centre,
            people.into_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["accounts_deactivated"], 1, "{}", r.body);
    assert_ne!(
        w.login("sq.bulk", "Better#2027").await.status,
        StatusCode::OK
    );
    let a =
        w.db.store
            .account_by_username("sq.bulk")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(a.active, 0);
    assert_eq!(a.person_id, Some(person.id));
    w.finish().await;
}

wangge_store::both_backends!(registers_over_http, accounts_in_bulk);
