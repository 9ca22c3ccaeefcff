//! The web pages over HTTP, on both databases: signed-in users get their queue and their events
//! with the forms their role may use, in Chinese, under a strict Content-Security-Policy; an event
//! outside the user's area is "not found"; the static files are served by the binary.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use support::{PASSWORD, World};
use wangge_store::testing::TestBackend;

fn html(r: &support::Reply) -> String {
    match &r.body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn pages_in_scope(backend: TestBackend) {
    let w = World::new(backend).await;
    let communities = w.communities("640202", 2);
    let (mine, other) = (&communities[0], &communities[1]);
    let centre = w.token("centre", "command_centre", "640202000000").await;
    let here = w.report_in(&centre, mine, "楼道堆放垃圾").await;
    let there = w.report_in(&centre, other, "楼道堆放垃圾").await;
    w.account("cs.page", "community_staff", mine).await;
    let login = w.login("cs.page", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let cookie = login.cookie.clone().unwrap();

    // The queue: this community's event, not the other's.
    let desk = w.with_session("GET", "/desk", &cookie, None, None).await;
    assert_eq!(desk.status, StatusCode::OK);
    let page = html(&desk);
    assert!(page.contains(&format!("/events/{here}")), "{page}");
    assert!(!page.contains(&format!("/events/{there}")));
    assert!(page.contains("待办事件") && page.contains("lang=\"zh-CN\""));
    let csp = desk.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(!page.contains("<script>"), "no inline scripts");

    // The event: the moves community staff may make on a reported event, and no others.
    let e = w
        .with_session("GET", &format!("/events/{here}"), &cookie, None, None)
        .await;
    assert_eq!(e.status, StatusCode::OK);
    let page = html(&e);
    for allowed in ["accept", "reject"] {
        assert!(
            page.contains(&format!("data-move=\"{allowed}\"")),
            "{allowed}"
        );
    }
    for refused in ["check_in", "rate", "whistle", "submit_result"] {
        assert!(
            !page.contains(&format!("data-move=\"{refused}\"")),
            "{refused}"
        );
    }
    assert!(page.contains("楼道堆放垃圾") && page.contains("已上报"));
    // Its CSRF token is on the page for the forms.
    assert!(page.contains("name=\"csrf-token\" content=\"") && !page.contains("content=\"\">"));

    // Another community's event by URL: not found, exactly like a missing one.
    let nf = w
        .with_session("GET", &format!("/events/{there}"), &cookie, None, None)
        .await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(html(&nf).contains("事件不存在"));
    let missing = w
        .with_session("GET", "/events/not-an-id", &cookie, None, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Paging by the last row seen: events older than a later point are listed, not those after
    // an earlier one.
    let later = "/desk?before=2999-01-01T00:00:00Z&before_id=ffffffff-ffff-ffff-ffff-ffffffffffff";
    let earlier =
        "/desk?before=2000-01-01T00:00:00Z&before_id=00000000-0000-0000-0000-000000000000";
    let page = html(&w.with_session("GET", later, &cookie, None, None).await);
    assert!(page.contains(&format!("/events/{here}")) && page.contains("回到最新"));
    let page = html(&w.with_session("GET", earlier, &cookie, None, None).await);
    assert!(!page.contains(&format!("/events/{here}")));

    // Filters and paging take what the user typed without breaking the page.
    let odd = w
        .with_session(
            "GET",
            "/desk?light=red&text=%3Cscript%3E&page=0",
            &cookie,
            None,
            None,
        )
        .await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(!html(&odd).contains("<script>"), "echoed text is escaped");

    // The counters count what is in sight: this community's one event, not the other's.
    let counts = w
        .with_session("GET", "/api/v1/events/counters", &cookie, None, None)
        .await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.body);
    assert_eq!(
        (
            counts.body["reported_today"].as_i64(),
            counts.body["open"].as_i64(),
            counts.body["red"].as_i64()
        ),
        (Some(1), Some(1), Some(0)),
        "{}",
        counts.body
    );
    // The map: this community's one open event, green, in its grid; not the other's.
    let map = w
        .with_session("GET", "/api/v1/centre/map", &cookie, None, None)
        .await;
    assert_eq!(map.status, StatusCode::OK, "{}", map.body);
    let points = map.body["events"].as_array().unwrap();
    assert_eq!(points.len(), 1, "{}", map.body);
    assert_eq!(points[0]["id"], here.as_str());
    assert_eq!(points[0]["light"], "green");
    let grid = points[0]["grid"].as_str().unwrap();
    assert!(grid.starts_with(mine.as_str()), "{grid}");
    assert_eq!(map.body["grids"][grid]["open"], 1);
    assert_eq!(map.body["grids"].as_object().unwrap().len(), 1);
    assert_eq!(map.body["area"], mine.as_str());
    // The charts: 30 days ending today, the one report today, under its class and township.
    let charts = w
        .with_session("GET", "/api/v1/centre/charts", &cookie, None, None)
        .await;
    assert_eq!(charts.status, StatusCode::OK, "{}", charts.body);
    let days = charts.body["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = chrono::Utc::now()
        .with_timezone(&wangge_domain::calendar::beijing())
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(days[29]["day"], today.as_str(), "{}", charts.body);
    assert_eq!(days[29]["count"], 1);
    assert_eq!(
        days.iter()
            .map(|d| d["count"].as_i64().unwrap())
            .sum::<i64>(),
        1
    );
    assert_eq!(charts.body["by_category"][0]["code"], "0401");
    assert_eq!(charts.body["by_category"][0]["count"], 1);
    assert_eq!(
        charts.body["by_township"][0]["code"],
        format!("{}000", &mine[..9])
    );
    assert_eq!(charts.body["by_township"].as_array().unwrap().len(), 1);
    assert_eq!(charts.body["by_domain"].as_array().unwrap().len(), 1);
    // The command centre of the county sees both, one grid each.
    let county_map = w.get("/api/v1/centre/map", &centre).await;
    assert_eq!(county_map.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(county_map.body["grids"].as_object().unwrap().len(), 2);
    let county_charts = w.get("/api/v1/centre/charts", &centre).await;
    assert_eq!(county_charts.body["by_day"][29]["count"], 2);

    // A department sees what was sent to it, not its whole area's totals.
    let station = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "police_station" && d.region_code.starts_with("640202"))
        .unwrap()
        .id
        .to_string();
    let dept = w.token("ps.page", "department_staff", &station).await;
    for uri in [
        "/api/v1/events/counters",
        "/api/v1/events/counters/stream",
        "/api/v1/centre/map",
        "/api/v1/centre/charts",
    ] {
        w.get(uri, &dept)
            .await
            .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    }
    assert_eq!(w.get("/centre", &dept).await.status, StatusCode::FORBIDDEN);
    let centre_counts = w.get("/api/v1/events/counters", &centre).await;
    assert_eq!(centre_counts.body["open"], 2);
    let page = html(&w.with_session("GET", "/centre", &cookie, None, None).await);
    assert!(
        page.contains("指挥调度中心") && page.contains("data-counter=\"open\">1<"),
        "{page}"
    );
    assert!(
        page.contains(&format!("/api/v1/grids?within={mine}")),
        "{page}"
    );
    assert!(page.contains("/assets/vendor/echarts/echarts.min.js") && !page.contains("bigscreen"));
    let big = html(
        &w.with_session("GET", "/centre?screen=big", &cookie, None, None)
            .await,
    );
    assert!(
        big.contains("class=\"bigscreen\"") && big.contains("退出大屏"),
        "{big}"
    );

    // Signed out: to the login page.
    let anon = w.get_anonymous("/desk").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.headers["location"], "/login");
    let login_page = w.get_anonymous("/login").await;
    assert!(html(&login_page).contains("登录"));
    w.finish().await;
}

async fn assets_are_served_by_the_binary(backend: TestBackend) {
    let w = World::new(backend).await;
    for (path, kind) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/assets/vendor/htmx/htmx.min.js", "text/javascript"),
        ("/assets/vendor/leaflet/leaflet.js", "text/javascript"),
        ("/assets/vendor/leaflet/leaflet.css", "text/css"),
    ] {
        let r = w.get_anonymous(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        // Revalidation costs nothing when the file did not change.
        let etag = r.headers["etag"].to_str().unwrap().to_string();
        let again = w
            .send(
                Request::get(path)
                    .header("if-none-match", &etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
    }
    assert_eq!(
        w.get_anonymous("/assets/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.get_anonymous("/assets/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    w.finish().await;
}

/// The grid worker's phone pages (my tasks, my grid) and a department's inbox: each lists the
/// work that is the user's to do, and it moves from list to list as the event moves.
async fn tasks_and_inbox(backend: TestBackend) {
    use geo::Centroid;
    let w = World::new(backend).await;
    let community = w.communities("640202", 1).remove(0);
    let grid = w
        .city
        .grids
        .iter()
        .find(|g| g.code.as_str().starts_with(community.as_str()))
        .unwrap();
    let gcode = grid.code.as_str().to_string();
    let at = grid.shape.centroid().unwrap();
    let centre = w.token("centre.t", "command_centre", "640202000000").await;
    let cs = w.token("cs.t", "community_staff", &community).await;
    let gw = w.token("gw.t", "grid_worker", &gcode).await;
    let report = |text: &'static str| {
        let w = &w;
        let centre = &centre;
        async move {
            let r = w
                .post_json(
                    "/api/v1/events",
                    centre,
                    serde_json::json!({"category": "0401", "lon": at.x(), "lat": at.y(), "description": text}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["id"].as_str().unwrap().to_string()
        }
    };
    let small = report("门口垃圾桶满溢").await;

    // A grid worker lands on their tasks; nothing waits for them yet; their grid is on the map.
    let home = w.get("/", &gw).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers["location"], "/tasks");
    let page = html(&w.get("/tasks", &gw).await);
    assert!(
        page.contains("我的任务") && page.contains("没有等待您核查的事件"),
        "{page}"
    );
    assert!(page.contains(&format!("data-grid=\"{gcode}\"")), "{page}");
    assert!(!page.contains(&format!("/events/{small}")));
    let mine = w.get("/api/v1/centre/map", &gw).await;
    assert_eq!(
        mine.body["events"][0]["id"],
        small.as_str(),
        "{}",
        mine.body
    );

    // Handled here (小事不出网格): on the worker's list of matters in hand.
    let mut v = w
        .make_move(&small, &cs, 1, serde_json::json!({"move": "accept"}))
        .await;
    v = w
        .make_move(&small, &cs, v, serde_json::json!({"move": "handle_here"}))
        .await;
    let page = html(&w.get("/tasks", &gw).await);
    let (verify, handle) = page.split_once("id=\"to-handle\"").unwrap();
    assert!(!verify.contains(&format!("/events/{small}")), "{page}");
    assert!(handle.contains(&format!("/events/{small}")), "{page}");
    // The result is in: now it waits for the worker's verification.
    w.make_move(
        &small,
        &cs,
        v,
        serde_json::json!({"move": "submit_result", "text": "已清运"}),
    )
    .await;
    let page = html(&w.get("/tasks", &gw).await);
    let (verify, handle) = page.split_once("id=\"to-handle\"").unwrap();
    assert!(verify.contains(&format!("/events/{small}")), "{page}");
    assert!(!handle.contains(&format!("/events/{small}")), "{page}");
    // Another grid's worker has nothing of it.
    let elsewhere = w
        .city
        .grids
        .iter()
        .find(|g| !g.code.as_str().starts_with(community.as_str()))
        .unwrap();
    let gw2 = w
        .token("gw2.t", "grid_worker", elsewhere.code.as_str())
        .await;
    let page = html(&w.get("/tasks", &gw2).await);
    assert!(!page.contains(&format!("/events/{small}")), "{page}");

    // A department's inbox: what was dispatched to it, with its part and the check-in.
    let station = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "police_station" && community.starts_with(&d.region_code[..9]))
        .unwrap()
        .id
        .to_string();
    let ps = w.token("ps.t", "department_staff", &station).await;
    let big = report("夜间施工噪音扰民").await;
    // Reported where the first one still is open: the desk offers it as a likely duplicate, with
    // a form to merge into it.
    let page = html(&w.get(&format!("/events/{big}"), &cs).await);
    assert!(
        page.contains("疑似重复")
            && page.contains(&format!("name=\"into\" value=\"{small}\""))
            && page.contains("相距 0 米"),
        "{page}"
    );
    let page = html(&w.get(&format!("/events/{small}"), &cs).await);
    assert!(
        !page.contains("疑似重复"),
        "a handled event is past merging"
    );
    let v = w
        .make_move(&big, &centre, 1, serde_json::json!({"move": "accept"}))
        .await;
    let v = w
        .make_move(
            &big,
            &centre,
            v,
            serde_json::json!({"move": "dispatch", "lead": station, "co": []}),
        )
        .await;
    let page = html(&w.get("/desk", &ps).await);
    assert!(
        page.contains("部门收件箱") && page.contains("主办"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "data-move=\"check_in\" data-event=\"{big}\" data-version=\"{v}\""
        )),
        "{page}"
    );
    assert!(
        !page.contains(&format!("/events/{small}")),
        "not sent to it"
    );
    w.make_move(&big, &ps, v, serde_json::json!({"move": "check_in"}))
        .await;
    let page = html(&w.get("/desk", &ps).await);
    assert!(
        page.contains("已报到") && !page.contains("data-move=\"check_in\""),
        "{page}"
    );
    // Other roles' queues are not inboxes.
    assert!(!html(&w.get("/desk", &cs).await).contains("部门收件箱"));
    w.finish().await;
}

/// Administration: one duty per administrator, nothing for anyone else.
async fn administration_pages(backend: TestBackend) {
    let w = World::new(backend).await;
    let sys = w.token("sys.page", "system_admin", "640200000000").await;
    let sec = w.token("sec.page", "security_admin", "640200000000").await;
    let aud = w.token("aud.page", "audit_admin", "640200000000").await;
    let cs = w.token("cs.page", "community_staff", "640202001001").await;
    let page = html(&w.get("/admin", &sys).await);
    assert!(
        page.contains("id=\"settings-form\"") && page.contains("yellow_share"),
        "{page}"
    );
    assert!(page.contains("aud.page") && !page.contains("审计日志"));
    // The holiday notice of a new year, and accounts: created here for every role but the
    // administrators (made on the server), unlocked and deactivated from their row.
    assert!(
        page.contains("id=\"calendar-form\"") && page.contains("2026"),
        "{page}"
    );
    assert!(
        page.contains("id=\"account-form\"") && page.contains("<option value=\"grid_worker\">")
    );
    assert!(!page.contains("<option value=\"system_admin\">"));
    assert!(page.contains("data-action=\"deactivate\""));
    // Categories with their limits in force, and the routing rules, each with its form.
    assert!(page.contains("id=\"category-form\"") && page.contains("id=\"route-form\""));
    assert!(
        page.contains("<td>0401</td>") && page.contains("工作小时"),
        "{page}"
    );
    let page = html(&w.get("/admin", &sec).await);
    assert!(!page.contains("account-form") && !page.contains("calendar-form"));
    // The security administrator changes roles and scopes; administrators are not listed there.
    assert!(
        page.contains("class=\"role-form filters\"") && page.contains(">cs.page<"),
        "{page}"
    );
    assert!(
        !page.contains(">aud.page<"),
        "administrators are kept off the role form"
    );
    let page = html(&w.get("/admin", &sec).await);
    assert!(page.contains("安全策略") && page.contains("5 次") && !page.contains("settings-form"));
    // The audit administrator sees who did what, and filters it.
    let _ = w.get("/api/v1/me", &cs).await;
    let page = html(&w.get("/admin?actor=sys.page", &aud).await);
    assert!(page.contains("审计日志") && !page.contains("settings-form"));
    assert!(!page.contains("<td>cs.page</td>"));
    w.get("/admin", &cs)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    w.finish().await;
}

wangge_store::both_backends!(
    pages_in_scope,
    assets_are_served_by_the_binary,
    administration_pages,
    tasks_and_inbox
);
