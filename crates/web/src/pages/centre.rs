//! The command centre's page (指挥调度中心): the counters of the area (live), the map of its grids
//! coloured by their open, yellow and red events, the charts of the last 30 days; `?screen=big` is
//! the wall display (大屏).

use super::{header_of, render, signed_in};
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::centre::{self, Counters};

pub fn router() -> Router<Context> {
    Router::new().route("/centre", get(centre_page))
}

#[derive(Template)]
#[template(path = "centre.html")]
struct Centre {
    csrf: String,
    user: String,
    role: String,
    area: String,
    /// The region code the map and charts are drawn for.
    area_code: String,
    counts: Counters,
    /// 大屏: the wall display's layout.
    big_screen: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Screen {
    screen: Option<String>,
}

async fn centre_page(
    State(ctx): State<Context>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<Screen>,
) -> Response {
    let who = match signed_in(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let counts = match centre::counters(&ctx, &who).await {
        Ok(c) => c,
        Err(e) => return ApiError(e).into_response(),
    };
    let area = centre::area_name(&ctx, &who).await.unwrap_or_default();
    let h = header_of(&ctx, &who).await;
    render(&Centre {
        csrf: h.csrf,
        user: h.user,
        role: h.role,
        area,
        area_code: centre::area_code(&who),
        counts,
        big_screen: q.screen.as_deref() == Some("big"),
    })
}
