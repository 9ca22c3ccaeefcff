//! What a review and an attack found (issue 12), each as a story that failed before its fix:
//! the likely-duplicate hint leaking events out of a department's sight, numbers that overflowed a
//! deadline, the system administrator granting itself a business account, dispatches across
//! counties, concurrent uploads past the limit, a TOTP code used twice, usernames told apart by
//! the login's answer, photos that were HTML, exports unchecked and unaudited, unbounded texts and
//! dates, unknown fields ignored, a settings reset by an array, the light filter applied after
//! paging, region and text filters that missed, and errors outside the one shape. Each story runs
//! on SQLite and on PostgreSQL.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::Centroid;
use serde_json::{Value, json};
use support::{PASSWORD, Reply, World};
use wangge_domain::Level;
use wangge_security::totp;
use wangge_store::testing::TestBackend;

struct Places {
    township: String,
    community: String,
    grid: String,
    point: (f64, f64),
    station: String,
    /// A department of another county (平罗县).
    far_department: String,
    /// A department of the whole city.
    city_department: String,
}

fn places(w: &World) -> Places {
    let township = w
        .city
        .regions
        .iter()
        .find(|r| r.level == Level::Township && r.code.as_str().starts_with("640202"))
        .unwrap()
        .code
        .as_str()
        .to_string();
    let community = w
        .city
        .regions
        .iter()
        .find(|r| r.level == Level::Community && r.code.as_str().starts_with(&township[..9]))
        .unwrap()
        .code
        .as_str()
        .to_string();
    let grid = w
        .city
        .grids
        .iter()
        .find(|g| g.code.as_str().starts_with(&community))
        .unwrap();
    let c = grid.shape.centroid().unwrap();
    let dept = |f: &dyn Fn(&wangge_store::NewDepartment) -> bool| {
        w.city
            .org
            .departments
            .iter()
            .find(|d| f(d))
            .unwrap()
            .id
            .to_string()
    };
    Places {
        station: dept(&|d| d.kind == "police_station" && d.region_code == township),
        far_department: dept(&|d| d.region_code.starts_with("640221")),
        city_department: dept(&|d| d.region_code == "640200000000" && d.kind == "urban_management"),
        grid: grid.code.as_str().to_string(),
        point: (c.x(), c.y()),
        township,
        community,
    }
}

async fn post(w: &World, uri: &str, token: &str, body: Value) -> Reply {
    w.post_json(uri, token, body).await
}

async fn report(w: &World, token: &str, (lon, lat): (f64, f64), text: &str) -> Reply {
    post(
        w,
        "/api/v1/events",
        token,
        json!({"category": "0401", "lon": lon, "lat": lat, "description": text}),
    )
    .await
}

/// A department's staff reporting an event are offered as likely duplicates only events sent to
/// their department — exactly what `GET /api/v1/events/{id}` lets them open.
async fn the_duplicate_hint_keeps_to_the_sight(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let community = w.token("cs", "community_staff", &p.community).await;
    let street = w.token("sd", "street_dispatcher", &p.township).await;
    let station = w.token("ps", "department_staff", &p.station).await;
    // Two open events of the class at the spot: one never sent to the station, one dispatched to it.
    let unsent = report(&w, &grid_worker, p.point, "不是派给派出所的").await;
    let unsent_id = unsent.body["id"].as_str().unwrap().to_string();
    let sent = report(&w, &grid_worker, p.point, "派给派出所的").await;
    let sent_id = sent.body["id"].as_str().unwrap().to_string();
    let v = w
        .make_move(&sent_id, &community, 1, json!({"move": "accept"}))
        .await;
    w.make_move(
        &sent_id,
        &street,
        v,
        json!({"move": "dispatch", "lead": p.station, "co": []}),
    )
    .await;
    // The station cannot open the first; it may open the second.
    assert_eq!(
        w.get(&format!("/api/v1/events/{unsent_id}"), &station)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.get(&format!("/api/v1/events/{sent_id}"), &station)
            .await
            .status,
        StatusCode::OK
    );
    let r = report(&w, &station, p.point, "派出所发现的同一处垃圾").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let hinted: Vec<&str> = r.body["likely_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(hinted, [sent_id.as_str()], "{}", r.body);
    // The community sees both.
    let r = report(&w, &community, p.point, "社区看到的").await;
    assert_eq!(r.body["likely_duplicates"].as_array().unwrap().len(), 3);
    w.finish().await;
}

/// Every number a person sends has its range: an extension of i64::MAX minutes (which panicked
/// the server when approved) and of 10^9 minutes (due in year 3928) are refused with 400, as are
/// whistle check-ins outside 5–1,440 minutes and pages over 500 rows.
async fn numbers_have_ranges(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let community = w.token("cs", "community_staff", &p.community).await;
    let street = w.token("sd", "street_dispatcher", &p.township).await;
    let station = w.token("ps", "department_staff", &p.station).await;
    let r = report(&w, &grid_worker, p.point, "暴露垃圾").await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let v = w
        .make_move(&id, &community, 1, json!({"move": "accept"}))
        .await;
    for minutes in [4, 1441] {
        let r = post(&w, &format!("/api/v1/events/{id}/moves"), &street,
            json!({"move": "whistle", "version": v, "lead": p.station, "others": [], "check_in_minutes": minutes, "task": "联合处置"})).await;
        r.assert_error(StatusCode::BAD_REQUEST, "input.out_of_range");
        assert_eq!(r.body["error"]["details"]["field"], "check_in_minutes");
    }
    let v = w
        .make_move(
            &id,
            &street,
            v,
            json!({"move": "dispatch", "lead": p.station, "co": []}),
        )
        .await;
    let v = w
        .make_move(&id, &station, v, json!({"move": "check_in"}))
        .await;
    for minutes in [i64::MAX, 1_000_000_000, 43_201, 0, -5] {
        let r = post(&w, &format!("/api/v1/events/{id}/moves"), &station,
            json!({"move": "request_extension", "version": v, "minutes": minutes, "reason": "等待材料"})).await;
        r.assert_error(StatusCode::BAD_REQUEST, "input.out_of_range");
    }
    // Thirty days is the most, and it is approved without trouble.
    let v = w
        .make_move(
            &id,
            &station,
            v,
            json!({"move": "request_extension", "minutes": 43_200, "reason": "等待材料"}),
        )
        .await;
    let r = post(
        &w,
        &format!("/api/v1/events/{id}/moves"),
        &street,
        json!({"move": "decide_extension", "version": v, "approve": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let due = r.body["deadlines"][0]["due_at"].as_str().unwrap();
    assert!(due.starts_with("2026") || due.starts_with("2027"), "{due}");
    w.get("/api/v1/events?per_page=501", &street)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "input.out_of_range");
    w.finish().await;
}

/// 三员分立: the system administrator only proposes a business account; it cannot sign in until
/// the security administrator approves, and neither does the other's part.
async fn a_business_account_needs_two_administrators(backend: TestBackend) {
    let w = World::new(backend).await;
    let sys = w.token("sys", "system_admin", "640200000000").await;
    let sec = w.token("sec", "security_admin", "640200000000").await;
    let proposal = json!({"username": "new.centre", "display_name": "新指挥员", "role": "command_centre", "scope": "640200000000", "password": "Strong#2026"});
    // The security administrator does not create accounts.
    post(&w, "/api/v1/accounts", &sec, proposal.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let r = post(&w, "/api/v1/accounts", &sys, proposal).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "awaiting_approval");
    assert_eq!(r.body["role"], Value::Null);
    assert_eq!(r.body["proposed"]["role"], "command_centre");
    let id = r.body["id"].as_str().unwrap().to_string();
    // It cannot sign in, and the login says why (after the right password only).
    let login = w.login("new.centre", "Strong#2026").await;
    login.assert_error(StatusCode::FORBIDDEN, "auth.awaiting_approval");
    assert!(login.cookie.is_none());
    w.login("new.centre", "Wrong#2026x")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_credentials");
    // The system administrator cannot approve its own proposal.
    post(
        &w,
        &format!("/api/v1/accounts/{id}/approve"),
        &sys,
        json!({}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let r = post(
        &w,
        &format!("/api/v1/accounts/{id}/approve"),
        &sec,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["role"].as_str()),
        (Some("active"), Some("command_centre"))
    );
    post(
        &w,
        &format!("/api/v1/accounts/{id}/approve"),
        &sec,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "account.nothing_to_approve");
    let ok = w.login("new.centre", "Strong#2026").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["second_factor"], "enroll");
    // Both steps are in the trail, each by its own administrator.
    let aud = w.token("aud", "audit_admin", "640200000000").await;
    let trail = w.get(&format!("/api/v1/audit?record_id={id}"), &aud).await;
    let actions: Vec<(&str, &str)> = trail.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["actor"].as_str().unwrap(), r["action"].as_str().unwrap()))
        .collect();
    assert!(actions.contains(&("sys", "account.propose")), "{actions:?}");
    assert!(actions.contains(&("sec", "account.approve")), "{actions:?}");
    w.finish().await;
}

/// Locking an account ends its sessions and its tokens at once.
async fn a_lock_ends_sessions_and_tokens(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let sys = w.token("sys", "system_admin", "640200000000").await;
    let token = w.token("worker", "community_staff", &p.community).await;
    let login = w.login("worker", PASSWORD).await;
    let cookie = login.cookie.clone().unwrap();
    assert_eq!(
        w.with_session("GET", "/api/v1/me", &cookie, None, None)
            .await
            .status,
        StatusCode::OK
    );
    let id =
        w.db.store
            .account_by_username("worker")
            .await
            .unwrap()
            .unwrap()
            .id;
    let r = post(
        &w,
        &format!("/api/v1/accounts/{id}/lock"),
        &sys,
        json!({"minutes": 60}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "locked");
    w.with_session("GET", "/api/v1/me", &cookie, None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.session_expired");
    w.get("/api/v1/me", &token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_token");
    // One administrator cannot lock another out over the network.
    w.token("sec", "security_admin", "640200000000").await;
    let sec =
        w.db.store
            .account_by_username("sec")
            .await
            .unwrap()
            .unwrap()
            .id;
    for action in ["lock", "unlock", "deactivate"] {
        post(
            &w,
            &format!("/api/v1/accounts/{sec}/{action}"),
            &sys,
            json!({}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    }
    w.finish().await;
}

/// Dispatch, whistle and co-handlers go to departments whose area holds the event: not to a
/// department of another county; a department of the whole city may take it.
async fn departments_serve_their_own_area(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let community = w.token("cs", "community_staff", &p.community).await;
    let centre = w.token("cc", "command_centre", "640200000000").await;
    let r = report(&w, &grid_worker, p.point, "暴露垃圾").await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let v = w
        .make_move(&id, &community, 1, json!({"move": "accept"}))
        .await;
    let uri = format!("/api/v1/events/{id}/moves");
    for body in [
        json!({"move": "dispatch", "version": v, "lead": p.far_department, "co": []}),
        json!({"move": "dispatch", "version": v, "lead": p.station, "co": [p.far_department]}),
        json!({"move": "whistle", "version": v, "lead": p.station, "others": [p.far_department], "check_in_minutes": 30, "task": "联合处置"}),
    ] {
        post(&w, &uri, &centre, body)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "event.department_out_of_area");
    }
    let far: uuid::Uuid = p.far_department.parse().unwrap();
    let e =
        w.db.store
            .event(
                &wangge_domain::access::Visibility::system(),
                None,
                id.parse().unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
    assert!(!e.departments.contains(&far.to_string()));
    // The city's own bureau serves every county.
    let r = post(
        &w,
        &uri,
        &centre,
        json!({"move": "dispatch", "version": v, "lead": p.city_department, "co": []}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    w.finish().await;
}

/// Twenty photos uploaded at once to one event: nine are kept, eleven refused.
async fn concurrent_uploads_keep_the_limit(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let r = report(&w, &grid_worker, p.point, "暴露垃圾").await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let uploads = (0..20u32).map(|i| {
        let req = Request::post(format!("/api/v1/events/{id}/attachments?kind=report"))
            .header("authorization", format!("Bearer {grid_worker}"))
            .header("content-type", "image/png")
            .body(Body::from(support::png(i)))
            .unwrap();
        w.send(req)
    });
    let answers = futures_util::future::join_all(uploads).await;
    let created = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "attachment.too_many")
        .count();
    assert_eq!((created, refused), (9, 11));
    let e =
        w.db.store
            .event(
                &wangge_domain::access::Visibility::system(),
                None,
                id.parse().unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
    assert_eq!(w.db.store.attachments(&e).await.unwrap().len(), 9);
    w.finish().await;
}

/// A photo is decoded before it is kept (a JPEG header before an HTML page is refused), and
/// served so that no browser takes it for a page.
async fn photos_are_images_and_served_as_such(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let r = report(&w, &grid_worker, p.point, "暴露垃圾").await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let upload = |bytes: Vec<u8>| {
        w.send(
            Request::post(format!("/api/v1/events/{id}/attachments"))
                .header("authorization", format!("Bearer {grid_worker}"))
                .body(Body::from(bytes))
                .unwrap(),
        )
    };
    let mut html = vec![0xFF, 0xD8, 0xFF, 0xE0];
    html.extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>");
    upload(html)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "attachment.not_an_image");
    let r = upload(support::png(3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let served = w.get(r.body["url"].as_str().unwrap(), &grid_worker).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.headers["content-type"], "image/png");
    assert_eq!(served.headers["x-content-type-options"], "nosniff");
    assert!(
        served.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox"),
        "{:?}",
        served.headers
    );
    w.finish().await;
}

/// A TOTP code is accepted once: the same code again, within its window, is refused.
async fn a_totp_code_works_once(backend: TestBackend) {
    let w = World::new(backend).await;
    let a = w.account("cc", "command_centre", "640200000000").await;
    let secret = w.enrol_totp(&a).await;
    let now = chrono::Utc::now().timestamp() as u64;
    let code = totp::code_at(&totp::unbase32(&secret).unwrap(), now, 6);
    let sign_in = || async {
        let login = w.login("cc", PASSWORD).await;
        assert_eq!(login.body["second_factor"], "required", "{}", login.body);
        let cookie = login.cookie.clone().unwrap();
        let csrf = login.body["csrf_token"].as_str().unwrap().to_string();
        w.with_session(
            "POST",
            "/api/v1/auth/second-factor",
            &cookie,
            Some(&csrf),
            Some(json!({"code": code})),
        )
        .await
    };
    let first = sign_in().await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    sign_in()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_second_factor");
    w.finish().await;
}

/// A login failure does not tell a real username from a made-up one: the same answer, and the
/// same Argon2 work (the unknown one is verified against a dummy hash).
async fn usernames_cannot_be_told_apart(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    w.account("real.user", "community_staff", &p.community)
        .await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..4 {
        let t = std::time::Instant::now();
        let a = w.login("real.user", "Wrong#pass1").await;
        known.push(t.elapsed());
        let t = std::time::Instant::now();
        let b = w.login(&format!("no.such.user{i}"), "Wrong#pass1").await;
        unknown.push(t.elapsed());
        assert_eq!((a.status, &a.body), (b.status, &b.body));
    }
    known.sort();
    unknown.sort();
    // Loose on purpose (a shared machine): without the dummy hash an unknown name answers a
    // hundred times faster.
    let ratio = unknown[2].as_secs_f64() / known[2].as_secs_f64();
    assert!((0.3..3.0).contains(&ratio), "{known:?} {unknown:?}");
    w.finish().await;
}

/// Downloads of the statistics need the export permission, and each is audited.
async fn exports_are_permitted_and_audited(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let mediator = w.token("med", "mediator", &p.township).await;
    let leader = w.token("ld", "leader", "640202000000").await;
    w.get("/mediation/stats.csv", &mediator)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    w.get("/mediation/stats.xlsx", &mediator)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    assert_eq!(
        w.get("/mediation/stats.csv", &leader).await.status,
        StatusCode::OK
    );
    assert_eq!(
        w.get("/mediation/stats.xlsx", &leader).await.status,
        StatusCode::OK
    );
    let aud = w.token("aud", "audit_admin", "640200000000").await;
    let r = w
        .get("/api/v1/audit?actor=ld&action=mediation.stats_export", &aud)
        .await;
    assert_eq!(r.body["records"].as_array().unwrap().len(), 2, "{}", r.body);
    w.finish().await;
}

/// Texts, dates and fields have their limits: a 100,000-character address, a NUL, year 1, an
/// unknown field, and a settings document that is an array are refused, each saying where.
async fn inputs_have_limits(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let base =
        json!({"category": "0401", "lon": p.point.0, "lat": p.point.1, "description": "暴露垃圾"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let r = post(
        &w,
        "/api/v1/events",
        &grid_worker,
        with("address", json!("路".repeat(100_000))),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "input.too_long");
    assert_eq!(r.body["error"]["details"]["field"], "address");
    let r = post(
        &w,
        "/api/v1/events",
        &grid_worker,
        with("description", json!("垃圾\u{0}堆")),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "event.bad_description");
    let r = post(
        &w,
        "/api/v1/events",
        &grid_worker,
        with("reporter_name", json!("张三")),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "request.unknown_field");
    assert_eq!(r.body["error"]["details"]["field"], "reporter_name");
    // A move with a field it does not have is refused by name too.
    let e = post(&w, "/api/v1/events", &grid_worker, base.clone()).await;
    let id = e.body["id"].as_str().unwrap();
    let community = w.token("cs", "community_staff", &p.community).await;
    let r = post(
        &w,
        &format!("/api/v1/events/{id}/moves"),
        &community,
        json!({"move": "accept", "version": 1, "note": "x"}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "request.unknown_field");
    assert_eq!(r.body["error"]["details"]["field"], "note");
    let street = w.token("sd", "street_dispatcher", &p.township).await;
    for date in [
        "0001-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "2999-01-01T00:00:00Z",
    ] {
        w.get(&format!("/api/v1/events?from={date}"), &street)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "event.bad_time");
    }
    let sys = w.token("sys", "system_admin", "640200000000").await;
    let before = w.get("/api/v1/settings", &sys).await.body;
    let r = w
        .send(
            Request::put("/api/v1/settings")
                .header("authorization", format!("Bearer {sys}"))
                .header("content-type", "application/json")
                .body(Body::from("[]"))
                .unwrap(),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "settings.invalid");
    assert_eq!(w.get("/api/v1/settings", &sys).await.body, before);
    w.finish().await;
}

/// Every filter of the list runs in SQL: a page of red events is full while more exist; a whole
/// township's or county's 12-digit code finds its events; `%` and `_` are characters.
async fn the_list_filters_in_sql(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let grid_worker = w.token("gw", "grid_worker", &p.grid).await;
    let street = w.token("sd", "street_dispatcher", &p.township).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let text = if i == 0 {
            "100%_满了"
        } else {
            "垃圾满了"
        };
        let r = report(&w, &grid_worker, p.point, text).await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    // The three oldest are overdue; the three newest are green and come first in the list.
    let list: Vec<String> = ids[..3].iter().map(|i| format!("'{i}'")).collect();
    let id_sql = match backend {
        TestBackend::Sqlite => list
            .iter()
            .map(|i| {
                let u: uuid::Uuid = i.trim_matches('\'').parse().unwrap();
                format!("X'{}'", u.simple())
            })
            .collect::<Vec<_>>()
            .join(", "),
        TestBackend::Postgres => list.join(", "),
    };
    // As sqlx writes times on SQLite, so that the text compares as the time does.
    use chrono::SubsecRound;
    let past = (chrono::Utc::now() - chrono::Duration::hours(2))
        .trunc_subsecs(6)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    w.db.store
        .execute_admin(&format!(
            "UPDATE events SET step_due_at = '{past}', yellow_at = '{past}' WHERE id IN ({id_sql})"
        ))
        .await
        .unwrap();
    let r = w.get("/api/v1/events?light=red&per_page=2", &street).await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 2, "{}", r.body);
    let r = w
        .get("/api/v1/events?light=red&per_page=2&page=2", &street)
        .await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = w.get("/api/v1/events?light=green", &street).await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 3, "{}", r.body);
    for region in [&p.township, &p.township[..6].to_string()] {
        let code = if region.len() == 6 {
            format!("{region}000000")
        } else {
            region.clone()
        };
        let r = w
            .get(&format!("/api/v1/events?region={code}"), &street)
            .await;
        assert_eq!(
            r.body["events"].as_array().unwrap().len(),
            6,
            "{code}: {}",
            r.body
        );
    }
    w.get("/api/v1/events?region=6402", &street)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "event.bad_region");
    let r = w.get("/api/v1/events?text=%25_", &street).await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = w.get("/api/v1/events?text=_", &street).await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 1, "{}", r.body);
    w.finish().await;
}

/// Whatever goes wrong, the answer has the one shape: an unknown address, a method an address
/// does not take, bad JSON, a body over the limit — with a length or chunked.
async fn errors_have_one_shape(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let gw = w.token("gw", "grid_worker", &p.grid).await;
    w.get("/api/v1/nothing-here", &gw)
        .await
        .assert_error(StatusCode::NOT_FOUND, "route.not_found");
    let r = w
        .send(
            Request::delete("/api/v1/me")
                .header("authorization", format!("Bearer {gw}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "route.method_not_allowed");
    let raw = |body: Body, chunked: bool| {
        let mut b = Request::post("/api/v1/events")
            .header("authorization", format!("Bearer {gw}"))
            .header("content-type", "application/json");
        if chunked {
            b = b.header("transfer-encoding", "chunked");
        }
        b.body(body).unwrap()
    };
    w.send(raw(Body::from("{\"category\": "), false))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "request.bad_json");
    let big = format!("{{\"description\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    w.send(raw(Body::from(big.clone()), false))
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large");
    let stream = futures_util::stream::iter(
        big.into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    w.send(raw(Body::from_stream(stream), true))
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large");
    w.finish().await;
}

wangge_store::both_backends!(
    the_duplicate_hint_keeps_to_the_sight,
    numbers_have_ranges,
    a_business_account_needs_two_administrators,
    a_lock_ends_sessions_and_tokens,
    departments_serve_their_own_area,
    concurrent_uploads_keep_the_limit,
    photos_are_images_and_served_as_such,
    a_totp_code_works_once,
    usernames_cannot_be_told_apart,
    exports_are_permitted_and_audited,
    inputs_have_limits,
    the_list_filters_in_sql,
    errors_have_one_shape,
);

/// A panic in a handler is caught, logged, and answered in the one shape.
#[tokio::test]
async fn a_panic_answers_in_the_shape() {
    use tower::ServiceExt;
    let app = axum::Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                let v: Vec<u8> = Vec::new();
                v[1].to_string()
            }),
        )
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            wangge_web::error::panicked,
        ));
    let res = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "internal");
}
