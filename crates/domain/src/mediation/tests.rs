use super::*;
use chrono::TimeZone;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

#[test]
fn the_published_rates() {
    let shown = RateDisplay::default();
    // The article: 2197 of 2268 → 0.96869…, printed 96.8% (truncated, not rounded).
    assert_eq!(shown.show(2197, 2268), "96.8%");
    let rounded = RateDisplay {
        mode: RateMode::Round,
        decimals: 1,
    };
    assert_eq!(rounded.show(2197, 2268), "96.9%");
    // Huangshi 842/869 and 5894/5935 (DOMAIN.md §5).
    assert_eq!(rounded.show(842, 869), "96.9%");
    assert_eq!(rounded.show(5894, 5935), "99.3%");
    assert_eq!(shown.show(0, 0), "—");
    assert_eq!(shown.show(5, 5), "100.0%");
    assert_eq!(shown.show(0, 7), "0.0%");
    let whole = RateDisplay {
        mode: RateMode::Truncate,
        decimals: 0,
    };
    assert_eq!(whole.show(2197, 2268), "96%");
    let two = RateDisplay {
        mode: RateMode::Round,
        decimals: 2,
    };
    assert_eq!(two.show(2197, 2268), "96.87%");
}

#[test]
fn every_small_rate_is_truncated_and_rounded_exactly() {
    for decimals in 0..=3u8 {
        let scale = 10f64.powi(i32::from(decimals));
        for n in 1..=250u64 {
            for k in 0..=n {
                let exact = k as f64 * 100.0 / n as f64;
                for mode in [RateMode::Truncate, RateMode::Round] {
                    let s = RateDisplay { mode, decimals }.show(k, n);
                    let v: f64 = s.trim_end_matches('%').parse().unwrap();
                    let step = 1.0 / scale;
                    match mode {
                        RateMode::Truncate => {
                            assert!(v <= exact + 1e-9 && exact - v < step - 1e-9, "{k}/{n} {s}")
                        }
                        RateMode::Round => {
                            assert!((exact - v).abs() <= step / 2.0 + 1e-9, "{k}/{n} {s}")
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn an_agreement_needs_what_article_29_lists() {
    let reached = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    let empty = Agreement::default();
    let fields: Vec<&str> = empty.problems(2, reached).iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "facts",
            "points",
            "responsibilities",
            "terms",
            "performance_method",
            "performance_deadline"
        ]
    );
    let full = Agreement {
        facts: "甲乙两家因院墙滴水发生争执".into(),
        points: "院墙排水沟改道及损失赔偿".into(),
        responsibilities: "甲方负主要责任".into(),
        terms: "甲方改造排水沟并赔偿乙方500元".into(),
        performance_method: "现金当面交付，排水沟由甲方出资改造".into(),
        performance_deadline: NaiveDate::from_ymd_opt(2026, 3, 20),
    };
    assert!(full.problems(2, reached).is_empty());
    assert_eq!(full.problems(1, reached)[0].field, "parties");
    let late = Agreement {
        performance_deadline: NaiveDate::from_ymd_opt(2026, 3, 1),
        ..full.clone()
    };
    assert_eq!(late.problems(2, reached)[0].field, "performance_deadline");
    let blank = Agreement {
        terms: "   ".into(),
        ..full
    };
    assert_eq!(blank.problems(2, reached)[0].field, "terms");
}

#[test]
fn an_agreement_takes_effect_when_everyone_has_signed_and_sealed() {
    let parties = [1, 2];
    let mut s = Signatures::default();
    assert_eq!(s.effective_at(&parties), None);
    s.parties.insert(1, at(5, 9));
    s.parties.insert(2, at(5, 10));
    s.mediator = Some(at(5, 11));
    assert_eq!(s.effective_at(&parties), None, "no seal yet");
    assert_eq!(
        s.missing(&[(1, "甲".into()), (2, "乙".into())]),
        ["调解委员会印章"]
    );
    s.seal = Some(at(6, 9));
    assert_eq!(s.effective_at(&parties), Some(at(6, 9)));
    // A third party who has not signed holds it back.
    assert_eq!(s.effective_at(&[1, 2, 3]), None);
    assert_eq!(
        confirmation_deadline(at(6, 9)),
        at(6, 9) + Duration::days(30)
    );
}

#[test]
fn statistics_count_what_ended_in_the_period() {
    let case =
        |opened: u32, ended: Option<u32>, outcome: Option<Outcome>, performed: bool| CaseFacts {
            opened_at: at(opened, 9),
            ended_at: ended.map(|d| at(d, 9)),
            outcome,
            performed,
        };
    let cases = [
        case(1, Some(3), Some(Outcome::AgreedWritten), true),
        case(2, Some(4), Some(Outcome::AgreedOral), false),
        case(2, Some(12), Some(Outcome::Failed), false),
        case(3, Some(5), Some(Outcome::Referred), false),
        case(4, Some(6), Some(Outcome::Ended), false),
        case(9, None, None, false),
    ];
    let s = Stats::count(&cases, None, None);
    assert_eq!(
        (
            s.received,
            s.handled,
            s.successful,
            s.failed,
            s.ended,
            s.referred,
            s.performed
        ),
        (6, 5, 2, 1, 1, 1, 1)
    );
    assert!((s.success_rate - 0.4).abs() < 1e-12);
    assert!((s.average_days - (2.0 + 2.0 + 10.0 + 2.0 + 2.0) / 5.0).abs() < 1e-9);
    // 1–10 March: the failure on the 12th ended after it; the open case was opened within it.
    let s = Stats::count(&cases, Some(at(1, 0)), Some(at(10, 0)));
    assert_eq!((s.received, s.handled, s.successful), (6, 4, 2));
    let none = Stats::count(&cases, Some(at(20, 0)), None);
    assert_eq!((none.handled, none.success_rate), (0, 0.0));
}

#[test]
fn slips_are_flagged_when_late() {
    let sent = at(1, 8);
    let due = at(2, 8);
    assert_eq!(slip_light(at(1, 9), sent, due, None), SlipLight::Green);
    assert_eq!(slip_light(at(2, 4), sent, due, None), SlipLight::Yellow);
    assert_eq!(slip_light(at(2, 9), sent, due, None), SlipLight::Red);
    assert_eq!(
        slip_light(at(3, 9), sent, due, Some(at(2, 9))),
        SlipLight::Late
    );
    assert_eq!(
        slip_light(at(3, 9), sent, due, Some(at(1, 20))),
        SlipLight::Done
    );
}

#[test]
fn outcomes_and_types_read_their_wire_names() {
    assert!(Outcome::AgreedOral.is_success() && !Outcome::Referred.is_success());
    assert_eq!(DisputeType::ALL.len(), 15);
    for t in DisputeType::ALL {
        assert_eq!(t.as_str().parse::<DisputeType>().unwrap(), *t);
    }
    assert!("quarrel".parse::<DisputeType>().is_err());
}

#[test]
fn cases_are_listed_for_assessment_by_their_signs() {
    let case = |id: &str, grid: &str, day: u32, parties: &[&str]| RiskFacts {
        id: id.into(),
        grid: grid.into(),
        opened_at: at(day, 9),
        parties: parties.iter().map(|p| p.to_string()).collect(),
        level: RiskLevel::Low,
        raised: false,
    };
    let quiet = case("a", "g1", 1, &["王甲", "李乙"]);
    assert!(risk_reasons(&quiet, std::slice::from_ref(&quiet)).is_empty());
    // A group dispute.
    let group = case("b", "g2", 1, &["一", "二", "三", "四", "五"]);
    assert_eq!(risk_reasons(&group, &[]), [RiskReason::ManyParties]);
    // The same two people again.
    let again = case("c", "g3", 20, &["李乙", "王甲"]);
    assert_eq!(
        risk_reasons(&again, std::slice::from_ref(&quiet)),
        [RiskReason::SameParties]
    );
    // One shared name of two is not the same parties.
    let half = case("d", "g4", 20, &["王甲", "赵丙"]);
    assert!(risk_reasons(&half, std::slice::from_ref(&quiet)).is_empty());
    // Three disputes in one grid within 180 days: the third is listed, the first is not (the
    // window looks back from each case).
    let here = [
        quiet.clone(),
        case("e", "g1", 2, &["张"]),
        case("f", "g1", 3, &["刘"]),
    ];
    assert_eq!(risk_reasons(&here[2], &here), [RiskReason::SamePlace]);
    assert!(risk_reasons(&quiet, &here).is_empty());
    // A raised level.
    let raised = RiskFacts {
        raised: true,
        ..quiet.clone()
    };
    assert_eq!(risk_reasons(&raised, &[]), [RiskReason::Rising]);
}

/// One mapping to strings: what serde writes is what the store keeps and `parse` reads.
#[test]
fn every_vocabulary_has_one_wire_id() {
    fn check<T>(all: &[T], id: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + std::str::FromStr,
    {
        for v in all {
            assert_eq!(serde_json::to_value(v).unwrap(), id(*v), "{v:?}");
            assert!(id(*v).parse::<T>().ok() == Some(*v), "{v:?}");
        }
    }
    check(DisputeType::ALL, DisputeType::as_str);
    check(CaseSource::ALL, CaseSource::as_str);
    check(CaseOrigin::ALL, CaseOrigin::as_str);
    check(CaseState::ALL, CaseState::as_str);
    check(Outcome::ALL, Outcome::as_str);
    check(Confirmation::ALL, Confirmation::as_str);
    check(PartyKind::ALL, PartyKind::as_str);
    check(PartySide::ALL, PartySide::as_str);
    check(OrgKind::ALL, OrgKind::as_str);
    check(RiskLevel::ALL, RiskLevel::as_str);
    assert!("closing".parse::<CaseState>().is_err());
}
