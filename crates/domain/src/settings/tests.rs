use super::*;
use crate::access::Role;
use crate::catalog::{Step, default_catalogue, find};
use crate::workflow::{Actor, Move, apply};

fn no_departments(_: &str) -> bool {
    false
}

#[test]
fn the_defaults_are_valid_and_change_nothing() {
    let shipped = default_catalogue();
    let s = Settings::default();
    assert_eq!(s.problems(&shipped, &no_departments), vec![]);
    let c = s.catalogue(&shipped);
    assert_eq!(c.len(), shipped.len());
    for (a, b) in c.iter().zip(&shipped) {
        assert_eq!((a.code.as_str(), a.limits), (b.code.as_str(), b.limits));
    }
    // An empty document is the defaults.
    let empty: Settings = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, s);
}

#[test]
fn every_problem_is_named_with_its_place() {
    let shipped = default_catalogue();
    let s: Settings = serde_json::from_value(serde_json::json!({
        "yellow_share": 1.5,
        "office_hours": {"640202000000": "18:00-08:00", "640202001000": "08:00-12:00"},
        "categories": [
            {"code": "9999"},
            {"code": "0401", "handle": {"unit": "working_days", "value": 0}},
            {"code": "0401", "name": " "}
        ],
        "routing": [
            {"category": "0401", "region": "640202001001", "department": "x"},
        ],
        "notifications": [{"on": "red", "to": "holder", "channels": []}]
    }))
    .unwrap();
    let paths: Vec<String> = s
        .problems(&shipped, &no_departments)
        .into_iter()
        .map(|p| p.path)
        .collect();
    for want in [
        "yellow_share",
        "office_hours.640202000000",
        "office_hours.640202001000",
        "categories[0].code",
        "categories[1].handle",
        "categories[2].code",
        "categories[2].name",
        "routing[0].region",
        "routing[0].department",
        "notifications[0].channels",
    ] {
        assert!(
            paths.iter().any(|p| p == want),
            "{want} missing from {paths:?}"
        );
    }
    // Unknown fields and values are refused when the document is read.
    assert!(serde_json::from_str::<Settings>(r#"{"yelow_share": 0.3}"#).is_err());
    assert!(
        serde_json::from_str::<Settings>(
            r#"{"notifications": [{"on": "blue", "to": "holder", "channels": ["log"]}]}"#
        )
        .is_err()
    );
}

#[test]
fn changes_apply_to_the_catalogue() {
    let shipped = default_catalogue();
    let s: Settings = serde_json::from_value(serde_json::json!({
        "categories": [{"code": "0401", "name": "暴露垃圾（含建筑垃圾）", "urgency": "urgent",
                        "handle": {"unit": "working_minutes", "value": 120}}]
    }))
    .unwrap();
    let c = s.catalogue(&shipped);
    let rubbish = find(&c, "0401").unwrap();
    assert_eq!(rubbish.name, "暴露垃圾（含建筑垃圾）");
    assert_eq!(rubbish.urgency, Urgency::Urgent);
    assert_eq!(
        rubbish.limit(Step::Handle, Urgency::Normal, false),
        Limit::WorkingMinutes(120)
    );
    // Others untouched.
    assert_eq!(
        find(&c, "0402").unwrap().limits,
        find(&shipped, "0402").unwrap().limits
    );
}

#[test]
fn a_townships_route_wins_over_its_countys() {
    let s = Settings {
        routing: vec![
            Route {
                category: "0401".into(),
                region: "640202000000".into(),
                department: "county-um".into(),
            },
            Route {
                category: "0401".into(),
                region: "640202001000".into(),
                department: "street-team".into(),
            },
        ],
        ..Settings::default()
    };
    assert_eq!(s.route("0401", "640202001001003"), Some("street-team"));
    assert_eq!(s.route("0401", "640202002001003"), Some("county-um"));
    assert_eq!(s.route("0402", "640202001001003"), None);
    assert_eq!(s.route("0401", "640203001001003"), None);
}

#[test]
fn notification_rules_decide_who_hears() {
    let g = "640202001001003";
    let accepted = apply(
        &Flow::reported(),
        &Actor::new(Role::CommunityStaff),
        &Move::Accept,
    )
    .unwrap();
    // Shipped: red goes to the holder and the level above, both channels.
    let red = Settings::default().recipients(&accepted, g, Trigger::Red);
    assert_eq!(
        red,
        vec![
            (
                Recipient::Region("640202001001".into()),
                vec![Channel::Log, Channel::Webhook]
            ),
            (
                Recipient::Region("640202001000".into()),
                vec![Channel::Log, Channel::Webhook]
            ),
        ]
    );
    // A city that tells the level above of yellow too, and the holder only in the log.
    let s = Settings {
        notifications: vec![
            NotificationRule {
                on: Trigger::Yellow,
                to: Audience::Holder,
                channels: vec![Channel::Log],
            },
            NotificationRule {
                on: Trigger::Yellow,
                to: Audience::LevelAbove,
                channels: vec![Channel::Webhook],
            },
        ],
        ..Settings::default()
    };
    assert_eq!(
        s.recipients(&accepted, g, Trigger::Yellow),
        vec![
            (Recipient::Region("640202001001".into()), vec![Channel::Log]),
            (
                Recipient::Region("640202001000".into()),
                vec![Channel::Webhook]
            ),
        ]
    );
    assert_eq!(s.recipients(&accepted, g, Trigger::Red), vec![]);
}

#[test]
fn a_county_may_keep_its_own_office_hours() {
    let s = Settings {
        office_hours: [(
            "640202000000".to_string(),
            "08:00-12:00,14:00-17:30".to_string(),
        )]
        .into(),
        ..Settings::default()
    };
    assert_eq!(
        s.office_hours_of("640202000000").unwrap().to_text(),
        "08:00-12:00,14:00-17:30"
    );
    assert_eq!(s.office_hours_of("640203000000"), None);
}
