//! Storage stories, each run on SQLite and on PostgreSQL.

use serde_json::json;
use wangge_domain::access::Visibility;
use wangge_domain::import::{ImportOptions, check_geojson};
use wangge_domain::{GridCode, RegionCode};
use wangge_store::testing::{TestBackend, TestDb};
use wangge_store::{NewDepartment, NewPerson, NewTeamMember, NewUnit, OrgBatch, Store};

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> serde_json::Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})
}

fn small_city() -> serde_json::Value {
    let f = |code: &str, name: &str, level: &str, parent: Option<&str>, g: serde_json::Value| json!({"type": "Feature", "properties": {"code": code, "name": name, "level": level, "parent_code": parent}, "geometry": g});
    let grid = |code: &str, parent: &str, kind: &str, g: serde_json::Value| json!({"type": "Feature", "properties": {"code": code, "name": format!("网格{}", &code[12..]), "level": "grid", "parent_code": parent, "grid_type": kind, "dedicated_kind": "campus"}, "geometry": g});
    json!({"type": "FeatureCollection", "features": [
        f("640200000000", "石嘴山市", "city", None, serde_json::Value::Null),
        f("640202000000", "大武口区", "county", Some("640200000000"), serde_json::Value::Null),
        f("640202001000", "长胜街道", "township", Some("640202000000"), serde_json::Value::Null),
        f("640202001001", "长胜社区", "community", Some("640202001000"), rect(106.0, 39.0, 106.02, 39.01)),
        f("640202001201", "长胜村", "community", Some("640202001000"), rect(106.02, 39.0, 106.04, 39.01)),
        grid("640202001001001", "640202001001", "basic", rect(106.0, 39.0, 106.01, 39.01)),
        grid("640202001001002", "640202001001", "dedicated", rect(106.01, 39.0, 106.02, 39.01)),
        grid("640202001201001", "640202001201", "basic", rect(106.02, 39.0, 106.04, 39.01)),
    ]})
}

fn person_defaults() -> NewPerson {
    NewPerson {
        region_code: String::new(),
        id: uuid::Uuid::nil(),
        name: String::new(),
        employment: String::new(),
        home_code: String::new(),
        id_number_enc: None,
        id_number_idx: None,
        phone_enc: None,
        phone_idx: None,
        kind: "staff".into(),
        grid_code: None,
        department_id: None,
        hired_on: None,
        active: true,
    }
}

async fn load_small_city(store: &Store) {
    let plan =
        check_geojson(&small_city(), &[], &[], ImportOptions::default()).expect("valid city");
    store.apply_plan(&plan).await.expect("apply");
}

async fn schemas_match(_: TestBackend) {
    let lite = TestDb::open(TestBackend::Sqlite).await;
    let pg = TestDb::open(TestBackend::Postgres).await;
    let a = lite.store.schema_columns().await.unwrap();
    let b = pg.store.schema_columns().await.unwrap();
    assert!(a.len() > 20, "{a:?}");
    assert_eq!(a, b, "SQLite and PostgreSQL schemas differ");
    lite.finish().await;
    pg.finish().await;
}

async fn import_then_read_the_tree(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let s = &db.store;
    assert_eq!(s.atlas_revision().await.unwrap(), 0);
    load_small_city(s).await;
    assert_eq!(s.atlas_revision().await.unwrap(), 1);

    let regions = s.regions().await.unwrap();
    assert_eq!(regions.len(), 5);
    let grids = s.grids().await.unwrap();
    assert_eq!(grids.len(), 3);
    assert_eq!(grids[1].dedicated_kind.as_deref(), Some("campus"));
    assert_eq!(
        grids[0].dedicated_kind, None,
        "only dedicated grids keep a kind"
    );

    let city = RegionCode::parse("640200000000").unwrap();
    let summary = s
        .region_summary(&Visibility::system(), &city)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.children.len(), 1);
    assert_eq!(summary.children[0].grids, 3);
    assert_eq!(summary.counts.counties, 1);
    assert_eq!(summary.counts.townships, 1);
    assert_eq!(summary.counts.streets, 1);
    assert_eq!(summary.counts.communities, 1);
    assert_eq!(summary.counts.villages, 1);
    assert_eq!(summary.counts.grids, 3);
    assert_eq!(summary.counts.dedicated_grids, 1);

    let township = RegionCode::parse("640202001000").unwrap();
    let t = s
        .region_summary(&Visibility::system(), &township)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.parent.as_ref().unwrap().code, "640202000000");
    let per_child: Vec<_> = t
        .children
        .iter()
        .map(|c| (c.kind.as_str(), c.grids))
        .collect();
    assert_eq!(per_child, [("community", 2), ("village", 1)]);
    assert!(
        s.region_summary(
            &Visibility::system(),
            &RegionCode::parse("640205000000").unwrap()
        )
        .await
        .unwrap()
        .is_none()
    );

    let within = s
        .grid_features_within(
            &Visibility::system(),
            &RegionCode::parse("640202001001").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(within.len(), 2);
    let g = s
        .grid_feature(
            &Visibility::system(),
            &GridCode::parse("640202001001001").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        (g.area_m2 - 865.0 * 1112.0).abs() / g.area_m2 < 0.02,
        "{}",
        g.area_m2
    );

    // A names-only re-import renames and keeps the stored shape.
    let rename = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "640202001001", "name": "长胜新社区", "level": "community", "parent_code": "640202001000"}, "geometry": null}
    ]});
    let plan = check_geojson(
        &rename,
        &s.regions().await.unwrap(),
        &s.grids().await.unwrap(),
        ImportOptions::default(),
    )
    .unwrap();
    s.apply_plan(&plan).await.unwrap();
    let r = s.region("640202001001").await.unwrap().unwrap();
    assert_eq!(r.name, "长胜新社区");
    assert!(r.geometry.is_some());
    assert_eq!(s.atlas_revision().await.unwrap(), 2);
    db.finish().await;
}

async fn organisations_hang_on_the_tree(backend: TestBackend) {
    let db = TestDb::open(backend).await;
    let s = &db.store;
    load_small_city(s).await;
    let bureau = uuid::Uuid::now_v7();
    let station = uuid::Uuid::now_v7();
    let worker = uuid::Uuid::now_v7();
    let volunteer = uuid::Uuid::now_v7();
    let county = "640202000000".to_string();
    let batch = OrgBatch {
        departments: vec![
            NewDepartment {
                id: bureau,
                region_code: county.clone(),
                kind: "public_security".into(),
                name: "大武口公安分局".into(),
                code: "GA-DWK".into(),
                parent_id: None,
            },
            NewDepartment {
                id: station,
                region_code: "640202001000".into(),
                kind: "police_station".into(),
                name: "长胜派出所".into(),
                code: "PCS-CS".into(),
                parent_id: Some(bureau),
            },
        ],
        units: vec![NewUnit {
            region_code: county.clone(),
            id: uuid::Uuid::now_v7(),
            code: "U-1".into(),
            kind: "school".into(),
            domain: "campus".into(),
            name: "长胜小学".into(),
            township_code: Some("640202001000".into()),
            grid_code: Some("640202001001002".into()),
            lon: Some(106.015),
            lat: Some(39.005),
            address: None,
            contact_name: None,
            contact_phone_enc: None,
            contact_phone_idx: None,
            active: true,
        }],
        people: vec![
            NewPerson {
                region_code: county.clone(),
                id: worker,
                name: "王丽".into(),
                employment: "full_time".into(),
                home_code: "640202001001".into(),
                ..person_defaults()
            },
            NewPerson {
                region_code: county.clone(),
                id: volunteer,
                name: "李强".into(),
                employment: "volunteer".into(),
                home_code: "640202001001".into(),
                ..person_defaults()
            },
        ],
        team_members: vec![
            NewTeamMember {
                region_code: county.clone(),
                grid_code: "640202001001001".into(),
                person_id: worker,
                role: "grid_worker".into(),
                team: "grid".into(),
            },
            NewTeamMember {
                region_code: county.clone(),
                grid_code: "640202001001002".into(),
                person_id: worker,
                role: "grid_worker".into(),
                team: "grid".into(),
            },
            NewTeamMember {
                region_code: county.clone(),
                grid_code: "640202001001001".into(),
                person_id: volunteer,
                role: "volunteer".into(),
                team: "grid".into(),
            },
        ],
        party_orgs: vec![],
    };
    s.insert_org_batch(&batch).await.unwrap();
    let team = s
        .grid_team(&Visibility::system(), "640202001001001")
        .await
        .unwrap();
    assert_eq!(team.len(), 2);
    assert_eq!(team[0].role, "grid_worker");
    let counts = s
        .counts_within(&RegionCode::parse("640202000000").unwrap())
        .await
        .unwrap();
    assert_eq!(
        counts.grid_workers_full_time, 1,
        "one worker serving two grids counts once"
    );
    assert_eq!(counts.units, 1);
    let community = s
        .counts_within(&RegionCode::parse("640202001001").unwrap())
        .await
        .unwrap();
    assert_eq!(
        community.units, 1,
        "a unit counts in its community, found through its grid"
    );
    let village = s
        .counts_within(&RegionCode::parse("640202001201").unwrap())
        .await
        .unwrap();
    assert_eq!(village.units, 0);
    assert_eq!(
        s.unit_counts("640202").await.unwrap(),
        vec![("school".to_string(), 1)]
    );
    let deps = s
        .departments_serving(&["640202000000".into(), "640202001000".into()])
        .await
        .unwrap();
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[1].parent_id, Some(bureau));
    assert_eq!(
        s.units_in_grid(&Visibility::system(), "640202001001002")
            .await
            .unwrap()[0]
            .name,
        "长胜小学"
    );
    // A unit pointing at a missing department parent is refused and nothing of the batch is kept.
    let broken = OrgBatch {
        departments: vec![
            NewDepartment {
                id: uuid::Uuid::now_v7(),
                region_code: county.clone(),
                kind: "justice".into(),
                name: "司法局".into(),
                code: "SF".into(),
                parent_id: None,
            },
            NewDepartment {
                id: uuid::Uuid::now_v7(),
                region_code: county,
                kind: "judicial_office".into(),
                name: "司法所".into(),
                code: "SFS".into(),
                parent_id: Some(uuid::Uuid::now_v7()),
            },
        ],
        ..Default::default()
    };
    assert!(s.insert_org_batch(&broken).await.is_err());
    assert_eq!(
        s.department_count().await.unwrap(),
        2,
        "a failed batch writes nothing"
    );
    db.finish().await;
}

async fn open_reports_what_is_wrong(_: TestBackend) {
    // The data dir's parent is a file: tests run as root, so permissions alone prove nothing.
    let dir = wangge_store::testing::scratch_dir("open");
    let file = dir.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(None, &file.join("data")).await.unwrap_err();
    assert!(err.to_string().contains("无法创建数据目录"), "{err}");
    assert!(err.to_string().contains("plain-file"), "{err}");

    let started = std::time::Instant::now();
    let err = Store::open(
        Some("postgres://postgres:hunter2@127.0.0.1:1/nowhere"),
        &dir,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("无法连接数据库"), "{err}");
    assert!(
        !err.to_string().contains("hunter2"),
        "password leaked: {err}"
    );
    assert!(started.elapsed().as_secs() < 20);

    let err = Store::open(Some("mysql://x/y"), &dir).await.unwrap_err();
    assert!(err.to_string().contains("不支持"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Migration 0016 gives every department that existed before it a code (its region, then its
/// order there) and the region it was based at as the one place it serves; routing finds them as
/// before.
async fn existing_departments_get_codes_and_places(backend: TestBackend) {
    let db = TestDb::open_at(backend, Some(15)).await;
    let s = &db.store;
    load_small_city(s).await;
    let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
    let literal = |id: &uuid::Uuid| match backend {
        TestBackend::Sqlite => format!("X'{}'", id.simple()),
        TestBackend::Postgres => format!("'{id}'::uuid"),
    };
    for (id, region, name) in [
        (&ids[0], "640202000000", "公安分局"),
        (&ids[1], "640202001000", "长胜派出所"),
        (&ids[2], "640202000000", "司法局"),
    ] {
        s.execute_admin(&format!(
            "INSERT INTO departments (id, region_code, kind, name, parent_id, created_at) \
             VALUES ({}, '{region}', 'justice', '{name}', NULL, '2026-01-01T00:00:00Z')",
            literal(id)
        ))
        .await
        .unwrap();
    }
    s.migrate().await.unwrap();
    let got = s.department_register().await.unwrap();
    let code_of = |id: &uuid::Uuid| got.iter().find(|d| d.id == *id).unwrap();
    assert_eq!(code_of(&ids[0]).code, "640202000000-001");
    assert_eq!(code_of(&ids[2]).code, "640202000000-002");
    assert_eq!(code_of(&ids[1]).code, "640202001000-001");
    assert!(
        got.iter()
            .all(|d| d.active && d.areas == [d.region_code.clone()])
    );
    let serving = s
        .departments_serving(&["640202001000".into(), "640202000000".into()])
        .await
        .unwrap();
    let names: Vec<&str> = serving.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["长胜派出所", "公安分局", "司法局"]);
    // Codes are unique from now on.
    let dup = s
        .execute_admin(&format!(
            "INSERT INTO departments (id, code, region_code, kind, name, created_at) \
             VALUES ({}, '640202000000-001', '640202000000', 'justice', 'x', '2026-01-01T00:00:00Z')",
            literal(&uuid::Uuid::now_v7())
        ))
        .await;
    assert!(dup.is_err());
    db.finish().await;
}

/// Units, people and party organisations recorded before their registers get codes, kinds and
/// the grid a worker serves from what is already known.
async fn existing_units_and_people_get_codes_and_kinds(backend: TestBackend) {
    let db = TestDb::open_at(backend, Some(16)).await;
    let s = &db.store;
    load_small_city(s).await;
    let ids: Vec<uuid::Uuid> = (0..5).map(|_| uuid::Uuid::now_v7()).collect();
    let literal = |id: &uuid::Uuid| match backend {
        TestBackend::Sqlite => format!("X'{}'", id.simple()),
        TestBackend::Postgres => format!("'{id}'::uuid"),
    };
    let at = "'2026-01-01T00:00:00Z'";
    for id in &ids[..2] {
        s.execute_admin(&format!(
            "INSERT INTO units (region_code, id, kind, domain, name, grid_code, created_at) \
             VALUES ('640202000000', {}, 'school', 'campus', '小学', '640202001001001', {at})",
            literal(id)
        ))
        .await
        .unwrap();
    }
    for (id, employment, role) in [
        (&ids[2], "full_time", Some("grid_worker")),
        (&ids[3], "part_time", Some("community_police")),
        (&ids[4], "volunteer", None),
    ] {
        s.execute_admin(&format!(
            "INSERT INTO people (region_code, id, name, employment, home_code, created_at) \
             VALUES ('640202000000', {}, '某人', '{employment}', '640202001001', {at})",
            literal(id)
        ))
        .await
        .unwrap();
        if let Some(role) = role {
            s.execute_admin(&format!(
                "INSERT INTO grid_team_members (region_code, grid_code, person_id, role) \
                 VALUES ('640202000000', '640202001001002', {}, '{role}')",
                literal(id)
            ))
            .await
            .unwrap();
        }
    }
    s.execute_admin(&format!(
        "INSERT INTO party_orgs (region_code, id, level, name, parent_id, node_code) \
         VALUES ('640202000000', {}, 'grid_branch', '一网格党支部', NULL, '640202001001001')",
        literal(&ids[0])
    ))
    .await
    .unwrap();
    s.migrate().await.unwrap();
    let party = s.party_register().await.unwrap();
    assert_eq!(party[0].code, "640202000000-P00001");
    assert!(party[0].active && party[0].unit_id.is_none());
    let units = s.unit_register().await.unwrap();
    let code = |id: &uuid::Uuid| units.iter().find(|u| u.id == *id).unwrap().code.clone();
    assert_eq!(code(&ids[0]), "640202000000-U00001");
    assert_eq!(code(&ids[1]), "640202000000-U00002");
    assert!(units.iter().all(|u| u.active));
    let people = s.people_register().await.unwrap();
    let person = |id: &uuid::Uuid| people.iter().find(|p| p.id == *id).unwrap();
    assert_eq!(person(&ids[2]).kind, "full_time_grid_worker");
    assert_eq!(
        person(&ids[2]).grid_code.as_deref(),
        Some("640202001001002")
    );
    assert_eq!(person(&ids[3]).kind, "community_police");
    assert_eq!(person(&ids[4]).kind, "volunteer");
    let team = s.team_register().await.unwrap();
    assert!(team.iter().all(|m| m.team == "grid"));
    db.finish().await;
}

wangge_store::both_backends!(
    existing_units_and_people_get_codes_and_kinds,
    existing_departments_get_codes_and_places,
    schemas_match,
    import_then_read_the_tree,
    organisations_hang_on_the_tree,
    open_reports_what_is_wrong
);
