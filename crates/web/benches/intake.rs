//! Intake and moves over real HTTP on loopback, SQLite, token authentication, the audit chain
//! sealed as the server seals it: 64 keep-alive connections report events as fast as the server
//! takes them, then accept them. Beside it, in the same run, the same rows written straight to
//! SQLite: one transaction each through the store, and — the true floor — with their indexes and
//! history in large transactions (what the demo's bulk insert does, no HTTP, no auth, no audit).
//! HTTP intake is reported as a share of that floor. Run: `cargo bench -p wangge-web --bench intake`.

use chrono::Utc;
use geo::Centroid;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use wangge_domain::import::Plan;
use wangge_security::crypto::KeyRing;
use wangge_security::{password, token};
use wangge_store::testing::{TestBackend, TestDb};
use wangge_store::{EventRow, NewAccount, NewMove};
use wangge_web::{AppState, AuthSettings, app};

/// The allocator of the `wangge` binary, which this benchmark stands in for.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: usize = 64;
const PER_CONNECTION: usize = 400;

/// One request on a keep-alive connection; returns the status and body.
async fn request(
    r: &mut BufReader<tokio::net::TcpStream>,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    r.get_mut().write_all(req.as_bytes()).await.unwrap();
    let mut status = 0;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(code) = l.strip_prefix("HTTP/1.1 ") {
            status = code[..3].parse().unwrap();
        } else if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut buf = vec![0u8; length];
    r.read_exact(&mut buf).await.unwrap();
    (status, String::from_utf8_lossy(&buf).into_owned())
}

/// What the load generator reads of an intake answer.
#[derive(serde::Deserialize)]
struct Created {
    id: String,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let db = TestDb::open(TestBackend::Sqlite).await;
    let city = wangge_demo::generate(2026);
    db.store
        .apply_plan(&Plan {
            regions: city.regions.clone(),
            grids: city.grids.clone(),
        })
        .await
        .unwrap();
    db.store.insert_org_batch(&city.org).await.unwrap();
    let keys = KeyRing::parse(&KeyRing::generate_file()).unwrap();
    db.store
        .seal_audit(
            keys.audit_key(),
            Some(db.dir.join("audit-anchor-bench.json")),
        )
        .await
        .unwrap();
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
            Utc::now(),
        )
        .await
        .unwrap();
    let secret = token::generate("wgt_");
    db.store
        .create_token(id, "bench", &token::digest(&secret), Utc::now())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app(state)).into_future());
    // The load generator runs on threads of its own, as a separate client program would: its
    // tasks do not queue in the server's scheduler (they still share the machine's 2 cores).
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load-generator")
        .enable_all()
        .build()
        .unwrap();
    let points: Arc<Vec<(f64, f64)>> = Arc::new(
        city.grids
            .iter()
            .map(|g| g.shape.centroid().unwrap())
            .map(|p| (p.x(), p.y()))
            .collect(),
    );
    let secret = Arc::new(secret);

    // Intake: 64 connections, each reporting its share.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (points, secret) = (points.clone(), secret.clone());
        tasks.push(client.spawn(async move {
            let mut r = BufReader::new(tokio::net::TcpStream::connect(addr).await.unwrap());
            let mut lat = Vec::with_capacity(PER_CONNECTION);
            let mut ids = Vec::with_capacity(PER_CONNECTION);
            for i in 0..PER_CONNECTION {
                let (x, y) = points[(c * PER_CONNECTION + i) * 7 % points.len()];
                let body = format!(r#"{{"category":"0401","lon":{x},"lat":{y},"description":"暴露垃圾","idempotency_key":"bench-{c}-{i}"}}"#);
                let t = Instant::now();
                let (status, body) = request(&mut r, "POST", "/api/v1/events", &secret, &body).await;
                lat.push(t.elapsed());
                assert_eq!(status, 201, "{body}");
                // Only the id is kept (no map of the whole answer is built), so the load
                // generator takes as little as it can of the cores the server runs on.
                let created: Created = serde_json::from_str(&body).unwrap();
                ids.push(created.id);
            }
            (lat, ids)
        }));
    }
    let mut latencies = Vec::new();
    let mut ids = Vec::new();
    for t in tasks {
        let (l, i) = t.await.unwrap();
        latencies.extend(l);
        ids.push(i);
    }
    let intake_s = started.elapsed().as_secs_f64();
    latencies.sort();
    let n = latencies.len();
    println!("intake over HTTP, {CONNECTIONS} connections, {n} events:");
    println!(
        "  {:>10.0} events/s   p50 {:?}   p99 {:?}",
        n as f64 / intake_s,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // Moves: every event accepted, the same connections.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mine in ids {
        let secret = secret.clone();
        tasks.push(client.spawn(async move {
            let mut r = BufReader::new(tokio::net::TcpStream::connect(addr).await.unwrap());
            let mut lat = Vec::new();
            for id in mine {
                let t = Instant::now();
                let (status, body) = request(
                    &mut r,
                    "POST",
                    &format!("/api/v1/events/{id}/moves"),
                    &secret,
                    r#"{"move":"accept","version":1}"#,
                )
                .await;
                lat.push(t.elapsed());
                assert_eq!(status, 200, "{body}");
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let moves_s = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "moves over HTTP (accept), {CONNECTIONS} connections, {} moves:",
        latencies.len()
    );
    println!(
        "  {:>10.0} moves/s    p50 {:?}   p99 {:?}",
        latencies.len() as f64 / moves_s,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // Baseline: the same number of event rows written straight through the store, one per
    // transaction, from one task.
    let template: EventRow = db
        .store
        .events(
            &wangge_domain::access::Visibility::system(),
            None,
            &Default::default(),
        )
        .await
        .unwrap()
        .remove(0);
    let first = NewMove {
        move_name: "report".into(),
        body: "{}".into(),
        from_state: String::new(),
        to_state: "reported".into(),
        actor: "bench".into(),
        actor_role: "command_centre".into(),
        department: None,
        ip: None,
    };
    let started = Instant::now();
    for i in 0..n {
        let e = EventRow {
            id: uuid::Uuid::now_v7(),
            code: format!("640202{i:014}"),
            tracking_code: format!("T{i}"),
            idempotency_key: None,
            ..template.clone()
        };
        db.store.insert_event(&e, &first).await.unwrap();
    }
    let bare_s = started.elapsed().as_secs_f64();
    println!("baseline: the same {n} rows inserted through the store, one transaction each:");
    println!(
        "  {:>10.0} rows/s     (HTTP intake is {:.2}x the baseline's time)",
        n as f64 / bare_s,
        intake_s / bare_s
    );

    // The floor: the same rows, their indexes and their first history entries, written in large
    // transactions (the store's bulk insert: 5,000 events a transaction, 400 a statement).
    let rows: Vec<wangge_store::EventWithHistory> = (0..n)
        .map(|i| {
            let e = EventRow {
                id: uuid::Uuid::now_v7(),
                code: format!("640203{i:014}"),
                tracking_code: format!("F{i}"),
                idempotency_key: None,
                ..template.clone()
            };
            (e, vec![(first.clone(), template.created_at)])
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(5_000) {
        db.store.insert_events_bulk(chunk).await.unwrap();
    }
    let floor_s = started.elapsed().as_secs_f64();
    println!(
        "floor: the same {n} rows with their indexes and history, written in large transactions:"
    );
    println!(
        "  {:>10.0} rows/s     (HTTP intake runs at {:.0}% of the floor's rate)",
        n as f64 / floor_s,
        100.0 * floor_s / intake_s
    );
    db.finish().await;
    client.shutdown_background();
}
