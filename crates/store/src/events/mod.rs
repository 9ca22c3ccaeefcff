//! Events: intake with idempotency and daily codes, reads within sight, and moves written with an
//! optimistic version check so two dispatchers cannot both accept.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

mod counts;
mod read;
mod rows;
mod write;

pub(crate) use rows::{
    insert_event_rows, insert_move_rows, insert_notification_rows, update_event_row,
};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EventRow {
    pub region_code: String,
    pub id: Uuid,
    pub code: String,
    #[serde(skip)]
    pub tracking_code: String,
    pub category_code: String,
    pub domain: String,
    pub urgency: String,
    pub state: String,
    #[serde(skip)]
    pub flow: String,
    pub version: i64,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    pub lon: f64,
    pub lat: f64,
    pub grid_code: String,
    pub reporter_account: Option<Uuid>,
    #[serde(skip)]
    pub reporter_phone_enc: Option<String>,
    #[serde(skip)]
    pub reporter_phone_idx: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    pub lead_department: Option<String>,
    #[serde(skip)]
    pub departments: String,
    pub step: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub step_due_at: Option<DateTime<Utc>>,
    pub step_due_provisional: i64,
    pub suspended_at: Option<DateTime<Utc>>,
    pub extension_minutes: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the running step's light turns yellow.
    pub yellow_at: Option<DateTime<Utc>>,
    /// The last light announced for the running step.
    pub light_notified: String,
}

pub(crate) const EVENT_COLUMNS: &str = "SELECT region_code, id, code, tracking_code, category_code, domain, urgency, state, flow, version, source, \
     description, address, lon, lat, grid_code, reporter_account, reporter_phone_enc, reporter_phone_idx, idempotency_key, \
     lead_department, departments, step, step_started_at, step_due_at, step_due_provisional, suspended_at, extension_minutes, \
     created_at, updated_at, yellow_at, light_notified FROM events";

/// Events of an area closed since `$1` (`$2`..`$3` a range of grid codes, `place` the column as
/// the caller wants SQLite to see it): the counters' "closed today".
pub(crate) fn closed_today_sql(place: &str) -> String {
    format!(
        "SELECT COUNT(*) FROM events WHERE state = 'closed' AND updated_at >= $1 AND {place} >= $2 AND {place} < $3"
    )
}

/// At most this many open events near a point are read for the likely-duplicate hint, the most
/// recent first: a hint for a dispatcher, not a search, and a spot reported a thousand times
/// must not cost a thousand rows per report (measured: with a dozen repeats of every spot, full
/// rows of up to fifty candidates cost intake more than half its rate).
pub(crate) const NEAR_LIMIT: usize = 10;

/// What the likely-duplicate hint needs of an open event near a new one.
#[derive(Debug, Clone, FromRow)]
pub struct NearbyEvent {
    pub id: Uuid,
    pub code: String,
    pub category_code: String,
    pub state: String,
    pub description: String,
    pub lon: f64,
    pub lat: f64,
    pub grid_code: String,
    /// The departments it was sent to: a department's staff see only those.
    pub departments: String,
    pub created_at: DateTime<Utc>,
}

/// The columns of [`NearbyEvent`], as a literal for `concat!`.
macro_rules! nearby_fields {
    () => {
        "id, code, category_code, state, description, lon, lat, grid_code, departments, created_at"
    };
}
pub(crate) use nearby_fields;

/// The box around a point in which open events are candidates for the likely-duplicate hint:
/// `half` degrees of latitude each way and the same ground distance in longitude. Callers trim
/// the corners by the exact distance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NearBox {
    pub lat_lo: f64,
    pub lat_hi: f64,
    pub lon_lo: f64,
    pub lon_hi: f64,
}

impl NearBox {
    pub(crate) fn around(lon: f64, lat: f64, half: f64) -> NearBox {
        let half_lon = half / lat.to_radians().cos().max(0.1);
        NearBox {
            lat_lo: lat - half,
            lat_hi: lat + half,
            lon_lo: lon - half_lon,
            lon_hi: lon + half_lon,
        }
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MoveRow {
    pub seq: i64,
    #[serde(rename = "move")]
    pub move_name: String,
    pub body: String,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub actor_role: String,
    pub department: Option<String>,
    #[serde(skip)]
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
}

/// The street's rating of one department's response to a whistle, 1–5 on each count.
#[derive(Debug, Clone, FromRow, Serialize, serde::Deserialize)]
pub struct WhistleRating {
    pub department: String,
    pub speed: i64,
    pub cooperation: i64,
    pub result: i64,
    #[serde(default)]
    pub comment: String,
}

/// An event with its history, each move with the time it was made.
pub type EventWithHistory = (EventRow, Vec<(NewMove, DateTime<Utc>)>);

/// A notice to someone about an event (its light changed, it was escalated).
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub region_code: String,
    pub event_id: Option<Uuid>,
    pub recipient: String,
    pub kind: String,
    pub message: String,
    pub channel: String,
}

/// A move to record beside the event's new state.
#[derive(Debug, Clone)]
pub struct NewMove {
    pub move_name: String,
    pub body: String,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub actor_role: String,
    pub department: Option<String>,
    pub ip: Option<String>,
}

/// The command centre's counters for the events in sight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    pub reported_today: i64,
    pub open: i64,
    pub yellow: i64,
    pub red: i64,
    pub whistles_open: i64,
    pub closed_today: i64,
}

/// An open event as a point on the command centre's map: where it is, what it is, and the
/// times its light is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EventPoint {
    pub id: Uuid,
    pub code: String,
    pub category_code: String,
    pub state: String,
    pub urgency: String,
    pub grid_code: String,
    pub lon: f64,
    pub lat: f64,
    pub step_due_at: Option<DateTime<Utc>>,
    pub yellow_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
}

/// Events reported since a time, counted four ways for the command centre's charts. Each list
/// is (key, count); the day is the Beijing calendar day `YYYY-MM-DD`, the township the first nine
/// digits of the grid code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventBreakdown {
    pub by_category: Vec<(String, i64)>,
    pub by_domain: Vec<(String, i64)>,
    pub by_township: Vec<(String, i64)>,
    pub by_day: Vec<(String, i64)>,
}

/// What a list query filters on; every field optional.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub state: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub grid_prefix: Option<String>,
    pub department: Option<String>,
    pub text: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only events whose running step shows this light at this time (a suspended step's light
    /// stands at the moment it was suspended), so that paging counts only them.
    pub light: Option<(wangge_domain::calendar::Light, DateTime<Utc>)>,
    /// Only events older than this one (time, id): paging by the last row seen, which stays
    /// fast however deep the page.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
    pub offset: i64,
}

/// A text matched literally inside a LIKE pattern (with `ESCAPE '!'`, which reads the same
/// whatever PostgreSQL's `standard_conforming_strings`): `%` and `_` typed by a person are
/// characters, not wildcards.
pub(crate) fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out
}
