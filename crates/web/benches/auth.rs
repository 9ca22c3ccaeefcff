//! What authentication adds to a request: the same read endpoint (`GET /api/v1/grids/{code}`)
//! with a bearer token, with a session cookie, and with the caller already established
//! in-process (no credential lookup, the baseline), interleaved in one run on SQLite.
//! Run: `cargo bench -p wangge-web --bench auth`.

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
use wangge_security::{password, token};
use wangge_store::NewAccount;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_web::{AppState, AuthSettings, app};

async fn time(router: &axum::Router, req: impl Fn() -> Request<Body>) -> Duration {
    let t = Instant::now();
    let res = router.clone().oneshot(req()).await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let _ = res.into_body().collect().await.unwrap();
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
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
    let state = AppState::new(db.store.clone(), AuthSettings::default(), keys)
        .await
        .unwrap();
    let now = Utc::now();
    let id = db
        .store
        .create_account(
            &NewAccount {
                username: "bench".into(),
                display_name: "bench".into(),
                role: "leader".into(),
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
    let secret = token::generate("wgt_");
    db.store
        .create_token(id, "bench", &token::digest(&secret), now)
        .await
        .unwrap();
    let session = token::generate("wgs_");
    db.store
        .create_session(
            &token::digest(&session),
            id,
            "csrf",
            true,
            None,
            now,
            now + chrono::Duration::hours(12),
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

    let plain = app(state.clone());
    let pre_authenticated = app(state.clone()).layer(Extension(caller));
    let uri = format!("/api/v1/grids/{}", city.grids[100].code);
    let with_token = || {
        Request::get(&uri)
            .header("authorization", format!("Bearer {secret}"))
            .body(Body::empty())
            .unwrap()
    };
    let with_cookie = || {
        Request::get(&uri)
            .header("cookie", format!("wangge_session={session}"))
            .body(Body::empty())
            .unwrap()
    };
    let without = || Request::get(&uri).body(Body::empty()).unwrap();

    for _ in 0..200 {
        time(&plain, with_token).await;
        time(&pre_authenticated, without).await;
    }
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3000 {
        a.push(time(&pre_authenticated, without).await);
        b.push(time(&plain, with_token).await);
        c.push(time(&plain, with_cookie).await);
    }
    let (base, tok, ses) = (median(a), median(b), median(c));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("GET {uri} on SQLite, median of 3000 interleaved requests each:");
    println!("  caller pre-established (baseline) {:>8.1} µs", us(base));
    println!(
        "  bearer token                      {:>8.1} µs  (+{:.1} µs)",
        us(tok),
        us(tok) - us(base)
    );
    println!(
        "  session cookie                    {:>8.1} µs  (+{:.1} µs)",
        us(ses),
        us(ses) - us(base)
    );
    db.finish().await;
}
