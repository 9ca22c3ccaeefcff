//! The command centre's data: the counters of the area, as JSON and as a live stream of
//! server-sent events (pushed after every committed write, and every 30 seconds as lights turn
//! with time), the map's data and the charts' data.

use crate::error::ApiResult;
use crate::extract::Caller;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;
use wangge_app::Context;
use wangge_app::centre::{self, CentreMap, Charts, Counters};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/events/counters", get(counters))
        .route("/api/v1/events/counters/stream", get(stream))
        .route("/api/v1/centre/map", get(map))
        .route("/api/v1/centre/charts", get(charts))
}

#[utoipa::path(get, path = "/api/v1/events/counters", tag = "centre",
    summary = "The counters of the caller's area (place-scoped accounts)",
    responses((status = 200, body = Counters)))]
async fn counters(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Counters>> {
    Ok(Json(centre::counters(&ctx, &who).await?))
}

#[utoipa::path(get, path = "/api/v1/centre/map", tag = "centre",
    summary = "Each grid's open, yellow and red events, and the open events as points",
    responses((status = 200, body = CentreMap)))]
async fn map(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<CentreMap>> {
    Ok(Json(centre::map(&ctx, &who).await?))
}

#[utoipa::path(get, path = "/api/v1/centre/charts", tag = "centre",
    summary = "The last 30 days by class, domain, township and day",
    responses((status = 200, body = Charts)))]
async fn charts(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Charts>> {
    Ok(Json(centre::charts(&ctx, &who).await?))
}

#[utoipa::path(get, path = "/api/v1/events/counters/stream", tag = "centre",
    summary = "The counters as server-sent events (`counters`), after every write and every 30 s",
    responses((status = 200, content_type = "text/event-stream", body = String)))]
async fn stream(
    State(ctx): State<Context>,
    who: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let vis = who.area()?;
    let changes = ctx.writer.subscribe();
    let who = who.0;
    // (context, who, sight, write signals, last counters sent, whether to wait before counting)
    let start = (ctx, who, vis, changes, None::<Counters>, false);
    let events = futures_util::stream::unfold(
        start,
        |(ctx, who, vis, mut changes, last, mut wait)| async move {
            loop {
                if wait {
                    // A write, or half a minute for the lights; a burst of writes is one update.
                    let _ = tokio::time::timeout(Duration::from_secs(30), changes.recv()).await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    while changes.try_recv().is_ok() {}
                }
                wait = true;
                // A locked or deactivated account, or an ended session, stops hearing at once.
                if !matches!(wangge_app::auth::still_valid(&ctx, &who).await, Ok(true)) {
                    return None;
                }
                match centre::counts_in(&ctx, &vis).await {
                    Ok(c) if last.as_ref() != Some(&c) => {
                        let Ok(data) = serde_json::to_string(&c) else {
                            return None;
                        };
                        let event = Event::default().event("counters").data(data);
                        return Some((Ok(event), (ctx, who, vis, changes, Some(c), true)));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "counters for the live stream failed"),
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
