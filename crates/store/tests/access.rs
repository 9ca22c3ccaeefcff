//! Accounts, sessions, tokens, throttling and the audit chain, on SQLite and PostgreSQL.

use chrono::{Duration, SubsecRound, Utc};
use serde_json::json;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_store::{AuditEntry, AuditQuery, NewAccount, Store};

fn now() -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn entry(actor: &str, action: &str, n: i64) -> AuditEntry {
    AuditEntry {
        actor: actor.into(),
        actor_role: Some("street_dispatcher".into()),
        ip: Some("10.0.0.1".into()),
        action: action.into(),
        record_type: Some("grid".into()),
        record_id: Some(format!("640202001001{n:03}")),
        detail: json!({"n": n, "phone": "138****5678"}),
    }
}

async fn chain_of(store: &Store, n: i64) {
    for i in 0..n {
        store
            .append_audit(&entry("wang", "grid.update", i), now())
            .await
            .unwrap();
    }
}

async fn concurrent_appends_keep_one_chain(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let mut handles = Vec::new();
    for w in 0..4 {
        let s = db.store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..10 {
                s.append_audit(&entry(&format!("writer{w}"), "login", i), now())
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let check = db.store.verify_audit().await.unwrap();
    assert_eq!(check.records, 40);
    assert_eq!(check.problem, None);
    let found = db
        .store
        .search_audit(&AuditQuery {
            actor: Some("writer2".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 10);
    assert!(
        found.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    let later = db
        .store
        .search_audit(&AuditQuery {
            from: Some(now() + Duration::hours(1)),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(later.is_empty());
    db.finish().await;
}

async fn verify_finds_changed_removed_and_inserted_records(backend: TestBackend) {
    let cases: [(&str, i64, &str); 5] = [
        (
            "UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 3",
            3,
            "改动",
        ),
        (
            "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5",
            5,
            "改动",
        ),
        ("DELETE FROM audit_log WHERE seq = 2", 2, "缺失"),
        ("DELETE FROM audit_log WHERE seq = 6", 6, "末尾"),
        (
            "INSERT INTO audit_log (seq, at, actor, action, detail, prev_hash, hash) SELECT 7, at, 'ghost', 'login', '{}', hash, hash FROM audit_log WHERE seq = 6",
            7,
            "记录 7",
        ),
    ];
    for (sql, seq, needle) in cases {
        let db = TestDb::open(backend).await;
        chain_of(&db.store, 6).await;
        assert_eq!(db.store.verify_audit().await.unwrap().problem, None);
        db.store.execute_admin(sql).await.unwrap();
        let check = db.store.verify_audit().await.unwrap();
        let (at, why) = check
            .problem
            .unwrap_or_else(|| panic!("{sql}: not detected"));
        assert_eq!(at, seq, "{sql}: {why}");
        assert!(why.contains(needle), "{sql}: {why}");
        db.finish().await;
    }
    // Rewriting a record and re-hashing it still breaks the next record's link.
    let db = TestDb::open(backend).await;
    chain_of(&db.store, 4).await;
    db.store
        .execute_admin("UPDATE audit_log SET hash = '00' WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(db.store.verify_audit().await.unwrap().problem.unwrap().0, 2);
    db.finish().await;
}

async fn accounts_lock_unlock_and_leave(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let s = &db.store;
    let t0 = now();
    let a = NewAccount {
        username: "wang.li".into(),
        display_name: "王丽".into(),
        role: "grid_worker".into(),
        scope_kind: "place".into(),
        scope_code: "640202001001001".into(),
        scope_serves: None,
        password_hash: "$argon2id$placeholder".into(),
    };
    let id = s.create_account(&a, t0).await.unwrap();
    let dup = s.create_account(&a, t0).await.unwrap_err();
    assert!(dup.to_string().contains("已存在"), "{dup}");
    for k in 1..5 {
        let (n, locked) = s
            .record_login_failure(id, 5, t0 + Duration::minutes(15), t0)
            .await
            .unwrap();
        assert_eq!((n, locked), (k, None));
    }
    let (n, locked) = s
        .record_login_failure(id, 5, t0 + Duration::minutes(15), t0)
        .await
        .unwrap();
    assert_eq!((n, locked), (5, Some(t0 + Duration::minutes(15))));
    assert_eq!(
        s.account(id).await.unwrap().unwrap().locked_until,
        Some(t0 + Duration::minutes(15))
    );
    s.set_lock(id, None, t0).await.unwrap();
    let acc = s.account_by_username("wang.li").await.unwrap().unwrap();
    assert_eq!((acc.failed_logins, acc.locked_until), (0, None));

    s.create_session(
        "h1",
        id,
        "csrf",
        true,
        Some("127.0.0.1"),
        t0,
        t0 + Duration::hours(12),
    )
    .await
    .unwrap();
    let sess = s.session("h1").await.unwrap().unwrap();
    assert_eq!(
        (sess.account_id, sess.expires_at),
        (id, t0 + Duration::hours(12))
    );
    s.touch_session("h1", t0 + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(
        s.session("h1").await.unwrap().unwrap().last_seen,
        t0 + Duration::minutes(3)
    );
    let tok = s.create_token(id, "sensor", "digest-1", t0).await.unwrap();
    assert_eq!(s.token_by_hash("digest-1").await.unwrap().unwrap().id, tok);

    s.deactivate_account(id, t0).await.unwrap();
    assert_eq!(
        s.account(id).await.unwrap().unwrap().active,
        0,
        "kept, not deleted"
    );
    assert!(s.session("h1").await.unwrap().is_none(), "its sessions end");
    assert!(
        s.token_by_hash("digest-1").await.unwrap().is_none(),
        "its tokens stop working"
    );

    // Per-address throttling counts within a window and starts afresh after it.
    let window = t0 - Duration::minutes(15);
    for _ in 0..3 {
        s.record_ip_failure("10.1.1.1", window, t0).await.unwrap();
    }
    assert_eq!(s.ip_failures("10.1.1.1", window).await.unwrap(), 3);
    assert_eq!(
        s.ip_failures("10.1.1.1", t0 + Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(s.ip_failures("10.9.9.9", window).await.unwrap(), 0);
    db.finish().await;
}

wangge_store::both_backends!(
    concurrent_appends_keep_one_chain,
    verify_finds_changed_removed_and_inserted_records,
    accounts_lock_unlock_and_leave
);

mod calendar {
    use chrono::{NaiveDate, Utc};
    use wangge_domain::calendar::{YearSchedule, shipped_schedules};
    use wangge_store::testing::{TestBackend, TestDb};

    async fn seeded_once_then_a_new_year_loads(backend: TestBackend) {
        let db = TestDb::open(backend).await;
        let s = &db.store;
        assert!(
            s.seed_calendar(&shipped_schedules(), Utc::now())
                .await
                .unwrap()
        );
        assert!(
            !s.seed_calendar(&shipped_schedules(), Utc::now())
                .await
                .unwrap(),
            "only into an empty calendar"
        );
        let (days, years) = s.calendar_data().await.unwrap();
        assert_eq!(years, (2018..=2026).collect::<Vec<_>>());
        assert!(days.len() > 250);
        let before = s.calendar_revision().await.unwrap();
        let y = wangge_domain::calendar::parse_holiday_cn(
            r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}, {"name": "春节", "date": "2027-02-06", "isOffDay": false}]}"#,
        )
        .unwrap();
        s.load_calendar_year(&y, "test", Utc::now()).await.unwrap();
        // Loading the same year again replaces it rather than adding to it.
        let smaller = YearSchedule {
            year: 2027,
            days: y.days[..1].to_vec(),
        };
        s.load_calendar_year(&smaller, "test", Utc::now())
            .await
            .unwrap();
        let (after, years) = s.calendar_data().await.unwrap();
        assert_eq!(years.last(), Some(&2027));
        assert_eq!(after.len(), days.len() + 1);
        assert!(after.contains(&(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), true)));
        assert!(s.calendar_revision().await.unwrap() > before);
        db.finish().await;
    }

    wangge_store::both_backends!(seeded_once_then_a_new_year_loads);
}
