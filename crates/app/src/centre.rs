//! The command centre (指挥调度中心): the counters of the events in the principal's area —
//! reported and closed today, open, yellow, red, whistles open — the map's data (each grid's open,
//! yellow and red events, and the open events as points) and the charts' data (the last 30 days by
//! class, domain, township and day). A department sees only the events sent to it, not its whole
//! served area, so it has no area figures (403): its work is its queue.

use crate::context::Context;
use crate::error::AppResult;
use crate::events::views::{local, wire_or};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use wangge_domain::access::Visibility;
use wangge_domain::calendar::{Light, beijing};
use wangge_domain::org::Domain;
use wangge_domain::region::RegionCode;
use wangge_domain::workflow::{State, Urgency};
use wangge_store::{EventCounts, EventPoint};

/// The most points one map carries: a county's or a city's open work, most urgent first.
const MAP_POINTS: i64 = 20_000;

/// The counters of an area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counters {
    pub reported_today: i64,
    pub open: i64,
    pub yellow: i64,
    pub red: i64,
    pub whistles_open: i64,
    pub closed_today: i64,
}

impl From<EventCounts> for Counters {
    fn from(c: EventCounts) -> Self {
        Counters {
            reported_today: c.reported_today,
            open: c.open,
            yellow: c.yellow,
            red: c.red,
            whistles_open: c.whistles_open,
            closed_today: c.closed_today,
        }
    }
}

/// Midnight, Beijing time, of the day `at` falls in.
pub fn day_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let local = at.with_timezone(&beijing());
    local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(beijing()).single())
        .map_or(at, |t| t.with_timezone(&Utc))
}

/// The counters of an area seen as `vis` (the live stream recounts with it after each write).
pub async fn counts_in(ctx: &Context, vis: &Visibility) -> AppResult<Counters> {
    let t = ctx.now();
    Ok(ctx.store.event_counts(vis, day_start(t), t).await?.into())
}

pub async fn counters(ctx: &Context, who: &Principal) -> AppResult<Counters> {
    let vis = who.area()?;
    counts_in(ctx, &vis).await
}

/// The region code a principal's area is named by (a grid worker's community).
pub fn area_code(who: &Principal) -> String {
    match who {
        Principal::Account(p) => match &p.scope {
            wangge_domain::access::Scope::Place(node) => node.code()[..12].to_string(),
            wangge_domain::access::Scope::Department { .. } => String::new(),
        },
        _ => String::new(),
    }
}

/// The name of the principal's area (a grid worker's community).
pub async fn area_name(ctx: &Context, who: &Principal) -> AppResult<String> {
    let code = area_code(who);
    if code.is_empty() {
        return Ok(String::new());
    }
    Ok(ctx
        .store
        .region(&code)
        .await?
        .map(|r| r.name)
        .unwrap_or_default())
}

fn point_light(p: &EventPoint, at: DateTime<Utc>) -> Light {
    p.step_due_at.map_or(Light::Green, |due| {
        wangge_domain::calendar::step_light(at, p.suspended_at.is_some(), p.yellow_at, due)
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridLoad {
    pub open: u32,
    pub yellow: u32,
    pub red: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MapPoint {
    pub id: uuid::Uuid,
    pub code: String,
    /// The category's name.
    pub category: String,
    pub state: State,
    pub urgency: Urgency,
    pub light: Light,
    pub grid: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CentreMap {
    pub area: String,
    /// Per grid with open events: how many, and how many yellow and red.
    pub grids: BTreeMap<String, GridLoad>,
    pub events: Vec<MapPoint>,
    /// More open events than the map carries: the most urgent are shown.
    pub truncated: bool,
}

/// The command centre's map: per grid, its open events by light (grids with none are left out),
/// and the open events as points to cluster. The grid shapes come from the grids' GeoJSON.
pub async fn map(ctx: &Context, who: &Principal) -> AppResult<CentreMap> {
    let vis = who.area()?;
    let t = ctx.now();
    let points = ctx.store.open_event_points(&vis, MAP_POINTS + 1).await?;
    let truncated = points.len() as i64 > MAP_POINTS;
    let config = ctx.config.get();
    // The grids' loads count every open event, also when the points are cut to the most urgent.
    let n = |x: i64| u32::try_from(x).unwrap_or(u32::MAX);
    let grids = ctx
        .store
        .open_counts_by_grid(&vis, t)
        .await?
        .into_iter()
        .map(|(g, open, yellow, red)| {
            (
                g,
                GridLoad {
                    open: n(open),
                    yellow: n(yellow),
                    red: n(red),
                },
            )
        })
        .collect();
    let events = points
        .iter()
        .take(MAP_POINTS as usize)
        .map(|p| MapPoint {
            id: p.id,
            code: p.code.clone(),
            category: config
                .category(&p.category_code)
                .map(|c| c.name)
                .unwrap_or_else(|| p.category_code.clone()),
            state: wire_or(&p.state, "state", State::Reported),
            urgency: wire_or(&p.urgency, "urgency", Urgency::Normal),
            light: point_light(p, t),
            grid: p.grid_code.clone(),
            lon: p.lon,
            lat: p.lat,
        })
        .collect();
    Ok(CentreMap {
        area: area_code(who),
        grids,
        events,
        truncated,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub code: String,
    pub name: String,
    /// The major class's name.
    pub major: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamedCount {
    pub code: String,
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    pub day: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Charts {
    pub since: chrono::DateTime<chrono::FixedOffset>,
    pub by_category: Vec<CategoryCount>,
    pub by_domain: Vec<NamedCount>,
    pub by_township: Vec<NamedCount>,
    /// Every day of the 30, zeros too, so a quiet day shows as a dip and not a gap.
    pub by_day: Vec<DayCount>,
}

/// The charts' data: events reported over the last 30 Beijing days (today included).
pub async fn charts(ctx: &Context, who: &Principal) -> AppResult<Charts> {
    let vis = who.area()?;
    let today = day_start(ctx.now());
    let since = today - chrono::Duration::days(29);
    let b = ctx.store.event_breakdown(&vis, since).await?;
    let config = ctx.config.get();
    let atlas = ctx.atlas.get();
    let by_category = b
        .by_category
        .iter()
        .map(|(code, n)| {
            let c = config.category(code);
            CategoryCount {
                code: code.clone(),
                name: c.as_ref().map_or(code.clone(), |c| c.name.clone()),
                major: c.as_ref().map_or(String::new(), |c| c.major_name.clone()),
                count: *n,
            }
        })
        .collect();
    let by_domain = b
        .by_domain
        .iter()
        .map(|(code, n)| NamedCount {
            code: code.clone(),
            name: code
                .parse::<Domain>()
                .map_or(code.clone(), |d| d.label_zh().to_string()),
            count: *n,
        })
        .collect();
    let by_township = b
        .by_township
        .iter()
        .map(|(prefix, n)| {
            let code = format!("{prefix}000");
            let name = RegionCode::parse(&code)
                .ok()
                .and_then(|c| atlas.region_name(&c).map(str::to_owned))
                .unwrap_or_else(|| code.clone());
            NamedCount {
                code,
                name,
                count: *n,
            }
        })
        .collect();
    let counted: BTreeMap<&str, i64> = b.by_day.iter().map(|(d, n)| (d.as_str(), *n)).collect();
    let by_day = (0..30)
        .map(|i| {
            let day = (since + chrono::Duration::days(i))
                .with_timezone(&beijing())
                .format("%Y-%m-%d")
                .to_string();
            let count = counted.get(day.as_str()).copied().unwrap_or(0);
            DayCount { day, count }
        })
        .collect();
    Ok(Charts {
        since: local(since),
        by_category,
        by_domain,
        by_township,
        by_day,
    })
}
