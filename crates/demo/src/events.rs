//! A year of events for the demo city: realistic by category, place and season, each carried
//! through the workflow by the same rules the server enforces, with deadlines on the working
//! calendar. Events reported in the last days are still open in every state; a few old ones were
//! left overdue, so the lights and the escalation watch have something to show. Generated, never
//! measured: the numbers only look like a city's.

use crate::DemoCity;
use crate::rng::Rng;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use geo::{Centroid, CoordsIter};
use serde_json::json;
use wangge_app::events::moves::{Rules, advance};
use wangge_domain::access::Role;
use wangge_domain::calendar::{Calendar, YELLOW_SHARE, beijing, yellow_at};
use wangge_domain::catalog::{Category, default_catalogue};
use wangge_domain::region::{RegionCode, RegionKind};
use wangge_domain::wire;
use wangge_domain::workflow::{Actor, Flow, Move, Rating, Urgency};
use wangge_store::{EventRow, EventWithHistory, NewMove};

/// Events per day on average.
pub const EVENTS_PER_DAY: usize = 100;

fn season_weight(code: &str, month: u32) -> f64 {
    let winter = matches!(month, 11 | 12 | 1 | 2 | 3);
    let summer = (5..=9).contains(&month);
    match code {
        "0904" if winter => 6.0,
        "0904" => 0.2,
        "0803" if matches!(month, 3 | 4 | 10 | 11) => 5.0,
        "0803" => 0.3,
        "0503" | "0202" if summer => 3.0,
        "0302" | "0305" if winter => 2.0,
        c if c.starts_with("04") || c.starts_with("05") => 3.0,
        c if c.starts_with("01") => 2.0,
        _ => 1.0,
    }
}

/// The year of events up to `now` (Beijing `today`).
pub fn generate_events(
    city: &DemoCity,
    seed: u64,
    now: DateTime<Utc>,
    per_day: usize,
) -> Vec<EventWithHistory> {
    let mut rng = Rng::new(seed ^ 0xe7e7_e7e7);
    let calendar = Calendar::shipped(Default::default());
    let catalogue = default_catalogue();
    let today = now.with_timezone(&beijing()).date_naive();
    let start = today - Duration::days(365);
    let mut out = Vec::with_capacity(365 * per_day);
    let mut day_seq: std::collections::HashMap<(String, NaiveDate), u32> =
        std::collections::HashMap::new();
    let community_names: std::collections::HashMap<&str, &str> = city
        .regions
        .iter()
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    let department_for = |cat: &Category, grid: &str| -> Option<String> {
        let township = format!("{}000", &grid[..9]);
        let county = format!("{}000000", &grid[..6]);
        let kind = cat.department.as_str();
        [township, county, crate::CITY_CODE.to_string()]
            .iter()
            .find_map(|r| {
                city.org
                    .departments
                    .iter()
                    .find(|d| d.kind == kind && &d.region_code == r)
            })
            .map(|d| d.id.to_string())
    };
    let extra_department = |grid: &str, not: &str| -> Option<String> {
        let township = format!("{}000", &grid[..9]);
        city.org
            .departments
            .iter()
            .find(|d| d.region_code == township && d.id.to_string() != not)
            .map(|d| d.id.to_string())
    };
    let mut day = start;
    while day <= today {
        let month = day.month();
        let weights: Vec<f64> = catalogue
            .iter()
            .map(|c| season_weight(&c.code, month))
            .collect();
        let total: f64 = weights.iter().sum();
        let n = if per_day == 0 {
            0
        } else {
            per_day / 2 + rng.below(per_day)
        };
        for _ in 0..n {
            // Category by season, place anywhere in the city, time mostly in the day.
            let mut x = rng.unit() * total;
            let mut ci = 0;
            while ci + 1 < catalogue.len() && x >= weights[ci] {
                x -= weights[ci];
                ci += 1;
            }
            let cat = &catalogue[ci];
            let grid = &city.grids[rng.below(city.grids.len())];
            let minute = 6 * 60 + rng.below(16 * 60) as u32;
            let created = beijing()
                .from_local_datetime(
                    &day.and_hms_opt(minute / 60, minute % 60, rng.below(60) as u32)
                        .expect("time"),
                )
                .single()
                .expect("fixed offset")
                .with_timezone(&Utc);
            if created > now {
                continue;
            }
            let urgency = if rng.chance(0.08) && cat.urgency == Urgency::Normal {
                Urgency::Urgent
            } else {
                cat.urgency
            };
            let code_str = grid.code.as_str();
            let rural =
                RegionCode::parse(&code_str[..12]).is_ok_and(|c| c.kind() == RegionKind::Village);
            let county = format!("{}000000", &code_str[..6]);
            let seq = day_seq.entry((county.clone(), day)).or_insert(0);
            *seq += 1;
            let code = format!("{}{}{:06}", &code_str[..6], day.format("%Y%m%d"), seq);
            // A point inside the grid: between its centre and one of its corners.
            let c = grid.shape.centroid().expect("centroid");
            let corners: Vec<_> = grid.shape.coords_iter().collect();
            let k = corners[rng.below(corners.len())];
            let f = rng.range(0.0, 0.8);
            let (lon, lat) = (c.x() + (k.x - c.x()) * f, c.y() + (k.y - c.y()) * f);

            let lead = department_for(cat, code_str);
            let mut flow = Flow::reported();
            let mut history: Vec<(NewMove, DateTime<Utc>)> = vec![(
                NewMove {
                    move_name: "report".into(),
                    body: json!({"category": cat.code, "urgency": wire(&urgency)}).to_string(),
                    from_state: String::new(),
                    to_state: "reported".into(),
                    actor: "demo.grid".into(),
                    actor_role: "grid_worker".into(),
                    department: None,
                    ip: None,
                },
                created,
            )];
            // The path this event takes.
            let community = Actor::new(Role::CommunityStaff);
            let street = Actor::new(Role::StreetDispatcher);
            let dept = |id: &str| Actor {
                department: Some(id.into()),
                ..Actor::new(Role::DepartmentStaff)
            };
            let verifier = Actor {
                is_event_grid_worker: true,
                ..Actor::new(Role::GridWorker)
            };
            let reporter = Actor {
                is_reporter: true,
                ..Actor::new(Role::GridWorker)
            };
            let mut plan: Vec<(Actor, Move, i64)> = Vec::new(); // (actor, move, minutes after the previous)
            let roll = rng.unit();
            let stalled = rng.chance(0.01);
            if roll < 0.04 {
                plan.push((
                    community.clone(),
                    Move::Reject {
                        reason: "不属于受理范围".into(),
                    },
                    20,
                ));
            } else {
                plan.push((community.clone(), Move::Accept, 5 + rng.below(40) as i64));
                let here = roll < 0.38 || lead.is_none();
                if here {
                    plan.push((
                        community.clone(),
                        Move::HandleHere,
                        10 + rng.below(60) as i64,
                    ));
                } else {
                    let lead = lead.clone().expect("lead");
                    plan.push((community.clone(), Move::Escalate, 10 + rng.below(60) as i64));
                    let other = extra_department(code_str, &lead);
                    if roll > 0.88
                        && let Some(o) = other.clone()
                    {
                        plan.push((
                            street.clone(),
                            Move::Whistle {
                                lead: lead.clone(),
                                others: vec![o.clone()],
                                check_in_minutes: 30,
                                task: format!("联合处置{}", cat.name),
                            },
                            10 + rng.below(30) as i64,
                        ));
                        plan.push((dept(&o), Move::CheckIn, 5 + rng.below(40) as i64));
                    } else {
                        plan.push((
                            street.clone(),
                            Move::Dispatch {
                                lead: lead.clone(),
                                co: vec![],
                            },
                            10 + rng.below(50) as i64,
                        ));
                    }
                    plan.push((dept(&lead), Move::CheckIn, 10 + rng.below(180) as i64));
                }
                let handler = if here {
                    community.clone()
                } else {
                    dept(lead.as_deref().unwrap_or_default())
                };
                let handle_minutes = 60 + rng.below(60 * 48) as i64;
                plan.push((
                    handler.clone(),
                    Move::SubmitResult {
                        text: format!("{}已处置完毕", cat.name),
                    },
                    handle_minutes,
                ));
                if rng.chance(0.08) {
                    plan.push((
                        verifier.clone(),
                        Move::Verify {
                            pass: false,
                            note: "现场仍未整改到位".into(),
                        },
                        30 + rng.below(600) as i64,
                    ));
                    plan.push((
                        handler,
                        Move::SubmitResult {
                            text: "已按要求返工".into(),
                        },
                        120 + rng.below(1440) as i64,
                    ));
                }
                plan.push((
                    verifier.clone(),
                    Move::Verify {
                        pass: true,
                        note: "现场核查通过".into(),
                    },
                    30 + rng.below(900) as i64,
                ));
                if rng.chance(0.75) {
                    let rating = match rng.unit() {
                        r if r < 0.82 => Rating::Satisfied,
                        r if r < 0.95 => Rating::BasicallySatisfied,
                        _ => Rating::Dissatisfied,
                    };
                    plan.push((
                        reporter,
                        Move::Rate {
                            rating,
                            comment: String::new(),
                        },
                        60 + rng.below(2880) as i64,
                    ));
                }
            }
            let place = community_names.get(&code_str[..12]).copied().unwrap_or("");
            let tracking = rng.bytes10();
            let due0 = calendar.due(
                created,
                cat.limit(wangge_domain::catalog::Step::Accept, urgency, rural),
            );
            let mut e = EventRow {
                region_code: county,
                id: uuid::Builder::from_unix_timestamp_millis(
                    created.timestamp_millis() as u64,
                    &rng.bytes10(),
                )
                .into_uuid(),
                code,
                tracking_code: wangge_security::totp::base32(&tracking),
                category_code: cat.code.clone(),
                domain: wire(&cat.domain),
                urgency: wire(&urgency),
                state: wire(&flow.state),
                flow: serde_json::to_string(&flow).unwrap_or_default(),
                version: flow.version,
                source: if rng.chance(0.7) {
                    "grid_worker".into()
                } else {
                    "staff".into()
                },
                description: format!("{place}{}，请尽快处理", cat.name),
                address: Some(format!("{place}附近")),
                lon: (lon * 1e6).round() / 1e6,
                lat: (lat * 1e6).round() / 1e6,
                grid_code: code_str.into(),
                reporter_account: None,
                reporter_phone_enc: None,
                reporter_phone_idx: None,
                idempotency_key: None,
                lead_department: None,
                departments: " ".into(),
                step: Some("accept".into()),
                step_started_at: Some(created),
                step_due_at: Some(due0.at),
                step_due_provisional: i64::from(due0.provisional),
                suspended_at: None,
                extension_minutes: None,
                created_at: created,
                updated_at: created,
                yellow_at: Some(yellow_at(created, due0.at, YELLOW_SHARE)),
                light_notified: "green".into(),
            };
            // Every move goes through the server's own rules and clocks.
            let due = |_: &str, from: DateTime<Utc>, limit| calendar.due(from, limit);
            let rules = Rules {
                category: Some(cat),
                reclassified_to: None,
                due: &due,
                yellow_share: YELLOW_SHARE,
            };
            let mut at = created;
            for (i, (actor, mv, after)) in plan.into_iter().enumerate() {
                at += Duration::minutes(after);
                // Stop where the clock is now, or where a stalled event was left.
                if at > now || (stalled && i >= 2) {
                    break;
                }
                let Ok(next) = advance(&rules, &e, &flow, &actor, &mv, at) else {
                    break;
                };
                history.push((
                    NewMove {
                        move_name: mv.name().into(),
                        body: serde_json::to_string(&mv).unwrap_or_default(),
                        from_state: wire(&flow.state),
                        to_state: wire(&next.after.state),
                        actor: match actor.role {
                            Role::CommunityStaff => "demo.community".into(),
                            Role::StreetDispatcher => "demo.street".into(),
                            Role::DepartmentStaff => "demo.department".into(),
                            _ => "demo.grid".into(),
                        },
                        actor_role: actor.role.as_str().into(),
                        department: actor.department.clone(),
                        ip: None,
                    },
                    at,
                ));
                flow = next.after;
                e = next.next;
            }
            out.push((e, history));
        }
        day = day.succ_opt().expect("date");
    }
    out
}
