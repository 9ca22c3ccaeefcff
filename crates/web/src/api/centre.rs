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

async fn counters(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Counters>> {
    Ok(Json(centre::counters(&ctx, &who).await?))
}

async fn map(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<CentreMap>> {
    Ok(Json(centre::map(&ctx, &who).await?))
}

async fn charts(State(ctx): State<Context>, who: Caller) -> ApiResult<Json<Charts>> {
    Ok(Json(centre::charts(&ctx, &who).await?))
}

async fn stream(
    State(ctx): State<Context>,
    who: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let vis = who.area()?;
    let changes = ctx.writer.subscribe();
    // (context, sight, write signals, last counters sent, whether to wait before counting)
    let start = (ctx, vis, changes, None::<Counters>, false);
    let events = futures_util::stream::unfold(
        start,
        |(ctx, vis, mut changes, last, mut wait)| async move {
            loop {
                if wait {
                    // A write, or half a minute for the lights; a burst of writes is one update.
                    let _ = tokio::time::timeout(Duration::from_secs(30), changes.recv()).await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    while changes.try_recv().is_ok() {}
                }
                wait = true;
                match centre::counts_in(&ctx, &vis).await {
                    Ok(c) if last.as_ref() != Some(&c) => {
                        let data = serde_json::to_string(&c).unwrap_or_default();
                        let event = Event::default().event("counters").data(data);
                        return Some((Ok(event), (ctx, vis, changes, Some(c), true)));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "counters for the live stream failed"),
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
