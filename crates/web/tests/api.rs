//! The API over the whole app router on a real database, each story on SQLite and PostgreSQL.

mod support;

use axum::http::StatusCode;
use geo::Centroid;
use support::World;
use wangge_domain::crs::wgs84_to_gcj02;
use wangge_domain::import::Plan;
use wangge_store::testing::{TestBackend, TestDb};
use wangge_web::{AppState, AuthSettings};

/// A world and a leader's token for the whole city.
async fn demo_world(backend: TestBackend) -> (World, String) {
    let w = World::new(backend).await;
    let token = w.token("leader", "leader", "640200000000").await;
    (w, token)
}

async fn the_tree_answers_the_article_counts(backend: TestBackend) {
    let (w, t) = demo_world(backend).await;
    let r = w.get_anonymous("/healthz").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let r = w.get("/api/v1/regions/640200000000", &t).await;
    let (s, city) = (r.status, r.body);
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

    let r = w.get("/api/v1/regions/640202000000", &t).await;
    let (s, county) = (r.status, r.body);
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
    let township = w.get("/api/v1/regions/640202001000", &t).await.body;
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

    let r = w.get("/api/v1/grids?within=640202000000", &t).await;
    let (s, fc) = (r.status, r.body);
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
    let r = w.get(&format!("/api/v1/grids/{code}"), &t).await;
    let (s, g) = (r.status, r.body);
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
    w.finish().await;
}

async fn bad_codes_and_unknown_regions(backend: TestBackend) {
    let (w, t) = demo_world(backend).await;
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
        w.get(uri, &t).await.assert_error(status, code);
    }
    w.finish().await;
}

async fn points_resolve_to_grids(backend: TestBackend) {
    let (w, t) = demo_world(backend).await;
    for g in w.city.grids.iter().step_by(97) {
        let p = g.shape.centroid().unwrap();
        let r = w
            .get(&format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y()), &t)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let body = r.body;
        assert_eq!(body["grid"]["code"], g.code.as_str());
        let path = body["path"].as_array().unwrap();
        let levels: Vec<&str> = path.iter().map(|s| s["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["city", "county", "township", "community"]);
        assert_eq!(path[3]["code"], g.code.community().as_str());
        // The same place as a 高德 map reports it.
        let (glon, glat) = wgs84_to_gcj02(p.x(), p.y());
        let r = w
            .get(
                &format!("/api/v1/locate?lon={glon}&lat={glat}&crs=gcj02"),
                &t,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["grid"]["code"], g.code.as_str());
    }
    // Outside every grid: 404 with the nearest grid and its distance.
    let r = w.get("/api/v1/locate?lon=106.9&lat=39.0", &t).await;
    r.assert_error(StatusCode::NOT_FOUND, "locate.outside");
    let d = r.body["error"]["details"]["nearest"]["distance_m"]
        .as_f64()
        .unwrap();
    assert!(
        (8000.0..9000.0).contains(&d),
        "0.1° east of the city edge is ~8.6 km: {d}"
    );
    assert!(
        r.body["error"]["details"]["nearest"]["grid"]["code"]
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
        w.get(&format!("/api/v1/locate?{q}"), &t)
            .await
            .assert_error(StatusCode::BAD_REQUEST, code);
    }
    w.finish().await;
}

/// The atlas follows the database: grids written after start are found after a refresh.
async fn the_atlas_keeps_in_step(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let keys =
        wangge_security::crypto::KeyRing::parse(&wangge_security::crypto::KeyRing::generate_file())
            .unwrap();
    let state = AppState::new(db.store.clone(), AuthSettings::default(), keys)
        .await
        .unwrap();
    assert!(state.atlas.get().locate(106.4, 39.0).is_none());
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
    assert!(state.atlas.get().locate(106.4, 39.0).is_some());
    db.finish().await;
}

wangge_store::both_backends!(
    the_tree_answers_the_article_counts,
    bad_codes_and_unknown_regions,
    points_resolve_to_grids,
    the_atlas_keeps_in_step
);

mod calendar {
    use super::*;
    use wangge_domain::calendar::parse_holiday_cn;

    async fn due_times_over_http(backend: TestBackend) {
        let (w, t) = demo_world(backend).await;
        let r = w
            .get(
                "/api/v1/calendar/due?from=2025-09-30T10:00:00%2B08:00&working_days=3",
                &t,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["due"], "2025-10-11T18:00:00+08:00");
        assert_eq!(r.body["provisional"], false);
        let r = w
            .get(
                "/api/v1/calendar/due?from=2025-11-14T17:00:00%2B08:00&working_hours=2",
                &t,
            )
            .await;
        assert_eq!(r.body["due"], "2025-11-17T09:30:00+08:00");
        let r = w
            .get(
                "/api/v1/calendar/due?from=2027-03-01T10:00:00%2B08:00&working_days=1",
                &t,
            )
            .await;
        assert_eq!(r.body["provisional"], true);
        assert!(r.body["warning"].as_str().unwrap().contains("尚未发布"));
        for (q, code) in [
            ("working_days=3", "calendar.from_required"),
            ("from=yesterday&working_days=3", "calendar.bad_from"),
            ("from=2025-09-30T10:00:00Z", "calendar.bad_limit"),
            (
                "from=2025-09-30T10:00:00Z&working_days=3&minutes=5",
                "calendar.bad_limit",
            ),
            ("from=2025-09-30T10:00:00Z&minutes=-5", "calendar.bad_limit"),
            (
                "from=2025-09-30T10:00:00Z&working_hours=x",
                "calendar.bad_limit",
            ),
        ] {
            w.get(&format!("/api/v1/calendar/due?{q}"), &t)
                .await
                .assert_error(StatusCode::BAD_REQUEST, code);
        }
        // A year loaded into the database reaches the server's calendar on its next refresh.
        let y = parse_holiday_cn(
            r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#,
        )
        .unwrap();
        w.db.store
            .load_calendar_year(&y, "test", chrono::Utc::now())
            .await
            .unwrap();
        assert!(w.state.calendar.refresh(&w.db.store).await.unwrap());
        let r = w
            .get(
                "/api/v1/calendar/due?from=2027-03-01T10:00:00%2B08:00&working_days=1",
                &t,
            )
            .await;
        assert_eq!(r.body["provisional"], false);
        let r = w.get("/api/v1/calendar/years", &t).await;
        assert_eq!(r.body["published"].as_array().unwrap().len(), 10);
        w.finish().await;
    }

    async fn post_text(w: &World, token: &str, body: &str) -> support::Reply {
        w.send(
            axum::http::Request::post("/api/v1/calendar/years")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// The system administrator loads next year's notice over HTTP (the administration page's
    /// form): checked whole, nothing written when any entry is wrong, in force at once.
    async fn a_new_year_is_loaded_over_http(backend: TestBackend) {
        let (w, _) = demo_world(backend).await;
        let sys = w.token("sys.cal", "system_admin", "640200000000").await;
        let cs = w.token("cs.cal", "community_staff", "640202001001").await;
        let due = "/api/v1/calendar/due?from=2028-03-01T10:00:00%2B08:00&working_days=1";
        assert_eq!(w.get(due, &sys).await.body["provisional"], true);
        let bad = [
            ("{\"year\": 2028, \"days\": [", "不是有效的 JSON"),
            ("{\"days\": []}", "缺少年份"),
            (
                r#"{"year": 2028, "days": [{"name": "元旦", "date": "2028-13-01", "isOffDay": true}]}"#,
                "第 0 项",
            ),
        ];
        for (body, says) in bad {
            let r = post_text(&w, &sys, body).await;
            r.assert_error(StatusCode::BAD_REQUEST, "calendar.invalid");
            let m = r.body["error"]["message"].as_str().unwrap();
            assert!(m.contains(says), "{m}");
        }
        assert_eq!(
            w.get(due, &sys).await.body["provisional"],
            true,
            "nothing written"
        );
        // Community staff may not.
        post_text(
            &w,
            &cs,
            r#"{"year": 2028, "days": [{"name": "元旦", "date": "2028-01-01", "isOffDay": true}]}"#,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "auth.forbidden");
        // Spring Festival 2028 falls in late January: a made-up notice with a day off on 1 March.
        let notice = r#"{"year": 2028, "days": [
            {"name": "元旦", "date": "2028-01-01", "isOffDay": true},
            {"name": "测试", "date": "2028-03-02", "isOffDay": true}
        ]}"#;
        let r = post_text(&w, &sys, notice).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (r.body["year"].as_i64(), r.body["days"].as_i64()),
            (Some(2028), Some(2))
        );
        let d = w.get(due, &sys).await;
        assert_eq!(d.body["provisional"], false, "{}", d.body);
        // Wednesday 1 March + 1 working day skips the day off on Thursday 2 March.
        assert_eq!(d.body["due"], "2028-03-03T18:00:00+08:00", "{}", d.body);
        let audit = w
            .get(
                "/api/v1/audit?action=calendar.load",
                &w.token("aud.cal", "audit_admin", "640200000000").await,
            )
            .await;
        assert_eq!(
            audit.body["records"][0]["record_id"], "2028",
            "{}",
            audit.body
        );
        w.finish().await;
    }

    wangge_store::both_backends!(due_times_over_http, a_new_year_is_loaded_over_http);
}
