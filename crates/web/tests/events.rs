//! The event loop over the API, on SQLite and PostgreSQL: a grid worker reports, the community
//! accepts and escalates, the street whistles two departments, both check in, the lead submits,
//! the grid worker verifies and, as the reporter, rates. Plus concurrency, scope and bad input.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::Centroid;
use serde_json::{Value, json};
use support::{Reply, World};
use wangge_domain::Level;
use wangge_store::testing::TestBackend;

struct Cast {
    grid_worker: String,
    community: String,
    street: String,
    station: String,
    bureau: String,
    judicial: String,
    other_community: String,
    point: (f64, f64),
    point_community: String,
    station_id: String,
    bureau_id: String,
}

async fn cast(w: &World) -> Cast {
    let township = w
        .city
        .regions
        .iter()
        .find(|r| r.level == Level::Township && r.code.as_str().starts_with("640202"))
        .unwrap()
        .code
        .clone();
    let t = township.as_str();
    let community = w
        .city
        .regions
        .iter()
        .find(|r| r.level == Level::Community && r.code.as_str().starts_with(&t[..9]))
        .unwrap()
        .code
        .clone();
    let other = w
        .city
        .regions
        .iter()
        .filter(|r| r.level == Level::Community && r.code.as_str().starts_with(&t[..9]))
        .nth(1)
        .unwrap()
        .code
        .clone();
    let grid = w
        .city
        .grids
        .iter()
        .find(|g| g.code.as_str().starts_with(community.as_str()))
        .unwrap();
    let c = grid.shape.centroid().unwrap();
    let dept = |kind: &str, region: &str| {
        w.city
            .org
            .departments
            .iter()
            .find(|d| d.kind == kind && d.region_code == region)
            .unwrap()
            .id
            .to_string()
    };
    let station_id = dept("police_station", t);
    let bureau_id = dept("urban_management", "640202000000");
    let judicial_id = dept("judicial_office", t);
    Cast {
        grid_worker: w.token("gw", "grid_worker", grid.code.as_str()).await,
        community: w.token("cs", "community_staff", community.as_str()).await,
        street: w.token("sd", "street_dispatcher", t).await,
        station: w.token("ps", "department_staff", &station_id).await,
        bureau: w.token("um", "department_staff", &bureau_id).await,
        judicial: w.token("jo", "department_staff", &judicial_id).await,
        other_community: w.token("cs2", "community_staff", other.as_str()).await,
        point: (c.x(), c.y()),
        point_community: community.as_str().to_string(),
        station_id,
        bureau_id,
    }
}

async fn post(w: &World, uri: &str, token: &str, body: Value) -> Reply {
    w.send(
        Request::post(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn mv(w: &World, id: &str, token: &str, version: i64, body: Value) -> Reply {
    let mut b = body;
    b["version"] = json!(version);
    post(w, &format!("/api/v1/events/{id}/moves"), token, b).await
}

fn ok(r: &Reply, state: &str) -> i64 {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], state, "{}", r.body);
    r.body["version"].as_i64().unwrap()
}

async fn the_story(backend: TestBackend) {
    let w = World::new(backend).await;
    let c = cast(&w).await;
    let report = json!({"category": "0501", "lon": c.point.0, "lat": c.point.1, "description": "门店占道经营，堵塞人行道", "idempotency_key": "phone-7f3a-0001", "reporter_phone": "13812345678"});
    let r = post(&w, "/api/v1/events", &c.grid_worker, report.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = r.body["code"].as_str().unwrap();
    assert_eq!(code.len(), 20);
    assert!(
        code.starts_with("640202") && code.ends_with("000001"),
        "{code}"
    );
    assert_ne!(r.body["tracking_code"], r.body["code"]);
    assert_eq!(r.body["reporter_phone"], "138****5678");
    assert_eq!(r.body["deadlines"][0]["step"], "accept");
    assert_eq!(r.body["light"], "green");
    assert_eq!(r.body["path"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["likely_duplicates"], json!([]));
    // The phone retries: the same key returns the first event, never a second one.
    let again = post(&w, "/api/v1/events", &c.grid_worker, report).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], id.as_str());
    // Another report of the same problem 50 m away is offered the first as a likely duplicate;
    // one of another category is not.
    let near = json!({"category": "0501", "lon": c.point.0 + 0.0005, "lat": c.point.1 + 0.0002, "description": "又有人占道"});
    let dup = post(&w, "/api/v1/events", &c.grid_worker, near).await;
    assert_eq!(dup.status, StatusCode::CREATED, "{}", dup.body);
    let hints = dup.body["likely_duplicates"].as_array().unwrap();
    assert_eq!(hints.len(), 1, "{}", dup.body);
    assert_eq!(hints[0]["id"], id.as_str());
    assert!((30.0..80.0).contains(&hints[0]["distance_m"].as_f64().unwrap()));
    let other = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "垃圾"}),
    )
    .await;
    assert_eq!(other.body["likely_duplicates"], json!([]));
    let dup_id = dup.body["id"].as_str().unwrap().to_string();
    // The dispatcher merges the repeat into the first report (and only into a real, open one).
    mv(
        &w,
        &dup_id,
        &c.community,
        1,
        json!({"move": "merge", "into": dup_id}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.bad_merge_target");
    mv(
        &w,
        &dup_id,
        &c.community,
        1,
        json!({"move": "merge", "into": "nothing"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.bad_merge_target");
    ok(
        &mv(
            &w,
            &dup_id,
            &c.community,
            1,
            json!({"move": "merge", "into": id}),
        )
        .await,
        "merged",
    );

    let v = ok(
        &mv(&w, &id, &c.community, 1, json!({"move": "accept"})).await,
        "accepted",
    );
    // A second dispatcher acting on what they saw before loses: stale version.
    mv(&w, &id, &c.community, 1, json!({"move": "accept"}))
        .await
        .assert_error(StatusCode::CONFLICT, "event.stale_version");
    let v = ok(
        &mv(&w, &id, &c.community, v, json!({"move": "escalate"})).await,
        "accepted",
    );
    let r = mv(&w, &id, &c.street, v, json!({"move": "whistle", "lead": c.station_id, "others": [c.bureau_id], "check_in_minutes": 30, "task": "联合整治占道经营"})).await;
    let v = ok(&r, "dispatched");
    assert_eq!(r.body["deadlines"][0]["step"], "check_in");
    assert_eq!(r.body["whistled"], true);
    // The departments summoned see it; another department does not even find it.
    let listed = w.get("/api/v1/events", &c.bureau).await;
    assert_eq!(
        listed.body["events"].as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );
    w.get(&format!("/api/v1/events/{id}"), &c.judicial)
        .await
        .assert_error(StatusCode::NOT_FOUND, "event.not_found");
    w.get(&format!("/api/v1/events/{id}"), &c.other_community)
        .await
        .assert_error(StatusCode::NOT_FOUND, "event.not_found");
    let v = ok(
        &mv(&w, &id, &c.bureau, v, json!({"move": "check_in"})).await,
        "dispatched",
    );
    let r = mv(&w, &id, &c.station, v, json!({"move": "check_in"})).await;
    let v = ok(&r, "handling");
    assert_eq!(r.body["deadlines"][0]["step"], "handle");
    let v = ok(
        &mv(
            &w,
            &id,
            &c.station,
            v,
            json!({"move": "submit_result", "text": "已劝离摊贩，恢复通行"}),
        )
        .await,
        "handled",
    );
    let r = mv(
        &w,
        &id,
        &c.grid_worker,
        v,
        json!({"move": "verify", "pass": true, "note": "现场已恢复"}),
    )
    .await;
    let v = ok(&r, "closed");
    assert_eq!(r.body["deadlines"], json!([]));
    let r = mv(
        &w,
        &id,
        &c.grid_worker,
        v,
        json!({"move": "rate", "rating": "satisfied", "comment": "处理及时"}),
    )
    .await;
    let v = ok(&r, "closed");
    assert_eq!(r.body["rating"], "satisfied");
    mv(
        &w,
        &id,
        &c.street,
        v,
        json!({"move": "urge", "note": "请尽快"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "event.illegal_move");

    // The street rates each summoned department; once, and only departments that took part.
    let rating_uri = format!("/api/v1/events/{id}/whistle-ratings");
    let rate = |body: Value| post(&w, &rating_uri, &c.street, body);
    rate(json!({"ratings": [{"department": c.bureau_id, "speed": 6, "cooperation": 4, "result": 4}]})).await.assert_error(StatusCode::BAD_REQUEST, "event.bad_rating");
    rate(json!({"ratings": [{"department": "x", "speed": 5, "cooperation": 4, "result": 4}]}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "event.bad_rating");
    let rated = rate(json!({"ratings": [
        {"department": c.station_id, "speed": 5, "cooperation": 5, "result": 4, "comment": "到场迅速"},
        {"department": c.bureau_id, "speed": 3, "cooperation": 4, "result": 4}
    ]})).await;
    assert_eq!(rated.status, StatusCode::CREATED, "{}", rated.body);
    rate(json!({"ratings": [{"department": c.bureau_id, "speed": 5, "cooperation": 5, "result": 5}]})).await.assert_error(StatusCode::CONFLICT, "event.already_rated");
    post(
        &w,
        &format!("/api/v1/events/{id}/whistle-ratings"),
        &c.station,
        json!({"ratings": []}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let d = w.get(&format!("/api/v1/events/{id}"), &c.street).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let moves: Vec<&str> = d.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["move"].as_str().unwrap())
        .collect();
    assert_eq!(
        moves,
        [
            "report",
            "accept",
            "escalate",
            "whistle",
            "check_in",
            "check_in",
            "submit_result",
            "verify",
            "rate"
        ]
    );
    assert_eq!(d.body["history"][4]["department"], c.bureau_id.as_str());
    let check_ins = d.body["check_ins"].as_array().unwrap();
    assert_eq!(check_ins.len(), 2);
    assert!(
        check_ins
            .iter()
            .all(|c| c["late"] == false && c["missing"] == false),
        "{check_ins:?}"
    );
    assert_eq!(d.body["whistle_ratings"].as_array().unwrap().len(), 2);
    assert!(
        !d.body.to_string().contains("13812345678"),
        "the reporter's phone stays masked"
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

async fn fifty_concurrent_accepts_one_wins(backend: TestBackend) {
    let w = std::sync::Arc::new(World::new(backend).await);
    let c = cast(&w).await;
    let r = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "暴露垃圾"}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (w, id, t) = (w.clone(), id.clone(), c.street.clone());
        tasks.push(tokio::spawn(async move {
            mv(&w, &id, &t, 1, json!({"move": "accept"})).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    // A phone resending the same report ten times at once still makes one event.
    let mut sends = Vec::new();
    for _ in 0..10 {
        let (w, t) = (w.clone(), c.grid_worker.clone());
        let body = json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "重发", "idempotency_key": "retry-storm-1"});
        sends.push(tokio::spawn(async move {
            let r = post(&w, "/api/v1/events", &t, body).await;
            (r.status, r.body["id"].as_str().map(str::to_string))
        }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for s in sends {
        let (status, id) = s.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
        created += usize::from(status == StatusCode::CREATED);
        ids.insert(id.unwrap());
    }
    assert_eq!((created, ids.len()), (1, 1));
    // Keys belong to their account: the same key from someone else is a report of its own, not
    // a way to read the first one.
    let body = json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "另一人", "idempotency_key": "retry-storm-1"});
    let other = post(&w, "/api/v1/events", &c.community, body).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    assert!(!ids.contains(other.body["id"].as_str().unwrap()));
    // Forty reports at once from several people: forty events, forty different codes of the
    // county and day, numbered without gaps.
    let mut sends = Vec::new();
    for i in 0..40 {
        let w = w.clone();
        let t = [&c.grid_worker, &c.community, &c.street][i % 3].clone();
        let body = json!({"category": "0402", "lon": c.point.0, "lat": c.point.1, "description": format!("并发上报{i}")});
        sends.push(tokio::spawn(async move {
            let r = post(&w, "/api/v1/events", &t, body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["code"].as_str().unwrap().to_string()
        }));
    }
    let mut codes = Vec::new();
    for s in sends {
        codes.push(s.await.unwrap());
    }
    codes.sort();
    let numbers: Vec<u32> = codes.iter().map(|c| c[14..].parse().unwrap()).collect();
    let first = numbers[0];
    assert_eq!(
        numbers,
        (first..first + 40).collect::<Vec<_>>(),
        "{codes:?}"
    );
    assert!(codes.iter().all(|c| c[..14] == codes[0][..14]));
    // Written in groups, the audit trail is still one unbroken chain with a record per report.
    let check =
        w.db.store
            .verify_audit(Some(&w.state.keys.audit_key()), &[])
            .await
            .unwrap();
    assert_eq!(check.problem, None);
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT)
    );
    let d = w.get(&format!("/api/v1/events/{id}"), &c.street).await;
    assert_eq!(d.body["history"].as_array().unwrap().len(), 2);
    match std::sync::Arc::try_unwrap(w) {
        Ok(w) => w.finish().await,
        Err(_) => panic!("world still shared"),
    }
}

async fn bad_input_is_refused_and_changes_nothing(backend: TestBackend) {
    let w = World::new(backend).await;
    let c = cast(&w).await;
    let (lon, lat) = c.point;
    for (body, code) in [
        (
            json!({"category": "9999", "lon": lon, "lat": lat, "description": "x"}),
            "event.unknown_category",
        ),
        (
            json!({"category": "0401", "lon": 107.5, "lat": 39.0, "description": "x"}),
            "event.outside_grids",
        ),
        (
            json!({"category": "0401", "lon": 200.0, "lat": 39.0, "description": "x"}),
            "event.bad_coordinate",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": "x", "urgency": "asap"}),
            "event.bad_urgency",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": "  "}),
            "event.bad_description",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": "x", "reporter_phone": "12345"}),
            "event.bad_phone",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": "x", "crs": "bd09"}),
            "event.bad_crs",
        ),
        (
            json!({"category": "0401", "lat": lat, "description": "x"}),
            "request.bad_json",
        ),
    ] {
        post(&w, "/api/v1/events", &c.grid_worker, body)
            .await
            .assert_error(StatusCode::BAD_REQUEST, code);
    }
    let malformed = w
        .send(
            Request::post("/api/v1/events")
                .header("authorization", format!("Bearer {}", c.grid_worker))
                .header("content-type", "application/json")
                .body(Body::from("{oops"))
                .unwrap(),
        )
        .await;
    malformed.assert_error(StatusCode::BAD_REQUEST, "request.bad_json");
    // A point in another community's grid is outside a grid worker's scope.
    let far = w
        .city
        .grids
        .iter()
        .find(|g| g.code.as_str().starts_with("640221"))
        .unwrap()
        .shape
        .centroid()
        .unwrap();
    post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": far.x(), "lat": far.y(), "description": "x"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.outside_scope");
    assert_eq!(
        w.get("/api/v1/events", &c.street).await.body["events"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing was written"
    );

    let r = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": lon, "lat": lat, "description": "暴露垃圾"}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let uri = format!("/api/v1/events/{id}/moves");
    post(&w, &uri, &c.street, json!({"move": "accept"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "event.version_required");
    post(
        &w,
        &uri,
        &c.street,
        json!({"move": "teleport", "version": 1}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.bad_move");
    mv(
        &w,
        &id,
        &c.grid_worker,
        1,
        json!({"move": "dispatch", "lead": c.station_id, "co": []}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "event.forbidden_move");
    mv(
        &w,
        &id,
        &c.street,
        1,
        json!({"move": "dispatch", "lead": c.station_id, "co": []}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "event.illegal_move");
    mv(
        &w,
        &id,
        &c.street,
        1,
        json!({"move": "reject", "reason": ""}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.invalid_move");
    let v = ok(
        &mv(&w, &id, &c.street, 1, json!({"move": "accept"})).await,
        "accepted",
    );
    mv(
        &w,
        &id,
        &c.street,
        v,
        json!({"move": "dispatch", "lead": "no-such-department", "co": []}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.unknown_department");
    mv(
        &w,
        &id,
        &c.street,
        v,
        json!({"move": "reclassify", "category": "9999"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "event.unknown_category");
    mv(
        &w,
        &id,
        &c.other_community,
        v,
        json!({"move": "handle_here"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "event.not_found");
    let d = w.get(&format!("/api/v1/events/{id}"), &c.street).await;
    assert_eq!(
        (d.body["state"].as_str(), d.body["version"].as_i64()),
        (Some("accepted"), Some(2)),
        "refused moves changed nothing"
    );
    for q in [
        "state=flying",
        "light=blue",
        "page=0",
        "per_page=9999",
        "from=yesterday",
    ] {
        assert_eq!(
            w.get(&format!("/api/v1/events?{q}"), &c.street)
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{q}"
        );
    }
    let cats = w.get("/api/v1/categories", &c.street).await;
    assert!(cats.body["categories"].as_array().unwrap().len() >= 40);
    w.finish().await;
}

/// An event nobody accepts turns yellow, then red; the red one moves up to the township by itself,
/// everyone concerned is told, and a second scan (a restart, another server) adds nothing.
async fn overdue_events_escalate_by_themselves(backend: TestBackend) {
    let w = World::new(backend).await;
    let c = cast(&w).await;
    let r = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "暴露垃圾"}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let uuid: uuid::Uuid = id.parse().unwrap();
    ok(
        &mv(&w, &id, &c.community, 1, json!({"move": "accept"})).await,
        "accepted",
    );
    let due =
        chrono::DateTime::parse_from_rfc3339(r.body["deadlines"][0]["due_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
    let scan = |at| wangge_app::events::watch::scan(&w.state, at);
    assert_eq!(
        scan(due - chrono::Duration::minutes(20)).await.unwrap(),
        Default::default(),
        "still green"
    );
    let yellow = scan(due - chrono::Duration::minutes(2)).await.unwrap();
    assert_eq!((yellow.yellow, yellow.red), (1, 0));
    let red = scan(due + chrono::Duration::minutes(1)).await.unwrap();
    assert_eq!((red.red, red.escalated), (1, 1));
    assert_eq!(
        scan(due + chrono::Duration::minutes(2)).await.unwrap(),
        Default::default(),
        "once per step"
    );
    let d = w.get(&format!("/api/v1/events/{id}"), &c.street).await;
    assert_eq!(d.body["holder"], "township");
    // The township gets its own time to accept and dispatch, from the escalation on.
    let new_due =
        chrono::DateTime::parse_from_rfc3339(d.body["deadlines"][0]["due_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
    assert!(
        new_due > due + chrono::Duration::minutes(1),
        "{new_due} after {due}"
    );
    assert_eq!(d.body["light"], "green");
    // The escalation is a move like any other: in the audit trail, by the system.
    let trail =
        w.db.store
            .search_audit(&wangge_store::AuditQuery {
                record_id: Some(id.clone()),
                action: Some("event.move".into()),
                actor: Some("system".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert!(trail[0].detail.contains("escalate"));
    let last = d.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["move"].as_str(), last["actor"].as_str()),
        (Some("escalate"), Some("system"))
    );
    let notes = w.db.store.notifications_for_event(uuid).await.unwrap();
    let community = c.point_community.clone();
    assert!(
        notes.contains(&(format!("region:{community}"), "yellow".into())),
        "{notes:?}"
    );
    assert!(
        notes.contains(&(format!("region:{}000", &community[..9]), "red".into())),
        "{notes:?}"
    );
    w.finish().await;
}

/// Photos: told by their bytes, limited in size and number, stored once, served only in scope.
async fn photos(backend: TestBackend) {
    let w = World::new(backend).await;
    let c = cast(&w).await;
    let r = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "暴露垃圾"}),
    )
    .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let upload = |bytes: Vec<u8>, kind: &str, token: &str| {
        w.send(
            Request::post(format!("/api/v1/events/{id}/attachments?kind={kind}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "image/png")
                .body(Body::from(bytes))
                .unwrap(),
        )
    };
    let png = support::png(1);
    let r = upload(png.clone(), "report", &c.grid_worker).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["mime"], "image/png");
    let url = r.body["url"].as_str().unwrap().to_string();
    // A text file named and labelled as a photo is refused by its bytes.
    upload(b"GIF89a not really".to_vec(), "report", &c.grid_worker)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "attachment.not_an_image");
    upload(b"hello".to_vec(), "report", &c.grid_worker)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "attachment.not_an_image");
    upload(png.clone(), "selfie", &c.grid_worker)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "attachment.bad_kind");
    let mut big = vec![0xFF, 0xD8, 0xFF];
    big.resize(wangge_app::attachments::MAX_BYTES + 1, 0);
    upload(big, "report", &c.grid_worker)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "attachment.too_large");
    // Served to those who see the event, byte for byte; not to others.
    let got = w.app_bytes(&url, &c.street).await;
    assert_eq!(got, png);
    w.get(&url, &c.other_community)
        .await
        .assert_error(StatusCode::NOT_FOUND, "event.not_found");
    // The same photo twice is stored once; nine at most per event.
    for _ in 0..8 {
        assert_eq!(
            upload(png.clone(), "before", &c.street).await.status,
            StatusCode::CREATED
        );
    }
    upload(png.clone(), "after", &c.street)
        .await
        .assert_error(StatusCode::CONFLICT, "attachment.too_many");
    let stored: usize = std::fs::read_dir(w.db.dir.join("files"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(stored, 1);
    let d = w.get(&format!("/api/v1/events/{id}"), &c.street).await;
    assert_eq!(d.body["attachments"].as_array().unwrap().len(), 9);
    w.finish().await;
}

/// Notices also go to an intranet webhook: signed, retried after a failure.
async fn webhook_notices(backend: TestBackend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = World::new(backend).await;
    let c = cast(&w).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<String>::new()));
    let seen = received.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap();
            seen.lock()
                .await
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            // The first delivery fails; the retry succeeds.
            let status = if std::mem::take(&mut first) {
                "500 Internal Server Error"
            } else {
                "204 No Content"
            };
            sock.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                .await
                .unwrap();
        }
    });
    let secret = "a-shared-secret-of-the-intranet";
    assert!(wangge_web::notify::Webhook::parse("https://x/y", secret).is_err());
    assert!(wangge_web::notify::Webhook::parse("http://127.0.0.1:1/hook", "short").is_err());
    let hook = wangge_web::notify::Webhook::parse(&format!("http://127.0.0.1:{port}/hook"), secret)
        .unwrap();
    let state = w.state.clone().with_webhook(hook);
    let r = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "暴露垃圾"}),
    )
    .await;
    let due =
        chrono::DateTime::parse_from_rfc3339(r.body["deadlines"][0]["due_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
    let report = wangge_app::events::watch::scan(&state, due - chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(report.yellow, 1);
    // Wait for the background delivery (one failure, one retry after 0.2 s).
    for _ in 0..50 {
        if received.lock().await.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let got = received.lock().await.clone();
    assert_eq!(got.len(), 2, "{got:?}");
    let request = &got[1];
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /hook HTTP/1.1"));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let ts = header("X-Wangge-Timestamp:");
    let sig = header("X-Wangge-Signature:");
    assert_eq!(
        sig,
        format!(
            "sha256={}",
            wangge_security::token::hmac_sha256_hex(
                secret.as_bytes(),
                format!("{ts}.{body}").as_bytes()
            )
        )
    );
    let notice: Value = serde_json::from_str(body).unwrap();
    assert_eq!(notice["kind"], "yellow");
    assert_eq!(notice["event_code"], r.body["code"]);
    w.finish().await;
}

/// The administrator's settings change the loop: catalogue, routing, office hours, yellow share
/// and who hears about what — and a bad document changes nothing.
async fn settings_change_the_loop(backend: TestBackend) {
    let w = World::new(backend).await;
    let c = cast(&w).await;
    let sys = w.token("sys", "system_admin", "640200000000").await;
    let put = |body: Value| {
        let w = &w;
        let sys = sys.clone();
        async move {
            w.send(
                Request::put("/api/v1/settings")
                    .header("authorization", format!("Bearer {sys}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
        }
    };
    let shipped = w.get("/api/v1/settings", &sys).await;
    assert_eq!(shipped.status, StatusCode::OK, "{}", shipped.body);
    assert_eq!(shipped.body["yellow_share"], 0.2);
    // Only the system administrator configures.
    w.get("/api/v1/settings", &c.street)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    // A bad document: every problem with its place, nothing stored.
    let township = format!("{}000", &c.point_community[..9]);
    let r = put(json!({
        "yellow_share": 2,
        "categories": [{"code": "0401", "accept": {"unit": "minutes", "value": 0}}],
        "routing": [{"category": "0401", "region": township, "department": "no-such"}]
    }))
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "settings.invalid");
    let paths: Vec<&str> = r.body["error"]["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "yellow_share",
            "categories[0].accept",
            "routing[0].department"
        ]
    );
    put(json!({"yellow_shares": 0.3}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "settings.invalid");
    assert_eq!(w.get("/api/v1/settings", &sys).await.body, shipped.body);
    // A good one is in force at once.
    let county = format!("{}000000", &c.point_community[..6]);
    let r = put(json!({
        "yellow_share": 0.5,
        "office_hours": {county.clone(): "08:00-12:00,14:00-17:00"},
        "categories": [{"code": "0401", "name": "暴露垃圾（含建筑垃圾）", "accept": {"unit": "minutes", "value": 45}}],
        "routing": [{"category": "0401", "region": township, "department": c.bureau_id}],
        "notifications": [{"on": "yellow", "to": "level_above", "channels": ["log"]}]
    }))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cats = w.get("/api/v1/categories", &c.street).await;
    let rubbish = cats.body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "0401")
        .unwrap()
        .clone();
    assert_eq!(rubbish["name"], "暴露垃圾（含建筑垃圾）");
    assert_eq!(
        rubbish["limits"]["accept"],
        json!({"unit": "minutes", "value": 45})
    );
    // The county's own office hours: 3 working days from Tuesday 2025-09-30 end on the 调休
    // Saturday at its close, 17:00, not 18:00.
    let due = w
        .get(
            &format!("/api/v1/calendar/due?from=2025-09-30T10:00:00%2B08:00&working_days=3&county={county}"),
            &c.street,
        )
        .await;
    assert_eq!(due.body["due"], "2025-10-11T17:00:00+08:00", "{}", due.body);
    w.get(
        "/api/v1/calendar/due?from=2025-09-30T10:00:00%2B08:00&working_days=3&county=64",
        &c.street,
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "calendar.bad_county");
    // A report gets the new limit and is routed by the township's rule.
    let r = post(
        &w,
        "/api/v1/events",
        &c.grid_worker,
        json!({"category": "0401", "lon": c.point.0, "lat": c.point.1, "description": "建筑垃圾"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let parse = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let started = parse(&r.body["deadlines"][0]["started_at"]);
    let due = parse(&r.body["deadlines"][0]["due_at"]);
    assert_eq!(due - started, chrono::Duration::minutes(45));
    let d = w.get(&format!("/api/v1/events/{id}"), &c.street).await;
    assert_eq!(d.body["routed_department"]["id"], c.bureau_id.as_str());
    // Yellow at half the time left, told to the level above only.
    let scan = |at| wangge_app::events::watch::scan(&w.state, at);
    let early = scan(started + chrono::Duration::minutes(20)).await.unwrap();
    assert_eq!(early.yellow, 0, "more than half the time left");
    let half = scan(started + chrono::Duration::minutes(25)).await.unwrap();
    assert_eq!(half.yellow, 1);
    let notes =
        w.db.store
            .notifications_for_event(id.parse().unwrap())
            .await
            .unwrap();
    assert_eq!(
        notes,
        vec![(format!("region:{township}"), "yellow".to_string())]
    );
    // The change is audited with what it was before.
    let aud = w.token("aud", "audit_admin", "640200000000").await;
    let a = w.get("/api/v1/audit?action=settings.replace", &aud).await;
    assert_eq!(a.body["records"].as_array().unwrap().len(), 1, "{}", a.body);
    w.finish().await;
}

wangge_store::both_backends!(
    the_story,
    fifty_concurrent_accepts_one_wins,
    bad_input_is_refused_and_changes_nothing,
    overdue_events_escalate_by_themselves,
    photos,
    webhook_notices,
    settings_change_the_loop
);
