//! What the API and the pages show of an event: typed views built from the stored row, the
//! workflow state and the atlas. Times are Beijing time with their offset; wire values (states,
//! urgencies, steps, lights, levels) are the domain's enums.

use crate::context::Context;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use uuid::Uuid;
use wangge_domain::atlas::{GridRef, PathStep};
use wangge_domain::calendar::{Light, beijing, step_light};
use wangge_domain::catalog::Step;
use wangge_domain::org::Domain;
use wangge_domain::parse_wire;
use wangge_domain::workflow::{Flow, HolderLevel, Rating, Source, State, Urgency};
use wangge_security::pii;
use wangge_store::EventRow;

/// A time as shown: Beijing time with its offset.
pub type Local = DateTime<FixedOffset>;

pub fn local(t: DateTime<Utc>) -> Local {
    t.with_timezone(&beijing())
}

/// A wire value read back from storage; an unreadable one is logged and shown as `fallback`.
pub fn wire_or<T: serde::de::DeserializeOwned>(s: &str, what: &str, fallback: T) -> T {
    parse_wire(s).unwrap_or_else(|| {
        tracing::error!(value = s, what, "unreadable stored value");
        fallback
    })
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub lon: f64,
    pub lat: f64,
}

/// The running step's clock.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deadline {
    pub step: Step,
    pub started_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub due_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Falls in a year whose holiday notice is not yet published (counted Monday to Friday).
    pub provisional: bool,
    pub light: Option<Light>,
}

/// An event as lists and details show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub code: String,
    /// The category's code (its name is in the catalogue).
    pub category: String,
    pub domain: Domain,
    pub urgency: Urgency,
    pub state: State,
    pub suspended: bool,
    pub version: i64,
    pub source: Source,
    pub description: String,
    pub address: Option<String>,
    pub location: Point,
    pub grid: Option<GridRef>,
    pub path: Option<Vec<PathStep>>,
    pub lead_department: Option<String>,
    /// Every department the event was sent to (lead and co-handlers).
    pub departments: Vec<String>,
    /// Masked (`138****5678`).
    pub reporter_phone: Option<String>,
    pub deadlines: Vec<Deadline>,
    pub light: Option<Light>,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    pub holder: HolderLevel,
    pub checked_in: BTreeSet<String>,
    pub whistled: bool,
    pub extension_pending: bool,
    pub reworks: u32,
    pub returns: u32,
    pub rating: Option<Rating>,
}

/// The light of an event's running step now, by the one rule of [`step_light`] (the counters'
/// and the list filter's too).
pub fn light_of(e: &EventRow, at: DateTime<Utc>) -> Option<Light> {
    e.step_due_at
        .map(|due| step_light(at, e.suspended_at.is_some(), e.yellow_at, due))
}

/// The workflow state of a row for showing it: an unreadable one is logged and shown as just
/// reported rather than failing a whole list.
pub fn flow_or_reported(e: &EventRow) -> Flow {
    super::flow_of(e).unwrap_or_else(|_| Flow::reported())
}

impl EventView {
    pub fn of(ctx: &Context, e: &EventRow) -> EventView {
        let at = ctx.now();
        let light = light_of(e, at);
        let location = ctx.atlas.get().locate(e.lon, e.lat);
        let phone = e
            .reporter_phone_enc
            .as_deref()
            .and_then(|c| ctx.keys.decrypt(c).ok())
            .map(|p| pii::mask_phone(&p));
        let flow = flow_or_reported(e);
        let deadlines = e
            .step
            .as_deref()
            .map(|s| Deadline {
                step: wire_or(s, "step", Step::Accept),
                started_at: e.step_started_at.map(local),
                due_at: e.step_due_at.map(local),
                provisional: e.step_due_provisional != 0,
                light,
            })
            .into_iter()
            .collect();
        let (grid, path) = match location {
            Some(l) => (Some(l.grid), Some(l.path)),
            None => (None, None),
        };
        EventView {
            id: e.id,
            code: e.code.clone(),
            category: e.category_code.clone(),
            domain: wire_or(&e.domain, "domain", Domain::General),
            urgency: wire_or(&e.urgency, "urgency", Urgency::Normal),
            state: flow.state,
            suspended: e.suspended_at.is_some(),
            version: e.version,
            source: wire_or(&e.source, "source", Source::Staff),
            description: e.description.clone(),
            address: e.address.clone(),
            location: Point {
                lon: e.lon,
                lat: e.lat,
            },
            grid,
            path,
            lead_department: e.lead_department.clone(),
            departments: e
                .departments
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            reporter_phone: phone,
            deadlines,
            light,
            created_at: local(e.created_at),
            holder: flow.holder,
            checked_in: flow.checked_in,
            whistled: flow.whistled,
            extension_pending: flow.extension_pending,
            reworks: flow.reworks,
            returns: flow.returns,
            rating: flow.rating,
        }
    }
}

/// One move of the history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub seq: i64,
    #[serde(rename = "move")]
    pub move_name: String,
    /// `None` for the report, which starts the history.
    pub from: Option<State>,
    pub to: State,
    /// The username, `system` or `public`.
    pub actor: String,
    pub role: String,
    pub department: Option<String>,
    pub at: chrono::DateTime<chrono::FixedOffset>,
    /// What the move carried (its reason, its departments), as sent.
    pub body: Value,
}

/// 报到: a summoned department's check-in against the whistle's deadline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckIn {
    pub department: String,
    pub deadline: chrono::DateTime<chrono::FixedOffset>,
    pub checked_in_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub late: bool,
    pub missing: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentRef {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    /// `report`, `before` or `after`.
    pub kind: String,
    pub mime: String,
    pub size: i64,
    pub url: String,
}

/// The street's rating of a summoned department (1–5 on each count).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhistleRatingView {
    pub department: String,
    pub speed: i64,
    pub cooperation: i64,
    pub result: i64,
    pub comment: String,
}

impl From<wangge_store::WhistleRating> for WhistleRatingView {
    fn from(w: wangge_store::WhistleRating) -> Self {
        WhistleRatingView {
            department: w.department,
            speed: w.speed,
            cooperation: w.cooperation,
            result: w.result,
            comment: w.comment,
        }
    }
}

/// An event with everything its page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventView,
    pub history: Vec<HistoryEntry>,
    pub check_ins: Vec<CheckIn>,
    pub whistle_ratings: Vec<WhistleRatingView>,
    pub routed_department: Option<DepartmentRef>,
    pub attachments: Vec<AttachmentView>,
}

/// An open event of the same class nearby, offered as a likely duplicate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    pub id: Uuid,
    pub code: String,
    pub state: State,
    pub distance_m: f64,
    pub description: String,
}

/// A report just stored: the event, its tracking code, and its likely duplicates.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reported {
    #[serde(flatten)]
    pub event: EventView,
    pub tracking_code: String,
    pub likely_duplicates: Vec<Duplicate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub events: Vec<EventView>,
    pub page: i64,
    pub per_page: i64,
}
