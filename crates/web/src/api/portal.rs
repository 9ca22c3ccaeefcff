//! The public portal's API, for citizens without an account: report, follow by tracking code,
//! rate. Rate limits and what a citizen may see are the use cases' (`wangge_app::portal`).

use crate::error::ApiResult;
use crate::extract::{Body, ClientIp, Path};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use wangge_app::Context;
use wangge_app::events::intake::ReportInput;
use wangge_app::portal::{self, Progress, PublicRatingInput, PublicReceipt, Rated};

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/public/reports", post(report))
        .route("/api/v1/public/track/{code}", get(track))
        .route("/api/v1/public/track/{code}/rating", post(rate))
}

#[utoipa::path(post, path = "/api/v1/public/reports", tag = "public",
    summary = "A citizen's report, without an account: the tracking code",
    request_body = ReportInput,
    responses(
        (status = 201, body = PublicReceipt),
        (status = 200, description = "Its idempotency key was used before: the first receipt", body = PublicReceipt)))]
async fn report(
    State(ctx): State<Context>,
    ClientIp(ip): ClientIp,
    Body(b): Body<ReportInput>,
) -> ApiResult<(StatusCode, Json<PublicReceipt>)> {
    let (receipt, created) = portal::report(&ctx, ip, b).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(receipt)))
}

#[utoipa::path(get, path = "/api/v1/public/track/{code}", tag = "public",
    summary = "A case's progress in plain words, by its tracking code",
    params(("code" = String, Path, description = "The 16-character tracking code")),
    responses((status = 200, body = Progress)))]
async fn track(
    State(ctx): State<Context>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
) -> ApiResult<Json<Progress>> {
    Ok(Json(portal::track(&ctx, ip, &code).await?))
}

#[utoipa::path(post, path = "/api/v1/public/track/{code}/rating", tag = "public",
    summary = "The citizen's rating, once the case is closed",
    params(("code" = String, Path, description = "The 16-character tracking code")),
    request_body = PublicRatingInput,
    responses((status = 200, body = Rated)))]
async fn rate(
    State(ctx): State<Context>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Body(b): Body<PublicRatingInput>,
) -> ApiResult<Json<Rated>> {
    Ok(Json(portal::rate(&ctx, ip, &code, b).await?))
}
