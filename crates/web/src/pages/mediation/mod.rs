//! The mediation pages: the mediator's desk (`desk`), the case page and its printable agreement
//! (`case`, `agreement`), and the statistics with their exports (`stats`). This module holds the
//! routes and what more than one of those pages needs: reading a case in sight and naming its
//! outcome.

mod agreement;
mod case;
mod desk;
mod stats;

use super::not_found;
use crate::error::ApiError;
use crate::extract::Caller;
use agreement::agreement_page;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use case::case_page;
use desk::desk;
use stats::{stats_csv, stats_page, stats_xlsx};
use wangge_app::mediation::cases;
use wangge_app::mediation::views::CaseView;
use wangge_app::{Context, ErrorKind};
use wangge_domain::mediation::Outcome;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/mediation", get(desk))
        .route("/mediation/cases/{id}", get(case_page))
        .route("/mediation/cases/{id}/agreement", get(agreement_page))
        .route("/mediation/stats", get(stats_page))
        .route("/mediation/stats.csv", get(stats_csv))
        .route("/mediation/stats.xlsx", get(stats_xlsx))
}

fn outcome_zh(o: &Option<Outcome>) -> String {
    o.map_or(String::new(), |o| o.label_zh().to_string())
}

/// A case in sight, or the page's answer when it cannot be had.
async fn case_of(ctx: &Context, who: &Caller, id: &str) -> Result<CaseView, Response> {
    match cases::detail(ctx, who, id).await {
        Ok(c) => Ok(c),
        Err(e) if e.kind == ErrorKind::NotFound => {
            Err(not_found(ctx, who, "调解案件不存在，或不在您的管辖范围内。").await)
        }
        Err(e) => Err(ApiError(e).into_response()),
    }
}
