//! The demo's mediation network and its year of disputes. Every community and village has its
//! people's mediation committee (with a legal adviser), every township a committee and a mediation
//! room in its governance centre, every county industry committees and a court-linked room. The
//! cases are generated, never measured: their statistics for the city reproduce the article's
//! figures exactly — 2268 disputes whose mediation ended within the year, 2197 of them with an
//! agreement (0.9687, shown as 96.8%) — spread over types, places, months and mediators, with a few
//! dozen still open.

use crate::DemoCity;
use crate::names::{GIVEN, SURNAMES};
use crate::rng::Rng;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;
use wangge_domain::Level;
use wangge_domain::mediation::{Agreement, DisputeType, OrgKind, Outcome, Signatures};
use wangge_store::{CaseEntry, CaseRow, MediationOrgRow, MediatorRow, NewCase, PartyRow};

/// The article's figures: disputes handled in the year, and mediated successfully.
pub const HANDLED: usize = 2268;
pub const SUCCESSFUL: usize = 2197;
/// Cases still being mediated when the demo is made.
pub const OPEN: usize = 48;

pub struct DemoMediation {
    pub orgs: Vec<MediationOrgRow>,
    pub mediators: Vec<MediatorRow>,
    pub cases: Vec<NewCase>,
}

/// Types with their share of the year (neighbours and families first, as everywhere).
const TYPES: &[(DisputeType, u32)] = &[
    (DisputeType::Neighbours, 24),
    (DisputeType::MarriageFamily, 17),
    (DisputeType::HousingHomestead, 9),
    (DisputeType::Damages, 9),
    (DisputeType::PropertyManagement, 8),
    (DisputeType::LabourWages, 7),
    (DisputeType::Contract, 6),
    (DisputeType::Land, 5),
    (DisputeType::TrafficAccident, 4),
    (DisputeType::ProductionBusiness, 3),
    (DisputeType::Consumer, 2),
    (DisputeType::Medical, 2),
    (DisputeType::RequisitionDemolition, 1),
    (DisputeType::Environment, 1),
    (DisputeType::Other, 1),
];

/// Months weighted by how disputes come: family and wage disputes before the Spring Festival,
/// neighbours and land in the farming season.
const MONTH_WEIGHT: [u32; 12] = [12, 11, 8, 8, 9, 9, 8, 8, 8, 8, 8, 10];

fn person(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

fn weighted<T: Copy>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut n = rng.below(total as usize) as u32;
    for (t, w) in items {
        if n < *w {
            return *t;
        }
        n -= w;
    }
    items[0].0
}

fn facts(t: DisputeType, a: &str, b: &str) -> (String, String) {
    use DisputeType::*;
    match t {
        Neighbours => (
            format!("{a}与{b}系邻居，因院墙滴水、楼道堆物等琐事多次发生口角"),
            "排水沟改道、堆放物清理及相互赔礼道歉".into(),
        ),
        MarriageFamily => (
            format!("{a}与{b}因赡养老人费用分担及家庭财产问题发生矛盾"),
            "赡养费分担比例及探望安排".into(),
        ),
        HousingHomestead => (
            format!("{a}与{b}因宅基地界址不清发生争执"),
            "宅基地界址确认及围墙拆除".into(),
        ),
        Damages => (
            format!("{b}饲养的牲畜损坏{a}家农作物"),
            "损失数额及赔偿方式".into(),
        ),
        PropertyManagement => (
            format!("业主{a}与物业公司{b}因物业费收取及服务质量发生争议"),
            "欠缴物业费及电梯维修".into(),
        ),
        LabourWages => (
            format!("{a}等务工人员与{b}因工资结算发生争议"),
            "拖欠工资数额及支付期限".into(),
        ),
        Contract => (
            format!("{a}与{b}因农机租赁合同履行发生争议"),
            "租金支付及违约责任".into(),
        ),
        Land => (
            format!("{a}与{b}因承包地边界及灌溉用水发生争执"),
            "地界确认及轮灌安排".into(),
        ),
        TrafficAccident => (
            format!("{a}驾驶电动车与{b}发生碰撞致轻微伤"),
            "医疗费、误工费赔偿".into(),
        ),
        ProductionBusiness => (
            format!("{a}与{b}因合伙经营收益分配发生争议"),
            "账目核对及收益分配".into(),
        ),
        Consumer => (
            format!("{a}在{b}处购买的商品存在质量问题，协商退换未果"),
            "退货退款".into(),
        ),
        Medical => (
            format!("{a}家属对{b}的诊疗结果有异议"),
            "医疗费用减免及补偿".into(),
        ),
        RequisitionDemolition => (
            format!("{a}对{b}的征收补偿标准有异议"),
            "附属物补偿数额".into(),
        ),
        Environment => (
            format!("{a}等居民反映{b}经营产生噪音和油烟扰民"),
            "整改措施及期限".into(),
        ),
        Other => (
            format!("{a}与{b}因借款归还发生争执"),
            "借款数额及还款期限".into(),
        ),
    }
}

/// Which kind of organisation takes a type first: industry committees take their trades.
fn industry_of(t: DisputeType) -> Option<&'static str> {
    match t {
        DisputeType::Medical => Some("医疗纠纷"),
        DisputeType::TrafficAccident => Some("道路交通事故"),
        DisputeType::PropertyManagement => Some("物业纠纷"),
        _ => None,
    }
}

pub fn generate_mediation(city: &DemoCity, seed: u64, now: DateTime<Utc>) -> DemoMediation {
    let mut rng = Rng::new(seed ^ 0x0d15_7e5e);
    let mut millis: u64 = 1_700_000_000_000;
    let mut next_id = |rng: &mut Rng| {
        millis += 1;
        uuid::Builder::from_unix_timestamp_millis(millis, &rng.bytes10()).into_uuid()
    };
    let mut orgs = Vec::new();
    let mut mediators: Vec<MediatorRow> = Vec::new();
    let mut add_mediators =
        |rng: &mut Rng,
         org: &MediationOrgRow,
         n: usize,
         gold: bool,
         adviser: bool,
         next_id: &mut dyn FnMut(&mut Rng) -> Uuid| {
            for i in 0..n {
                let speciality = weighted(rng, TYPES);
                mediators.push(MediatorRow {
                    id: next_id(rng),
                    org_id: org.id,
                    region_code: org.region_code.clone(),
                    name: person(rng),
                    title: if gold && i == 0 {
                        "金牌调解员".into()
                    } else {
                        String::new()
                    },
                    specialities: speciality.as_str().into(),
                    legal_adviser: i64::from(adviser && i == n - 1),
                    account_id: None,
                });
            }
        };
    for r in &city.regions {
        let (kind, name, n, gold, adviser) = match r.level {
            Level::Community => (
                OrgKind::VillageCommittee,
                format!("{}人民调解委员会", r.name),
                2,
                false,
                true,
            ),
            Level::Township => (
                OrgKind::TownshipCommittee,
                format!("{}人民调解委员会", r.name),
                4,
                true,
                false,
            ),
            _ => continue,
        };
        let org = MediationOrgRow {
            id: next_id(&mut rng),
            region_code: r.code.as_str().to_string(),
            kind: kind.as_str().into(),
            name,
        };
        add_mediators(&mut rng, &org, n, gold, adviser, &mut next_id);
        orgs.push(org);
        if r.level == Level::Township {
            let room = MediationOrgRow {
                id: next_id(&mut rng),
                region_code: r.code.as_str().to_string(),
                kind: OrgKind::CentreRoom.as_str().into(),
                name: format!("{}综治中心矛盾纠纷调解室", r.name),
            };
            add_mediators(&mut rng, &room, 2, false, false, &mut next_id);
            orgs.push(room);
        }
    }
    for county in city.regions.iter().filter(|r| r.level == Level::County) {
        for trade in ["医疗纠纷", "道路交通事故", "物业纠纷"] {
            let org = MediationOrgRow {
                id: next_id(&mut rng),
                region_code: county.code.as_str().to_string(),
                kind: OrgKind::IndustryCommittee.as_str().into(),
                name: format!("{}{trade}人民调解委员会", county.name),
            };
            add_mediators(&mut rng, &org, 3, true, false, &mut next_id);
            orgs.push(org);
        }
        let court = MediationOrgRow {
            id: next_id(&mut rng),
            region_code: county.code.as_str().to_string(),
            kind: OrgKind::CourtLinked.as_str().into(),
            name: format!("{}人民法院诉调对接工作室", county.name),
        };
        add_mediators(&mut rng, &court, 2, false, false, &mut next_id);
        orgs.push(court);
    }

    // The year's outcomes, exactly: successes split written/oral, the rest failed, ended or referred.
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(HANDLED + OPEN);
    for i in 0..SUCCESSFUL {
        outcomes.push(Some(if i % 10 < 7 {
            Outcome::AgreedWritten
        } else {
            Outcome::AgreedOral
        }));
    }
    for i in 0..HANDLED - SUCCESSFUL {
        outcomes.push(Some(match i % 9 {
            0..=4 => Outcome::Failed,
            5 | 6 => Outcome::Ended,
            _ => Outcome::Referred,
        }));
    }
    outcomes.extend(std::iter::repeat_n(None, OPEN));
    // Shuffle so outcomes fall anywhere in the year and the city.
    for i in (1..outcomes.len()).rev() {
        let j = rng.below(i + 1);
        outcomes.swap(i, j);
    }

    let grids = &city.grids;
    let org_at = |region: &str, kind: OrgKind| {
        orgs.iter()
            .find(|o| o.region_code == region && o.kind == kind.as_str())
            .map(|o| o.id)
    };
    let industry = |county: &str, trade: &str| {
        orgs.iter()
            .find(|o| o.region_code == county && o.name.contains(trade))
            .map(|o| o.id)
    };
    let mut day_seq: std::collections::HashMap<(String, String), u32> = Default::default();
    let mut cases = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let t = weighted(&mut rng, TYPES);
        let grid = &grids[rng.below(grids.len())];
        let code = grid.code.as_str();
        let county = format!("{}000000", &code[..6]);
        let township = format!("{}000", &code[..9]);
        let community = code[..12].to_string();
        let org = match industry_of(t) {
            Some(trade) if rng.chance(0.6) => industry(&county, trade),
            _ if rng.chance(0.04) => org_at(&county, OrgKind::CourtLinked),
            _ if rng.chance(0.22) => org_at(&township, OrgKind::TownshipCommittee),
            _ if rng.chance(0.05) => org_at(&township, OrgKind::CentreRoom),
            _ => org_at(&community, OrgKind::VillageCommittee),
        }
        .or_else(|| org_at(&community, OrgKind::VillageCommittee))
        .expect("every community has its committee");
        let team: Vec<&MediatorRow> = mediators.iter().filter(|m| m.org_id == org).collect();
        let lead = team[rng.below(team.len())];
        // When it ended (within the year; the open ones were opened this month), and how long it took.
        let span = if rng.chance(0.8) { 12 } else { 28 };
        let took_days = 1 + rng.below(span) as i64;
        let (opened, ended) = match outcome {
            Some(_) => {
                // A day of the last year, kept by its month's weight (rejection sampling).
                let max = *MONTH_WEIGHT.iter().max().unwrap_or(&1) as f64;
                let ended = loop {
                    let back = Duration::seconds(120 + rng.below(364 * 86_400) as i64);
                    let at = now - back;
                    let month = (at + Duration::hours(8))
                        .format("%m")
                        .to_string()
                        .parse::<usize>()
                        .unwrap_or(1);
                    if rng.unit() * max < MONTH_WEIGHT[month - 1] as f64 {
                        break at;
                    }
                };
                (
                    ended - Duration::days(took_days) - Duration::minutes(rng.below(600) as i64),
                    Some(ended),
                )
            }
            None => (
                now - Duration::minutes(60 + rng.below(25 * 24 * 60) as i64),
                None,
            ),
        };
        let day = (opened + Duration::hours(8)).format("%Y%m%d").to_string();
        let seq = day_seq
            .entry((county[..6].to_string(), day.clone()))
            .or_insert(0);
        *seq += 1;
        let id = uuid::Builder::from_unix_timestamp_millis(
            opened.timestamp_millis() as u64,
            &rng.bytes10(),
        )
        .into_uuid();
        let group = rng.chance(0.04);
        let n_parties = if group { 3 + rng.below(8) } else { 2 };
        let names: Vec<String> = (0..n_parties).map(|_| person(&mut rng)).collect();
        let (facts, points) = facts(t, &names[0], &names[1]);
        let parties: Vec<PartyRow> = names
            .iter()
            .enumerate()
            .map(|(i, n)| PartyRow {
                seq: i as i64 + 1,
                kind: if t == DisputeType::PropertyManagement && i == 1 {
                    "organisation".into()
                } else {
                    "person".into()
                },
                side: if i == 0 {
                    "applicant".into()
                } else {
                    "respondent".into()
                },
                name: if t == DisputeType::PropertyManagement && i == 1 {
                    format!("{}氏物业服务有限公司", n.chars().next().unwrap_or('某'))
                } else {
                    n.clone()
                },
                id_number_enc: None,
                id_number_idx: None,
                phone_enc: None,
                address: None,
            })
            .collect();
        let mut entries = vec![CaseEntry {
            seq: 1,
            kind: "opened".into(),
            body: json!({"dispute_type": t.as_str(), "parties": parties.len()}).to_string(),
            actor: "demo".into(),
            at: opened,
        }];
        let mut push = |kind: &str, body: serde_json::Value, at: DateTime<Utc>| {
            let seq = entries.len() as i64 + 1;
            entries.push(CaseEntry {
                seq,
                kind: kind.into(),
                body: body.to_string(),
                actor: "demo".into(),
                at,
            });
        };
        let sessions = 1 + rng.below(3);
        let end_or_now = ended.unwrap_or(now);
        for s in 0..sessions {
            let at = opened + (end_or_now - opened) * (s as i32 + 1) / (sessions as i32 + 1);
            push(
                "session",
                json!({"at": at, "place": "调解室", "attendees": [names[0], names[1], lead.name], "notes": format!("第{}次调解，双方陈述意见", s + 1)}),
                at,
            );
        }
        let mut agreement = None;
        let mut signatures = Signatures::default();
        let mut effective_at = None;
        let mut performed_at = None;
        let mut confirmation = "none";
        let mut note = None;
        if let (Some(o), Some(end)) = (outcome, ended) {
            match o {
                Outcome::AgreedWritten => {
                    let a = Agreement {
                        facts: facts.clone(),
                        points: points.clone(),
                        responsibilities: "双方各自承担相应责任".into(),
                        terms: "经调解，双方自愿达成如下协议：".to_string()
                            + &points
                            + "按约定办理",
                        performance_method: "当面履行，调解委员会监督".into(),
                        performance_deadline: Some((end + Duration::days(15)).date_naive()),
                    };
                    agreement = Some(serde_json::to_string(&a).unwrap_or_default());
                    for p in &parties {
                        signatures
                            .parties
                            .insert(p.seq as u32, end - Duration::minutes(30));
                    }
                    signatures.mediator = Some(end - Duration::minutes(10));
                    signatures.seal = Some(end);
                    effective_at = Some(end);
                    push(
                        "agreement",
                        json!({"terms": a.terms}),
                        end - Duration::hours(1),
                    );
                    push(
                        "signature",
                        json!({"who": "调解委员会印章", "effective": end}),
                        end,
                    );
                    if rng.chance(0.08) {
                        confirmation = if rng.chance(0.85) {
                            "granted"
                        } else {
                            "applied"
                        };
                    }
                }
                Outcome::AgreedOral => {
                    agreement = Some(
                        serde_json::to_string(&Agreement {
                            terms: points.clone() + "，双方口头达成一致",
                            ..Default::default()
                        })
                        .unwrap_or_default(),
                    );
                    effective_at = Some(end);
                    push("oral_agreement", json!({"terms": points}), end);
                }
                other => {
                    let n = match other {
                        Outcome::Failed => {
                            "双方分歧较大，调解不成，已告知可通过诉讼、仲裁或行政途径解决"
                        }
                        Outcome::Ended => "一方拒绝继续调解，终止调解",
                        _ => "移交人民法院处理",
                    };
                    note = Some(n.to_string());
                    push(
                        "outcome",
                        json!({"outcome": other.as_str(), "note": n}),
                        end,
                    );
                }
            }
            if o.is_success() && end + Duration::days(10) < now && rng.chance(0.93) {
                let at = end + Duration::days(1 + rng.below(9) as i64);
                performed_at = Some(at);
                push("performance", json!({"note": "已按协议履行"}), at);
                if rng.chance(0.6) && at + Duration::days(7) < now {
                    push(
                        "follow_up",
                        json!({"note": "电话回访", "result": "双方满意，未再发生纠纷"}),
                        at + Duration::days(7),
                    );
                }
            }
        }
        let amount = matches!(
            t,
            DisputeType::Damages
                | DisputeType::LabourWages
                | DisputeType::Contract
                | DisputeType::TrafficAccident
        )
        .then(|| (500 + rng.below(60_000)) as i64 * 100);
        let risk = if group {
            "medium"
        } else if rng.chance(0.01) {
            "high"
        } else {
            "low"
        };
        let updated = entries.last().map_or(opened, |e| e.at);
        let row = CaseRow {
            region_code: county.clone(),
            id,
            code: format!("M{}{day}{:04}", &county[..6], seq),
            event_id: None,
            dispute_type: t.as_str().into(),
            source: weighted(
                &mut rng,
                &[("applied", 55), ("active", 35), ("entrusted", 10)],
            )
            .into(),
            origin: weighted(
                &mut rng,
                &[("walk_in", 60), ("screening", 30), ("transfer", 10)],
            )
            .into(),
            facts,
            points,
            amount_cents: amount,
            risk_level: risk.into(),
            grid_code: code.to_string(),
            lon: None,
            lat: None,
            org_id: org,
            lead_mediator: lead.id,
            mediators: lead.id.to_string(),
            state: if ended.is_some() {
                "closed".into()
            } else {
                "open".into()
            },
            outcome: outcome.map(|o| o.as_str().to_string()),
            outcome_note: note,
            agreement,
            signatures: serde_json::to_string(&signatures).unwrap_or_default(),
            agreed_at: effective_at,
            effective_at,
            confirmation: confirmation.into(),
            performed_at,
            deadline_at: opened + Duration::days(wangge_domain::mediation::DEFAULT_CASE_DAYS),
            opened_at: opened,
            ended_at: ended,
            version: entries.len() as i64,
            updated_at: updated,
            // Open cases have their next session in the coming days.
            next_session_at: ended
                .is_none()
                .then(|| now + Duration::hours(20 + rng.below(24 * 6) as i64)),
            next_session_place: ended.is_none().then(|| "调解室".to_string()),
        };
        cases.push((row, parties, entries));
    }
    DemoMediation {
        orgs,
        mediators,
        cases,
    }
}
