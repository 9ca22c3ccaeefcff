//! The pages in headless Chromium over real HTTP on loopback, SQLite, the demo city (2001 grids)
//! with its generated year of events: how long the command centre takes until its map of the
//! grids and its charts are drawn (the page's own `performance.mark`s), against the login page's
//! load in the same browser as the baseline; and how many bytes the grid worker's phone pages
//! (report, my tasks) load. Five runs each. Needs Debian's `chromium` and `chromium-driver`
//! (installed by `./scripts/test`). Run: `cargo bench -p wangge-web --bench render`.

#[path = "../tests/chromium/mod.rs"]
mod chromium;

use chrono::Utc;
use fantoccini::Client;
use serde_json::{Value, json};
use wangge_domain::import::Plan;
use wangge_security::crypto::KeyRing;
use wangge_security::password;
use wangge_store::NewAccount;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_web::{AppState, AuthSettings, app};

const RUNS: usize = 5;
const PASSWORD: &str = "Bench#2026x";

async fn sign_in(c: &Client, base: &str, username: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    let r = c
        .execute_async(
            "const [u, p, done] = arguments; fetch('/api/v1/auth/login', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({username: u, password: p})}).then(r => done(r.status));",
            vec![json!(username), json!(PASSWORD)],
        )
        .await
        .unwrap();
    assert_eq!(r, json!(200), "login of {username}");
}

/// Milliseconds from the navigation's start until the page's named marks have all been made
/// (or until the load event when there are none), and the bytes of the page and everything it
/// fetched (bodies as sent; the server does not compress).
async fn measure(c: &Client, url: &str, marks: &[&str]) -> (f64, f64) {
    c.goto(url).await.unwrap();
    let script = "const [marks, done] = arguments;
        const check = () => {
          const nav = performance.getEntriesByType('navigation')[0];
          const times = marks.map((m) => (performance.getEntriesByName(m)[0] || {}).startTime);
          // Without marks: the load event, and a second more for what the page fetches after it.
          const ready = marks.length ? times.every((t) => t !== undefined)
            : nav.loadEventEnd > 0 && performance.now() > nav.loadEventEnd + 1000;
          if (!ready) { setTimeout(check, 10); return; }
          const at = marks.length ? Math.max(...times) : nav.loadEventEnd;
          const bytes = performance.getEntriesByType('resource').reduce((n, r) => n + r.encodedBodySize, nav.encodedBodySize);
          done([at, bytes]);
        };
        check();";
    let v: Value = c.execute_async(script, vec![json!(marks)]).await.unwrap();
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
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
    let events =
        wangge_demo::events::generate_events(&city, 2026, now, wangge_demo::events::EVENTS_PER_DAY);
    for chunk in events.chunks(5000) {
        db.store.insert_events_bulk(chunk).await.unwrap();
    }
    let grid = city.grids[0].code.as_str().to_string();
    for (username, role, scope) in [
        ("bench.leader", "leader", "640200000000"),
        ("bench.grid", "grid_worker", grid.as_str()),
    ] {
        db.store
            .create_account(
                &NewAccount {
                    username: username.into(),
                    display_name: username.into(),
                    role: role.into(),
                    scope_kind: "place".into(),
                    scope_code: scope.into(),
                    scope_serves: None,
                    password_hash: password::hash(PASSWORD),
                    proposed_by: None,
                },
                now,
            )
            .await
            .unwrap();
    }
    let state = AppState::new(db.store.clone(), AuthSettings::default(), keys)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app(state)).into_future());
    let base = format!("http://{addr}");
    let d = chromium::driver().await;
    let c = chromium::browser(&d, &db.dir.join("chromium-profile")).await;
    c.set_window_size(1366, 768).await.unwrap();

    sign_in(&c, &base, "bench.leader").await;
    let login = format!("{base}/login");
    let centre = format!("{base}/centre");
    let marks = ["wangge:map-drawn", "wangge:charts-drawn"];
    // A first visit of each fills the browser's cache, as a wall display's second hour would.
    measure(&c, &login, &[]).await;
    // The first visit's bytes: everything fetched, nothing yet in the cache.
    let (first_ms, centre_bytes) = measure(&c, &centre, &marks).await;
    let (mut base_ms, mut centre_ms) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        base_ms.push(measure(&c, &login, &[]).await.0);
        centre_ms.push(measure(&c, &centre, &marks).await.0);
    }
    let open = events
        .iter()
        .filter(|(e, _)| !matches!(e.state.as_str(), "closed" | "rejected" | "merged"))
        .count();
    println!(
        "demo city: {} grids, {} events ({open} open); Chromium headless, 1366×768, median of {RUNS}:",
        city.grids.len(),
        events.len()
    );
    let b = median(base_ms);
    let m = median(centre_ms);
    println!("  login page loaded (baseline)          {b:>8.0} ms");
    println!(
        "  command centre: map and charts drawn  {m:>8.0} ms  ({:.1}x baseline)",
        m / b
    );
    println!(
        "  command centre, first visit (empty cache) {first_ms:>4.0} ms  ({:.0} KB fetched)",
        centre_bytes / 1024.0
    );

    // The grid worker's phone.
    c.execute("return fetch('/api/v1/auth/logout', {method: 'POST', credentials: 'same-origin', headers: {'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}}).then(r => r.status);", vec![])
        .await
        .unwrap();
    c.set_window_size(360, 740).await.unwrap();
    sign_in(&c, &base, "bench.grid").await;
    println!("  phone pages (360 px), bytes of the page and everything it loads:");
    for page in ["/report", "/tasks"] {
        // The weight is the largest of the runs: the first, with nothing cached, fetches all.
        let mut ms = Vec::new();
        let mut bytes: f64 = 0.0;
        for _ in 0..RUNS {
            let (t, b) = measure(&c, &format!("{base}{page}"), &[]).await;
            ms.push(t);
            bytes = bytes.max(b);
        }
        println!(
            "    {page:<8} {:>6.0} KB   loaded in {:>5.0} ms",
            bytes / 1024.0,
            median(ms)
        );
    }
    c.close().await.unwrap();
    drop(d);
    db.finish().await;
}
