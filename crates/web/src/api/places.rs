//! The region tree, the grids, point-to-grid lookup and people's records, read within sight.

use crate::error::ApiResult;
use crate::extract::{Caller, Path, Query};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wangge_app::Context;
use wangge_app::people::{self, People, PersonView, SearchQuery, Unmasked};
use wangge_app::regions::{self, GridCollection, GridFeatureView, LocateQuery};
use wangge_domain::atlas::Location;
use wangge_store::RegionSummary;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/api/v1/regions/{code}", get(region))
        .route("/api/v1/grids/{code}", get(grid))
        .route("/api/v1/grids", get(grids_within))
        .route("/api/v1/locate", get(locate))
        .route("/api/v1/people", get(search))
        .route("/api/v1/people/{id}", get(person))
        .route("/api/v1/people/{id}/personal-data", get(unmask))
}

async fn region(
    State(ctx): State<Context>,
    who: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<RegionSummary>> {
    Ok(Json(regions::region(&ctx, &who, &code).await?))
}

async fn grid(
    State(ctx): State<Context>,
    who: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<GridFeatureView>> {
    Ok(Json(regions::grid(&ctx, &who, &code).await?))
}

#[derive(Debug, Deserialize)]
struct Within {
    within: Option<String>,
}

async fn grids_within(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<Within>,
) -> ApiResult<Json<GridCollection>> {
    Ok(Json(
        regions::grids_within(&ctx, &who, q.within.as_deref()).await?,
    ))
}

async fn locate(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<LocateQuery>,
) -> ApiResult<Json<Location>> {
    Ok(Json(regions::locate(&ctx, &who, &q)?))
}

async fn search(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<People>> {
    Ok(Json(people::search(&ctx, &who, &q).await?))
}

async fn person(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonView>> {
    Ok(Json(people::person(&ctx, &who, &id).await?))
}

#[derive(Debug, Deserialize)]
struct Field {
    field: Option<String>,
}

async fn unmask(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<Field>,
) -> ApiResult<Json<Unmasked>> {
    Ok(Json(
        people::unmask(&ctx, &who, &id, q.field.as_deref()).await?,
    ))
}
