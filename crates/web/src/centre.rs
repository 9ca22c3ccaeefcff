//! The command centre (指挥调度中心): the counters of the events in the caller's area — reported
//! today, open, yellow, red, whistles open, closed today — as JSON, as a live stream of
//! server-sent events (pushed after every committed write, and every 30 seconds as lights turn
//! with time), and as the page for the county's and the city's screens; the map's data (each
//! grid's open, yellow and red events, and the open events as points) and the charts' data (the
//! last 30 days by category, domain, township and day).

use crate::auth::{Caller, now};
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::stream::Stream;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;
use wangge_domain::access::{Scope, Visibility};
use wangge_domain::calendar::beijing;
use wangge_domain::org::Domain;
use wangge_domain::region::RegionCode;
use wangge_store::{EventCounts, EventPoint, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/counters", get(counters))
        .route("/api/v1/events/counters/stream", get(stream))
        .route("/api/v1/centre/map", get(map))
        .route("/api/v1/centre/charts", get(charts))
}

/// The most points one map carries: a county's or a city's open work, most urgent first.
const MAP_POINTS: i64 = 20_000;

/// A light as the counters count it: a suspended step's clock is stopped, so it is neither
/// yellow nor red while it waits.
fn point_light(p: &EventPoint, at: DateTime<Utc>) -> &'static str {
    match (p.suspended_at, p.step_due_at, p.yellow_at) {
        (None, Some(due), _) if due < at => "red",
        (None, Some(due), Some(yellow)) if yellow <= at && due >= at => "yellow",
        _ => "green",
    }
}

#[derive(Serialize)]
struct GridLoad {
    open: u32,
    yellow: u32,
    red: u32,
}

/// The command centre's map: per grid, its open events by light (grids with none are left out),
/// and the open events as points to cluster. The grid shapes come from `/api/v1/grids?within=`.
async fn map(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let vis = area_of(&caller)?;
    let t = now();
    let points = state.store.open_event_points(&vis, MAP_POINTS + 1).await?;
    let truncated = points.len() as i64 > MAP_POINTS;
    let config = state.config.get();
    // The grids' loads count every open event, also when the points are cut to the most urgent.
    let grids: BTreeMap<String, GridLoad> = state
        .store
        .open_counts_by_grid(&vis, t)
        .await?
        .into_iter()
        .map(|(g, open, yellow, red)| {
            let n = |x: i64| u32::try_from(x).unwrap_or(u32::MAX);
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
    let mut events = Vec::with_capacity(points.len());
    for p in points.iter().take(MAP_POINTS as usize) {
        let light = point_light(p, t);
        let category = config.category(&p.category_code).map(|c| c.name);
        events.push(json!({
            "id": p.id, "code": p.code, "category": category.unwrap_or_else(|| p.category_code.clone()),
            "state": p.state, "urgency": p.urgency, "light": light, "grid": p.grid_code,
            "lon": p.lon, "lat": p.lat,
        }));
    }
    Ok(Json(json!({
        "area": area_code(&caller),
        "grids": grids,
        "events": events,
        "truncated": truncated,
    })))
}

/// The region code the caller's area is named by (a grid worker's community).
pub(crate) fn area_code(caller: &Caller) -> String {
    match &caller.scope {
        Scope::Place(node) => node.code()[..12].to_string(),
        Scope::Department { .. } => String::new(),
    }
}

/// The charts' data: events reported over the last 30 Beijing days (today included) by minor
/// class (with its major class), by domain, by township and by day (every day listed, zeros
/// too, so a quiet day shows as a dip and not a gap).
async fn charts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let vis = area_of(&caller)?;
    let today = day_start(now());
    let since = today - chrono::Duration::days(29);
    let b = state.store.event_breakdown(&vis, since).await?;
    let config = state.config.get();
    let atlas = state.atlas.get();
    let by_category: Vec<Value> = b
        .by_category
        .iter()
        .map(|(code, n)| {
            let c = config.category(code);
            json!({
                "code": code,
                "name": c.as_ref().map_or(code.as_str(), |c| c.name.as_str()),
                "major": c.as_ref().map_or("", |c| c.major_name.as_str()),
                "count": n,
            })
        })
        .collect();
    let by_domain: Vec<Value> = b
        .by_domain
        .iter()
        .map(|(code, n)| {
            let name = code
                .parse::<Domain>()
                .map_or(code.as_str(), |d| d.label_zh());
            json!({"code": code, "name": name, "count": n})
        })
        .collect();
    let by_township: Vec<Value> = b
        .by_township
        .iter()
        .map(|(prefix, n)| {
            let code = format!("{prefix}000");
            let name = RegionCode::parse(&code)
                .ok()
                .and_then(|c| atlas.region_name(&c).map(str::to_owned))
                .unwrap_or_else(|| code.clone());
            json!({"code": code, "name": name, "count": n})
        })
        .collect();
    let counted: BTreeMap<&str, i64> = b.by_day.iter().map(|(d, n)| (d.as_str(), *n)).collect();
    let by_day: Vec<Value> = (0..30)
        .map(|i| {
            let day = (since + chrono::Duration::days(i))
                .with_timezone(&beijing())
                .format("%Y-%m-%d")
                .to_string();
            let n = counted.get(day.as_str()).copied().unwrap_or(0);
            json!({"day": day, "count": n})
        })
        .collect();
    Ok(Json(json!({
        "since": since,
        "by_category": by_category,
        "by_domain": by_domain,
        "by_township": by_township,
        "by_day": by_day,
    })))
}

/// Midnight, Beijing time, of the day `at` falls in.
fn day_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let local = at.with_timezone(&beijing());
    local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(beijing()).single())
        .map_or(at, |t| t.with_timezone(&Utc))
}

pub(crate) async fn counts(state: &AppState, vis: &Visibility) -> Result<EventCounts, StoreError> {
    let t = now();
    state.store.event_counts(vis, day_start(t), t).await
}

/// The area a caller may count over. A department sees only the events sent to it, not its whole
/// served area, so it gets no area counters (its work is its queue).
pub(crate) fn area_of(caller: &Caller) -> ApiResult<Visibility> {
    match caller.scope {
        Scope::Place(_) => caller.visibility(),
        Scope::Department { .. } => Err(crate::auth::forbidden()),
    }
}

async fn counters(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<EventCounts>> {
    let vis = area_of(&caller)?;
    Ok(Json(counts(&state, &vis).await?))
}

async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let vis = area_of(&caller)?;
    let changes = state.writer.subscribe();
    // (state, sight, write signals, last counters sent, whether to wait before counting)
    let start = (state, vis, changes, None::<EventCounts>, false);
    let events = futures_util::stream::unfold(
        start,
        |(state, vis, mut changes, last, mut wait)| async move {
            loop {
                if wait {
                    // A write, or half a minute for the lights; a burst of writes is one update.
                    let _ = tokio::time::timeout(Duration::from_secs(30), changes.recv()).await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    while changes.try_recv().is_ok() {}
                }
                wait = true;
                match counts(&state, &vis).await {
                    Ok(c) if last.as_ref() != Some(&c) => {
                        let data = serde_json::to_string(&c).unwrap_or_default();
                        let event = Event::default().event("counters").data(data);
                        return Some((Ok(event), (state, vis, changes, Some(c), true)));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "counters for the live stream failed"),
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
