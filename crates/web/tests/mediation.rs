//! People's mediation over HTTP, on both databases: a neighbour dispute reported as an event is
//! taken to a case, mediated in two sessions, settled by a written agreement that takes effect
//! only when both parties, the mediator and the seal are on it, performed and followed up; a
//! second case goes to the court with a transfer slip that is acknowledged late and flagged; the
//! statistics equal a recount of the raw records; the demo year reproduces 2268 / 2197 / 96.8%.

mod support;

use axum::http::StatusCode;
use geo::Centroid;
use serde_json::{Value, json};
use support::{Reply, World};
use wangge_domain::mediation::{CaseFacts, Outcome, Stats};
use wangge_store::testing::TestBackend;

async fn step(w: &World, token: &str, id: &str, body: Value) -> Reply {
    w.post_json(&format!("/api/v1/mediation/cases/{id}/steps"), token, body)
        .await
}

/// Applies a step that must succeed; returns the case after it.
async fn ok_step(w: &World, token: &str, id: &str, mut body: Value, version: &mut i64) -> Value {
    body["version"] = json!(*version);
    let r = step(w, token, id, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{body} → {}", r.body);
    *version = r.body["version"].as_i64().unwrap();
    r.body
}

async fn the_dispute_story(backend: TestBackend) {
    let w = World::new(backend).await;
    let net = wangge_demo::mediation::generate_mediation(&w.city, 2026, chrono::Utc::now());
    w.db.store
        .insert_mediation_network(&net.orgs, &net.mediators)
        .await
        .unwrap();
    let community = w.communities("640202", 1).remove(0);
    let township = format!("{}000", &community[..9]);
    let grid = w
        .city
        .grids
        .iter()
        .find(|g| g.code.as_str().starts_with(&community))
        .unwrap();
    let at = grid.shape.centroid().unwrap();
    let committee = net
        .orgs
        .iter()
        .find(|o| o.region_code == community)
        .unwrap();
    let mediator = net
        .mediators
        .iter()
        .find(|m| m.org_id == committee.id)
        .unwrap();
    let elsewhere = net
        .mediators
        .iter()
        .find(|m| !m.region_code.starts_with(&township[..9]))
        .unwrap();
    let gw = w.token("gw.m", "grid_worker", grid.code.as_str()).await;
    let tj = w.token("tj.m", "mediator", &township).await;
    let leader = w.token("ld.m", "leader", "640200000000").await;

    // A neighbour dispute reported from the grid.
    let r = w
        .post_json(
            "/api/v1/events",
            &gw,
            json!({"category": "0102", "lon": at.x(), "lat": at.y(), "description": "两户因院墙滴水争吵"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let event = r.body["id"].as_str().unwrap().to_string();

    // The mediator opens a case from it.
    let open = json!({
        "event_id": event, "dispute_type": "neighbours", "source": "applied",
        "facts": "甲乙两户相邻，甲户院墙滴水至乙户院内，双方多次争吵",
        "points": "排水沟改道及损失赔偿", "amount_yuan": 500,
        "org": committee.id, "lead_mediator": mediator.id,
        "parties": [
            {"name": "王甲", "side": "applicant", "id_number": "640202198001010016", "phone": "13800138000"},
            {"name": "李乙", "side": "respondent", "phone": "13900139000"}
        ]
    });
    // Bad input first: a mediator outside the caller's sight, an unknown type, malformed JSON.
    let mut outside = open.clone();
    outside["lead_mediator"] = json!(elsewhere.id);
    w.post_json("/api/v1/mediation/cases", &tj, outside)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.mediator_outside_scope");
    let mut odd = open.clone();
    odd["dispute_type"] = json!("quarrel");
    w.post_json("/api/v1/mediation/cases", &tj, odd)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_type");
    let mut bad_id = open.clone();
    bad_id["parties"][0]["id_number"] = json!("640202198001010011");
    let r = w.post_json("/api/v1/mediation/cases", &tj, bad_id).await;
    r.assert_error(StatusCode::BAD_REQUEST, "mediation.bad_party");
    assert_eq!(r.body["error"]["details"]["field"], "parties[0].id_number");
    w.post_json("/api/v1/mediation/cases", &gw, open.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let r = w.post_json("/api/v1/mediation/cases", &tj, open).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case = r.body["id"].as_str().unwrap().to_string();
    assert!(r.body["code"].as_str().unwrap().starts_with("M640202"));
    assert_eq!(r.body["grid"], grid.code.as_str());
    assert_eq!(r.body["event_id"], event.as_str());
    // Identifiers are masked.
    assert_eq!(r.body["parties"][0]["id_number"], "640202********0016");
    assert_eq!(r.body["parties"][1]["phone"], "139****9000");
    assert!(!r.body.to_string().contains("13900139000"));
    let mut v = r.body["version"].as_i64().unwrap();
    // In clear only for a role that may unmask, and every view is audited.
    let p = w
        .get(
            &format!("/api/v1/mediation/cases/{case}/parties/1/personal-data?field=id_number"),
            &tj,
        )
        .await;
    assert_eq!(p.body["value"], "640202198001010016", "{}", p.body);
    w.get(
        &format!("/api/v1/mediation/cases/{case}/parties/2/personal-data?field=id_number"),
        &tj,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "personal_data.absent");
    w.get(
        &format!("/api/v1/mediation/cases/{case}/parties/1/personal-data?field=phone"),
        &leader,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let aud = w.token("aud.m", "audit_admin", "640200000000").await;
    let trail = w.get("/api/v1/audit?action=personal_data.view", &aud).await;
    assert_eq!(trail.body["records"][0]["record_id"], format!("{case}:1"));
    assert!(!trail.body.to_string().contains("640202198001010016"));
    // The event went to mediation with it; it is not taken there by a move of its own.
    let ev = w.get(&format!("/api/v1/events/{event}"), &gw).await;
    assert_eq!(ev.body["state"], "handling", "{}", ev.body);
    w.post_json(
        &format!("/api/v1/events/{event}/moves"),
        &tj,
        json!({"move": "mediation_ended", "outcome": "x", "version": ev.body["version"]}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "event.through_mediation");

    // The next session is arranged; one in the past is refused.
    let soon = chrono::Utc::now() + chrono::Duration::days(2);
    step(&w, &tj, &case, json!({"step": "schedule", "version": v, "at": chrono::Utc::now() - chrono::Duration::hours(1), "place": "村调解室"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_time");
    let c = ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "schedule", "at": soon, "place": "村调解室"}),
        &mut v,
    )
    .await;
    assert_eq!(c["next_session"]["place"], "村调解室", "{c}");

    // Two sessions.
    for notes in ["双方陈述，甲同意改造排水沟", "就赔偿数额达成一致"] {
        ok_step(
            &w,
            &tj,
            &case,
            json!({"step": "session", "place": "村调解室", "attendees": ["王甲", "李乙", mediator.name], "notes": notes}),
            &mut v,
        )
        .await;
    }
    let now_case = w.get(&format!("/api/v1/mediation/cases/{case}"), &tj).await;
    assert!(
        now_case.body["next_session"].is_null(),
        "held: no longer ahead"
    );
    // An agreement without what article 29 requires is refused, whole.
    let r = step(
        &w,
        &tj,
        &case,
        json!({"step": "agreement", "version": v, "facts": "滴水纠纷", "terms": "甲赔偿乙500元"}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "mediation.agreement_incomplete");
    let fields: Vec<&str> = r.body["error"]["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "points",
            "responsibilities",
            "performance_method",
            "performance_deadline"
        ]
    );
    let deadline = (chrono::Utc::now() + chrono::Duration::days(20))
        .date_naive()
        .to_string();
    let c = ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "agreement", "facts": "甲户院墙滴水至乙户院内", "points": "排水沟改道及损失赔偿",
               "responsibilities": "甲户负主要责任", "terms": "甲户十日内改造排水沟并赔偿乙户500元",
               "performance_method": "现金当面交付", "performance_deadline": deadline}),
        &mut v,
    )
    .await;
    assert_eq!(c["state"], "open");
    assert_eq!(
        c["missing_signatures"],
        json!([
            "当事人王甲签名",
            "当事人李乙签名",
            "调解员签名",
            "调解委员会印章"
        ])
    );
    // Not in effect until everyone has signed and sealed: no confirmation yet.
    ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "sign", "who": "party", "party": 1}),
        &mut v,
    )
    .await;
    step(
        &w,
        &tj,
        &case,
        json!({"step": "confirmation", "version": v, "status": "applied"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.not_effective");
    step(
        &w,
        &tj,
        &case,
        json!({"step": "sign", "version": v, "who": "party", "party": 7}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_party");
    ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "sign", "who": "party", "party": 2}),
        &mut v,
    )
    .await;
    let c = ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "sign", "who": "mediator"}),
        &mut v,
    )
    .await;
    assert_eq!(
        (c["state"].as_str(), c["effective_at"].is_null()),
        (Some("open"), true)
    );
    let c = ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "sign", "who": "seal"}),
        &mut v,
    )
    .await;
    assert_eq!(c["state"], "closed");
    // The event closes with the case.
    let ev = w.get(&format!("/api/v1/events/{event}"), &gw).await;
    assert_eq!(ev.body["state"], "closed", "{}", ev.body);
    let moves: Vec<&str> = ev.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["move"].as_str().unwrap())
        .collect();
    assert_eq!(moves, ["report", "mediate", "mediation_ended"]);
    assert_eq!(c["outcome"], "agreed_written");
    assert!(c["effective_at"].is_string() && c["confirmation_deadline"].is_string());
    // A stale version changes nothing.
    step(
        &w,
        &tj,
        &case,
        json!({"step": "performance", "version": v - 1, "note": "已履行"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.stale");
    // No more sessions on a closed case.
    step(
        &w,
        &tj,
        &case,
        json!({"step": "session", "version": v, "place": "x", "attendees": ["x"], "notes": "x"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.closed");
    ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "confirmation", "status": "applied"}),
        &mut v,
    )
    .await;
    ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "performance", "note": "乙户已收到赔偿，排水沟已改造"}),
        &mut v,
    )
    .await;
    let c = ok_step(
        &w,
        &tj,
        &case,
        json!({"step": "follow_up", "note": "电话回访双方", "result": "关系和睦，未再争吵"}),
        &mut v,
    )
    .await;
    let kinds: Vec<&str> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "schedule",
            "session",
            "session",
            "agreement",
            "signature",
            "signature",
            "signature",
            "signature",
            "confirmation",
            "performance",
            "follow_up"
        ]
    );
    // Malformed and unknown steps.
    let r = step(&w, &tj, &case, json!({"step": "dance", "version": v})).await;
    r.assert_error(StatusCode::BAD_REQUEST, "request.bad_json");
    // The case is not found from another township's mediator.
    let other_township = w
        .city
        .regions
        .iter()
        .find(|r| {
            r.level == wangge_domain::Level::Township
                && !r.code.as_str().starts_with(&township[..9])
        })
        .unwrap();
    let tj2 = w
        .token("tj2.m", "mediator", other_township.code.as_str())
        .await;
    w.get(&format!("/api/v1/mediation/cases/{case}"), &tj2)
        .await
        .assert_error(StatusCode::NOT_FOUND, "mediation.case_not_found");

    // A second case goes to the court with a slip; the court acknowledges it late.
    let r = w
        .post_json(
            "/api/v1/mediation/cases",
            &tj,
            json!({"dispute_type": "contract", "source": "applied", "origin": "walk_in",
                   "facts": "农机租赁费拖欠", "points": "租金及违约金", "lon": at.x(), "lat": at.y(),
                   "org": committee.id, "lead_mediator": mediator.id,
                   "parties": [{"name": "赵丙"}, {"name": "钱丁", "side": "respondent"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.body["id"].as_str().unwrap().to_string();
    let court = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "court" && d.region_code == "640202000000")
        .unwrap()
        .id;
    let far_court = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "court" && !d.region_code.starts_with("640202"))
        .unwrap()
        .id;
    w.post_json(
        "/api/v1/mediation/slips",
        &tj,
        json!({"case_id": second, "to_department": far_court, "reason": "涉及合同效力认定"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "mediation.outside_reach");
    let r = w
        .post_json(
            "/api/v1/mediation/slips",
            &tj,
            json!({"case_id": second, "to_department": court, "reason": "涉及合同效力认定，转法院诉调对接", "receipt_hours": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let slip = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["receipt_light"], "green");
    // Time passes: the receipt deadline is behind us.
    w.db.store
        .set_session_times_for_test(
            "UPDATE transfer_slips SET receipt_due_at = $1",
            chrono::Utc::now() - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let c = w
        .get(&format!("/api/v1/mediation/cases/{second}"), &tj)
        .await;
    assert_eq!(c.body["slips"][0]["receipt_light"], "red", "{}", c.body);
    let court_staff = w
        .token("fy.m", "department_staff", &court.to_string())
        .await;
    // Only the receiver answers it.
    w.post_json(
        &format!("/api/v1/mediation/slips/{slip}/receipt"),
        &gw,
        json!({}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "mediation.slip_not_found");
    let r = w
        .post_json(
            &format!("/api/v1/mediation/slips/{slip}/receipt"),
            &court_staff,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["receipt_light"], "late");
    w.post_json(
        &format!("/api/v1/mediation/slips/{slip}/receipt"),
        &court_staff,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.slip_received");
    let r = w
        .post_json(
            &format!("/api/v1/mediation/slips/{slip}/reply"),
            &court_staff,
            json!({"reply": "已立案并组织诉前调解"}),
        )
        .await;
    assert_eq!(r.body["reply_light"], "done", "{}", r.body);
    let mut v2 = w
        .get(&format!("/api/v1/mediation/cases/{second}"), &tj)
        .await
        .body["version"]
        .as_i64()
        .unwrap();
    ok_step(
        &w,
        &tj,
        &second,
        json!({"step": "outcome", "outcome": "referred", "note": "移交人民法院处理"}),
        &mut v2,
    )
    .await;
    // Ended is ended: no signature turns it into a success afterwards, no slip leaves it.
    step(
        &w,
        &tj,
        &second,
        json!({"step": "sign", "version": v2, "who": "seal"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.closed");
    w.post_json(
        "/api/v1/mediation/slips",
        &tj,
        json!({"case_id": second, "to_department": court, "reason": "再转"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.closed");
    // A slip to an organisation is not answered by its sender.
    let township_committee = net
        .orgs
        .iter()
        .find(|o| o.region_code == township && o.kind == "township_committee")
        .unwrap();
    let r = w.post_json("/api/v1/mediation/cases", &tj, json!({"dispute_type": "land", "source": "applied", "facts": "地界", "points": "地界", "lon": at.x(), "lat": at.y(), "org": committee.id, "lead_mediator": mediator.id, "parties": [{"name": "甲"}, {"name": "乙"}]})).await;
    let fourth = r.body["id"].as_str().unwrap().to_string();
    let r = w
        .post_json(
            "/api/v1/mediation/slips",
            &tj,
            json!({"case_id": fourth, "to_org": township_committee.id, "reason": "涉及多村，提请镇调委会"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let up = r.body["id"].as_str().unwrap().to_string();
    w.post_json(
        &format!("/api/v1/mediation/slips/{up}/receipt"),
        &tj,
        json!({}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "mediation.slip_not_found");
    let st = w.token("st.m", "street_dispatcher", &township).await;
    let r = w
        .post_json(
            &format!("/api/v1/mediation/slips/{up}/receipt"),
            &st,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["receipt_light"].as_str()),
        (StatusCode::OK, Some("done")),
        "{}",
        r.body
    );
    // Having taken the slip, the township committee works the case with the community's.
    let c4 = w
        .get(&format!("/api/v1/mediation/cases/{fourth}"), &tj)
        .await;
    assert_eq!(
        c4.body["co_orgs"][0]["name"],
        township_committee.name.as_str(),
        "{}",
        c4.body
    );
    assert_eq!(c4.body["org"]["name"], committee.name.as_str());
    // An event already dispatched cannot be taken to mediation; no case is left behind.
    let r = w
        .post_json(
            "/api/v1/events",
            &gw,
            json!({"category": "0102", "lon": at.x(), "lat": at.y(), "description": "又因停车争吵"}),
        )
        .await;
    let busy = r.body["id"].as_str().unwrap().to_string();
    let sd = w.token("sd.m", "street_dispatcher", &township).await;
    let mut vb = w.make_move(&busy, &sd, 1, json!({"move": "accept"})).await;
    let station = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "police_station" && d.region_code == township)
        .unwrap()
        .id;
    vb = w
        .make_move(
            &busy,
            &sd,
            vb,
            json!({"move": "dispatch", "lead": station, "co": []}),
        )
        .await;
    let before = w.get("/api/v1/mediation/cases", &tj).await.body["cases"]
        .as_array()
        .unwrap()
        .len();
    w.post_json(
        "/api/v1/mediation/cases",
        &tj,
        json!({"event_id": busy, "dispute_type": "neighbours", "source": "active", "facts": "停车", "points": "车位",
               "org": committee.id, "lead_mediator": mediator.id, "parties": [{"name": "甲"}, {"name": "乙"}]}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "event.illegal_move");
    let after = w.get("/api/v1/mediation/cases", &tj).await.body["cases"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "the case was taken back");
    assert_eq!(
        w.get(&format!("/api/v1/events/{busy}"), &sd).await.body["version"],
        vb
    );
    // Success is recorded by agreements, not by saying so.
    let r = w.post_json("/api/v1/mediation/cases", &tj, json!({"dispute_type": "other", "source": "active", "facts": "借款", "points": "还款", "lon": at.x(), "lat": at.y(), "org": committee.id, "lead_mediator": mediator.id, "parties": [{"name": "孙戊"}]})).await;
    let third = r.body["id"].as_str().unwrap().to_string();
    let mut v3 = r.body["version"].as_i64().unwrap();
    step(
        &w,
        &tj,
        &third,
        json!({"step": "outcome", "version": v3, "outcome": "agreed_written", "note": "x"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_outcome");
    ok_step(
        &w,
        &tj,
        &third,
        json!({"step": "oral_agreement", "terms": "三日内归还借款2000元"}),
        &mut v3,
    )
    .await;

    // The township's figures: three handled (written, referred, oral), two successful.
    let s = w
        .get(&format!("/api/v1/mediation/stats?region={township}"), &tj)
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert_eq!(
        (
            s.body["handled"].as_i64(),
            s.body["successful"].as_i64(),
            s.body["referred"].as_i64(),
            s.body["performed"].as_i64()
        ),
        (Some(3), Some(2), Some(1), Some(1)),
        "{}",
        s.body
    );
    assert_eq!(s.body["success_rate_display"], "66.6%");
    // The leader sees the city; a region outside a mediator's sight is refused.
    let city = w
        .get("/api/v1/mediation/stats?region=640200000000", &leader)
        .await;
    assert_eq!(city.body["handled"], 3);
    w.get("/api/v1/mediation/stats?region=640200000000", &tj)
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    w.get("/api/v1/mediation/stats?from=yesterday", &tj)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_time");

    // Screening (排查): a weekly round for the grid, done, and due again a week on.
    let g = grid.code.as_str();
    let put = |uri: String, token: String, body: Value| {
        let w = &w;
        async move {
            w.send(
                axum::http::Request::put(uri)
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
        }
    };
    put(
        format!("/api/v1/mediation/screening/{g}"),
        tj.clone(),
        json!({"every_days": 0}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_round");
    put(
        format!("/api/v1/mediation/screening/{g}"),
        tj2.clone(),
        json!({"every_days": 7}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "mediation.grid_not_found");
    w.post_json(
        &format!("/api/v1/mediation/screening/{g}/rounds"),
        &tj,
        json!({"findings": 1, "notes": "x"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "mediation.no_round");
    let r = put(
        format!("/api/v1/mediation/screening/{g}"),
        tj.clone(),
        json!({"every_days": 7}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = w
        .post_json(
            &format!("/api/v1/mediation/screening/{g}/rounds"),
            &tj,
            json!({"findings": 2, "notes": "走访12户，发现邻里纠纷2起"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rounds = w.get("/api/v1/mediation/screening", &tj).await;
    assert_eq!(rounds.body["rounds"][0]["grid"], g);
    assert_eq!(rounds.body["rounds"][0]["overdue"], false);
    assert!(rounds.body["rounds"][0]["last_done_at"].is_string());

    // The risk list: a group dispute and a case whose level was raised; a quiet one is not listed.
    // (In another grid of the community: this one has had three disputes already, itself a sign.)
    let g2 = w
        .city
        .grids
        .iter()
        .filter(|x| x.code.as_str().starts_with(&community))
        .nth(1)
        .unwrap()
        .code
        .as_str()
        .to_string();
    let list = w.get("/api/v1/mediation/risks", &tj).await;
    // The only open case here is the fourth dispute of this grid: listed for that.
    let listed_here = list.body["cases"].as_array().unwrap();
    assert_eq!(listed_here.len(), 1, "{}", list.body);
    assert_eq!(listed_here[0]["id"], fourth.as_str());
    assert_eq!(listed_here[0]["reasons"], json!(["same_place"]));
    let case_of = |parties: Value| {
        json!({"dispute_type": "labour_wages", "source": "applied", "origin": "screening",
               "facts": "欠薪", "points": "工资", "grid": g2, "org": committee.id,
               "lead_mediator": mediator.id, "parties": parties})
    };
    let group = w
        .post_json(
            "/api/v1/mediation/cases",
            &tj,
            case_of(json!([{"name": "工人一"}, {"name": "工人二"}, {"name": "工人三"}, {"name": "工人四"}, {"name": "某建筑公司", "kind": "organisation", "side": "respondent"}])),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let quiet = w
        .post_json(
            "/api/v1/mediation/cases",
            &tj,
            case_of(json!([{"name": "周一"}, {"name": "吴二"}])),
        )
        .await;
    let list = w.get("/api/v1/mediation/risks", &tj).await;
    let listed = |id: &Value| {
        list.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == *id)
            .map(|c| c["reasons"].clone())
    };
    assert_eq!(
        listed(&group.body["id"]),
        Some(json!(["many_parties"])),
        "{}",
        list.body
    );
    assert_eq!(listed(&quiet.body["id"]), None, "{}", list.body);
    let quiet_id = quiet.body["id"].as_str().unwrap();
    let mut vq = quiet.body["version"].as_i64().unwrap();
    ok_step(
        &w,
        &tj,
        quiet_id,
        json!({"step": "risk", "level": "medium", "reason": "一方扬言过激行为"}),
        &mut vq,
    )
    .await;
    let list = w.get("/api/v1/mediation/risks", &tj).await;
    let reasons = list.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == quiet.body["id"])
        .map(|c| c["reasons"].clone());
    assert_eq!(reasons, Some(json!(["rising"])), "{}", list.body);
    w.finish().await;
}

/// Which raw cases a statistics query should count.
type Keep<'a> = Box<dyn Fn(&wangge_store::CaseRow) -> bool + 'a>;

/// The demo's year for the city, through the store and the API: 2268 handled, 2197 successful,
/// shown as 96.8%; and for random organisations, mediators, types and periods the statistics
/// equal a recount of the raw records.
async fn the_statistics_recount(backend: TestBackend) {
    let w = World::new(backend).await;
    let now = chrono::Utc::now();
    let net = wangge_demo::mediation::generate_mediation(&w.city, 2026, now);
    w.db.store
        .insert_mediation_network(&net.orgs, &net.mediators)
        .await
        .unwrap();
    w.db.store.insert_cases(&net.cases).await.unwrap();
    let leader = w.token("ld.s", "leader", "640200000000").await;
    let s = w.get("/api/v1/mediation/stats", &leader).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert_eq!(s.body["handled"], 2268);
    assert_eq!(s.body["successful"], 2197);
    assert_eq!(s.body["success_rate_display"], "96.8%");
    let rate = s.body["success_rate"].as_f64().unwrap();
    assert!((rate - 2197.0 / 2268.0).abs() < 1e-12);

    // Random subsets against a recount from the raw rows.
    let facts = |c: &wangge_store::CaseRow| CaseFacts {
        opened_at: c.opened_at,
        ended_at: c.ended_at,
        outcome: c.outcome.as_deref().and_then(|o| o.parse::<Outcome>().ok()),
        performed: c.performed_at.is_some(),
    };
    let mut seed = 0x5eed_u64;
    let mut pick = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..12 {
        let sample = &net.cases[pick(net.cases.len())].0;
        let from = now - chrono::Duration::days(pick(300) as i64 + 30);
        let to = from + chrono::Duration::days(pick(120) as i64 + 1);
        let (query, keep): (String, Keep<'_>) = match round % 4 {
            0 => (
                format!("organisation={}", sample.org_id),
                Box::new(move |c: &wangge_store::CaseRow| c.org_id == sample.org_id),
            ),
            1 => (
                format!("mediator={}", sample.lead_mediator),
                Box::new(move |c: &wangge_store::CaseRow| {
                    c.mediators.contains(&sample.lead_mediator.to_string())
                }),
            ),
            2 => (
                format!("type={}", sample.dispute_type),
                Box::new(move |c: &wangge_store::CaseRow| c.dispute_type == sample.dispute_type),
            ),
            _ => (
                format!("region={}000", &sample.grid_code[..9]),
                Box::new(move |c: &wangge_store::CaseRow| {
                    c.grid_code[..9] == sample.grid_code[..9]
                }),
            ),
        };
        let kept: Vec<CaseFacts> = net
            .cases
            .iter()
            .map(|(c, _, _)| c)
            .filter(|c| keep(c))
            .map(facts)
            .collect();
        let want = Stats::count(&kept, Some(from), Some(to));
        let fmt = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .replace('+', "%2B")
        };
        let got = w
            .get(
                &format!(
                    "/api/v1/mediation/stats?{query}&from={}&to={}",
                    fmt(from),
                    fmt(to)
                ),
                &leader,
            )
            .await;
        assert_eq!(got.status, StatusCode::OK, "{query}: {}", got.body);
        for field in [
            "received",
            "handled",
            "successful",
            "failed",
            "ended",
            "referred",
            "performed",
        ] {
            let want_n = serde_json::to_value(&want).unwrap()[field].as_i64();
            assert_eq!(
                got.body[field].as_i64(),
                want_n,
                "{query} {field}: {}",
                got.body
            );
        }
        assert!(
            (got.body["average_days"].as_f64().unwrap() - want.average_days).abs() < 1e-6,
            "{query}"
        );
    }
    w.finish().await;
}

fn html(r: &Reply) -> String {
    match &r.body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The network is kept by the system administrator: organisations on the region tree, their
/// mediators with titles and specialities; bad input is refused with its field.
async fn the_network_is_managed(backend: TestBackend) {
    let w = World::new(backend).await;
    let sys = w.token("sys.n", "system_admin", "640200000000").await;
    let tj = w.token("tj.n", "mediator", "640202001000").await;
    let org = json!({"name": "大武口区物业纠纷人民调解委员会", "kind": "industry_committee", "region": "640202000000"});
    w.post_json("/api/v1/mediation/orgs", &tj, org.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
    let mut bad = org.clone();
    bad["region"] = json!("640299000000");
    w.post_json("/api/v1/mediation/orgs", &sys, bad)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_region");
    let mut bad = org.clone();
    bad["kind"] = json!("club");
    w.post_json("/api/v1/mediation/orgs", &sys, bad)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_org_kind");
    let r = w.post_json("/api/v1/mediation/orgs", &sys, org).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let org_id = r.body["id"].as_str().unwrap().to_string();
    w.post_json(
        "/api/v1/mediation/mediators",
        &sys,
        json!({"org": org_id, "name": "陈调解", "specialities": ["gossip"]}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_type");
    let r = w
        .post_json(
            "/api/v1/mediation/mediators",
            &sys,
            json!({"org": org_id, "name": "陈调解", "title": "金牌调解员", "specialities": ["property_management"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // The county's mediators see it; another county's do not.
    let county = w.token("ld.n", "mediator", "640202000000").await;
    let list = w.get("/api/v1/mediation/mediators", &county).await;
    assert!(list.body.to_string().contains("陈调解"));
    let far = w.token("far.n", "mediator", "640205000000").await;
    assert!(
        !w.get("/api/v1/mediation/mediators", &far)
            .await
            .body
            .to_string()
            .contains("陈调解")
    );
    assert!(
        w.get("/api/v1/mediation/orgs", &county)
            .await
            .body
            .to_string()
            .contains("物业纠纷")
    );
    w.finish().await;
}

/// The pages over the demo year: the desk of a township's mediator, a case with its printable
/// agreement, the statistics with the published figures and their CSV, and nothing outside sight.
async fn the_mediation_pages(backend: TestBackend) {
    let w = World::new(backend).await;
    let net = wangge_demo::mediation::generate_mediation(&w.city, 2026, chrono::Utc::now());
    w.db.store
        .insert_mediation_network(&net.orgs, &net.mediators)
        .await
        .unwrap();
    w.db.store.insert_cases(&net.cases).await.unwrap();
    let written = net
        .cases
        .iter()
        .map(|(c, _, _)| c)
        .find(|c| c.outcome.as_deref() == Some("agreed_written"))
        .unwrap();
    let township = format!("{}000", &written.grid_code[..9]);
    let tj = w.token("tj.p", "mediator", &township).await;
    let leader = w.token("ld.p", "leader", "640200000000").await;

    let home = w.get("/", &tj).await;
    assert_eq!(home.headers["location"], "/mediation");
    let desk = html(&w.get("/mediation", &tj).await);
    assert!(
        desk.contains("调解工作台") && desk.contains("id=\"case-form\""),
        "{desk}"
    );
    // The demo's open cases have their next sessions arranged, on their township's desk.
    let open_case = net
        .cases
        .iter()
        .map(|(c, _, _)| c)
        .find(|c| c.state == "open")
        .unwrap();
    let there = w
        .token(
            "tjo.p",
            "mediator",
            &format!("{}000", &open_case.grid_code[..9]),
        )
        .await;
    let their_desk = html(&w.get("/mediation", &there).await);
    let sessions = their_desk
        .split("id=\"sessions\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or("");
    assert!(
        sessions.contains(&format!(
            "调解室 · <a href=\"/mediation/cases/{}\">",
            open_case.id
        )),
        "{sessions}"
    );
    let open_here = net
        .cases
        .iter()
        .map(|(c, _, _)| c)
        .filter(|c| c.state == "open" && c.grid_code.starts_with(&township[..9]))
        .count();
    assert!(desk.matches("href=\"/mediation/cases/").count() >= open_here);
    for (c, _, _) in net.cases.iter().filter(|(c, _, _)| c.state == "open") {
        assert_eq!(
            desk.contains(&c.code),
            c.grid_code.starts_with(&township[..9]),
            "{}",
            c.code
        );
    }

    let page = html(
        &w.get(&format!("/mediation/cases/{}", written.id), &tj)
            .await,
    );
    assert!(
        page.contains(&written.code) && page.contains("打印协议书") && page.contains("生效"),
        "{page}"
    );
    let paper = w
        .get(&format!("/mediation/cases/{}/agreement", written.id), &tj)
        .await;
    assert_eq!(paper.status, StatusCode::OK);
    let paper = html(&paper);
    assert!(
        paper.contains("人民调解协议书")
            && paper.contains("履行方式和期限")
            && paper.contains("三十日内")
    );
    assert!(paper.contains("/assets/print.css") && !paper.contains("<script"));

    // Another township's mediator: not found, as if it did not exist.
    let other = w
        .city
        .regions
        .iter()
        .find(|r| {
            r.level == wangge_domain::Level::Township
                && !written.grid_code.starts_with(&r.code.as_str()[..9])
        })
        .unwrap();
    let tj2 = w.token("tj2.p", "mediator", other.code.as_str()).await;
    let nf = w
        .get(&format!("/mediation/cases/{}", written.id), &tj2)
        .await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(html(&nf).contains("调解案件不存在"));

    // A leader reads the desk but has no form to open cases.
    let read_only = html(&w.get("/mediation", &leader).await);
    assert!(read_only.contains("调解工作台") && !read_only.contains("id=\"case-form\""));
    // The city's statistics: the article's figures, with the definition stated.
    let stats = html(&w.get("/mediation/stats", &leader).await);
    assert!(
        stats.contains("id=\"handled\">2268<")
            && stats.contains("id=\"successful\">2197<")
            && stats.contains("id=\"rate\">96.8%<"),
        "{stats}"
    );
    assert!(stats.contains("调解成功率 = 调解成功件数 ÷ 调解件数"));
    let csv = w.get("/mediation/stats.csv", &leader).await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let csv = html(&csv);
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("合计,2268,2197,96.8%"),
        "{csv}"
    );
    let rows: i64 = csv
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("合计") && !l.starts_with("说明"))
        .map(|l| l.split(',').nth(1).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(rows, 2268, "the types add up to the whole");
    // And as an Excel workbook: a ZIP of the Office Open XML parts, the total in it.
    let book = w.get("/mediation/stats.xlsx", &leader).await;
    assert_eq!(book.status, StatusCode::OK);
    assert_eq!(
        book.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = w.app_bytes("/mediation/stats.xlsx", &leader).await;
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    let sheet = wb.worksheet_range("调解统计").unwrap();
    let total = sheet
        .rows()
        .find(|r| r[0] == calamine::Data::String("合计".into()))
        .expect("a total row");
    assert_eq!(
        (
            total[1].to_string(),
            total[2].to_string(),
            total[3].to_string()
        ),
        ("2268".into(), "2197".into(), "96.8%".into())
    );
    // A bad date is a clear error; a department has no mediation desk.
    w.get("/mediation/stats?from=someday", &leader)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "mediation.bad_time");
    let court = w
        .city
        .org
        .departments
        .iter()
        .find(|d| d.kind == "court")
        .unwrap()
        .id
        .to_string();
    let fy = w.token("fy.p", "department_staff", &court).await;
    assert_eq!(w.get("/mediation", &fy).await.status, StatusCode::FORBIDDEN);
    w.finish().await;
}

wangge_store::both_backends!(
    the_network_is_managed,
    the_dispute_story,
    the_statistics_recount,
    the_mediation_pages
);
