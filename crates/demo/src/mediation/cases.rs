//! The year's cases: each drawn to a type and a place, taken by the organisation that would take
//! it there, and given the timeline its outcome needs — sessions, then an agreement and its
//! signatures, an oral agreement or the reason it failed, and for most successes the performance
//! and a follow-up call.

use super::{MONTH_WEIGHT, TYPES, person, weighted};
use crate::DemoCity;
use crate::rng::Rng;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;
use wangge_domain::Grid;
use wangge_domain::mediation::{Agreement, DisputeType, OrgKind, Outcome, Signatures};
use wangge_store::{CaseEntry, CaseRow, MediationOrgRow, MediatorRow, NewCase, PartyRow};

/// The last sequence number of each county's case codes on each day.
type DaySeq = HashMap<(String, String), u32>;

pub(super) fn cases(
    rng: &mut Rng,
    city: &DemoCity,
    orgs: &[MediationOrgRow],
    mediators: &[MediatorRow],
    outcomes: Vec<Option<Outcome>>,
    now: DateTime<Utc>,
) -> Vec<NewCase> {
    let desk = Desk {
        grids: &city.grids,
        orgs,
        mediators,
        now,
    };
    let mut day_seq = DaySeq::default();
    let mut cases = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        cases.push(desk.case(rng, outcome, &mut day_seq));
    }
    cases
}

/// What every case is drawn against: the city's grids and its mediation network, at `now`.
struct Desk<'a> {
    grids: &'a [Grid],
    orgs: &'a [MediationOrgRow],
    mediators: &'a [MediatorRow],
    now: DateTime<Utc>,
}

/// A case's type, place and mediators.
struct Seat<'a> {
    t: DisputeType,
    grid: &'a str,
    county: String,
    org: Uuid,
    lead: &'a MediatorRow,
}

/// A case up to its outcome, for its row.
struct Draft<'a> {
    seat: Seat<'a>,
    id: Uuid,
    code: String,
    outcome: Option<Outcome>,
    opened: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
    group: bool,
    facts: String,
    points: String,
}

/// What the outcome leaves on the row.
struct Closing {
    agreement: Option<String>,
    signatures: Signatures,
    effective_at: Option<DateTime<Utc>>,
    performed_at: Option<DateTime<Utc>>,
    confirmation: &'static str,
    note: Option<String>,
}

impl Closing {
    fn none() -> Closing {
        Closing {
            agreement: None,
            signatures: Signatures::default(),
            effective_at: None,
            performed_at: None,
            confirmation: "none",
            note: None,
        }
    }
}

/// A case's timeline, numbered as it grows.
struct Timeline(Vec<CaseEntry>);

impl Timeline {
    fn push(&mut self, kind: &str, body: serde_json::Value, at: DateTime<Utc>) {
        let seq = self.0.len() as i64 + 1;
        self.0.push(CaseEntry {
            seq,
            kind: kind.into(),
            body: body.to_string(),
            actor: "demo".into(),
            at,
        });
    }
}

impl<'a> Desk<'a> {
    fn org_at(&self, region: &str, kind: OrgKind) -> Option<Uuid> {
        self.orgs
            .iter()
            .find(|o| o.region_code == region && o.kind == kind.as_str())
            .map(|o| o.id)
    }

    fn industry(&self, county: &str, trade: &str) -> Option<Uuid> {
        self.orgs
            .iter()
            .find(|o| o.region_code == county && o.name.contains(trade))
            .map(|o| o.id)
    }

    fn case(&self, rng: &mut Rng, outcome: Option<Outcome>, day_seq: &mut DaySeq) -> NewCase {
        let seat = self.seat(rng);
        let (opened, ended) = self.timing(rng, outcome);
        let day = (opened + Duration::hours(8)).format("%Y%m%d").to_string();
        let seq = day_seq
            .entry((seat.county[..6].to_string(), day.clone()))
            .or_insert(0);
        *seq += 1;
        let code = format!("M{}{day}{:04}", &seat.county[..6], seq);
        let id = uuid::Builder::from_unix_timestamp_millis(
            opened.timestamp_millis() as u64,
            &rng.bytes10(),
        )
        .into_uuid();
        let group = rng.chance(0.04);
        let n_parties = if group { 3 + rng.below(8) } else { 2 };
        let names: Vec<String> = (0..n_parties).map(|_| person(rng)).collect();
        let (facts, points) = facts(seat.t, &names[0], &names[1]);
        let parties = parties(seat.t, &names);
        let mut entries = Timeline(Vec::new());
        entries.push(
            "opened",
            json!({"dispute_type": seat.t.as_str(), "parties": parties.len()}),
            opened,
        );
        let sessions = 1 + rng.below(3);
        let end_or_now = ended.unwrap_or(self.now);
        for s in 0..sessions {
            let at = opened + (end_or_now - opened) * (s as i32 + 1) / (sessions as i32 + 1);
            entries.push(
                "session",
                json!({"at": at, "place": "调解室", "attendees": [names[0], names[1], seat.lead.name], "notes": format!("第{}次调解，双方陈述意见", s + 1)}),
                at,
            );
        }
        let closing = match (outcome, ended) {
            (Some(o), Some(end)) => {
                self.close(rng, o, end, (&facts, &points), &parties, &mut entries)
            }
            _ => Closing::none(),
        };
        let draft = Draft {
            seat,
            id,
            code,
            outcome,
            opened,
            ended,
            group,
            facts,
            points,
        };
        let row = self.row(rng, draft, closing, &entries.0);
        (row, parties, entries.0)
    }

    /// The type, and the organisation that takes it where it arose: its trade's industry
    /// committee, the court-linked room, the township, the centre room, or the community's own.
    fn seat(&self, rng: &mut Rng) -> Seat<'a> {
        let t = weighted(rng, TYPES);
        let grid = &self.grids[rng.below(self.grids.len())];
        let code = grid.code.as_str();
        let county = format!("{}000000", &code[..6]);
        let township = format!("{}000", &code[..9]);
        let community = code[..12].to_string();
        let org = match industry_of(t) {
            Some(trade) if rng.chance(0.6) => self.industry(&county, trade),
            _ if rng.chance(0.04) => self.org_at(&county, OrgKind::CourtLinked),
            _ if rng.chance(0.22) => self.org_at(&township, OrgKind::TownshipCommittee),
            _ if rng.chance(0.05) => self.org_at(&township, OrgKind::CentreRoom),
            _ => self.org_at(&community, OrgKind::VillageCommittee),
        }
        .or_else(|| self.org_at(&community, OrgKind::VillageCommittee))
        .expect("every community has its committee");
        let team: Vec<&MediatorRow> = self.mediators.iter().filter(|m| m.org_id == org).collect();
        let lead = team[rng.below(team.len())];
        Seat {
            t,
            grid: code,
            county,
            org,
            lead,
        }
    }

    /// When it ended (within the year; the open ones were opened this month), and how long it
    /// took.
    fn timing(
        &self,
        rng: &mut Rng,
        outcome: Option<Outcome>,
    ) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        let span = if rng.chance(0.8) { 12 } else { 28 };
        let took_days = 1 + rng.below(span) as i64;
        match outcome {
            Some(_) => {
                // A day of the last year, kept by its month's weight (rejection sampling).
                let max = *MONTH_WEIGHT.iter().max().unwrap_or(&1) as f64;
                let ended = loop {
                    let back = Duration::seconds(120 + rng.below(364 * 86_400) as i64);
                    let at = self.now - back;
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
                self.now - Duration::minutes(60 + rng.below(25 * 24 * 60) as i64),
                None,
            ),
        }
    }

    /// The outcome's entries, then the performance of a successful agreement and its follow-up.
    fn close(
        &self,
        rng: &mut Rng,
        o: Outcome,
        end: DateTime<Utc>,
        (facts, points): (&str, &str),
        parties: &[PartyRow],
        entries: &mut Timeline,
    ) -> Closing {
        let mut closing = match o {
            Outcome::AgreedWritten => written(rng, end, (facts, points), parties, entries),
            Outcome::AgreedOral => {
                let mut closing = Closing::none();
                closing.agreement = Some(
                    serde_json::to_string(&Agreement {
                        terms: points.to_string() + "，双方口头达成一致",
                        ..Default::default()
                    })
                    .unwrap_or_default(),
                );
                closing.effective_at = Some(end);
                entries.push("oral_agreement", json!({"terms": points}), end);
                closing
            }
            other => {
                let n = match other {
                    Outcome::Failed => {
                        "双方分歧较大，调解不成，已告知可通过诉讼、仲裁或行政途径解决"
                    }
                    Outcome::Ended => "一方拒绝继续调解，终止调解",
                    _ => "移交人民法院处理",
                };
                let mut closing = Closing::none();
                closing.note = Some(n.to_string());
                entries.push(
                    "outcome",
                    json!({"outcome": other.as_str(), "note": n}),
                    end,
                );
                closing
            }
        };
        if o.is_success() && end + Duration::days(10) < self.now && rng.chance(0.93) {
            let at = end + Duration::days(1 + rng.below(9) as i64);
            closing.performed_at = Some(at);
            entries.push("performance", json!({"note": "已按协议履行"}), at);
            if rng.chance(0.6) && at + Duration::days(7) < self.now {
                entries.push(
                    "follow_up",
                    json!({"note": "电话回访", "result": "双方满意，未再发生纠纷"}),
                    at + Duration::days(7),
                );
            }
        }
        closing
    }

    fn row(&self, rng: &mut Rng, d: Draft, closing: Closing, entries: &[CaseEntry]) -> CaseRow {
        let t = d.seat.t;
        let amount = matches!(
            t,
            DisputeType::Damages
                | DisputeType::LabourWages
                | DisputeType::Contract
                | DisputeType::TrafficAccident
        )
        .then(|| (500 + rng.below(60_000)) as i64 * 100);
        let risk = if d.group {
            "medium"
        } else if rng.chance(0.01) {
            "high"
        } else {
            "low"
        };
        let updated = entries.last().map_or(d.opened, |e| e.at);
        CaseRow {
            region_code: d.seat.county,
            id: d.id,
            code: d.code,
            event_id: None,
            dispute_type: t.as_str().into(),
            source: weighted(rng, &[("applied", 55), ("active", 35), ("entrusted", 10)]).into(),
            origin: weighted(rng, &[("walk_in", 60), ("screening", 30), ("transfer", 10)]).into(),
            facts: d.facts,
            points: d.points,
            amount_cents: amount,
            risk_level: risk.into(),
            grid_code: d.seat.grid.to_string(),
            lon: None,
            lat: None,
            org_id: d.seat.org,
            lead_mediator: d.seat.lead.id,
            mediators: d.seat.lead.id.to_string(),
            state: if d.ended.is_some() {
                "closed".into()
            } else {
                "open".into()
            },
            outcome: d.outcome.map(|o| o.as_str().to_string()),
            outcome_note: closing.note,
            agreement: closing.agreement,
            signatures: serde_json::to_string(&closing.signatures).unwrap_or_default(),
            agreed_at: closing.effective_at,
            effective_at: closing.effective_at,
            confirmation: closing.confirmation.into(),
            performed_at: closing.performed_at,
            deadline_at: d.opened + Duration::days(wangge_domain::mediation::DEFAULT_CASE_DAYS),
            opened_at: d.opened,
            ended_at: d.ended,
            version: entries.len() as i64,
            updated_at: updated,
            // Open cases have their next session in the coming days.
            next_session_at: d
                .ended
                .is_none()
                .then(|| self.now + Duration::hours(20 + rng.below(24 * 6) as i64)),
            next_session_place: d.ended.is_none().then(|| "调解室".to_string()),
        }
    }
}

/// A written agreement, signed by every party, the mediator and the committee's seal; a few are
/// taken to court for judicial confirmation.
fn written(
    rng: &mut Rng,
    end: DateTime<Utc>,
    (facts, points): (&str, &str),
    parties: &[PartyRow],
    entries: &mut Timeline,
) -> Closing {
    let mut closing = Closing::none();
    let a = Agreement {
        facts: facts.to_string(),
        points: points.to_string(),
        responsibilities: "双方各自承担相应责任".into(),
        terms: "经调解，双方自愿达成如下协议：".to_string() + points + "按约定办理",
        performance_method: "当面履行，调解委员会监督".into(),
        performance_deadline: Some((end + Duration::days(15)).date_naive()),
    };
    closing.agreement = Some(serde_json::to_string(&a).unwrap_or_default());
    for p in parties {
        closing
            .signatures
            .parties
            .insert(p.seq as u32, end - Duration::minutes(30));
    }
    closing.signatures.mediator = Some(end - Duration::minutes(10));
    closing.signatures.seal = Some(end);
    closing.effective_at = Some(end);
    entries.push(
        "agreement",
        json!({"terms": a.terms}),
        end - Duration::hours(1),
    );
    entries.push(
        "signature",
        json!({"who": "调解委员会印章", "effective": end}),
        end,
    );
    if rng.chance(0.08) {
        closing.confirmation = if rng.chance(0.85) {
            "granted"
        } else {
            "applied"
        };
    }
    closing
}

/// The parties: the first applies, the others respond; in a property dispute the second is the
/// management company.
fn parties(t: DisputeType, names: &[String]) -> Vec<PartyRow> {
    names
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
        .collect()
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
