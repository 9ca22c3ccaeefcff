//! The deadline watch's scan among 1,000,000 open events: the steps whose light changed since the
//! last scan, found through two index ranges. Beside it, in the same run, the same question asked
//! by reading every open event (SQLite `NOT INDEXED`), the cost the indexes save.
//! Run: `cargo bench -p wangge-store --bench scan` (add `-- postgres` for PostgreSQL, without the
//! full-read baseline).

use chrono::{Duration, Utc};
use std::time::Instant;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_store::{EventRow, EventWithHistory};

const EVENTS: usize = 1_000_000;
const CHUNK: usize = 20_000;
const RUNS: usize = 20;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend = if std::env::args().any(|a| a == "postgres") {
        TestBackend::Postgres
    } else {
        TestBackend::Sqlite
    };
    let db = TestDb::open(backend).await;
    // The last scan ran at `t0`; the next runs a minute later. Yellow times are spread over the
    // day after `t0`, so about 1,000,000 × 60 / 86,400 ≈ 700 steps turn yellow in that minute,
    // and the ones whose due time (an hour after yellow) passed turn red.
    let t0 = Utc::now();
    let t1 = t0 + Duration::minutes(1);
    let template = EventRow {
        id: uuid::Uuid::nil(),
        code: String::new(),
        tracking_code: String::new(),
        state: "accepted".into(),
        version: 2,
        source: "grid_worker".into(),
        step: Some("accept".into()),
        step_started_at: Some(t0),
        ..wangge_store::testing::sample_event(t0)
    };
    let started = Instant::now();
    let mut i = 0usize;
    while i < EVENTS {
        let chunk: Vec<EventWithHistory> = (i..(i + CHUNK).min(EVENTS))
            .map(|n| {
                // A deterministic spread over the day: n × 86,400 / EVENTS seconds, shuffled.
                let k = (n * 7919) % EVENTS;
                let yellow = t0 + Duration::milliseconds((k as i64) * 86_400_000 / EVENTS as i64)
                    - Duration::minutes(61) * i32::from(k < 300);
                (
                    EventRow {
                        id: uuid::Uuid::now_v7(),
                        code: format!("64020220261127{:06}", n % 1_000_000),
                        tracking_code: format!("T{n:09}"),
                        grid_code: format!("640202001001{:03}", n % 200),
                        yellow_at: Some(yellow),
                        step_due_at: Some(yellow + Duration::hours(1)),
                        ..template.clone()
                    },
                    Vec::new(),
                )
            })
            .collect();
        db.store.insert_events_bulk(&chunk).await.unwrap();
        i += CHUNK;
    }
    println!(
        "{EVENTS} open events written in {:.1} s ({backend:?})",
        started.elapsed().as_secs_f64()
    );
    db.store.execute_admin("ANALYZE").await.unwrap();

    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        found = db.store.events_turning(t1, 5000).await.unwrap().len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "scan for changed lights at t0 + 1 min: {found} steps, median {:?}, worst {:?} of {RUNS} runs",
        times[RUNS / 2],
        times[RUNS - 1]
    );
    if backend == TestBackend::Sqlite {
        let predicate = format!(
            "suspended_at IS NULL AND ((light_notified = 'green' AND yellow_at <= '{t}') \
             OR (light_notified IN ('green', 'yellow') AND step_due_at < '{t}'))",
            t = t1.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
        );
        let t = Instant::now();
        db.store
            .execute_admin(&format!(
                "CREATE TEMP TABLE turned AS SELECT id FROM events NOT INDEXED WHERE {predicate}"
            ))
            .await
            .unwrap();
        let full = t.elapsed();
        println!(
            "baseline: the same question reading every open event: {full:?} ({:.0}x the indexed scan)",
            full.as_secs_f64() / times[RUNS / 2].as_secs_f64()
        );
    }
    db.finish().await;
}
