use super::*;
use crate::city::apportion;
use geo::{Area, Centroid};
use std::collections::{HashMap, HashSet};
use wangge_domain::import::{ImportOptions, Item, check_collection};
use wangge_domain::org::TeamRole;
use wangge_domain::region::RegionKind;
use wangge_domain::{GridType, Level};

fn city() -> &'static DemoCity {
    static CITY: std::sync::OnceLock<DemoCity> = std::sync::OnceLock::new();
    CITY.get_or_init(|| generate(2026))
}

#[test]
fn the_article_numbers_hold() {
    let c = city();
    let count = |level: Level| c.regions.iter().filter(|r| r.level == level).count();
    assert_eq!(count(Level::City), 1);
    assert_eq!(count(Level::County), 3);
    assert_eq!(count(Level::Township), 36);
    let kinds = |k: RegionKind| {
        c.regions
            .iter()
            .filter(|r| r.level == Level::Community && r.code.kind() == k)
            .count()
    };
    assert_eq!(kinds(RegionKind::Community), 122);
    assert_eq!(kinds(RegionKind::Village), 195);
    assert_eq!(c.grids.len(), GRID_TOTAL);
    let full_time: HashSet<_> = c
        .org
        .people
        .iter()
        .filter(|p| p.kind == "full_time_grid_worker")
        .map(|p| p.id)
        .collect();
    assert_eq!(full_time.len(), FULL_TIME_WORKERS);
    let serving: HashSet<_> = c
        .org
        .team_members
        .iter()
        .filter(|m| m.role == "grid_worker" && full_time.contains(&m.person_id))
        .map(|m| m.person_id)
        .collect();
    assert_eq!(
        serving.len(),
        FULL_TIME_WORKERS,
        "every full-time worker serves a grid"
    );
    let units = |k: &str| c.org.units.iter().filter(|u| u.kind == k).count();
    assert_eq!(units("governance_centre"), 36);
    assert_eq!(
        units("legal_service_centre")
            + units("legal_service_station")
            + units("legal_service_room"),
        LEGAL_SERVICE_TOTAL
    );
    for kind in [
        "school",
        "enterprise",
        "social_organisation",
        "market",
        "religious_venue",
    ] {
        assert!(units(kind) > 0, "no {kind}");
    }
    let dedicated = c
        .grids
        .iter()
        .filter(|g| g.grid_type == GridType::Dedicated)
        .count();
    assert!(
        (20..300).contains(&dedicated),
        "{dedicated} dedicated grids"
    );
}

#[test]
fn every_grid_has_a_full_team() {
    let c = city();
    let mut roles: HashMap<&str, HashSet<&str>> = HashMap::new();
    for m in &c.org.team_members {
        roles
            .entry(m.grid_code.as_str())
            .or_default()
            .insert(m.role.as_str());
    }
    assert_eq!(roles.len(), GRID_TOTAL);
    for (grid, r) in roles {
        // Auxiliary police serve a community police office's 1+N+X, not a grid's 1+4+X.
        for want in TeamRole::ALL
            .iter()
            .filter(|r| **r != TeamRole::AuxiliaryPolice)
        {
            assert!(
                r.contains(want.as_str()),
                "grid {grid} lacks a {}",
                want.as_str()
            );
        }
    }
}

#[test]
fn team_members_are_people_of_the_same_county() {
    // Storage joins members to people by (county, id): a person serving another county's grid
    // would vanish from that grid's team.
    let c = city();
    let county_of: HashMap<_, _> = c
        .org
        .people
        .iter()
        .map(|p| (p.id, p.region_code.as_str()))
        .collect();
    for m in &c.org.team_members {
        assert_eq!(
            county_of[&m.person_id], m.region_code,
            "{} in {}",
            m.role, m.grid_code
        );
        assert!(m.grid_code.starts_with(&m.region_code[..6]));
    }
}

#[test]
fn the_same_seed_gives_the_same_city() {
    let a = generate(99);
    let b = generate(99);
    let c = generate(100);
    let key = |d: &DemoCity| {
        (
            d.regions.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            d.grids
                .iter()
                .map(|g| format!("{}{:?}", g.name, g.shape))
                .collect::<Vec<_>>(),
            d.org
                .people
                .iter()
                .map(|p| (p.id, p.name.clone()))
                .collect::<Vec<_>>(),
        )
    };
    assert!(key(&a) == key(&b));
    assert!(key(&a) != key(&c));
}

#[test]
fn grids_tile_each_community_and_pass_the_import_checks() {
    let c = city();
    let mut area_by_community: HashMap<String, f64> = HashMap::new();
    for g in &c.grids {
        *area_by_community
            .entry(g.code.community().as_str().to_string())
            .or_default() += g.shape.unsigned_area();
    }
    for r in c.regions.iter().filter(|r| r.level == Level::Community) {
        let want = r.shape.as_ref().unwrap().unsigned_area();
        let got = area_by_community[r.code.as_str()];
        assert!(
            (got - want).abs() / want < 1e-9,
            "{}: grids cover {got}, community {want}",
            r.code
        );
    }
    let items: Vec<(usize, Item)> = c
        .regions
        .iter()
        .cloned()
        .map(Item::Region)
        .chain(c.grids.iter().cloned().map(Item::Grid))
        .enumerate()
        .collect();
    let plan = check_collection(
        items,
        vec![],
        &[],
        &[],
        ImportOptions::default(),
        &mut |_, _, _| {},
    );
    assert!(
        plan.is_ok(),
        "{:?}",
        plan.err()
            .map(|p| p.into_iter().take(5).collect::<Vec<_>>())
    );
}

#[test]
fn units_are_located_in_their_grids_and_the_city_box() {
    let c = city();
    let atlas = Atlas::build(c.regions.clone(), c.grids.clone());
    for u in &c.org.units {
        let (lon, lat) = (u.lon.unwrap(), u.lat.unwrap());
        assert!(
            (106.2..=106.8).contains(&lon) && (38.7..=39.3).contains(&lat),
            "{}",
            u.name
        );
        assert!(u.grid_code.is_some(), "{} has no grid", u.name);
    }
    for g in c.grids.iter().step_by(7) {
        let p = g.shape.centroid().unwrap();
        assert_eq!(atlas.grid_code_at(p.x(), p.y()), Some(&g.code));
        let loc = atlas.locate(p.x(), p.y()).unwrap();
        assert_eq!(loc.path.len(), 4);
        assert_eq!(loc.path[0].code, CITY_CODE);
    }
}

#[test]
fn apportion_is_exact() {
    assert_eq!(apportion(10, &[1.0, 1.0, 1.0], 1).iter().sum::<usize>(), 10);
    assert_eq!(
        apportion(2001, &[2.0, 1.0, 0.5, 3.0], 2)
            .iter()
            .sum::<usize>(),
        2001
    );
}

/// The R-tree gives exactly the brute-force answer everywhere, including on shared borders and
/// corners, where the smaller grid code must win whatever order the index visits pieces in.
#[test]
fn atlas_matches_brute_force_on_borders_and_inside() {
    use wangge_domain::atlas::brute_force_grid_at;
    let c = city();
    let atlas = Atlas::build(c.regions.clone(), c.grids.clone());
    let mut sorted = c.grids.clone();
    sorted.sort_by(|a, b| a.code.cmp(&b.code));
    let mut rng = Rng::new(11);
    let mut points: Vec<(f64, f64)> = (0..3000)
        .map(|_| (rng.range(106.19, 106.81), rng.range(38.69, 39.31)))
        .collect();
    // Every vertex of every 5th grid lies on a border shared with one to three others.
    for g in sorted.iter().step_by(5) {
        for p in g.shape.0[0].exterior().0.iter() {
            points.push((p.x, p.y));
        }
    }
    let mut on_border = 0;
    for (x, y) in points {
        let fast = atlas.grid_index_at(x, y);
        let slow = brute_force_grid_at(&sorted, x, y);
        assert_eq!(fast, slow, "({x}, {y})");
        if let Some(i) = fast {
            let holders = sorted
                .iter()
                .filter(|g| {
                    use geo::coordinate_position::{CoordPos, CoordinatePosition};
                    g.shape.coordinate_position(&geo::Coord { x, y }) != CoordPos::Outside
                })
                .count();
            if holders > 1 {
                on_border += 1;
                assert!(
                    sorted.iter().take(i).all(|g| {
                        use geo::coordinate_position::{CoordPos, CoordinatePosition};
                        g.shape.coordinate_position(&geo::Coord { x, y }) == CoordPos::Outside
                    }),
                    "a smaller code also holds ({x}, {y})"
                );
            }
        }
    }
    assert!(
        on_border > 500,
        "only {on_border} border points were exercised"
    );
}

#[test]
fn personal_identifiers_are_valid_and_accounts_cover_every_role() {
    let c = city();
    assert!(c.personal.len() > 1000);
    for p in c.personal.iter().take(500) {
        assert!(
            wangge_security::pii::validate_id_number(&p.id_number).is_ok(),
            "{}",
            p.id_number
        );
        assert!(
            wangge_security::pii::validate_mobile(&p.phone).is_ok(),
            "{}",
            p.phone
        );
    }
    let accounts = demo_accounts(c);
    let roles: HashSet<&str> = accounts.iter().map(|a| a.role).collect();
    for r in wangge_domain::access::Role::ALL {
        assert!(roles.contains(r.as_str()), "no demo account for {r}");
    }
    for a in &accounts {
        assert!(!a.scope.is_empty() && !a.place.is_empty(), "{}", a.username);
    }
}

#[test]
fn a_year_of_events_in_every_state() {
    use chrono::TimeZone;
    let c = city();
    let now = wangge_domain::calendar::beijing()
        .with_ymd_and_hms(2026, 11, 27, 15, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc);
    let events = events::generate_events(c, 2026, now, events::EVENTS_PER_DAY);
    assert!((25_000..45_000).contains(&events.len()), "{}", events.len());
    let mut states: HashMap<&str, usize> = HashMap::new();
    let mut codes = HashSet::new();
    for (e, history) in &events {
        *states.entry(e.state.as_str()).or_default() += 1;
        assert!(codes.insert(e.code.clone()), "duplicate code {}", e.code);
        assert!(
            e.created_at <= now
                && history
                    .iter()
                    .all(|(_, at)| *at <= now && *at >= e.created_at)
        );
        assert_eq!(
            e.version as usize,
            history.len(),
            "{}: one history entry per version",
            e.code
        );
        let flow: wangge_domain::workflow::Flow = serde_json::from_str(&e.flow).unwrap();
        wangge_domain::workflow::invariants(&flow).unwrap();
        assert_eq!(
            e.step.is_some(),
            flow.state.is_open(),
            "{} {}",
            e.code,
            e.state
        );
        assert!(e.grid_code.starts_with(&e.region_code[..6]));
    }
    for s in [
        "reported",
        "accepted",
        "dispatched",
        "handling",
        "handled",
        "closed",
        "rejected",
    ] {
        assert!(
            states.get(s).copied().unwrap_or(0) > 0,
            "no {s} events: {states:?}"
        );
    }
    assert!(states["closed"] > events.len() * 8 / 10, "{states:?}");
    let overdue = events
        .iter()
        .filter(|(e, _)| e.step_due_at.is_some_and(|d| d < now))
        .count();
    assert!(overdue > 10, "some open events are overdue: {overdue}");
    let again = events::generate_events(c, 2026, now, events::EVENTS_PER_DAY);
    assert!(
        events
            .iter()
            .zip(&again)
            .all(|(a, b)| a.0.code == b.0.code && a.0.state == b.0.state),
        "deterministic"
    );
}
