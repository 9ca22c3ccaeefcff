//! The API over the whole app router on a real database, each story on SQLite and PostgreSQL.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::Centroid;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wangge_domain::crs::wgs84_to_gcj02;
use wangge_domain::import::Plan;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_web::{AppState, app};

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let res = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

/// Every error has the one shape, with a stable code and a Chinese message.
fn assert_error(body: &Value, code: &str) {
    let e = &body["error"];
    assert_eq!(e["code"], code, "{body}");
    let message = e["message"].as_str().unwrap_or("");
    assert!(
        message
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "message should be Chinese: {body}"
    );
}

async fn demo_state(backend: TestBackend) -> (TestDb, AppState, wangge_demo::DemoCity) {
    let db = TestDb::open(backend).await;
    let city = wangge_demo::generate(2026);
    db.store
        .apply_plan(&Plan {
            regions: city.regions.clone(),
            grids: city.grids.clone(),
        })
        .await
        .unwrap();
    db.store.insert_org_batch(&city.org).await.unwrap();
    let state = AppState::new(db.store.clone()).await.unwrap();
    (db, state, city)
}

async fn the_tree_answers_the_article_counts(backend: TestBackend) {
    let (db, state, _) = demo_state(backend).await;
    let (s, body) = get(&state, "/healthz").await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let (s, city) = get(&state, "/api/v1/regions/640200000000").await;
    assert_eq!(s, StatusCode::OK, "{city}");
    assert_eq!(city["level"], "city");
    assert_eq!(city["children"].as_array().unwrap().len(), 3);
    let c = &city["counts"];
    assert_eq!(
        (c["counties"].as_i64(), c["townships"].as_i64()),
        (Some(3), Some(36))
    );
    assert_eq!(
        (c["communities"].as_i64(), c["villages"].as_i64()),
        (Some(122), Some(195))
    );
    assert_eq!(c["grids"], 2001);
    assert_eq!(c["grid_workers_full_time"], 308);
    let child_grids: i64 = city["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["grids"].as_i64().unwrap())
        .sum();
    assert_eq!(child_grids, 2001);

    assert_eq!(city["units_by_kind"]["governance_centre"], 36);
    let legal: i64 = [
        "legal_service_centre",
        "legal_service_station",
        "legal_service_room",
    ]
    .iter()
    .map(|k| city["units_by_kind"][k].as_i64().unwrap())
    .sum();
    assert_eq!(legal, 352);
    assert_eq!(city["party_organisations"]["street_committee"], 36);
    assert_eq!(city["party_organisations"]["grid_branch"], 2001);

    let (s, county) = get(&state, "/api/v1/regions/640202000000").await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = county["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    for k in [
        "public_security",
        "justice",
        "urban_management",
        "court",
        "petitions",
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    let (_, township) = get(&state, "/api/v1/regions/640202001000").await;
    let kinds: Vec<&str> = township["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"police_station") && kinds.contains(&"judicial_office"),
        "{kinds:?}"
    );
    assert_eq!(county["parent"]["code"], "640200000000");
    assert_eq!(county["children"].as_array().unwrap().len(), 10);

    let (s, fc) = get(&state, "/api/v1/grids?within=640202000000").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(fc["type"], "FeatureCollection");
    let n = fc["features"].as_array().unwrap().len() as i64;
    assert_eq!(n, county["counts"]["grids"].as_i64().unwrap());
    let first = &fc["features"][0];
    assert!(
        first["properties"]["code"]
            .as_str()
            .unwrap()
            .starts_with("640202")
    );

    let code = first["properties"]["code"].as_str().unwrap().to_string();
    let (s, g) = get(&state, &format!("/api/v1/grids/{code}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["type"], "Feature");
    assert_eq!(g["geometry"]["type"], "Polygon");
    let roles: Vec<&str> = g["properties"]["team"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    for role in [
        "grid_leader",
        "grid_worker",
        "community_police",
        "legal_adviser",
        "volunteer",
    ] {
        assert!(roles.contains(&role), "{roles:?}");
    }
    db.finish().await;
}

async fn bad_codes_and_unknown_regions(backend: TestBackend) {
    let (db, state, _) = demo_state(backend).await;
    for (uri, status, code) in [
        (
            "/api/v1/regions/6402",
            StatusCode::BAD_REQUEST,
            "region.bad_code",
        ),
        (
            "/api/v1/regions/64020200000x",
            StatusCode::BAD_REQUEST,
            "region.bad_code",
        ),
        (
            "/api/v1/regions/640209000000",
            StatusCode::NOT_FOUND,
            "region.not_found",
        ),
        (
            "/api/v1/grids/640202001001",
            StatusCode::BAD_REQUEST,
            "grid.bad_code",
        ),
        (
            "/api/v1/grids/640202001001999",
            StatusCode::NOT_FOUND,
            "grid.not_found",
        ),
        (
            "/api/v1/grids",
            StatusCode::BAD_REQUEST,
            "grid.within_required",
        ),
        (
            "/api/v1/grids?within=abc",
            StatusCode::BAD_REQUEST,
            "region.bad_code",
        ),
        (
            "/api/v1/grids?within=640299000000",
            StatusCode::NOT_FOUND,
            "region.not_found",
        ),
        ("/api/v1/nothing", StatusCode::NOT_FOUND, "route.not_found"),
    ] {
        let (s, body) = get(&state, uri).await;
        assert_eq!(s, status, "{uri}: {body}");
        assert_error(&body, code);
    }
    db.finish().await;
}

async fn points_resolve_to_grids(backend: TestBackend) {
    let (db, state, city) = demo_state(backend).await;
    for g in city.grids.iter().step_by(97) {
        let p = g.shape.centroid().unwrap();
        let (s, body) = get(
            &state,
            &format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y()),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["grid"]["code"], g.code.as_str());
        let path = body["path"].as_array().unwrap();
        let levels: Vec<&str> = path.iter().map(|s| s["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["city", "county", "township", "community"]);
        assert_eq!(path[3]["code"], g.code.community().as_str());
        // The same place as a 高德 map reports it.
        let (glon, glat) = wgs84_to_gcj02(p.x(), p.y());
        let (s, body) = get(
            &state,
            &format!("/api/v1/locate?lon={glon}&lat={glat}&crs=gcj02"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["grid"]["code"], g.code.as_str());
    }
    // Outside every grid: 404 with the nearest grid and its distance.
    let (s, body) = get(&state, "/api/v1/locate?lon=106.9&lat=39.0").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&body, "locate.outside");
    let d = body["error"]["details"]["nearest"]["distance_m"]
        .as_f64()
        .unwrap();
    assert!(
        (8000.0..9000.0).contains(&d),
        "0.1° east of the city edge is ~8.6 km: {d}"
    );
    assert!(
        body["error"]["details"]["nearest"]["grid"]["code"]
            .as_str()
            .is_some()
    );

    for (q, code) in [
        ("lon=abc&lat=39", "locate.bad_coordinate"),
        ("lon=106.4&lat=NaN", "locate.bad_coordinate"),
        ("lon=106.4&lat=inf", "locate.bad_coordinate"),
        ("lon=200&lat=39", "locate.out_of_range"),
        ("lon=106.4&lat=-91", "locate.out_of_range"),
        ("lon=106.4", "locate.missing_coordinate"),
        ("lon=106.4&lat=39&crs=bd09", "locate.bad_crs"),
    ] {
        let (s, body) = get(&state, &format!("/api/v1/locate?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert_error(&body, code);
    }
    db.finish().await;
}

/// The atlas follows the database: grids written after start are found after a refresh.
async fn the_atlas_keeps_in_step(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let state = AppState::new(db.store.clone()).await.unwrap();
    let (s, body) = get(&state, "/api/v1/locate?lon=106.4&lat=39.0").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body["error"]["details"]["nearest"].is_null());
    let city = wangge_demo::generate(5);
    db.store
        .apply_plan(&Plan {
            regions: city.regions,
            grids: city.grids,
        })
        .await
        .unwrap();
    assert!(
        state.atlas.refresh(&db.store).await.unwrap(),
        "a new revision triggers a rebuild"
    );
    assert!(
        !state.atlas.refresh(&db.store).await.unwrap(),
        "an unchanged revision does not"
    );
    let (s, _) = get(&state, "/api/v1/locate?lon=106.4&lat=39.0").await;
    assert_eq!(s, StatusCode::OK);
    db.finish().await;
}

wangge_store::both_backends!(
    the_tree_answers_the_article_counts,
    bad_codes_and_unknown_regions,
    points_resolve_to_grids,
    the_atlas_keeps_in_step
);
