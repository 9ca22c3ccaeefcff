use super::*;
use proptest::prelude::*;

fn cal() -> Calendar {
    Calendar::shipped(OfficeHours::default())
}

fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    beijing()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// The official data, read straight from the holiday-cn files kept in the repository, to check
/// both the conversion and the lookups against.
fn official() -> BTreeMap<NaiveDate, bool> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/holiday-cn");
    let mut out = BTreeMap::new();
    for year in 2018..=2027 {
        let text = std::fs::read_to_string(dir.join(format!("{year}.json"))).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for d in doc["days"].as_array().unwrap() {
            let date = NaiveDate::parse_from_str(d["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            out.insert(date, !d["isOffDay"].as_bool().unwrap());
        }
    }
    out
}

#[test]
fn every_day_2018_to_2026_matches_the_official_data() {
    let c = cal();
    let listed = official();
    let mut d = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let (mut days, mut holidays, mut adjusted) = (0, 0, 0);
    while d <= end {
        let want = match listed.get(&d) {
            Some(&work) => {
                if work {
                    adjusted += 1;
                } else {
                    holidays += 1;
                }
                work
            }
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        };
        assert_eq!(c.is_working_day(d), want, "{d}");
        days += 1;
        d = d.succ_opt().unwrap();
    }
    assert_eq!(days, 3287);
    assert!(
        holidays > 200 && adjusted > 40,
        "{holidays} holidays, {adjusted} adjusted days"
    );
    for y in 2018..=2026 {
        assert!(c.is_published(y), "{y}");
    }
    assert!(!c.is_published(2027));
}

#[test]
fn the_civil_code_example() {
    // 3 working days from Tuesday 2025-09-30 10:00: the start day does not count, 1–8 October is
    // the National Day holiday, so the 9th, 10th and Saturday the 11th (调休) count.
    let due = cal().due(bj(2025, 9, 30, 10, 0), Limit::WorkingDays(3));
    assert_eq!(due.at, bj(2025, 10, 11, 18, 0));
    assert!(!due.provisional);
    // One working day from a Friday afternoon ends Monday evening.
    assert_eq!(
        cal().due(bj(2025, 11, 14, 16, 0), Limit::WorkingDays(1)).at,
        bj(2025, 11, 17, 18, 0)
    );
    // Starting on a holiday changes nothing about not counting the start day.
    assert_eq!(
        cal().due(bj(2025, 10, 3, 9, 0), Limit::WorkingDays(1)).at,
        bj(2025, 10, 9, 18, 0)
    );
}

#[test]
fn working_hours_count_office_time_only() {
    let c = cal();
    let wh = |from, h| c.due(from, Limit::working_hours(h)).at;
    // Friday 17:00 + 2 h: one hour on Friday, one on Monday morning.
    assert_eq!(wh(bj(2025, 11, 14, 17, 0), 2), bj(2025, 11, 17, 9, 30));
    // Across lunch: 11:30 + 1 h = 15:00.
    assert_eq!(wh(bj(2025, 11, 13, 11, 30), 1), bj(2025, 11, 13, 15, 0));
    // Before office hours: 07:00 + 30 min = 09:00.
    assert_eq!(
        c.due(bj(2025, 11, 13, 7, 0), Limit::WorkingMinutes(30)).at,
        bj(2025, 11, 13, 9, 0)
    );
    // Exactly a day's office time: 7 h from 08:30 ends at 18:00 the same day.
    assert_eq!(wh(bj(2025, 11, 13, 8, 30), 7), bj(2025, 11, 13, 18, 0));
    // Over the Spring Festival holiday of 2026 (15–23 February off, 14th and 28th worked).
    assert_eq!(wh(bj(2026, 2, 13, 17, 0), 2), bj(2026, 2, 14, 9, 30));
    assert_eq!(wh(bj(2026, 2, 14, 17, 0), 2), bj(2026, 2, 24, 9, 30));
}

#[test]
fn natural_minutes_ignore_the_calendar() {
    let from = bj(2025, 10, 1, 23, 55);
    assert_eq!(
        cal().due(from, Limit::Minutes(10)).at,
        bj(2025, 10, 2, 0, 5)
    );
}

#[test]
fn deadlines_in_an_unpublished_year_are_provisional() {
    let c = cal();
    let due = c.due(bj(2027, 3, 1, 10, 0), Limit::WorkingDays(1));
    assert!(due.provisional);
    assert_eq!(
        due.at,
        bj(2027, 3, 2, 18, 0),
        "the weekday rule still gives an answer"
    );
    assert!(
        c.due(bj(2026, 12, 30, 10, 0), Limit::WorkingDays(5))
            .provisional,
        "crossing into 2027"
    );
    assert!(
        !c.due(bj(2026, 12, 1, 10, 0), Limit::WorkingDays(5))
            .provisional
    );
    assert!(
        c.due(bj(2027, 3, 1, 10, 0), Limit::working_hours(2))
            .provisional
    );
}

#[test]
fn a_loaded_year_replaces_the_weekday_rule() {
    let text = r#"{"year": 2027, "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
        {"name": "春节", "date": "2027-02-06", "isOffDay": false}
    ]}"#;
    let y = parse_holiday_cn(text).unwrap();
    assert_eq!(y.year, 2027);
    let (mut days, mut years) = parse_shipped(SHIPPED);
    days.extend(y.days.iter().map(|d| (d.date, d.off)));
    years.push(y.year);
    let c = Calendar::new(days, years, OfficeHours::default());
    assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    assert!(
        c.is_working_day(NaiveDate::from_ymd_opt(2027, 2, 6).unwrap()),
        "a Saturday worked"
    );
    assert!(
        !c.due(bj(2027, 3, 1, 10, 0), Limit::WorkingDays(1))
            .provisional
    );
}

#[test]
fn bad_notices_say_what_is_wrong() {
    let cases = [
        ("not json", "JSON"),
        (r#"{"days": []}"#, "year"),
        (r#"{"year": 2027, "days": []}"#, "2027"),
        (
            r#"{"year": 2027, "days": [{"name": "x", "date": "2027-02-30", "isOffDay": true}]}"#,
            "第 0 项",
        ),
        (
            r#"{"year": 2027, "days": [{"name": "x", "date": "2027-01-01", "isOffDay": "yes"}]}"#,
            "isOffDay",
        ),
        (
            r#"{"year": 2027, "days": [{"name": "x", "date": "2027-03-03", "isOffDay": false}]}"#,
            "不是周末",
        ),
        (
            r#"{"year": 2027, "days": [{"name": "x", "date": "2031-01-01", "isOffDay": true}]}"#,
            "不在",
        ),
        (
            r#"{"year": 2027, "days": [{"name": "x", "date": "2027-01-02", "isOffDay": true}, {"name": "x", "date": "2027-01-02", "isOffDay": false}]}"#,
            "矛盾",
        ),
    ];
    for (text, needle) in cases {
        let problems = parse_holiday_cn(text).unwrap_err();
        let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(all.iter().any(|m| m.contains(needle)), "{text}: {all:?}");
    }
}

#[test]
fn office_hours_parse_and_refuse_nonsense() {
    assert_eq!(
        OfficeHours::parse("08:30-12:00,14:30-18:00").unwrap(),
        OfficeHours::default()
    );
    assert_eq!(
        OfficeHours::parse("09:00-17:00").unwrap().minutes_per_day(),
        480
    );
    for bad in [
        "",
        "9-17",
        "12:00-08:00",
        "08:00-12:00,11:00-13:00",
        "25:00-26:00",
    ] {
        assert!(OfficeHours::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn lights() {
    let start = bj(2025, 11, 13, 9, 0);
    let due = bj(2025, 11, 13, 19, 0);
    assert_eq!(
        light(bj(2025, 11, 13, 10, 0), start, due, 0.2),
        Light::Green
    );
    assert_eq!(
        light(bj(2025, 11, 13, 17, 30), start, due, 0.2),
        Light::Yellow
    );
    assert_eq!(light(bj(2025, 11, 13, 19, 1), start, due, 0.2), Light::Red);
}

proptest! {
    #[test]
    fn deadlines_are_ordered_and_land_in_office_time(
        secs in 1_514_736_000i64..1_798_732_800, // 2018 to 2026
        n in 0u32..30,
        m in 0i64..6000,
    ) {
        let c = cal();
        let from = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
        let a = c.due(from, Limit::WorkingDays(n));
        let b = c.due(from, Limit::WorkingDays(n + 1));
        prop_assert!(a.at >= from && (b.at > a.at || (n == 0 && b.at == a.at)));
        let local = a.at.with_timezone(&beijing());
        prop_assert!(c.is_working_day(local.date_naive()));
        prop_assert_eq!(local.format("%H:%M").to_string(), "18:00");
        let w = c.due(from, Limit::WorkingMinutes(m));
        let w2 = c.due(from, Limit::WorkingMinutes(m + 1));
        prop_assert!(w.at >= from && w2.at > w.at);
        let l = w2.at.with_timezone(&beijing());
        prop_assert!(c.is_working_day(l.date_naive()));
        let minute = {
            use chrono::Timelike;
            l.hour() * 60 + l.minute()
        };
        prop_assert!((510..=720).contains(&minute) || (870..=1080).contains(&minute), "{}", l);
    }
}

#[test]
fn shipped_schedules_rebuild_the_same_calendar() {
    let schedules = shipped_schedules();
    assert_eq!(
        schedules.iter().map(|s| s.year).collect::<Vec<_>>(),
        (2018..=2026).collect::<Vec<_>>()
    );
    let rebuilt = Calendar::new(
        schedules
            .iter()
            .flat_map(|s| s.days.iter().map(|d| (d.date, d.off))),
        schedules.iter().map(|s| s.year),
        OfficeHours::default(),
    );
    let shipped = cal();
    let mut d = NaiveDate::from_ymd_opt(2017, 12, 1).unwrap();
    while d.year() < 2027 {
        assert_eq!(rebuilt.is_working_day(d), shipped.is_working_day(d), "{d}");
        d = d.succ_opt().unwrap();
    }
}
