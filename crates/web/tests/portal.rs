//! The public portal over HTTP, on both databases: a citizen reports without an account, gets a
//! random tracking code, follows the case in plain words, and rates it once it is closed; bad input
//! is refused with its reason; floods are stopped.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use support::{Reply, World};
use wangge_store::testing::TestBackend;

async fn public(w: &World, method: &str, uri: &str, body: Option<Value>) -> Reply {
    let b = Request::builder().method(method).uri(uri);
    let req = match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    };
    w.send(req.unwrap()).await
}

fn point(w: &World) -> ((f64, f64), String) {
    let community = w.communities("640202", 1).remove(0);
    (w.point_in(&community), community)
}

async fn a_citizen_reports_follows_and_rates(backend: TestBackend) {
    let w = World::new(backend).await;
    let ((lon, lat), community) = point(&w);
    let key = "3f1c9a7e-2b4d-4e8f-9a61-0c5d7e2b8f43";
    let body = json!({"category": "0401", "lon": lon, "lat": lat, "description": "小区门口垃圾三天没人清运",
                      "reporter_phone": "13812345678", "idempotency_key": key});
    let r = public(&w, "POST", "/api/v1/public/reports", Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let tracking = r.body["tracking_code"].as_str().unwrap().to_string();
    assert_eq!(tracking.len(), 16);
    assert!(
        r.body.get("code").is_none() && r.body.get("id").is_none(),
        "{}",
        r.body
    );
    // The phone on a bad network sends it again: the same case, not a second one.
    let again = public(&w, "POST", "/api/v1/public/reports", Some(body)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["tracking_code"], tracking.as_str());

    // Staff see it as a citizen's report, with the phone masked.
    let cs = w.token("cs", "community_staff", &community).await;
    let list = w.get("/api/v1/events?per_page=10", &cs).await;
    let e = list.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == "citizen")
        .unwrap()
        .clone();
    assert_eq!(e["reporter_phone"], "138****5678");
    let id = e["id"].as_str().unwrap().to_string();
    let code = e["code"].as_str().unwrap().to_string();

    // Progress in plain words, without internal codes, names or the phone.
    let t = public(
        &w,
        "GET",
        &format!("/api/v1/public/track/{}", tracking.to_lowercase()),
        None,
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_eq!(t.body["state"], "已上报");
    assert_eq!(t.body["steps"][0]["what"], "已收到您的反映");
    assert_eq!(t.body["can_rate"], false);
    let text = t.body.to_string();
    for secret in [code.as_str(), "13812345678", "5678", "cs", &id] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Not closed yet: no rating.
    public(
        &w,
        "POST",
        &format!("/api/v1/public/track/{tracking}/rating"),
        Some(json!({"rating": "satisfied"})),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "public.cannot_rate");

    // The community handles it and closes it.
    let mut v = w.make_move(&id, &cs, 1, json!({"move": "accept"})).await;
    v = w
        .make_move(&id, &cs, v, json!({"move": "handle_here"}))
        .await;
    v = w
        .make_move(
            &id,
            &cs,
            v,
            json!({"move": "submit_result", "text": "已清运"}),
        )
        .await;
    w.make_move(
        &id,
        &cs,
        v,
        json!({"move": "verify", "pass": true, "note": "现场已清理"}),
    )
    .await;
    let t = public(&w, "GET", &format!("/api/v1/public/track/{tracking}"), None).await;
    assert_eq!(t.body["state"], "已结案", "{}", t.body);
    assert_eq!(t.body["can_rate"], true);
    let whats: Vec<&str> = t.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["what"].as_str().unwrap())
        .collect();
    assert!(
        whats.contains(&"已受理") && whats.contains(&"已核查"),
        "{whats:?}"
    );

    // Rate: bad value refused, then once, and only once.
    public(
        &w,
        "POST",
        &format!("/api/v1/public/track/{tracking}/rating"),
        Some(json!({"rating": "great"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "public.bad_rating");
    let r = public(
        &w,
        "POST",
        &format!("/api/v1/public/track/{tracking}/rating"),
        Some(json!({"rating": "basically_satisfied", "comment": "清运及时"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    public(
        &w,
        "POST",
        &format!("/api/v1/public/track/{tracking}/rating"),
        Some(json!({"rating": "satisfied"})),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "public.cannot_rate");
    let d = w.get(&format!("/api/v1/events/{id}"), &cs).await;
    assert_eq!(d.body["rating"], "basically_satisfied");
    let last = d.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["move"].as_str(), last["role"].as_str()),
        (Some("rate"), Some("citizen"))
    );

    // Codes that name nothing.
    for bad in ["AAAAAAAAAAAAAAAA", "short", "640202%2F..%2F"] {
        public(&w, "GET", &format!("/api/v1/public/track/{bad}"), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "public.not_found");
    }
    w.finish().await;
}

async fn bad_reports_are_refused(backend: TestBackend) {
    let w = World::new(backend).await;
    let ((lon, lat), _) = point(&w);
    for (body, code) in [
        (
            json!({"category": "9999", "lon": lon, "lat": lat, "description": "x"}),
            "event.unknown_category",
        ),
        (
            json!({"category": "0401", "lon": 100.0, "lat": 30.0, "description": "x"}),
            "event.outside_grids",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": "x", "reporter_phone": "12345"}),
            "event.bad_phone",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": " "}),
            "event.bad_description",
        ),
        (
            json!({"category": "0401", "lon": lon, "lat": lat, "description": "x", "idempotency_key": "guessable"}),
            "event.bad_idempotency_key",
        ),
    ] {
        public(&w, "POST", "/api/v1/public/reports", Some(body))
            .await
            .assert_error(StatusCode::BAD_REQUEST, code);
    }
    let r = w
        .send(
            Request::post("/api/v1/public/reports")
                .header("content-type", "application/json")
                .body(Body::from("{\"category\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    w.finish().await;
}

async fn floods_are_stopped(backend: TestBackend) {
    let w = World::new(backend).await;
    let ((lon, lat), _) = point(&w);
    // Five reports from one address in ten minutes, then no more.
    for i in 0..5 {
        let r = public(&w, "POST", "/api/v1/public/reports",
                       Some(json!({"category": "0401", "lon": lon, "lat": lat, "description": format!("第{i}次")}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    public(
        &w,
        "POST",
        "/api/v1/public/reports",
        Some(json!({"category": "0401", "lon": lon, "lat": lat, "description": "第六次"})),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "public.rate_limited");
    // Lookups are limited too (a script walking codes gets nowhere fast).
    let mut limited = false;
    for _ in 0..40 {
        let r = public(&w, "GET", "/api/v1/public/track/AAAAAAAAAAAAAAAA", None).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited);
    w.finish().await;
}

wangge_store::both_backends!(
    a_citizen_reports_follows_and_rates,
    bad_reports_are_refused,
    floods_are_stopped
);
