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

#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "places",
    summary = "A region with its parent, children and counts",
    params(("code" = String, Path, description = "A 12-digit division code")),
    responses((status = 200, body = regions::RegionView)))]
async fn region(
    State(ctx): State<Context>,
    who: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<regions::RegionView>> {
    Ok(Json(regions::region(&ctx, &who, &code).await?))
}

#[utoipa::path(get, path = "/api/v1/grids/{code}", tag = "places",
    summary = "A grid as a GeoJSON Feature, with its team and units",
    params(("code" = String, Path, description = "A 15-digit grid code")),
    responses((status = 200, body = GridFeatureView)))]
async fn grid(
    State(ctx): State<Context>,
    who: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<GridFeatureView>> {
    Ok(Json(regions::grid(&ctx, &who, &code).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Within {
    /// A 12-digit division code.
    within: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/grids", tag = "places",
    summary = "The grids under a region, as a GeoJSON FeatureCollection",
    params(Within),
    responses((status = 200, body = GridCollection)))]
async fn grids_within(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<Within>,
) -> ApiResult<Json<GridCollection>> {
    Ok(Json(
        regions::grids_within(&ctx, &who, q.within.as_deref()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/locate", tag = "places",
    summary = "Which grid and regions hold a point",
    params(LocateQuery),
    responses((status = 200, body = Location)))]
async fn locate(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<LocateQuery>,
) -> ApiResult<Json<Location>> {
    Ok(Json(regions::locate(&ctx, &who, &q)?))
}

#[utoipa::path(get, path = "/api/v1/people", tag = "places",
    summary = "People by an exact ID-card or mobile number (masked; the search is audited)",
    params(SearchQuery),
    responses((status = 200, body = People)))]
async fn search(
    State(ctx): State<Context>,
    who: Caller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<People>> {
    Ok(Json(people::search(&ctx, &who, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "places",
    summary = "A person, identifiers masked",
    params(("id" = String, Path, description = "The person's id")),
    responses((status = 200, body = PersonView)))]
async fn person(
    State(ctx): State<Context>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonView>> {
    Ok(Json(people::person(&ctx, &who, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Field {
    /// `id_number` or `phone`.
    field: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/people/{id}/personal-data", tag = "places",
    summary = "One identifier in clear, for roles that may unmask (audited)",
    params(("id" = String, Path, description = "The person's id"), Field),
    responses((status = 200, body = Unmasked)))]
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
