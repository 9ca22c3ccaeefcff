//! Server time of the pages over 100,000 events in the caller's area (a year of generated demo
//! events at 300 a day): the queue's first and a deep page, the command centre with the data of
//! its map and charts and the city's grid layer, the counters, one event's page. Baseline in the same run: `GET /healthz` (one trivial database round trip).
//! Requests go through the whole router in-process, the caller (the city's command centre)
//! established as in the auth benchmark. Run: `cargo bench -p wangge-web --bench pages`.

use axum::Extension;
use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use http_body_util::BodyExt;
use std::time::{Duration, Instant};
use tower::ServiceExt;
use wangge_app::auth::role_and_scope;
use wangge_app::{Person, Principal, Via};
use wangge_domain::import::Plan;
use wangge_security::crypto::KeyRing;
use wangge_security::password;
use wangge_store::NewAccount;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_web::{AppState, AuthSettings, app};

const RUNS: usize = 50;

async fn time(router: &axum::Router, uri: &str) -> Duration {
    let t = Instant::now();
    let res = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(res.status().is_success(), "{uri}: {}", res.status());
    let _ = res.into_body().collect().await.unwrap();
    t.elapsed()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let db = TestDb::open(TestBackend::Sqlite).await;
    let keys = KeyRing::parse(&KeyRing::generate_file()).unwrap();
    let city = wangge_demo::generate(2026);
    db.store
        .apply_plan(&Plan {
            regions: city.regions.clone(),
            grids: city.grids.clone(),
        })
        .await
        .unwrap();
    db.store.insert_org_batch(&city.org).await.unwrap();
    let now = Utc::now();
    let events = wangge_demo::events::generate_events(&city, 2026, now, 300);
    for chunk in events.chunks(5000) {
        db.store.insert_events_bulk(chunk).await.unwrap();
    }
    let n = events.len();
    let state = AppState::new(db.store.clone(), AuthSettings::default(), keys)
        .await
        .unwrap();
    let id = db
        .store
        .create_account(
            &NewAccount {
                username: "bench".into(),
                display_name: "bench".into(),
                role: "command_centre".into(),
                scope_kind: "place".into(),
                scope_code: "640200000000".into(),
                scope_serves: None,
                password_hash: password::hash("Bench#2026x"),
                proposed_by: None,
            },
            now,
        )
        .await
        .unwrap();
    let account = db.store.account(id).await.unwrap().unwrap();
    let (role, scope) = role_and_scope(&account).unwrap();
    let caller = Principal::account(Person {
        account,
        role,
        scope,
        via: Via::Token { id },
        ip: None,
    });
    let router = app(state).layer(Extension(caller));
    let event = format!("/events/{}", events[n / 2].0.id);
    // The link the queue gives to the page after the 50,000 newest events.
    let mut by_time: Vec<_> = events.iter().map(|(e, _)| (e.created_at, e.id)).collect();
    by_time.sort();
    let (at, id) = by_time[n - 50_000];
    let deep = format!(
        "/desk?before={}&before_id={id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .replace('+', "%2B")
    );
    let pages = [
        ("GET /healthz (baseline)", "/healthz".to_string()),
        ("queue, first page", "/desk".to_string()),
        ("queue, 50,000 events back", deep),
        ("queue, red only", "/desk?light=red".to_string()),
        ("command centre", "/centre".to_string()),
        ("counters (JSON)", "/api/v1/events/counters".to_string()),
        ("centre map data (JSON)", "/api/v1/centre/map".to_string()),
        ("centre charts (JSON)", "/api/v1/centre/charts".to_string()),
        (
            "the city's grids (GeoJSON)",
            "/api/v1/grids?within=640200000000".to_string(),
        ),
        ("one event's page", event),
    ];
    for (_, uri) in &pages {
        for _ in 0..5 {
            time(&router, uri).await;
        }
    }
    println!("{n} events in sight (SQLite), median and worst of {RUNS} requests:");
    let mut baseline = None;
    for (name, uri) in &pages {
        let mut t: Vec<Duration> = Vec::new();
        for _ in 0..RUNS {
            t.push(time(&router, uri).await);
        }
        t.sort();
        let median = t[RUNS / 2];
        let base = *baseline.get_or_insert(median);
        println!(
            "  {name:<26} {:>9.2} ms  worst {:>8.2} ms  ({:.0}x baseline)",
            median.as_secs_f64() * 1e3,
            t[RUNS - 1].as_secs_f64() * 1e3,
            median.as_secs_f64() / base.as_secs_f64()
        );
    }
    db.finish().await;
}
