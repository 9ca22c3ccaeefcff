//! Who may see and do what: the scope matrix over every route, sessions and their expiry, CSRF,
//! lockout, the second factor, the separated administrators, personal data and tokens. Each story
//! runs on SQLite and on PostgreSQL.

mod support;

use axum::http::StatusCode;
use chrono::Utc;
use geo::Centroid;
use serde_json::json;
use support::{PASSWORD, World};
use wangge_domain::Level;
use wangge_domain::access::{Permission, Role};
use wangge_security::totp;
use wangge_store::testing::TestBackend;
use wangge_web::AuthSettings;

/// Places inside (大武口区's first township) and outside (平罗县) the callers' scopes.
struct Places {
    county: String,
    township: String,
    community: String,
    grid: String,
    grid_point: (f64, f64),
    person: String,
    out_county: String,
    out_township: String,
    out_grid: String,
    out_grid_point: (f64, f64),
    out_person: String,
    station: String,
}

fn places(w: &World) -> Places {
    let first = |level: Level, prefix: &str| {
        w.city
            .regions
            .iter()
            .find(|r| r.level == level && r.code.as_str().starts_with(prefix))
            .unwrap()
            .code
            .as_str()
            .to_string()
    };
    let township = first(Level::Township, "640202");
    let community = first(Level::Community, &township[..9]);
    let grid_of = |prefix: &str| {
        let g = w
            .city
            .grids
            .iter()
            .find(|g| g.code.as_str().starts_with(prefix))
            .unwrap();
        let c = g.shape.centroid().unwrap();
        (g.code.as_str().to_string(), (c.x(), c.y()))
    };
    let (grid, grid_point) = grid_of(&community);
    let out_township = first(Level::Township, "640221");
    let (out_grid, out_grid_point) = grid_of(&out_township[..9]);
    let person_in = |prefix: &str| {
        let ids: std::collections::HashSet<_> = w.city.personal.iter().map(|p| p.person).collect();
        w.city
            .org
            .people
            .iter()
            .find(|p| p.home_code.starts_with(prefix) && ids.contains(&p.id))
            .unwrap()
            .id
            .to_string()
    };
    let station = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "police_station" && d.region_code == township)
        .unwrap()
        .id
        .to_string();
    Places {
        county: "640202000000".into(),
        person: person_in(&township[..9]),
        out_person: person_in("640221"),
        township,
        community,
        grid,
        grid_point,
        out_county: "640221000000".into(),
        out_township,
        out_grid,
        out_grid_point,
        station,
    }
}

/// Every route of the application, by the kind of check that guards it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Guard {
    /// Open to all: health, landing page, login.
    Public,
    /// Any authenticated account (its own session and identity).
    Own,
    /// Business records, filtered by scope.
    Scoped,
    /// One duty: an administrator's, or keeping the registers.
    Admin(Permission),
    /// Either of two administrator duties (the account list: the system administrator proposes
    /// accounts, the security administrator approves them and changes their roles).
    AdminEither(Permission, Permission),
    /// A web page for a signed-in user: anyone else is sent to the login page.
    Page,
}

const ROUTES: &[(&str, &str, Guard)] = &[
    ("GET", "/healthz", Guard::Public),
    ("GET", "/api/v1/openapi.json", Guard::Public),
    ("GET", "/api/docs", Guard::Public),
    ("GET", "/", Guard::Page),
    ("GET", "/tasks", Guard::Page),
    ("GET", "/mediation", Guard::Page),
    ("GET", "/mediation/cases/{id}", Guard::Page),
    ("GET", "/mediation/cases/{id}/agreement", Guard::Page),
    ("GET", "/mediation/stats", Guard::Page),
    ("GET", "/mediation/stats.csv", Guard::Page),
    ("GET", "/mediation/stats.xlsx", Guard::Page),
    ("GET", "/login", Guard::Public),
    ("GET", "/portal", Guard::Public),
    ("GET", "/portal/track", Guard::Public),
    ("POST", "/api/v1/public/reports", Guard::Public),
    ("GET", "/api/v1/public/track/{code}", Guard::Public),
    ("POST", "/api/v1/public/track/{code}/rating", Guard::Public),
    ("GET", "/assets/{*path}", Guard::Public),
    ("GET", "/desk", Guard::Page),
    ("GET", "/centre", Guard::Page),
    ("GET", "/admin", Guard::Page),
    ("GET", "/registry", Guard::Page),
    ("GET", "/password", Guard::Page),
    ("POST", "/api/v1/auth/password", Guard::Own),
    ("GET", "/report", Guard::Page),
    ("GET", "/sw.js", Guard::Public),
    ("GET", "/events/{id}", Guard::Page),
    ("POST", "/api/v1/auth/login", Guard::Public),
    ("POST", "/api/v1/auth/logout", Guard::Own),
    ("POST", "/api/v1/auth/second-factor", Guard::Own),
    ("POST", "/api/v1/auth/second-factor/enroll", Guard::Own),
    ("POST", "/api/v1/auth/second-factor/confirm", Guard::Own),
    ("GET", "/api/v1/me", Guard::Own),
    ("GET", "/api/v1/calendar/due", Guard::Own),
    ("GET", "/api/v1/categories", Guard::Own),
    ("GET", "/api/v1/events", Guard::Scoped),
    ("GET", "/api/v1/events/counters", Guard::Scoped),
    ("GET", "/api/v1/events/counters/stream", Guard::Scoped),
    ("GET", "/api/v1/centre/map", Guard::Scoped),
    ("GET", "/api/v1/centre/charts", Guard::Scoped),
    ("GET", "/api/v1/mediation/orgs", Guard::Scoped),
    ("GET", "/api/v1/mediation/mediators", Guard::Scoped),
    ("GET", "/api/v1/mediation/cases", Guard::Scoped),
    ("POST", "/api/v1/mediation/cases", Guard::Scoped),
    ("GET", "/api/v1/mediation/cases/{id}", Guard::Scoped),
    ("POST", "/api/v1/mediation/cases/{id}/steps", Guard::Scoped),
    ("POST", "/api/v1/mediation/slips", Guard::Scoped),
    (
        "POST",
        "/api/v1/mediation/slips/{id}/receipt",
        Guard::Scoped,
    ),
    ("POST", "/api/v1/mediation/slips/{id}/reply", Guard::Scoped),
    ("GET", "/api/v1/mediation/stats", Guard::Scoped),
    ("GET", "/api/v1/mediation/screening", Guard::Scoped),
    ("PUT", "/api/v1/mediation/screening/{grid}", Guard::Scoped),
    (
        "POST",
        "/api/v1/mediation/screening/{grid}/rounds",
        Guard::Scoped,
    ),
    ("GET", "/api/v1/mediation/risks", Guard::Scoped),
    (
        "GET",
        "/api/v1/mediation/cases/{id}/parties/{seq}/personal-data",
        Guard::Scoped,
    ),
    (
        "POST",
        "/api/v1/mediation/orgs",
        Guard::Admin(Permission::Configure),
    ),
    (
        "POST",
        "/api/v1/mediation/mediators",
        Guard::Admin(Permission::Configure),
    ),
    ("POST", "/api/v1/events", Guard::Scoped),
    ("GET", "/api/v1/events/{id}", Guard::Scoped),
    ("POST", "/api/v1/events/{id}/moves", Guard::Scoped),
    ("POST", "/api/v1/events/{id}/whistle-ratings", Guard::Scoped),
    ("POST", "/api/v1/events/{id}/attachments", Guard::Scoped),
    (
        "GET",
        "/api/v1/events/{id}/attachments/{attachment}",
        Guard::Scoped,
    ),
    ("GET", "/api/v1/calendar/years", Guard::Own),
    (
        "POST",
        "/api/v1/calendar/years",
        Guard::Admin(Permission::Configure),
    ),
    ("GET", "/api/v1/regions/{code}", Guard::Scoped),
    ("GET", "/api/v1/grids/{code}", Guard::Scoped),
    ("GET", "/api/v1/grids", Guard::Scoped),
    ("GET", "/api/v1/locate", Guard::Scoped),
    ("GET", "/api/v1/people", Guard::Scoped),
    ("GET", "/api/v1/people/{id}", Guard::Scoped),
    ("GET", "/api/v1/people/{id}/personal-data", Guard::Scoped),
    (
        "GET",
        "/api/v1/accounts",
        Guard::AdminEither(Permission::ManageAccounts, Permission::ManageSecurity),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/approve",
        Guard::Admin(Permission::ManageSecurity),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/lock",
        Guard::Admin(Permission::ManageAccounts),
    ),
    (
        "POST",
        "/api/v1/accounts",
        Guard::Admin(Permission::ManageAccounts),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/unlock",
        Guard::Admin(Permission::ManageAccounts),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/deactivate",
        Guard::Admin(Permission::ManageAccounts),
    ),
    (
        "PUT",
        "/api/v1/accounts/{id}/role",
        Guard::Admin(Permission::ManageSecurity),
    ),
    (
        "GET",
        "/api/v1/security/policy",
        Guard::Admin(Permission::ManageSecurity),
    ),
    ("GET", "/api/v1/audit", Guard::Admin(Permission::ReadAudit)),
    (
        "GET",
        "/api/v1/settings",
        Guard::Admin(Permission::Configure),
    ),
    (
        "PUT",
        "/api/v1/settings",
        Guard::Admin(Permission::Configure),
    ),
    ("GET", "/api/v1/registry/{kind}", Guard::Own),
    (
        "GET",
        "/api/v1/registry/{kind}/template.xlsx",
        Guard::Admin(Permission::KeepRegisters),
    ),
    (
        "GET",
        "/api/v1/registry/{kind}/export.xlsx",
        Guard::Admin(Permission::KeepRegisters),
    ),
    (
        "POST",
        "/api/v1/registry/{kind}/import",
        Guard::Admin(Permission::KeepRegisters),
    ),
    (
        "GET",
        "/api/v1/accounts/template.xlsx",
        Guard::Admin(Permission::ManageAccounts),
    ),
    (
        "POST",
        "/api/v1/accounts/import",
        Guard::Admin(Permission::ManageAccounts),
    ),
    (
        "GET",
        "/api/v1/accounts/batches",
        Guard::AdminEither(Permission::ManageAccounts, Permission::ManageSecurity),
    ),
    (
        "POST",
        "/api/v1/accounts/batches/{batch}/approve",
        Guard::Admin(Permission::ManageSecurity),
    ),
];

/// New routes join the matrix by construction: any `.route("…")` in the source that this table
/// does not list fails here.
#[test]
fn every_route_in_the_source_is_in_the_matrix() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for part in text.split(".route(\"").skip(1) {
            found.push(part.split('"').next().unwrap().to_string());
        }
    }
    assert!(found.len() >= 15, "{found:?}");
    for path in &found {
        assert!(
            ROUTES.iter().any(|(_, p, _)| p == path),
            "route {path} is not in the security matrix"
        );
    }
}

/// The OpenAPI document covers exactly the JSON API: every route under `/api/v1/` (and the
/// health check) with its methods, and nothing that is not served.
#[test]
fn the_document_covers_every_api_route() {
    let doc = serde_json::to_value(wangge_web::openapi::document()).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = ROUTES
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v1/") || *p == "/healthz")
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    served.sort();
    assert_eq!(documented, served);
    // Every operation documents its errors in the one shape, and names how to sign in unless public.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path != "/healthz" {
                for status in ["400", "401", "403", "404", "409", "429"] {
                    assert_eq!(
                        op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorEnvelope",
                        "{method} {path} {status}"
                    );
                }
            }
            let public = path.starts_with("/api/v1/public/")
                || ["/healthz", "/api/v1/auth/login", "/api/v1/openapi.json"]
                    .contains(&path.as_str());
            let schemes = op["security"].to_string();
            assert_eq!(
                !schemes.contains("bearer"),
                public,
                "{method} {path}: {schemes}"
            );
        }
    }
}

async fn anonymous_requests_are_refused(backend: TestBackend) {
    let w = World::new(backend).await;
    for (method, path, guard) in ROUTES {
        let uri = path
            .replace("{code}", "640200000000")
            .replace("{id}", &uuid::Uuid::nil().to_string());
        let req = axum::http::Request::builder()
            .method(*method)
            .uri(&uri)
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let r = w.send(req).await;
        match guard {
            Guard::Public => assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}"),
            Guard::Page => assert_eq!(r.status, StatusCode::SEE_OTHER, "{method} {path}"),
            _ => r.assert_error(StatusCode::UNAUTHORIZED, "auth.required"),
        }
    }
    // A made-up token is not a token.
    w.get("/api/v1/me", "wgt_forged")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_token");
    w.finish().await;
}

/// For every role and every scoped route: a record inside answers, one outside answers exactly as
/// a record that does not exist. Administrator roles read no business data at all.
async fn scope_matrix(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let cases: Vec<(&str, &str, String)> = vec![
        ("m.grid", "grid_worker", p.grid.clone()),
        ("m.community", "community_staff", p.community.clone()),
        ("m.street", "street_dispatcher", p.township.clone()),
        ("m.centre", "command_centre", p.county.clone()),
        ("m.dept", "department_staff", p.station.clone()),
        ("m.mediator", "mediator", p.township.clone()),
        ("m.leader", "leader", p.county.clone()),
        ("m.sys", "system_admin", "640200000000".into()),
        ("m.sec", "security_admin", "640200000000".into()),
        ("m.audit", "audit_admin", "640200000000".into()),
    ];
    let loc = |(x, y): (f64, f64)| format!("/api/v1/locate?lon={x}&lat={y}");
    for (username, role_id, scope) in cases {
        let role: Role = role_id.parse().unwrap();
        let t = w.token(username, role_id, &scope).await;
        // The region node the caller sees, if any (grid workers see only their grid).
        let region_scope = match role {
            Role::GridWorker => None,
            Role::DepartmentStaff => Some(p.township.clone()),
            _ => Some(scope.clone()),
        };
        let person_inside = role != Role::GridWorker;
        let unmask = role.can(Permission::UnmaskPersonalData);
        // (inside uri, outside uri, nonexistent uri) per scoped route
        let routes: Vec<(&str, Option<String>, String, String)> = vec![
            (
                "regions",
                region_scope
                    .as_ref()
                    .map(|c| format!("/api/v1/regions/{c}")),
                format!("/api/v1/regions/{}", p.out_township),
                "/api/v1/regions/640299000000".into(),
            ),
            (
                "grid",
                Some(format!("/api/v1/grids/{}", p.grid)),
                format!("/api/v1/grids/{}", p.out_grid),
                "/api/v1/grids/640299001001001".into(),
            ),
            (
                "grids within",
                region_scope
                    .as_ref()
                    .map(|c| format!("/api/v1/grids?within={c}")),
                format!("/api/v1/grids?within={}", p.out_county),
                "/api/v1/grids?within=640299000000".into(),
            ),
            (
                "locate",
                Some(loc(p.grid_point)),
                loc(p.out_grid_point),
                loc((107.5, 39.0)),
            ),
            (
                "person",
                person_inside.then(|| format!("/api/v1/people/{}", p.person)),
                format!("/api/v1/people/{}", p.out_person),
                format!("/api/v1/people/{}", uuid::Uuid::nil()),
            ),
            (
                "personal data",
                person_inside
                    .then(|| format!("/api/v1/people/{}/personal-data?field=phone", p.person)),
                format!("/api/v1/people/{}/personal-data?field=phone", p.out_person),
                format!(
                    "/api/v1/people/{}/personal-data?field=phone",
                    uuid::Uuid::nil()
                ),
            ),
        ];
        for (name, inside, outside, missing) in routes {
            let needs_unmask = name == "personal data";
            if role.is_administrator() || (needs_unmask && !unmask) {
                for uri in inside.iter().chain([&outside, &missing]) {
                    w.get(uri, &t)
                        .await
                        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
                }
                continue;
            }
            if let Some(uri) = inside {
                let r = w.get(&uri, &t).await;
                assert_eq!(
                    r.status,
                    StatusCode::OK,
                    "{role_id} {name} inside {uri}: {}",
                    r.body
                );
            }
            let out = w.get(&outside, &t).await;
            let gone = w.get(&missing, &t).await;
            assert_eq!(
                out.status,
                StatusCode::NOT_FOUND,
                "{role_id} {name} outside {outside}: {}",
                out.body
            );
            assert_eq!(
                out.code(),
                gone.code(),
                "{role_id} {name}: outside must look like missing"
            );
            if name == "locate" {
                assert!(
                    out.body["error"]["details"]["nearest"].is_null(),
                    "no hint of grids out of scope: {}",
                    out.body
                );
            }
        }
        // Search by number: found inside, an empty list outside (as if no such person).
        let phone_of = |id: &str| {
            w.city
                .personal
                .iter()
                .find(|x| x.person.to_string() == id)
                .unwrap()
                .phone
                .clone()
        };
        let (inside_phone, outside_phone) = (phone_of(&p.person), phone_of(&p.out_person));
        let found = w
            .get(&format!("/api/v1/people?phone={inside_phone}"), &t)
            .await;
        let missed = w
            .get(&format!("/api/v1/people?phone={outside_phone}"), &t)
            .await;
        if role.is_administrator() {
            found.assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
            missed.assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
        } else {
            assert_eq!(
                found.body["people"].as_array().map(Vec::len),
                Some(usize::from(person_inside)),
                "{role_id}: {}",
                found.body
            );
            assert_eq!(
                missed.body["people"].as_array().map(Vec::len),
                Some(0),
                "{role_id}: {}",
                missed.body
            );
        }
        // Administrator routes: only the one duty's holder passes.
        for (method, path, guard) in ROUTES {
            let allowed = match guard {
                Guard::Admin(perm) => role.can(*perm),
                Guard::AdminEither(a, b) => role.can(*a) || role.can(*b),
                _ => continue,
            };
            if *method != "GET" {
                continue;
            }
            let r = w.get(&path.replace("{kind}", "departments"), &t).await;
            if allowed {
                assert_eq!(r.status, StatusCode::OK, "{role_id} {path}: {}", r.body);
            } else {
                r.assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
            }
        }
    }
    w.finish().await;
}

async fn login_session_csrf_and_logout(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    w.account("jd.test", "street_dispatcher", &p.township).await;
    let r = w.login("jd.test", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["second_factor"], "none");
    assert_eq!(r.body["account"]["scope"]["code"], p.township.as_str());
    let cookie = r.cookie.clone().unwrap();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    let me = w
        .with_session("GET", "/api/v1/me", &cookie, None, None)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["role"], "street_dispatcher");
    // Reads need no CSRF token; changes do, and never from another site.
    w.with_session("POST", "/api/v1/auth/logout", &cookie, None, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.csrf");
    w.with_session("POST", "/api/v1/auth/logout", &cookie, Some("wrong"), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.csrf");
    let cross = axum::http::Request::post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::empty())
        .unwrap();
    w.send(cross)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.csrf");
    let evil_origin = axum::http::Request::post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("host", "wangge.local")
        .header("origin", "http://evil.example")
        .body(axum::body::Body::empty())
        .unwrap();
    w.send(evil_origin)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.csrf");
    let out = w
        .with_session("POST", "/api/v1/auth/logout", &cookie, Some(&csrf), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.cookie.unwrap().ends_with("wangge_session="),
        "the cookie is cleared"
    );
    w.with_session("GET", "/api/v1/me", &cookie, None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.session_expired");
    // Bad bodies get a clear error.
    let bad = axum::http::Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"username\": 1"))
        .unwrap();
    w.send(bad)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "request.bad_json");
    w.login("nobody", PASSWORD)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_credentials");
    let audit =
        w.db.store
            .search_audit(&wangge_store::AuditQuery {
                actor: Some("jd.test".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert!(
        actions.contains(&"login.success") && actions.contains(&"logout"),
        "{actions:?}"
    );
    w.finish().await;
}

async fn lockout_then_unlock_after_the_period(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let a = w.account("lock.me", "community_staff", &p.community).await;
    // Failures answer as an unknown username does: no count of tries left, nothing to tell a
    // real account from a made-up one.
    for _ in 1..=5 {
        let r = w.login("lock.me", "Wrong#pass1").await;
        r.assert_error(StatusCode::UNAUTHORIZED, "auth.bad_credentials");
        assert_eq!(r.body["error"]["message"], "用户名或密码错误", "{}", r.body);
    }
    // Locked now: a wrong password still answers the same; only the right one learns of the lock.
    w.login("lock.me", "Wrong#pass1")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_credentials");
    let r = w.login("lock.me", PASSWORD).await;
    r.assert_error(StatusCode::LOCKED, "auth.locked");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("分钟后重试"),
        "{}",
        r.body
    );
    // Fifteen minutes later (the lock's end moved into the past) the right password works again.
    w.db.store
        .set_lock(
            a.id,
            Some(Utc::now() - chrono::Duration::seconds(1)),
            Utc::now(),
        )
        .await
        .unwrap();
    let ok = w.login("lock.me", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        w.db.store
            .account(a.id)
            .await
            .unwrap()
            .unwrap()
            .failed_logins,
        0
    );
    w.finish().await;
}

async fn failures_are_throttled_per_address(backend: TestBackend) {
    let w = World::with_settings(
        backend,
        AuthSettings {
            ip_max_failures: 3,
            ..AuthSettings::default()
        },
    )
    .await;
    for name in ["a", "b", "c"] {
        w.login(name, "Wrong#pass1")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_credentials");
    }
    w.login("d", "Wrong#pass1")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "auth.rate_limited");
    w.finish().await;
}

async fn sessions_expire_when_idle_and_at_the_absolute_limit(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    w.account("idle", "leader", &p.county).await;
    for (column, age_minutes) in [("last_seen", 31), ("expires_at", 1)] {
        let r = w.login("idle", PASSWORD).await;
        let cookie = r.cookie.unwrap();
        assert_eq!(
            w.with_session("GET", "/api/v1/me", &cookie, None, None)
                .await
                .status,
            StatusCode::OK
        );
        // Move the clock: the session was last seen 31 minutes ago, or its 12 hours ended a minute ago.
        let at = Utc::now() - chrono::Duration::minutes(age_minutes);
        let sql: &'static str = if column == "last_seen" {
            "UPDATE sessions SET last_seen = $1"
        } else {
            "UPDATE sessions SET expires_at = $1"
        };
        w.db.store
            .set_session_times_for_test(sql, at)
            .await
            .unwrap();
        w.with_session("GET", "/api/v1/me", &cookie, None, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "auth.session_expired");
    }
    w.finish().await;
}

async fn administrators_need_a_second_factor(backend: TestBackend) {
    let w = World::new(backend).await;
    let a = w.account("audit.one", "audit_admin", "640200000000").await;
    let secret = w.enrol_totp(&a).await;
    let r = w.login("audit.one", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["second_factor"], "required");
    let (cookie, csrf) = (
        r.cookie.unwrap(),
        r.body["csrf_token"].as_str().unwrap().to_string(),
    );
    w.with_session("GET", "/api/v1/audit", &cookie, None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.second_factor_required");
    w.with_session(
        "POST",
        "/api/v1/auth/second-factor",
        &cookie,
        Some(&csrf),
        Some(json!({"code": "000000"})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_second_factor");
    let code = totp::code_at(
        &totp::unbase32(&secret).unwrap(),
        Utc::now().timestamp() as u64,
        6,
    );
    let ok = w
        .with_session(
            "POST",
            "/api/v1/auth/second-factor",
            &cookie,
            Some(&csrf),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        w.with_session("GET", "/api/v1/audit", &cookie, None, None)
            .await
            .status,
        StatusCode::OK
    );

    // A command-centre account without a second factor must enrol one before anything else.
    w.account("centre.new", "command_centre", "640202000000")
        .await;
    let r = w.login("centre.new", PASSWORD).await;
    assert_eq!(r.body["second_factor"], "enroll");
    let (cookie, csrf) = (
        r.cookie.unwrap(),
        r.body["csrf_token"].as_str().unwrap().to_string(),
    );
    w.with_session("GET", "/api/v1/regions/640202000000", &cookie, None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.second_factor_required");
    let e = w
        .with_session(
            "POST",
            "/api/v1/auth/second-factor/enroll",
            &cookie,
            Some(&csrf),
            None,
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    assert_eq!(e.body["recovery_codes"].as_array().unwrap().len(), 10);
    let secret = e.body["secret"].as_str().unwrap();
    let code = totp::code_at(
        &totp::unbase32(secret).unwrap(),
        Utc::now().timestamp() as u64,
        6,
    );
    let c = w
        .with_session(
            "POST",
            "/api/v1/auth/second-factor/confirm",
            &cookie,
            Some(&csrf),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert_eq!(
        w.with_session("GET", "/api/v1/regions/640202000000", &cookie, None, None)
            .await
            .status,
        StatusCode::OK
    );
    // A recovery code works once, instead of the app.
    let recovery = e.body["recovery_codes"][0].as_str().unwrap().to_string();
    let r = w.login("centre.new", PASSWORD).await;
    let (cookie, csrf) = (
        r.cookie.unwrap(),
        r.body["csrf_token"].as_str().unwrap().to_string(),
    );
    let ok = w
        .with_session(
            "POST",
            "/api/v1/auth/second-factor",
            &cookie,
            Some(&csrf),
            Some(json!({"code": recovery})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let r = w.login("centre.new", PASSWORD).await;
    let (cookie, csrf) = (
        r.cookie.unwrap(),
        r.body["csrf_token"].as_str().unwrap().to_string(),
    );
    w.with_session(
        "POST",
        "/api/v1/auth/second-factor",
        &cookie,
        Some(&csrf),
        Some(json!({"code": recovery})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_second_factor");
    w.finish().await;
}

async fn administrators_are_separated(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let sys = w.token("sys", "system_admin", "640200000000").await;
    let sec = w.token("sec", "security_admin", "640200000000").await;
    let target = w.account("worker", "community_staff", &p.community).await;
    let post = |uri: &str, token: &str, body: serde_json::Value| {
        axum::http::Request::builder()
            .method(if uri.ends_with("/role") {
                "PUT"
            } else {
                "POST"
            })
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    // The system administrator creates accounts, but never administrator accounts.
    let created = w
        .send(post("/api/v1/accounts", &sys, json!({"username": "new.staff", "display_name": "新同事", "role": "community_staff", "scope": p.community, "password": "Strong#2026"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    w.send(post("/api/v1/accounts", &sys, json!({"username": "x.admin", "display_name": "x", "role": "audit_admin", "scope": "640200000000", "password": "Strong#2026"})))
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    for (body, field) in [
        (
            json!({"username": "weak", "display_name": "x", "role": "leader", "scope": "640200000000", "password": "weakpass"}),
            "password",
        ),
        (
            json!({"username": "y", "display_name": "x", "role": "leader", "scope": "649900000000", "password": "Strong#2026"}),
            "scope",
        ),
        (
            json!({"username": "z", "display_name": "x", "role": "boss", "scope": "640200000000", "password": "Strong#2026"}),
            "role",
        ),
        (
            json!({"username": "new.staff", "display_name": "x", "role": "leader", "scope": "640200000000", "password": "Strong#2026"}),
            "",
        ),
    ] {
        let r = w.send(post("/api/v1/accounts", &sys, body)).await;
        if field.is_empty() {
            r.assert_error(StatusCode::CONFLICT, "account.exists");
        } else {
            r.assert_error(StatusCode::BAD_REQUEST, "account.invalid");
            assert_eq!(r.body["error"]["details"]["field"], field);
        }
    }
    // Roles are the security administrator's, not the system administrator's.
    let uri = format!("/api/v1/accounts/{}/role", target.id);
    w.send(post(&uri, &sys, json!({"role": "mediator"})))
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let r = w
        .send(post(
            &uri,
            &sec,
            json!({"role": "mediator", "scope": p.township}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["role"], "mediator");
    w.send(post(&uri, &sec, json!({"role": "system_admin"})))
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    // Deactivating a leaver ends its tokens at once.
    let leaver = w.token("leaver", "leader", &p.county).await;
    assert_eq!(w.get("/api/v1/me", &leaver).await.status, StatusCode::OK);
    let id =
        w.db.store
            .account_by_username("leaver")
            .await
            .unwrap()
            .unwrap()
            .id;
    let r = w
        .send(post(
            &format!("/api/v1/accounts/{id}/deactivate"),
            &sys,
            json!({}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    w.get("/api/v1/me", &leaver)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "auth.bad_token");
    assert!(
        w.db.store.account(id).await.unwrap().is_some(),
        "kept, not deleted"
    );
    // The audit administrator reads what happened, by actor.
    let aud = w.token("aud", "audit_admin", "640200000000").await;
    let r = w
        .get("/api/v1/audit?actor=sys&action=account.propose", &aud)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["records"].as_array().unwrap().len(), 1);
    w.get("/api/v1/audit?from=yesterday", &aud)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "audit.bad_time");
    w.finish().await;
}

async fn personal_data_is_masked_and_each_view_audited(backend: TestBackend) {
    let w = World::new(backend).await;
    let p = places(&w);
    let t = w.token("viewer", "street_dispatcher", &p.township).await;
    let person: uuid::Uuid = p.person.parse().unwrap();
    let ids = w.city.personal.iter().find(|x| x.person == person).unwrap();
    let r = w.get(&format!("/api/v1/people/{person}"), &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let masked_phone = r.body["phone"].as_str().unwrap();
    assert_eq!(
        masked_phone,
        format!("{}****{}", &ids.phone[..3], &ids.phone[7..])
    );
    let masked_id = r.body["id_number"].as_str().unwrap();
    assert_eq!(
        masked_id,
        format!("{}********{}", &ids.id_number[..6], &ids.id_number[14..])
    );
    assert!(
        !r.body.to_string().contains(&ids.phone) && !r.body.to_string().contains(&ids.id_number)
    );
    let r = w
        .get(
            &format!("/api/v1/people/{person}/personal-data?field=id_number"),
            &t,
        )
        .await;
    assert_eq!(r.body["value"], ids.id_number.as_str());
    w.get(
        &format!("/api/v1/people/{person}/personal-data?field=address"),
        &t,
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "personal_data.bad_field");
    // Found by exact number through the blind index, inside the scope only.
    let r = w
        .get(&format!("/api/v1/people?phone={}", ids.phone), &t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["people"][0]["id"], p.person.as_str());
    assert!(!r.body.to_string().contains(&ids.phone));
    let r = w
        .get(&format!("/api/v1/people?id_number={}", ids.id_number), &t)
        .await;
    assert_eq!(r.body["people"].as_array().unwrap().len(), 1);
    let outsider = w
        .city
        .personal
        .iter()
        .find(|x| x.person.to_string() == p.out_person)
        .unwrap();
    let r = w
        .get(&format!("/api/v1/people?phone={}", outsider.phone), &t)
        .await;
    assert_eq!(
        r.body["people"].as_array().unwrap().len(),
        0,
        "not found outside the scope"
    );
    for (q, code) in [
        ("phone=12345", "personal_data.bad_phone"),
        ("phone=23812345678", "personal_data.bad_phone"),
        (
            "id_number=110105194912310021",
            "personal_data.bad_id_number",
        ),
        (
            "id_number=11010519491331002X",
            "personal_data.bad_id_number",
        ),
        ("", "personal_data.search_key"),
        (
            "phone=13812345678&id_number=11010519491231002X",
            "personal_data.search_key",
        ),
    ] {
        w.get(&format!("/api/v1/people?{q}"), &t)
            .await
            .assert_error(StatusCode::BAD_REQUEST, code);
    }
    let searches =
        w.db.store
            .search_audit(&wangge_store::AuditQuery {
                action: Some("personal_data.search".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(searches.len(), 3);
    assert!(
        searches
            .iter()
            .all(|a| !a.detail.contains(&ids.phone) && !a.detail.contains(&ids.id_number))
    );
    let trail =
        w.db.store
            .search_audit(&wangge_store::AuditQuery {
                action: Some("personal_data.view".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].record_id.as_deref(), Some(p.person.as_str()));
    assert!(
        trail[0].detail.contains("id_number") && !trail[0].detail.contains(&ids.id_number),
        "{}",
        trail[0].detail
    );
    assert_eq!(
        w.db.store
            .verify_audit(Some(&w.state.keys.audit_key()), &[])
            .await
            .unwrap()
            .problem,
        None
    );
    w.finish().await;
}

wangge_store::both_backends!(
    anonymous_requests_are_refused,
    scope_matrix,
    login_session_csrf_and_logout,
    lockout_then_unlock_after_the_period,
    failures_are_throttled_per_address,
    sessions_expire_when_idle_and_at_the_absolute_limit,
    administrators_need_a_second_factor,
    administrators_are_separated,
    personal_data_is_masked_and_each_view_audited
);
