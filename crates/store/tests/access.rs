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
    let check = db.store.verify_audit(None, &[]).await.unwrap();
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
        assert_eq!(
            db.store.verify_audit(None, &[]).await.unwrap().problem,
            None
        );
        db.store.execute_admin(sql).await.unwrap();
        let check = db.store.verify_audit(None, &[]).await.unwrap();
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
    assert_eq!(
        db.store
            .verify_audit(None, &[])
            .await
            .unwrap()
            .problem
            .unwrap()
            .0,
        2
    );
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
        proposed_by: None,
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

const KEY: [u8; 32] = [7; 32];

/// A chain sealed with the key from the key file: records before the seal stay plain SM3 and
/// still verify; a cut tail (last records deleted, the head reset to the new last one) is found
/// by the anchor; a chain rewritten with recomputed plain SM3 hashes is found without it.
async fn sealed_chain_finds_a_cut_tail_and_a_rewrite(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let s = &db.store;
    chain_of(s, 3).await;
    let anchor = db.dir.join("anchors");
    std::fs::create_dir_all(&anchor).unwrap();
    let path = wangge_store::anchor_path(&anchor, "server-1");
    assert_eq!(s.seal_audit(KEY, Some(path.clone())).await.unwrap(), 4);
    chain_of(s, 5).await;
    let anchors = wangge_store::AuditAnchor::read_all(&anchor);
    assert_eq!(anchors.len(), 1);
    assert_eq!(
        anchors[0].1.as_ref().unwrap().seq,
        8,
        "rewritten after each commit"
    );
    let whole = s.verify_audit(Some(&KEY), &anchors).await.unwrap();
    assert_eq!((whole.records, whole.keyed, whole.anchors), (8, 5, 1));
    assert_eq!(whole.problem, None);
    let rows = s
        .search_audit(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        rows.iter()
            .filter(|r| r.seq >= 4)
            .all(|r| r.hash.starts_with(wangge_store::KEYED_PREFIX))
    );
    assert!(
        rows.iter()
            .filter(|r| r.seq < 4)
            .all(|r| !r.hash.starts_with(wangge_store::KEYED_PREFIX))
    );
    // Without the key the keyed records cannot be checked, and the check says so.
    let unkeyed = s.verify_audit(None, &anchors).await.unwrap();
    assert!(unkeyed.problem.unwrap().1.contains("密钥"));

    // The tail cut: records 7 and 8 deleted, the head reset to record 6 as it was.
    let (seq6, hash6) = rows
        .iter()
        .find(|r| r.seq == 6)
        .map(|r| (r.seq, r.hash.clone()))
        .unwrap();
    s.execute_admin("DELETE FROM audit_log WHERE seq > 6")
        .await
        .unwrap();
    s.execute_admin(&format!(
        "UPDATE audit_head SET seq = {seq6}, hash = '{hash6}' WHERE id = 1"
    ))
    .await
    .unwrap();
    assert_eq!(
        s.verify_audit(Some(&KEY), &[]).await.unwrap().problem,
        None,
        "without the anchor a cut tail looks whole"
    );
    let cut = s.verify_audit(Some(&KEY), &anchors).await.unwrap();
    let (at, why) = cut.problem.expect("the anchor finds the cut tail");
    assert_eq!(at, 8, "{why}");
    assert!(why.contains("末尾有记录被删除"), "{why}");

    // The rewrite: record 5 changed and every hash from there recomputed as plain SM3, the head
    // set to match — the chain links up, but keyed records may not be plain.
    s.execute_admin("UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 5")
        .await
        .unwrap();
    let rewritten = s.rehash_plain_for_test(5).await.unwrap();
    assert!(rewritten > 0);
    let (at, why) = s
        .verify_audit(Some(&KEY), &[])
        .await
        .unwrap()
        .problem
        .expect("a rewrite with recomputed hashes is found");
    assert_eq!(at, 5, "{why}");
    assert!(why.contains("链被重写"), "{why}");
    // Moving the keyed boundary to hide the rewrite does not agree with the anchor.
    s.set_meta("audit_keyed_from", "100").await.unwrap();
    let (_, why) = s
        .verify_audit(Some(&KEY), &anchors)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert!(why.contains("起点被改动"), "{why}");
    // Giving the database another identity disowns its anchors: that is found too.
    s.set_meta("database_id", "someone-else").await.unwrap();
    let (_, why) = s
        .verify_audit(Some(&KEY), &anchors)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert!(why.contains("不属于这个数据库"), "{why}");
    db.finish().await;
}

/// 三员分立 in storage: a proposed account has no role or scope until approved; a lock ends the
/// account's sessions and tokens as a deactivation does; a TOTP step is taken once.
async fn proposals_locks_and_totp_steps(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let s = &db.store;
    let t0 = now();
    let id = s
        .create_account(
            &NewAccount {
                username: "li.na".into(),
                display_name: "李娜".into(),
                role: "command_centre".into(),
                scope_kind: "place".into(),
                scope_code: "640200000000".into(),
                scope_serves: None,
                password_hash: "$argon2id$placeholder".into(),
                proposed_by: Some("sys.admin".into()),
            },
            t0,
        )
        .await
        .unwrap();
    let a = s.account(id).await.unwrap().unwrap();
    assert_eq!((a.role.as_deref(), a.scope_code.as_deref()), (None, None));
    assert_eq!(a.proposed_role.as_deref(), Some("command_centre"));
    assert_eq!(a.proposed_by.as_deref(), Some("sys.admin"));
    assert!(s.approve_account(id, "sec.admin", t0).await.unwrap());
    assert!(
        !s.approve_account(id, "sec.admin", t0).await.unwrap(),
        "once"
    );
    let a = s.account(id).await.unwrap().unwrap();
    assert_eq!(
        (
            a.role.as_deref(),
            a.scope_code.as_deref(),
            a.proposed_role.as_deref()
        ),
        (Some("command_centre"), Some("640200000000"), None)
    );
    assert_eq!(a.approved_by.as_deref(), Some("sec.admin"));

    s.create_session("h2", id, "csrf", true, None, t0, t0 + Duration::hours(1))
        .await
        .unwrap();
    s.create_token(id, "m", "digest-2", t0).await.unwrap();
    s.lock_account(id, t0 + Duration::days(1), t0)
        .await
        .unwrap();
    assert!(
        s.session("h2").await.unwrap().is_none(),
        "the lock ends its sessions"
    );
    assert!(
        s.token_by_hash("digest-2").await.unwrap().is_none(),
        "and its tokens"
    );
    assert_eq!(
        s.account(id).await.unwrap().unwrap().locked_until,
        Some(t0 + Duration::days(1))
    );

    assert!(s.claim_totp_step(id, 1000).await.unwrap());
    assert!(!s.claim_totp_step(id, 1000).await.unwrap(), "not twice");
    assert!(
        !s.claim_totp_step(id, 999).await.unwrap(),
        "not an older one"
    );
    assert!(s.claim_totp_step(id, 1001).await.unwrap());
    db.finish().await;
}

wangge_store::both_backends!(
    concurrent_appends_keep_one_chain,
    verify_finds_changed_removed_and_inserted_records,
    accounts_lock_unlock_and_leave,
    sealed_chain_finds_a_cut_tail_and_a_rewrite,
    proposals_locks_and_totp_steps
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
