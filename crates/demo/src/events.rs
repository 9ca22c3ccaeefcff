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
use std::collections::HashMap;
use wangge_app::events::moves::{Rules, advance};
use wangge_domain::access::Role;
use wangge_domain::calendar::{Calendar, YELLOW_SHARE, beijing, yellow_at};
use wangge_domain::catalog::{Category, Step, default_catalogue};
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
    let year = Year {
        city,
        calendar: Calendar::shipped(Default::default()),
        catalogue: default_catalogue(),
        community_names: city
            .regions
            .iter()
            .map(|r| (r.code.as_str(), r.name.as_str()))
            .collect(),
    };
    let today = now.with_timezone(&beijing()).date_naive();
    let start = today - Duration::days(365);
    let mut out = Vec::with_capacity(365 * per_day);
    let mut day_seq: DaySeq = HashMap::new();
    let mut date = start;
    while date <= today {
        let weights: Vec<f64> = year
            .catalogue
            .iter()
            .map(|c| season_weight(&c.code, date.month()))
            .collect();
        let day = Day {
            date,
            total: weights.iter().sum(),
            weights,
        };
        let n = if per_day == 0 {
            0
        } else {
            per_day / 2 + rng.below(per_day)
        };
        for _ in 0..n {
            let Some(report) = year.report(&mut rng, &day, now, &mut day_seq) else {
                continue;
            };
            let path = year.path(&mut rng, &report);
            let flow = Flow::reported();
            let e = year.row(&mut rng, &report, &flow);
            out.push(year.replay(&report, e, flow, path, now));
        }
        date = date.succ_opt().expect("date");
    }
    out
}

/// The last sequence number of each county's event codes on each day.
type DaySeq = HashMap<(String, NaiveDate), u32>;

/// What stays the same all year: the city and the rules its events are handled by.
struct Year<'a> {
    city: &'a DemoCity,
    calendar: Calendar,
    catalogue: Vec<Category>,
    community_names: HashMap<&'a str, &'a str>,
}

/// A day, with each category's weight in its season.
struct Day {
    date: NaiveDate,
    weights: Vec<f64>,
    total: f64,
}

/// An event as a grid worker reports it.
struct Report<'a> {
    cat: &'a Category,
    grid: &'a str,
    county: String,
    code: String,
    rural: bool,
    created: DateTime<Utc>,
    urgency: Urgency,
    lon: f64,
    lat: f64,
}

/// The moves an event is meant to take, each with its minutes after the one before; a stalled
/// event stops after its first two.
struct Path {
    moves: Vec<(Actor, Move, i64)>,
    stalled: bool,
}

fn department(id: &str) -> Actor {
    Actor {
        department: Some(id.into()),
        ..Actor::new(Role::DepartmentStaff)
    }
}

fn verifier() -> Actor {
    Actor {
        is_event_grid_worker: true,
        ..Actor::new(Role::GridWorker)
    }
}

impl<'a> Year<'a> {
    fn department_for(&self, cat: &Category, grid: &str) -> Option<String> {
        let township = format!("{}000", &grid[..9]);
        let county = format!("{}000000", &grid[..6]);
        let kind = cat.department.as_str();
        [township, county, crate::CITY_CODE.to_string()]
            .iter()
            .find_map(|r| {
                self.city
                    .org
                    .departments
                    .iter()
                    .find(|d| d.kind == kind && &d.region_code == r)
            })
            .map(|d| d.id.to_string())
    }

    fn extra_department(&self, grid: &str, not: &str) -> Option<String> {
        let township = format!("{}000", &grid[..9]);
        self.city
            .org
            .departments
            .iter()
            .find(|d| d.region_code == township && d.id.to_string() != not)
            .map(|d| d.id.to_string())
    }

    /// Category by season, place anywhere in the city, time mostly in the day; none if that time
    /// is still to come today.
    fn report(
        &'a self,
        rng: &mut Rng,
        day: &Day,
        now: DateTime<Utc>,
        day_seq: &mut DaySeq,
    ) -> Option<Report<'a>> {
        let mut x = rng.unit() * day.total;
        let mut ci = 0;
        while ci + 1 < self.catalogue.len() && x >= day.weights[ci] {
            x -= day.weights[ci];
            ci += 1;
        }
        let cat = &self.catalogue[ci];
        let grid = &self.city.grids[rng.below(self.city.grids.len())];
        let minute = 6 * 60 + rng.below(16 * 60) as u32;
        let created = beijing()
            .from_local_datetime(
                &day.date
                    .and_hms_opt(minute / 60, minute % 60, rng.below(60) as u32)
                    .expect("time"),
            )
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc);
        if created > now {
            return None;
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
        let seq = day_seq.entry((county.clone(), day.date)).or_insert(0);
        *seq += 1;
        let code = format!("{}{}{:06}", &code_str[..6], day.date.format("%Y%m%d"), seq);
        // A point inside the grid: between its centre and one of its corners.
        let c = grid.shape.centroid().expect("centroid");
        let corners: Vec<_> = grid.shape.coords_iter().collect();
        let k = corners[rng.below(corners.len())];
        let f = rng.range(0.0, 0.8);
        Some(Report {
            cat,
            grid: code_str,
            county,
            code,
            rural,
            created,
            urgency,
            lon: c.x() + (k.x - c.x()) * f,
            lat: c.y() + (k.y - c.y()) * f,
        })
    }

    /// The path this event takes: rejected, handled in the community, or sent on to the
    /// department that leads its category; then its result, verification and rating.
    fn path(&self, rng: &mut Rng, r: &Report) -> Path {
        let community = Actor::new(Role::CommunityStaff);
        let lead = self.department_for(r.cat, r.grid);
        let mut moves: Vec<(Actor, Move, i64)> = Vec::new();
        let roll = rng.unit();
        let stalled = rng.chance(0.01);
        if roll < 0.04 {
            moves.push((
                community.clone(),
                Move::Reject {
                    reason: "不属于受理范围".into(),
                },
                20,
            ));
            return Path { moves, stalled };
        }
        moves.push((community.clone(), Move::Accept, 5 + rng.below(40) as i64));
        let here = roll < 0.38 || lead.is_none();
        if here {
            moves.push((
                community.clone(),
                Move::HandleHere,
                10 + rng.below(60) as i64,
            ));
        } else {
            let lead = lead.clone().expect("lead");
            self.send_on(rng, &mut moves, r, roll, &lead);
        }
        let handler = if here {
            community.clone()
        } else {
            department(lead.as_deref().unwrap_or_default())
        };
        finish(rng, &mut moves, r.cat, handler);
        Path { moves, stalled }
    }

    /// Escalated to the street, which dispatches the lead department or, for a few events,
    /// whistles it up with another department of the township.
    fn send_on(
        &self,
        rng: &mut Rng,
        moves: &mut Vec<(Actor, Move, i64)>,
        r: &Report,
        roll: f64,
        lead: &str,
    ) {
        let community = Actor::new(Role::CommunityStaff);
        let street = Actor::new(Role::StreetDispatcher);
        moves.push((community, Move::Escalate, 10 + rng.below(60) as i64));
        let other = self.extra_department(r.grid, lead);
        if roll > 0.88
            && let Some(o) = other.clone()
        {
            moves.push((
                street.clone(),
                Move::Whistle {
                    lead: lead.to_string(),
                    others: vec![o.clone()],
                    check_in_minutes: 30,
                    task: format!("联合处置{}", r.cat.name),
                },
                10 + rng.below(30) as i64,
            ));
            moves.push((department(&o), Move::CheckIn, 5 + rng.below(40) as i64));
        } else {
            moves.push((
                street.clone(),
                Move::Dispatch {
                    lead: lead.to_string(),
                    co: vec![],
                },
                10 + rng.below(50) as i64,
            ));
        }
        moves.push((department(lead), Move::CheckIn, 10 + rng.below(180) as i64));
    }

    /// The event's row as reported, before any move.
    fn row(&self, rng: &mut Rng, r: &Report, flow: &Flow) -> EventRow {
        let place = self
            .community_names
            .get(&r.grid[..12])
            .copied()
            .unwrap_or("");
        let tracking = rng.bytes10();
        let due0 = self
            .calendar
            .due(r.created, r.cat.limit(Step::Accept, r.urgency, r.rural));
        EventRow {
            region_code: r.county.clone(),
            id: uuid::Builder::from_unix_timestamp_millis(
                r.created.timestamp_millis() as u64,
                &rng.bytes10(),
            )
            .into_uuid(),
            code: r.code.clone(),
            tracking_code: wangge_security::totp::base32(&tracking),
            category_code: r.cat.code.clone(),
            domain: wire(&r.cat.domain),
            urgency: wire(&r.urgency),
            state: wire(&flow.state),
            flow: serde_json::to_string(flow).unwrap_or_default(),
            version: flow.version,
            source: if rng.chance(0.7) {
                "grid_worker".into()
            } else {
                "staff".into()
            },
            description: format!("{place}{}，请尽快处理", r.cat.name),
            address: Some(format!("{place}附近")),
            lon: (r.lon * 1e6).round() / 1e6,
            lat: (r.lat * 1e6).round() / 1e6,
            grid_code: r.grid.into(),
            reporter_account: None,
            reporter_phone_enc: None,
            reporter_phone_idx: None,
            idempotency_key: None,
            lead_department: None,
            departments: " ".into(),
            step: Some("accept".into()),
            step_started_at: Some(r.created),
            step_due_at: Some(due0.at),
            step_due_provisional: i64::from(due0.provisional),
            suspended_at: None,
            extension_minutes: None,
            created_at: r.created,
            updated_at: r.created,
            yellow_at: Some(yellow_at(r.created, due0.at, YELLOW_SHARE)),
            light_notified: "green".into(),
        }
    }

    /// Every move goes through the server's own rules and clocks, so the demo's events are ones
    /// the server could have made.
    fn replay(
        &self,
        r: &Report,
        mut e: EventRow,
        mut flow: Flow,
        path: Path,
        now: DateTime<Utc>,
    ) -> EventWithHistory {
        let mut history: Vec<(NewMove, DateTime<Utc>)> = vec![(
            NewMove {
                move_name: "report".into(),
                body: json!({"category": r.cat.code, "urgency": wire(&r.urgency)}).to_string(),
                from_state: String::new(),
                to_state: "reported".into(),
                actor: "demo.grid".into(),
                actor_role: "grid_worker".into(),
                department: None,
                ip: None,
            },
            r.created,
        )];
        let due = |_: &str, from: DateTime<Utc>, limit| self.calendar.due(from, limit);
        let rules = Rules {
            category: Some(r.cat),
            reclassified_to: None,
            due: &due,
            yellow_share: YELLOW_SHARE,
        };
        let mut at = r.created;
        for (i, (actor, mv, after)) in path.moves.into_iter().enumerate() {
            at += Duration::minutes(after);
            // Stop where the clock is now, or where a stalled event was left.
            if at > now || (path.stalled && i >= 2) {
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
        (e, history)
    }
}

/// The handler's result, sometimes sent back once by the verifier; the verification; and, for
/// most events, the reporter's rating.
fn finish(rng: &mut Rng, moves: &mut Vec<(Actor, Move, i64)>, cat: &Category, handler: Actor) {
    let handle_minutes = 60 + rng.below(60 * 48) as i64;
    moves.push((
        handler.clone(),
        Move::SubmitResult {
            text: format!("{}已处置完毕", cat.name),
        },
        handle_minutes,
    ));
    if rng.chance(0.08) {
        moves.push((
            verifier(),
            Move::Verify {
                pass: false,
                note: "现场仍未整改到位".into(),
            },
            30 + rng.below(600) as i64,
        ));
        moves.push((
            handler,
            Move::SubmitResult {
                text: "已按要求返工".into(),
            },
            120 + rng.below(1440) as i64,
        ));
    }
    moves.push((
        verifier(),
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
        let reporter = Actor {
            is_reporter: true,
            ..Actor::new(Role::GridWorker)
        };
        moves.push((
            reporter,
            Move::Rate {
                rating,
                comment: String::new(),
            },
            60 + rng.below(2880) as i64,
        ));
    }
}
