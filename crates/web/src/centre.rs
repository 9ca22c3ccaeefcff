//! The command centre (指挥调度中心): the counters of the events in the caller's area — reported
//! today, open, yellow, red, whistles open, closed today — as JSON, as a live stream of
//! server-sent events (pushed after every committed write, and every 30 seconds as lights turn
//! with time), and as the page for the county's and the city's screens.

use crate::auth::{Caller, now};
use crate::{ApiResult, AppState};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;
use wangge_domain::access::{Scope, Visibility};
use wangge_domain::calendar::beijing;
use wangge_store::{EventCounts, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/counters", get(counters))
        .route("/api/v1/events/counters/stream", get(stream))
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
