//! The use cases below HTTP, on SQLite and on PostgreSQL, with a clock the tests move: every move
//! of an event — a person's, a citizen's, the deadline watch's — leaves exactly one history entry
//! and one audit record; a move that fails its version check writes nothing it carried (not the
//! mediation case it would have opened); accounts need both administrators.

use chrono::Duration;
use serde_json::json;
use wangge_app::events::{intake, moves, watch};
use wangge_app::{ErrorKind, Principal, accounts, portal};
use wangge_domain::access::Visibility;
use wangge_domain::workflow::Move;
use wangge_store::testing::TestBackend;

mod support;

use support::world;

fn report(lon: f64, lat: f64) -> intake::ReportInput {
    serde_json::from_value(
        json!({"category": "0401", "lon": lon, "lat": lat, "description": "暴露垃圾"}),
    )
    .unwrap()
}

/// A person's move, the watch's escalation and a citizen's rating each leave one history entry
/// and one audit record, with the actor who made them.
async fn every_move_takes_one_path(backend: TestBackend) {
    let w = world(backend).await;
    let (grid, (lon, lat)) = w.grid();
    let gw = w.person("gw", "grid_worker", &grid).await;
    let community = w.person("cs", "community_staff", &grid[..12]).await;
    let e = intake::report(&w.ctx, &gw, report(lon, lat), true)
        .await
        .unwrap()
        .event;
    let id = e.id.to_string();
    let accepted = moves::request(
        &w.ctx,
        &community,
        &id,
        json!({"move": "accept", "version": 1}),
    )
    .await
    .unwrap();
    // The clock moves past the accept limit: the watch escalates, as a move.
    let due = accepted.step_due_at.unwrap();
    w.ctx
        .clock
        .advance(due - w.ctx.now() + Duration::minutes(1));
    let scan = watch::scan(&w.ctx, w.ctx.now()).await.unwrap();
    assert_eq!((scan.red, scan.escalated), (1, 1));
    let after =
        w.db.store
            .event(&Visibility::system(), None, e.id)
            .await
            .unwrap()
            .unwrap();
    assert!(
        after.step_due_at.unwrap() > w.ctx.now(),
        "a new clock for the township"
    );
    // The township handles it, the grid worker verifies, the citizen with the code rates it.
    let street = w
        .person("sd", "street_dispatcher", &format!("{}000", &grid[..9]))
        .await;
    let mut v = after.version;
    let dept = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.region_code == format!("{}000", &grid[..9]))
        .unwrap()
        .id
        .to_string();
    let d = moves::request(
        &w.ctx,
        &street,
        &id,
        json!({"version": v, "move": "dispatch", "lead": dept, "co": []}),
    )
    .await
    .unwrap();
    v = d.version;
    let staff = w.person("ds", "department_staff", &dept).await;
    for body in [
        json!({"move": "check_in"}),
        json!({"move": "submit_result", "text": "已清运"}),
    ] {
        let mut b = body.clone();
        b["version"] = json!(v);
        v = moves::request(&w.ctx, &staff, &id, b)
            .await
            .unwrap()
            .version;
    }
    moves::request(
        &w.ctx,
        &gw,
        &id,
        json!({"version": v, "move": "verify", "pass": true, "note": "已核查"}),
    )
    .await
    .unwrap();
    let rated = portal::rate(
        &w.ctx,
        Some("10.0.0.9".into()),
        &e.tracking_code,
        serde_json::from_value(json!({"rating": "satisfied"})).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(wangge_domain::wire(&rated.rating), "satisfied");
    let history = w.db.store.event_history(&after).await.unwrap();
    let moves_made: Vec<(String, String)> = history
        .iter()
        .skip(1)
        .map(|h| (h.move_name.clone(), h.actor.clone()))
        .collect();
    assert_eq!(
        moves_made,
        [
            ("accept", "cs"),
            ("escalate", "system"),
            ("dispatch", "sd"),
            ("check_in", "ds"),
            ("submit_result", "ds"),
            ("verify", "gw"),
            ("rate", "public"),
        ]
        .map(|(m, a)| (m.to_string(), a.to_string()))
    );
    let audited = w.audit_of(&id, "event.move").await;
    assert_eq!(audited.len(), moves_made.len());
    let mut actors: Vec<String> = audited.iter().rev().map(|r| r.actor.clone()).collect();
    actors.dedup();
    assert_eq!(actors, ["cs", "system", "sd", "ds", "gw", "public"]);
    assert_eq!(
        w.db.store
            .verify_audit(Some(&w.ctx.keys.audit_key()), &[])
            .await
            .unwrap()
            .problem,
        None
    );
    w.db.finish().await;
}

/// What a move carries is written with it or not at all: a mediation case attached to a move
/// whose version check fails is not written, nor its audit record.
async fn a_failed_move_writes_nothing_it_carried(backend: TestBackend) {
    let w = world(backend).await;
    let (grid, (lon, lat)) = w.grid();
    let gw = w.person("gw", "grid_worker", &grid).await;
    let community = w.person("cs", "community_staff", &grid[..12]).await;
    let mut input = report(lon, lat);
    input.category = "0101".into();
    let e = intake::report(&w.ctx, &gw, input, false)
        .await
        .unwrap()
        .event;
    let id = e.id.to_string();
    // Someone accepts it first: the row the case-opener read is now stale.
    moves::request(
        &w.ctx,
        &community,
        &id,
        json!({"move": "accept", "version": 1}),
    )
    .await
    .unwrap();
    let org =
        w.db.store
            .mediation_orgs(&Visibility::system())
            .await
            .unwrap();
    assert!(org.is_empty(), "the network is not part of this city");
    let case = wangge_store::CaseRow {
        region_code: e.region_code.clone(),
        id: uuid::Uuid::now_v7(),
        code: format!("M{}202612010001", &grid[..6]),
        event_id: Some(e.id),
        dispute_type: "neighbour".into(),
        source: "grid".into(),
        origin: "event".into(),
        facts: "邻里纠纷".into(),
        points: "噪音".into(),
        amount_cents: None,
        risk_level: "low".into(),
        grid_code: grid.clone(),
        lon: None,
        lat: None,
        org_id: uuid::Uuid::now_v7(),
        lead_mediator: uuid::Uuid::now_v7(),
        mediators: String::new(),
        state: "open".into(),
        outcome: None,
        outcome_note: None,
        agreement: None,
        signatures: "{}".into(),
        agreed_at: None,
        effective_at: None,
        confirmation: "none".into(),
        performed_at: None,
        deadline_at: w.ctx.now() + Duration::days(30),
        opened_at: w.ctx.now(),
        ended_at: None,
        version: 1,
        updated_at: w.ctx.now(),
        next_session_at: None,
        next_session_place: None,
    };
    let along = moves::Along {
        audit: vec![community.audit(
            "mediation.case_open",
            Some("mediation_case"),
            Some(case.id.to_string()),
            json!({}),
        )],
        cases: vec![(case.clone(), vec![], vec![])],
        ..Default::default()
    };
    let mv = Move::Mediate {
        case: case.code.clone(),
        days: 30,
    };
    let r = moves::commit(
        &w.ctx,
        &community,
        &e,
        e.version,
        &mv,
        json!({"move": "mediate"}),
        along,
    )
    .await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Stale);
    assert!(
        w.db.store
            .case(&Visibility::system(), case.id)
            .await
            .unwrap()
            .is_none(),
        "the case went with the move, or not at all"
    );
    assert!(
        w.audit_of(&case.id.to_string(), "mediation.case_open")
            .await
            .is_empty()
    );
    w.db.finish().await;
}

/// Accounts over the network are proposed by the system administrator and approved by the
/// security administrator; the operator on the server does both at once.
async fn accounts_need_both_administrators(backend: TestBackend) {
    let w = world(backend).await;
    let sys = w.person("sys", "system_admin", "640200000000").await;
    let sec = w.person("sec", "security_admin", "640200000000").await;
    let input = |name: &str| accounts::NewAccountInput {
        username: name.into(),
        display_name: "新同事".into(),
        role: "leader".into(),
        scope: "640200000000".into(),
        password: "Strong#2026".into(),
    };
    let proposed = accounts::create(&w.ctx, &sys, input("a.leader"))
        .await
        .unwrap();
    assert_eq!(proposed.status, accounts::AccountStatus::AwaitingApproval);
    assert_eq!(
        accounts::create(&w.ctx, &sec, input("b.leader"))
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    let id = proposed.id.to_string();
    assert_eq!(
        accounts::approve(&w.ctx, &sys, &id).await.unwrap_err().kind,
        ErrorKind::Forbidden
    );
    let approved = accounts::approve(&w.ctx, &sec, &id).await.unwrap();
    assert_eq!(approved.status, accounts::AccountStatus::Active);
    let granted = accounts::create(&w.ctx, &Principal::Operator, input("c.leader"))
        .await
        .unwrap();
    assert_eq!(granted.status, accounts::AccountStatus::Active);
    // The same username rule for everyone: 64 characters at most.
    let long = "x".repeat(65);
    for who in [&sys, &Principal::Operator] {
        assert_eq!(
            accounts::create(&w.ctx, who, input(&long))
                .await
                .unwrap_err()
                .code,
            "account.invalid"
        );
    }
    w.db.finish().await;
}

wangge_store::both_backends!(
    every_move_takes_one_path,
    a_failed_move_writes_nothing_it_carried,
    accounts_need_both_administrators,
);
