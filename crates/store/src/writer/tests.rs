//! Unit tests of the group commit, on both backends: repeated keys within a group, numbers per
//! county, the hints of reports written together and the indexes their reads rely on. Inside the
//! crate because they drive `commit` and the hint's statement, which are the writer's own.

use super::nearby::nearby_sql;
use super::*;
use crate::testing::{TestBackend, TestDb};
use chrono::{SubsecRound, Utc};

fn report(key: Option<&str>, n: usize) -> NewReport {
    let t = Utc::now().trunc_subsecs(6);
    let event = EventRow {
        code: "64020220261127".into(),
        tracking_code: format!("T{n:015}"),
        description: format!("第{n}条"),
        idempotency_key: key.map(str::to_string),
        ..crate::testing::sample_event(t)
    };
    NewReport {
        event,
        first: NewMove {
            move_name: "report".into(),
            body: "{}".into(),
            from_state: String::new(),
            to_state: "reported".into(),
            actor: "t".into(),
            actor_role: "staff".into(),
            department: None,
            ip: None,
        },
        audit: AuditEntry {
            actor: "t".into(),
            actor_role: None,
            ip: None,
            action: "event.report".into(),
            record_type: None,
            record_id: None,
            detail: serde_json::json!({}),
        },
        nearby_within: None,
    }
}

/// One group holding the same key several times, beside reports without keys: the first
/// with the key is stored and numbered, the repeats answer with it, and nothing is stored
/// twice; a later group with the key finds the stored event.
async fn a_group_with_repeated_keys(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let group: Vec<Payload> = (0..6)
        .map(|n| {
            let key = (n % 2 == 0).then_some("same-key");
            Payload::Report(report(key, n))
        })
        .collect();
    let outcomes = commit(&db.store, &group).await.unwrap();
    let mut created = Vec::new();
    let mut existing = Vec::new();
    for o in outcomes {
        match o {
            Outcome::Reported(r) => match *r {
                Reported::Created { event, .. } => created.push(event),
                Reported::Existing(e) => existing.push(e),
            },
            Outcome::Moved(_) => panic!("no moves here"),
        }
    }
    assert_eq!((created.len(), existing.len()), (4, 2));
    let keyed = created
        .iter()
        .find(|e| e.idempotency_key.is_some())
        .unwrap();
    assert!(existing.iter().all(|e| e.id == keyed.id));
    let mut numbers: Vec<&str> = created.iter().map(|e| &e.code[14..]).collect();
    numbers.sort();
    assert_eq!(numbers, ["000001", "000002", "000003", "000004"]);
    let again = commit(&db.store, &[Payload::Report(report(Some("same-key"), 9))])
        .await
        .unwrap();
    assert!(
        matches!(&again[0], Outcome::Reported(r) if matches!(r.as_ref(), Reported::Existing(e) if e.id == keyed.id))
    );
    assert_eq!(db.store.verify_audit(None, &[]).await.unwrap().records, 4);
    db.finish().await;
}

/// A report at (lon, lat) of `category`, asking for the likely-duplicate hint.
fn asking(n: usize, category: &str, (lon, lat): (f64, f64)) -> NewReport {
    let mut r = report(None, n);
    r.event.category_code = category.into();
    r.event.lon = lon;
    r.event.lat = lat;
    r.nearby_within = Some(0.0025);
    r
}

/// An event stored directly (not through the writer) at (lon, lat), in `state`, reported
/// `minutes_ago`.
async fn stored(
    db: &TestDb,
    n: usize,
    state: &str,
    (lon, lat): (f64, f64),
    minutes_ago: i64,
) -> EventRow {
    let mut r = report(None, n);
    r.event.code = format!("640202202611279{n:05}");
    r.event.state = state.into();
    r.event.lon = lon;
    r.event.lat = lat;
    r.event.created_at -= chrono::Duration::minutes(minutes_ago);
    db.store.insert_event(&r.event, &r.first).await.unwrap();
    r.event
}

fn created(r: Reported) -> (EventRow, Vec<NearbyEvent>) {
    match r {
        Reported::Created { event, nearby } => (event, nearby),
        Reported::Existing(e) => panic!("expected a new event, got {}", e.code),
    }
}

/// The hints of reports written together are read together and sorted out per report: each
/// gets the open events of its own category in its own box, never a closed one, never
/// another spot's or another category's, never itself; at most `NEAR_LIMIT`, the most
/// recent; and a report that does not ask gets none.
async fn hints_of_reports_written_together(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let writer = Writer::start(db.store.clone());
    let a = (106.2, 38.5);
    let b = (106.3, 38.6);
    let c = (106.4, 38.7);
    let earlier = stored(&db, 1, "reported", a, 30).await;
    let _closed = stored(&db, 2, "closed", (a.0 + 0.0003, a.1), 20).await;
    let other_class = writer
        .report(asking(3, "0501", (a.0, a.1 + 0.0002)))
        .await
        .unwrap();
    let (_, none) = created(other_class);
    assert!(
        none.is_empty(),
        "another category's events are no hint: {none:?}"
    );
    // Three reports in flight at once: two at spot A, one at spot B.
    let (a2, a3, b1) = tokio::join!(
        writer.report(asking(4, "0401", (a.0 + 0.0005, a.1))),
        writer.report(asking(5, "0401", (a.0, a.1 + 0.0005))),
        writer.report(asking(6, "0401", b)),
    );
    let (a2, a2_hint) = created(a2.unwrap());
    let (a3, a3_hint) = created(a3.unwrap());
    let (b1, b1_hint) = created(b1.unwrap());
    for (me, hint) in [(&a2, &a2_hint), (&a3, &a3_hint)] {
        assert!(hint.iter().any(|n| n.id == earlier.id), "{hint:?}");
        assert!(
            hint.iter().all(|n| n.id != me.id
                && n.category_code == "0401"
                && n.state != "closed"
                && n.id != b1.id),
            "{hint:?}"
        );
    }
    assert!(b1_hint.is_empty(), "nothing is open near B: {b1_hint:?}");
    // A busy spot: fifteen open reports at C; the hint holds the ten most recent.
    let mut at_c = Vec::new();
    for n in 0..15 {
        at_c.push(stored(&db, 100 + n, "accepted", c, 60 - n as i64).await);
    }
    let (_, c_hint) = created(writer.report(asking(200, "0401", c)).await.unwrap());
    assert_eq!(c_hint.len(), NEAR_LIMIT);
    let newest: Vec<uuid::Uuid> = at_c.iter().rev().take(NEAR_LIMIT).map(|e| e.id).collect();
    let got: Vec<uuid::Uuid> = c_hint.iter().map(|n| n.id).collect();
    assert_eq!(got, newest, "the most recent first");
    // Not asking: no hint, however many neighbours.
    let mut quiet = asking(201, "0401", c);
    quiet.nearby_within = None;
    let (_, nothing) = created(writer.report(quiet).await.unwrap());
    assert!(nothing.is_empty());
    db.finish().await;
}

/// Each county of a group takes its own block of the day's numbers, in one statement, and
/// the next group goes on from where each county stopped.
async fn numbers_per_county_in_one_group(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let in_county = |n: usize, county: &str| {
        let mut r = report(None, n);
        r.event.region_code = format!("{county}000000");
        r.event.code = format!("{county}20261127");
        Payload::Report(r)
    };
    let numbers = |outcomes: Vec<Outcome>| -> Vec<String> {
        outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Reported(r) => match *r {
                    Reported::Created { event, .. } => event.code,
                    Reported::Existing(e) => panic!("not new: {}", e.code),
                },
                Outcome::Moved(_) => panic!("no moves here"),
            })
            .collect()
    };
    let first = commit(
        &db.store,
        &[
            in_county(1, "640202"),
            in_county(2, "640205"),
            in_county(3, "640202"),
            in_county(4, "640202"),
            in_county(5, "640205"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        numbers(first),
        [
            "64020220261127000001",
            "64020520261127000001",
            "64020220261127000002",
            "64020220261127000003",
            "64020520261127000002",
        ]
    );
    let next = commit(&db.store, &[in_county(6, "640205"), in_county(7, "640202")])
        .await
        .unwrap();
    assert_eq!(
        numbers(next),
        ["64020520261127000003", "64020220261127000004"]
    );
    db.finish().await;
}

/// The plan SQLite makes of a statement (EXPLAIN QUERY PLAN), one line per step.
async fn sqlite_plan(db: &TestDb, sql: &str) -> String {
    let crate::db::Db::Sqlite(pool) = &db.store.db else {
        panic!("SQLite only")
    };
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
}

/// SQLite uses a partial index only when the query repeats its condition word for word, and
/// its planner has no statistics here: the hint's batch and "closed today" must still pick
/// their indexes (a wrong pick is a read of every open or every closed event, found once by
/// the page benchmark at ten times the time). PostgreSQL plans by statistics; its speed is
/// in BENCHMARKS.md.
#[tokio::test]
async fn hint_and_closed_today_use_their_indexes_sqlite() {
    let db = TestDb::open(TestBackend::Sqlite).await;
    let plan = sqlite_plan(&db, &nearby_sql(3)).await;
    assert!(
        plan.contains("USING INDEX events_open_near (category_code=? AND lat>? AND lat<?)"),
        "{plan}"
    );
    for place in ["grid_code", "+grid_code"] {
        let plan = sqlite_plan(&db, &crate::events::closed_today_sql(place)).await;
        assert!(
            plan.contains("USING INDEX events_closed_recent (state=? AND updated_at>?)"),
            "{plan}"
        );
    }
    db.finish().await;
}

#[tokio::test]
async fn numbers_per_county_in_one_group_sqlite() {
    numbers_per_county_in_one_group(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn numbers_per_county_in_one_group_postgres() {
    numbers_per_county_in_one_group(TestBackend::Postgres).await;
}

#[tokio::test]
async fn hints_of_reports_written_together_sqlite() {
    hints_of_reports_written_together(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn hints_of_reports_written_together_postgres() {
    hints_of_reports_written_together(TestBackend::Postgres).await;
}

#[tokio::test]
async fn a_group_with_repeated_keys_sqlite() {
    a_group_with_repeated_keys(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn a_group_with_repeated_keys_postgres() {
    a_group_with_repeated_keys(TestBackend::Postgres).await;
}
