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
    for uri in ["/api/v1/events/counters", "/api/v1/events/counters/stream"] {
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
    administration_pages
);
